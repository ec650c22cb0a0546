#!/usr/bin/env bash
# User story: a stock device (axTLS: TLS 1.0/1.1, AES128-SHA) reaches the fake cloud:
# the TLS port hands out a fresh self-signed certificate and talks TLS 1.0 to 1.3, a
# plain-HTTP client on the TLS port fails cleanly, dispatch answers with our address,
# the WebSocket session replays the captured message order (register, date, update,
# query) and ends in the upgrade command; an ack 404 brings the upgrade again and
# paces the device's whole-body download (PROTOCOL.md §1.3-§1.6, §2).
# Runs sonota's server alone (tests/e2e/srvtest) on 127.0.0.1 only.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${SRVTEST:-}" ] && [ -x "$SRVTEST" ] || skip "SRVTEST (the srvtest driver) not built"
command -v openssl >/dev/null || skip "openssl not installed"
command -v python3 >/dev/null || skip "python3 not installed"
python3 -c 'import ssl; ssl.TLSVersion.TLSv1_1' 2>/dev/null || skip "python3 ssl lacks TLS 1.1"

T=$E2E_TMP
U1=image_user1-0x01000.bin
U2=image_user2-0x81000.bin
head -c 239220 /dev/urandom >"$T/$U1"
head -c 239220 /dev/urandom >"$T/$U2"

"$SRVTEST" --bind 127.0.0.1 --serving-ip 127.0.0.1 --http-port 0 --https-port 0 \
    --plain-port 0 --legacy --pace auto --file "$U1=$T/$U1" --file "$U2=$T/$U2" \
    --user1 "$U1" --user2 "$U2" --version 99.99.99 >"$T/ev" 2>"$T/log" &
SRV_PID=$!
e2e_track "$SRV_PID"
wait_for 60 grep -q '^PORTS' "$T/ev" || { cat "$T/log" >&2; fail "srvtest did not start"; }
read -r H S L < <(sed -n 's/^PORTS http=\([0-9]*\) https=\([0-9]*\) plain=\([0-9]*\)/\1 \2 \3/p' "$T/ev")
[ -n "$L" ] || fail "no ports: $(cat "$T/ev")"
wait_ev() { wait_for "${2:-5}" grep -q "$1" "$T/ev" || { cat "$T/ev" >&2; fail "no event matching '$1'"; }; }

# ---- handshakes with every protocol version the devices may use ----
hs() { # hs NAME OPENSSL-ARGS...: one handshake; output in $T/hs.NAME
    local name=$1; shift
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$S" "$@" >"$T/hs.$name" 2>&1 \
        && grep -q 'Cipher is [A-Z]' "$T/hs.$name"
}
hs tls1 -tls1 -cipher 'AES128-SHA@SECLEVEL=0' || fail "TLS 1.0 handshake: $(tail -3 "$T/hs.tls1")"
hs tls1_1 -tls1_1 -cipher 'AES128-SHA@SECLEVEL=0' || fail "TLS 1.1 handshake"
hs aes256 -tls1_1 -cipher 'AES256-SHA@SECLEVEL=0' || fail "TLS 1.1 AES256-SHA handshake"
hs tls1_2 -tls1_2 || fail "TLS 1.2 handshake"
hs tls1_3 -tls1_3 || fail "TLS 1.3 handshake"
grep -q 'Cipher is AES128-SHA' "$T/hs.tls1" && grep -q 'Cipher is AES128-SHA' "$T/hs.tls1_1" \
    && grep -q 'Cipher is AES256-SHA' "$T/hs.aes256" || fail "axTLS suites not negotiated"
grep -q 'Cipher is TLS_' "$T/hs.tls1_3" || fail "TLS 1.3 not negotiated"
grep -q 'CN *= *sonoff-ota' "$T/hs.tls1_2" || fail "certificate CN is not sonoff-ota"
wait_ev 'TLS_CLIENT.*detail="TLSv1 AES128-SHA (ClientHello 0x0301'
wait_ev 'TLS_CLIENT.*detail="TLSv1.1 AES128-SHA (ClientHello 0x0302'
wait_ev 'TLS_CLIENT.*detail="TLSv1.2 '
wait_ev 'TLS_CLIENT.*detail="TLSv1.3 '
echo | openssl s_client -connect "127.0.0.1:$S" -showcerts 2>/dev/null | openssl x509 -noout -text >"$T/cert.txt"
grep -q 'sha256WithRSAEncryption' "$T/cert.txt" && grep -q 'Public-Key: (2048 bit)' "$T/cert.txt" \
    || fail "certificate is not RSA-2048/sha256"
pass "TLS 1.0, 1.1 (AES128-SHA, AES256-SHA), 1.2 and 1.3 handshakes; RSA-2048 cert CN sonoff-ota; TLS_CLIENT events"

# failed handshakes are explained: no common suite, or a client that refuses our cert
hs nullsha -tls1_1 -cipher 'NULL-SHA@SECLEVEL=0' && fail "a NULL cipher was accepted"
wait_ev 'TLS_CLIENT.*error=40 .*handshake failed: we sent alert handshake failure; ClientHello 0x0302'
hs pinned -tls1_2 -verify_return_error && fail "an unverifiable certificate was accepted"
wait_ev 'TLS_CLIENT.*error=48 .*certrefused=1 .*the client sent alert unknown CA.*pins the cloud certificate'
grep 'error=40 ' "$T/ev" | grep -q 'certrefused' && fail "no shared suite taken for pinning"
pass "failed handshakes reported with the alert and a hint"

# Pinning evidence is a client that got our certificate and then ended the handshake.
# A client that closes after our certificate without an alert (127.0.0.3) counts; a bare
# connect-and-close (127.0.0.4, no ClientHello) does not (issue 12).
python3 - "$S" <<'PY' || fail "close-after-certificate client"
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inb, outb)
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
s = socket.socket()
s.bind(("127.0.0.3", 0))
s.connect(("127.0.0.1", port))
s.settimeout(5)
s.sendall(outb.read())
got = b""
while b"\x0e\x00\x00\x00" not in got:  # ServerHelloDone: our whole flight is here
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("the server closed first")
    got += chunk
s.close()  # no alert: what a pinning device that just drops the connection does
b = socket.socket()
b.bind(("127.0.0.4", 0))
b.connect(("127.0.0.1", port))
b.close()
PY
wait_ev 'TLS_CLIENT .*peer=127.0.0.3:.*certrefused=1 .*the client closed the connection after our certificate'
wait_ev 'TLS_CLIENT .*the client closed the connection; no ClientHello'
grep 'no ClientHello' "$T/ev" | grep -q 'certrefused' && fail "a bare connect-and-close taken for pinning"
pass "pinning evidence: certificate alert or close after our certificate; not a refusal of ours, not a bare close"

# ---- plain HTTP on the TLS port fails cleanly; the server keeps serving ----
python3 - "$S" <<'PY' || fail "plain HTTP on the TLS port"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /dispatch/device HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
try:
    r = s.recv(4096)
except (ConnectionResetError, socket.timeout):
    r = b""
assert not r.startswith(b"HTTP/"), "got an HTTP answer: %r" % r[:40]
print("plain HTTP on the TLS port: %d bytes back, no HTTP reply" % len(r))
PY
hs again -tls1_1 -cipher 'AES128-SHA@SECLEVEL=0' || fail "server stopped after plain HTTP on the TLS port"
pass "plain HTTP to the TLS port fails cleanly and the server keeps serving"

# ---- dispatch + WebSocket session as the device does it ----
cat >"$T/dev.py" <<'PY'
# A stock device, as far as the cloud can see: raw sockets, TLS 1.1 + AES128-SHA,
# fixed WebSocket key, frames masked with key 00 00 00 00 (PROTOCOL.md §1.3, §1.4).
import hashlib, json, socket, ssl, struct, sys, time

KEY, ACCEPT = "ITEADTmobiM0x1DabcEsnw==", "q1/L5gx6qdQ7y3UWgO/Tah/zXBA="
DEVID, FACTORY, MODEL = "100008db11", "94676db5-88f3-4dc0-8573-5e6615eaacc4", "ITA-GZ1-GL"

def connect(port, tls=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if not tls:
        return s
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("AES128-SHA@SECLEVEL=0")
    t = ctx.wrap_socket(s)
    assert (t.version(), t.cipher()[0]) == ("TLSv1.1", "AES128-SHA"), (t.version(), t.cipher())
    return t

def dispatch(port, tls=True):
    s = connect(port, tls)
    body = json.dumps({"accept": "ws;2", "version": 2, "ts": 933, "deviceid": DEVID,
                       "apikey": FACTORY, "model": MODEL, "romVersion": "1.5.5"})
    s.sendall(("POST /dispatch/device HTTP/1.1\r\nHost: eu-disp.coolkit.cc\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (len(body), body)).encode())
    r = s.recv(4096)                      # the whole reply in one read (one write)
    s.close()
    head, _, js = r.partition(b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 200 OK\r\n"), r[:40]
    assert b"\r\nContent-Type: application/json" in head, head
    assert b"\r\nContent-Length: %d" % len(js) in head, (head, len(js))
    d = json.loads(js)
    assert d["error"] == 0 and d["IP"] == "127.0.0.1" and d["port"] == port, d
    return d

def frame(text, op=1):
    b = text.encode() if isinstance(text, str) else text
    n = len(b)
    h = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
    return h + b"\0\0\0\0" + b

def recv_frame(s):
    """Every server frame: one unfragmented unmasked text frame, alone in one read."""
    d = s.recv(65536)
    assert d, "connection closed"
    assert d[0] == 0x81, "frame starts %02x" % d[0]
    assert not d[1] & 0x80, "server frame is masked"
    n, off = d[1] & 0x7f, 2
    if n == 126:
        n, off = struct.unpack(">H", d[2:4])[0], 4
    assert n != 127 and len(d) == off + n, "read held %d bytes for a %d-byte frame" % (len(d), off + n)
    assert n < 1400
    return json.loads(d[off:])

def ws_open(port, tls=True):
    s = connect(port, tls)
    s.sendall(("GET /api/ws HTTP/1.1\r\nHost: iotgo.iteadstudio.com\r\nConnection: upgrade\r\n"
               "Upgrade: websocket\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % KEY).encode())
    r = s.recv(4096)
    assert r.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"), r[:60]
    assert ("Sec-WebSocket-Accept: " + ACCEPT).encode() in r, r
    return s

def msg(apikey, action, **kw):
    m = {"userAgent": "device", "apikey": apikey, "deviceid": DEVID, "action": action}
    m.update(kw)
    return frame(json.dumps(m))

def session(s, http_port, digests):
    """register → date → update → query as in the VP capture; returns (owner key, upgrade)."""
    s.sendall(msg(FACTORY, "register", version=2, romVersion="1.5.5", model=MODEL, ts=933))
    r = recv_frame(s)
    key = r["apikey"]
    assert r["error"] == 0 and r["deviceid"] == DEVID and "params" not in r, r
    assert len(key) == 36 and key != FACTORY and key.count("-") == 4, key
    assert r["config"] == {"hb": 1, "hbInterval": 145}, r
    s.sendall(msg(key, "date"))
    r = recv_frame(s)
    assert r["apikey"] == key and r["date"].endswith("Z") and len(r["date"]) == 24, r
    s.sendall(msg(key, "update", params={"switch": "off", "fwVersion": "1.5.5", "rssi": -31,
                                         "staMac": "5C:CF:7F:A6:FD:F6", "startup": "off"}))
    r = recv_frame(s)
    assert r == {"error": 0, "deviceid": DEVID, "apikey": key}, r
    up = recv_frame(s)                    # the upgrade follows the first update reply
    assert up["action"] == "upgrade" and up["apikey"] == key and up["deviceid"] == DEVID, up
    assert up["userAgent"] == "app" and up["sequence"].isdigit(), up
    assert abs(int(up["sequence"]) - time.time() * 1000) < 60000, up["sequence"]
    p = up["params"]
    assert p["model"] == MODEL and p["version"] == "99.99.99" and p["autoRestart"] == 1, p
    bl = p["binList"]
    assert [b["name"] for b in bl] == ["user1.bin", "user2.bin"], bl
    assert [b["downloadUrl"] for b in bl] == [
        "http://127.0.0.1:%d/ota/image_user1-0x01000.bin" % http_port,
        "http://127.0.0.1:%d/ota/image_user2-0x81000.bin" % http_port], bl
    assert [b["digest"] for b in bl] == digests, bl
    s.sendall(msg(key, "query", params=["timers"]))
    r = recv_frame(s)
    assert r["params"] == 0 and r["apikey"] == key, r
    return key, up

def ack(s, key, seq, error):
    s.sendall(frame(json.dumps({"error": error, "userAgent": "device", "apikey": key,
                                "deviceid": DEVID, "sequence": seq})))
PY

python3 - "$H" "$S" "$L" "$T" "$U1" "$U2" <<'PY' || fail "dispatch / WebSocket session"
import hashlib, sys, time
sys.path.insert(0, sys.argv[4])
from dev import *
H, S, L, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
digests = [hashlib.sha256(open("%s/%s" % (tmp, n), "rb").read()).hexdigest() for n in sys.argv[5:7]]

dispatch(S)
dispatch(L, tls=False)                     # legacy: plain dispatch on its own port
print("dispatch: 200 OK, one read, IP 127.0.0.1 and the port used (TLS and plain)")

s = ws_open(S)
key, up = session(s, H, digests)
s.sendall(bytes([0x89, 0x80, 0, 0, 0, 0])) # the device's empty ping
assert s.recv(100) == b"\x8a\x00", "pong is not exactly 8A 00"
ack(s, key, up["sequence"], 0)
s.sendall(msg(key, "update", params={"switch": "on"}))
assert recv_frame(s) == {"error": 0, "deviceid": DEVID, "apikey": key}
print("WebSocket session: register/date/update/query replies, upgrade fields, pong 8A 00")

# The download failed after all (SonOTA saw this 404 arrive later, §1.5): the same
# session gets the upgrade again after a short delay, now for paced serving.
ack(s, key, up["sequence"], 404)
t0 = time.time()
up2 = recv_frame(s)
assert up2["action"] == "upgrade" and up2["sequence"] != up["sequence"], up2
assert 1.0 < time.time() - t0 < 10, time.time() - t0
s.close()

# Reconnect (new session, same device): the upgrade is issued again.
s = ws_open(S)
key2, up3 = session(s, H, digests)
assert key2 != key and up3["sequence"] not in (up["sequence"], up2["sequence"])
s.close()
print("ack 404: upgrade re-issued in the session and after reconnecting")

# The device's whole-body GET is now paced (≈70 KB/s); its Range GETs are not.
import socket
want = open("%s/%s" % (tmp, sys.argv[5]), "rb").read()
c = socket.create_connection(("127.0.0.1", H), timeout=10)
t0 = time.time()
c.sendall(b"GET /ota/image_user1-0x01000.bin?deviceid=100008db11&ts=1&sign=0 HTTP/1.1\r\n"
          b"Host: dl.itead.cn\r\nUser-Agent: itead-device\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf or len(buf.partition(b"\r\n\r\n")[2]) < len(want):
    d = c.recv(65536)
    assert d, "closed early"
    buf += d
el = time.time() - t0
assert buf.partition(b"\r\n\r\n")[2] == want
floor = len(want) / 70000.0 * 0.8
print("paced whole body after ack 404: %.2f s (floor %.2f s)" % (el, floor))
assert el >= floor, "not paced"
t0 = time.time()
c.sendall(b"GET /ota/image_user2-0x81000.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4095\r\n\r\n")
assert c.recv(65536).startswith(b"HTTP/1.1 206") and time.time() - t0 < 1.0

# Legacy plain WebSocket on its own port.
s = ws_open(L, tls=False)
s.sendall(msg(FACTORY, "register", version=2, romVersion="1.5.0", model=MODEL, ts=1))
assert recv_frame(s)["config"]["hbInterval"] == 145
s.close()

# Oversize input closes the session; malformed input is ignored.
s = ws_open(S)
s.sendall(frame("{not json"))
s.sendall(msg(FACTORY, "register", version=2, romVersion="1.5.5", model=MODEL, ts=2))
assert recv_frame(s)["error"] == 0          # still served after the garbage
s.sendall(frame("{" + " " * 3000 + "}"))
s.settimeout(5)
d = s.recv(100)
assert d == b"" or d[0] == 0x88, "oversize message did not close: %r" % d[:10]
s.close()

# A WebSocket upgrade anywhere but /api/ws is refused.
s = connect(S)
s.sendall(("GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % KEY).encode())
r = s.recv(4096)
assert not r.startswith(b"HTTP/1.1 101"), r[:40]
print("legacy plain WebSocket, malformed/oversize input, upgrade path checks")
PY
pass "dispatch (TLS 1.1 AES128-SHA and plain) and the WebSocket session up to the upgrade"

wait_ev 'DISPATCH.*deviceid=100008db11 model=ITA-GZ1-GL rom=1.5.5'
wait_ev 'REGISTER.*deviceid=100008db11'
wait_ev 'UPGRADE_ACK.*error=0 '
wait_ev 'UPGRADE_ACK.*error=404 paced=1'
[ "$(grep -c 'UPGRADE_SENT.*paced=1' "$T/ev")" -ge 2 ] || fail "re-issued upgrades not paced: $(grep UPGRADE_SENT "$T/ev")"
wait_ev 'DOWNLOAD_DONE.*file=image_user1-0x01000.bin.*paced=1'
wait_ev 'WS_CLOSED'
pass "events: DISPATCH, REGISTER, UPGRADE_SENT, UPGRADE_ACK 0/404, paced DOWNLOAD, WS_CLOSED"

# ---- handshakes under way are bounded (srv_priv.h: SRV_TLS_HANDSHAKES_MAX 32): 42 silent
# connections (3 addresses, under the per-address limit) leave the rest waiting in the
# listener's accept queue, a device still gets through (a pause ends after 200 ms), and
# once they are gone the listener accepts at once again ----
python3 - "$S" <<'PY' || fail "handshake pacing"
import socket, ssl, subprocess, sys, time, warnings
S = int(sys.argv[1])
def backlog():
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % S], capture_output=True, text=True).stdout
    return int(out.split()[1]) if out.split() else -1
def device(src):
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = c.maximum_version = ssl.TLSVersion.TLSv1_1
    c.set_ciphers("AES128-SHA:@SECLEVEL=0")
    t0 = time.monotonic()
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", S))
    t = c.wrap_socket(s)
    took = time.monotonic() - t0
    t.close()
    return took
silent = []
for i in range(42):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (40 + i // 14), 0))
    s.connect(("127.0.0.1", S))
    silent.append(s)
time.sleep(0.5)
q = backlog()
assert q >= 5, "accept queue %d with 42 silent connections: accepting was not paused" % q
took = device("127.0.0.50")
assert took < 10, "a device behind them needed %.1f s" % took
for s in silent:
    s.close()
time.sleep(0.5)
q2 = backlog()
assert q2 == 0, "accept queue %d after the silent connections closed" % q2
took2 = device("127.0.0.51")
assert took2 < 2, "a handshake needed %.1f s with nothing under way" % took2
print("42 silent connections: %d waited in the accept queue; a device got through in "
      "%.2f s; afterwards %.2f s" % (q, took, took2))
PY
pass "TLS handshakes under way are bounded; a device gets through; accepting resumes"

# Without a configured serving address, the reply names the address the device dialled.
"$SRVTEST" --bind 127.0.0.1 --http-port 0 --https-port 0 --plain-port 0 --legacy \
    --file "$U1=$T/$U1" --file "$U2=$T/$U2" --user1 "$U1" --user2 "$U2" >"$T/ev2" 2>"$T/log2" &
SRV2_PID=$!
e2e_track "$SRV2_PID"
wait_for 60 grep -q '^PORTS' "$T/ev2" || fail "second srvtest did not start"
L2=$(sed -n 's/^PORTS .*plain=\([0-9]*\)/\1/p' "$T/ev2")
python3 - "$L2" "$T" <<'PY' || fail "dispatch without a serving address"
import sys
sys.path.insert(0, sys.argv[2])
from dev import dispatch
print("dispatch without --serving-ip:", dispatch(int(sys.argv[1]), tls=False))
PY
kill -TERM "$SRV2_PID"
wait_pid 60 "$SRV2_PID" || fail "second srvtest did not stop cleanly"
pass "dispatch names the address the device reached when none is configured"

kill -TERM "$SRV_PID"
wait_pid 15 "$SRV_PID"
rc=$?
[ "$rc" -eq 0 ] && grep -q '^STOPPED' "$T/ev" || { cat "$T/log" >&2; fail "srvtest did not stop cleanly ($rc)"; }
pass "clean stop"
