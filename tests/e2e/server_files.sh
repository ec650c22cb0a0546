#!/usr/bin/env bash
# User story: the firmware file server gives stock devices (4 KiB Range requests on one
# keep-alive connection, head + body in one packet), Espressif2Arduino (HTTP/1.0 whole
# body) and DIY devices exactly what they need, serves nothing but the configured files,
# and paces whole-body downloads so a slow device keeps up (PROTOCOL.md §1.5, §4, §6).
# Runs sonota's server alone (tests/e2e/srvtest) on 127.0.0.1 only.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${SRVTEST:-}" ] && [ -x "$SRVTEST" ] || skip "SRVTEST (the srvtest driver) not built"
command -v curl >/dev/null || skip "curl not installed"
command -v python3 >/dev/null || skip "python3 not installed"

T=$E2E_TMP
U1=image_user1-0x01000.bin
U2=image_user2-0x81000.bin
AR=image_arduino.bin
head -c 239220 /dev/urandom >"$T/$U1"
head -c 239220 /dev/urandom >"$T/$U2"
head -c 482432 /dev/urandom >"$T/$AR"
head -c 3000 /dev/urandom >"$T/small.bin"

# start_srv NAME ARGS...: runs srvtest, events in $T/NAME.ev, sets SRV_PID and H (http port).
start_srv() {
    local name=$1; shift
    "$SRVTEST" --bind 127.0.0.1 --http-port 0 "$@" >"$T/$name.ev" 2>"$T/$name.log" &
    SRV_PID=$!
    e2e_track "$SRV_PID"
    wait_for 30 grep -q '^PORTS' "$T/$name.ev" || { cat "$T/$name.log" >&2; fail "srvtest $name did not start"; }
    H=$(sed -n 's/^PORTS http=\([0-9]*\).*/\1/p' "$T/$name.ev")
}

# stop_srv NAME: SIGTERM, then a clean exit (ASan would fail it on a leak).
stop_srv() {
    kill -TERM "$SRV_PID"
    wait_pid 15 "$SRV_PID"
    local rc=$?
    [ "$rc" -eq 0 ] || { cat "$T/$1.log" >&2; fail "srvtest $1 exited with $rc"; }
    grep -q '^STOPPED' "$T/$1.ev" || fail "srvtest $1 did not stop cleanly"
}

ev() { grep -c "$2" "$T/$1.ev"; }
wait_ev() { wait_for "${3:-5}" grep -q "$2" "$T/$1.ev" || { cat "$T/$1.ev" >&2; fail "no event matching '$2'"; }; }

start_srv main --file "$U1=$T/$U1" --file "$U2=$T/$U2" --file "$AR=$T/$AR" \
    --file "small.bin=$T/small.bin" --pace fast
BASE="http://127.0.0.1:$H"

# ---- curl: Range, whole body, HTTP/1.0, any Host, query string ----
code=$(curl -s -o "$T/r.bin" -D "$T/h.txt" -w '%{http_code}' -r 4096-8191 \
       -H 'Host: dl.itead.cn' -H 'User-Agent: itead-device' "$BASE/ota/$U1?deviceid=100008db11&ts=1191391529&sign=ab")
[ "$code" = 206 ] || fail "Range request answered $code"
cmp -s "$T/r.bin" <(tail -c +4097 "$T/$U1" | head -c 4096) || fail "Range body differs from the file"
grep -qi '^Content-Range: bytes 4096-8191/239220' "$T/h.txt" || fail "wrong Content-Range: $(cat "$T/h.txt")"
grep -qi '^Content-Length: 4096' "$T/h.txt" || fail "wrong Content-Length"
head -1 "$T/h.txt" | grep -q '^HTTP/1.1 206 Partial Content' || fail "status line: $(head -1 "$T/h.txt")"
code=$(curl -s -o "$T/r.bin" -w '%{http_code}' -r 237568- "$BASE/ota/$U1")
[ "$code" = 206 ] && cmp -s "$T/r.bin" <(tail -c +237569 "$T/$U1") || fail "open-ended Range (last chunk, clipped)"
pass "Range requests: 206, exact bytes, Content-Range, any Host, query string ignored"

code=$(curl -s -o "$T/r.bin" -D "$T/h.txt" -w '%{http_code}' "$BASE/ota/$AR")
[ "$code" = 200 ] && cmp -s "$T/r.bin" "$T/$AR" || fail "whole-body GET"
grep -qi '^Content-Length: 482432' "$T/h.txt" || fail "no Content-Length on 200"
grep -qi '^Accept-Ranges: bytes' "$T/h.txt" || fail "no Accept-Ranges"
grep -qi '^Content-Type: application/octet-stream' "$T/h.txt" || fail "wrong Content-Type"
grep -qi 'Transfer-Encoding' "$T/h.txt" && fail "reply is chunked"
wait_ev main "DOWNLOAD_DONE.*file=$AR.*total=482432"
pass "whole-body GET: 200, Content-Length, not chunked, DONE event"

code=$(curl -s -0 -o "$T/r.bin" -D "$T/h.txt" -w '%{http_code}' -H 'Host: dl.itead.cn' "$BASE/ota/$U2")
[ "$code" = 200 ] && cmp -s "$T/r.bin" "$T/$U2" || fail "HTTP/1.0 GET (as Espressif2Arduino)"
grep -qi '^Connection: close' "$T/h.txt" || fail "HTTP/1.0 reply does not close"
code=$(curl -s -I -o /dev/null -D "$T/h.txt" -w '%{http_code}' "$BASE/ota/small.bin")
[ "$code" = 200 ] && grep -qi '^Content-Length: 3000' "$T/h.txt" || fail "HEAD"
pass "HTTP/1.0 whole body and HEAD"

code=$(curl -s -o /dev/null -D "$T/h.txt" -w '%{http_code}' -r 239220-239999 "$BASE/ota/$U1")
[ "$code" = 416 ] || fail "unsatisfiable Range answered $code"
grep -qi '^Content-Range: bytes \*/239220' "$T/h.txt" || fail "416 without Content-Range: bytes */size"
wait_ev main "REJECTED.*error=416"
pass "unsatisfiable Range: 416 with Content-Range bytes */size"

# ---- nothing else is served ----
n_rej=$(ev main 'REJECTED.*error=404')
for p in /ota/../etc/passwd "/ota/..%2f$U1" /ota/%2e%2e/ "/ota/%69mage_user1-0x01000.bin" \
         /ota/ /ota /etc/passwd "/ota/$U1/" "/OTA/$U1" "/ota/IMAGE_USER1-0x01000.BIN" \
         "/ota//$U1" "/ota/./$U1" "/static/$U1" "/ota/$U1%00"; do
    code=$(curl -s --path-as-is -o "$T/r.bin" -w '%{http_code}' "$BASE$p")
    [ "$code" = 404 ] || fail "$p answered $code"
    grep -q 'not served' "$T/r.bin" || fail "$p served something"
done
python3 - "$H" "$U1" <<'PY' || fail "absolute-form or odd requests were served"
import socket, sys
port, name = int(sys.argv[1]), sys.argv[2]
for req in ["GET http://dl.itead.cn/ota/%s HTTP/1.1\r\nHost: x\r\n\r\n" % name,
            "GET /ota/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" % name,
            "DELETE /ota/%s HTTP/1.1\r\nHost: x\r\n\r\n" % name]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(req.encode())
    r = s.recv(65536)
    if r.split(b"\r\n")[0].split(b" ")[1] not in (b"404", b"400", b"405"):
        sys.exit("served: %r" % r[:80])
PY
[ "$(ev main 'REJECTED.*error=404')" -ge $((n_rej + 14)) ] || fail "404s were not reported as REJECTED"
pass "paths not configured, traversal and percent-encoding: 404, nothing served"

# ---- raw sockets: one recv per reply, device-style chunk loop, keep-alive, abort ----
python3 - "$H" "$T" "$U1" "$U2" "$AR" <<'PY' || fail "raw-socket checks"
import socket, sys, time
port, tmp, u1, u2, ar = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
data = {n: open("%s/%s" % (tmp, n), "rb").read() for n in (u1, u2, ar)}

def req(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: dl.itead.cn\r\nUser-Agent: itead-device\r\n%s\r\n"
            % (path, extra)).encode()

# A stock device reassembles one reply per request (§1.5): head and body in one recv.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(req("/ota/%s?deviceid=100008db11&ts=1&sign=00" % u1, "Range: bytes=0-4095\r\n"))
r = s.recv(65536)
head, _, body = r.partition(b"\r\n\r\n")
assert r.startswith(b"HTTP/1.1 206 Partial Content\r\n"), r[:60]
assert body == data[u1][:4096], "one recv held %d body bytes" % len(body)
print("one recv: %d bytes of head + 4096 of body" % (len(head) + 4))

# The whole user2 image as the firmware fetches it: 4 KiB chunks, one connection.
size = len(data[u2])
k = 0
while k * 4096 < size:
    a, b = k * 4096, min(k * 4096 + 4095, size - 1)
    s.sendall(req("/ota/%s?deviceid=100008db11&ts=%d&sign=ff" % (u2, k), "Range: bytes=%d-%d\r\n" % (a, b)))
    r = s.recv(65536)
    head, _, body = r.partition(b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 206 Partial Content\r\n"), r[:60]
    assert b"\r\nContent-Range: bytes %d-%d/%d\r\n" % (a, b, size) in head + b"\r\n", head
    assert b"\r\nContent-Length: %d\r\n" % (b - a + 1) in head + b"\r\n", head
    assert body == data[u2][a:b + 1], "chunk %d: %d bytes in one recv" % (k, len(body))
    k += 1
print("device loop: %d chunks, each reply in one recv, one connection" % k)

# keep-alive survives a 404; then a Range works on the same connection
s.sendall(req("/ota/nothing.bin"))
r = s.recv(65536)
assert r.startswith(b"HTTP/1.1 404"), r[:40]
s.sendall(req("/ota/%s" % u1, "Range: bytes=100-199\r\n"))
r = s.recv(65536)
assert r.startswith(b"HTTP/1.1 206") and r.endswith(data[u1][100:200]), r[:40]
s.close()

# garbage and an oversized head are refused and close the connection
for bad in [b"\x00\x01\x02 HELLO\r\n\r\n", b"GET /ota/x HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(bad)
    except OSError:
        pass
    r = s.recv(65536)
    assert r.startswith(b"HTTP/1.1 400") or r.startswith(b"HTTP/1.1 431"), r[:40]
    s.close()

# a peer that leaves mid-body: small receive buffer so the server cannot finish first
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(req("/ota/%s" % ar))
got = 0
while got < 2000:
    got += len(s.recv(1000))
time.sleep(0.3)
s.close()
PY
wait_ev main "DOWNLOAD_DONE.*file=$U2.*total=239220"
wait_ev main "DOWNLOAD_START.*file=$U2.*(Range)"
wait_ev main "DOWNLOAD_ABORT.*file=$AR"
pass "one recv per 4 KiB reply; 59-chunk keep-alive loop gives DONE; keep-alive after 404; garbage refused; ABORT"

# ---- DIY result post (§6) ----
out=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"error":0,"deviceid":"10009a1b2c"}' \
      "$BASE/api/device/otaFlash")
[ "$out" = '{"error":0}' ] || fail "otaFlash answered '$out'"
wait_ev main 'DIY_RESULT.*error=0'
pass "POST /api/device/otaFlash answered {\"error\":0}"

# ---- a port in use gives a sentence naming the port and the option ----
if "$SRVTEST" --bind 127.0.0.1 --http-port "$H" --file "small.bin=$T/small.bin" --max-seconds 1 \
        >"$T/busy.ev" 2>"$T/busy.log"; then
    fail "a second server started on a busy port"
fi
grep -q "port $H" "$T/busy.log" && grep -q -- '--http-port' "$T/busy.log" || fail "busy-port message: $(cat "$T/busy.log")"
pass "busy port: '$(sed 's/^srvtest: //' "$T/busy.log")'"

# the server kept serving through all of the above
code=$(curl -s -o "$T/r.bin" -w '%{http_code}' "$BASE/ota/small.bin")
[ "$code" = 200 ] && cmp -s "$T/r.bin" "$T/small.bin" || fail "server stopped serving"
stop_srv main

# ---- paced whole-body serving for a slow device ----
start_srv paced --file "$U1=$T/$U1" --pace slow
e2e_rt python3 - "$H" "$T/$U1" "$U1" <<'PY' || fail "paced download"
import fcntl, socket, struct, sys, termios, time
port, path, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
want = open(path, "rb").read()
# The simulator's strict slow reader: <= 1460 B every 10 ms, fail if > 2920 B wait.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(("GET /ota/%s HTTP/1.1\r\nHost: dl.itead.cn\r\nUser-Agent: itead-device\r\n\r\n" % name).encode())
t0 = time.time(); buf = b""; peak = 0
while True:
    time.sleep(0.01)
    waiting = struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0\0\0\0"))[0]
    peak = max(peak, waiting)
    if waiting > 2920:
        sys.exit("%d bytes waiting: not paced" % waiting)
    if waiting:
        buf += s.recv(min(1460, waiting))
    elif b"\r\n\r\n" in buf and len(buf.partition(b"\r\n\r\n")[2]) >= len(want):
        break
    if time.time() - t0 > 60:
        sys.exit("timeout")
el = time.time() - t0
body = buf.partition(b"\r\n\r\n")[2]
assert body == want, "body differs"
floor = len(want) / 70000.0 * 0.8
print("paced: %d bytes in %.2f s (%.0f B/s), at most %d bytes waiting" % (len(body), el, len(body) / el, peak))
assert el >= floor, "too fast for paced serving: %.2f s < %.2f s" % (el, floor)
# Range requests are never paced
s2 = socket.create_connection(("127.0.0.1", port), timeout=5)
t1 = time.time()
s2.sendall(("GET /ota/%s HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4095\r\n\r\n" % name).encode())
r = s2.recv(65536)
assert r.startswith(b"HTTP/1.1 206") and time.time() - t1 < 1.0
PY
wait_ev paced "DOWNLOAD_START.*file=$U1.*paced=1"
wait_ev paced "DOWNLOAD_DONE.*file=$U1.*paced=1"
stop_srv paced
pass "paced whole body: strict slow reader keeps up, >= 0.8 x len/70 KB/s, Range not paced"

# ---- files given after the ports listen (srv_set_files: sonota flash checks its images
# on a worker meanwhile): a request that arrives first waits, unread, and is answered with
# the right bytes once the files are set (the flash stories check the upgrade's digests
# on this path: sonota flash always takes it) ----
start_srv later --https-port 0 --file "$U1=$T/$U1" --file "$U2=$T/$U2" --user1 "$U1" \
    --user2 "$U2" --files-later 1.5
# WAITING follows PORTS at once, but under valgrind a look can fall in between
wait_for 10 grep -q '^WAITING' "$T/later.ev" || fail "srvtest did not wait for its files"
python3 - "$H" "$T/$U1" "$T/later.ev" <<'PY' || fail "request before the files were set"
import os, socket, sys, time
port, path, ev = int(sys.argv[1]), sys.argv[2], sys.argv[3]
name, want = os.path.basename(path), open(path, "rb").read()[100:4196]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(("GET /ota/%s HTTP/1.1\r\nHost: x\r\nRange: bytes=100-4195\r\n\r\n" % name).encode())
r = b""
while b"\r\n\r\n" not in r or len(r.split(b"\r\n\r\n", 1)[1]) < len(want):
    d = s.recv(65536)
    assert d, "closed before the whole reply"
    r += d
    # nothing may arrive before the server has its files
    assert "FILES" in open(ev).read(), "answered before srv_set_files"
head, _, body = r.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 206"), head[:40]
assert body == want, "body differs"
PY
stop_srv later
pass "files set after listening: the early request waited and got the right bytes"
