# hostile_lib.sh - shared by hostile_http.sh, hostile_tls.sh and hostile_ws.sh: runs
# sonota's servers alone (tests/e2e/srvtest) on 127.0.0.1, checks that a well-behaved
# client is still served, and writes hl.py, the raw-socket toolkit the hostile
# clients use. Source it after lib.sh; never run it.
#
# SONOTA_VALGRIND=1 runs srvtest under valgrind (memcheck, full leak check); a report
# of errors or leaks fails the test. It needs a build without sanitizers:
#   meson setup build-vg -Db_sanitize=none && SONOTA_VALGRIND=1 meson test -C build-vg --suite e2e hostile_http
# Clients connect from other loopback addresses (127.0.0.2 ...) so the per-address
# connection limit of the well-behaved client on 127.0.0.1 is not touched.

[ -n "${SRVTEST:-}" ] && [ -x "$SRVTEST" ] || skip "SRVTEST (the srvtest driver) not built"
command -v python3 >/dev/null || skip "python3 not installed"
command -v curl >/dev/null || skip "curl not installed"
command -v openssl >/dev/null || skip "openssl not installed"

T=$E2E_TMP
U1=image_user1-0x01000.bin
U2=image_user2-0x81000.bin
AR=image_arduino.bin
head -c 239220 /dev/urandom >"$T/$U1"
head -c 239220 /dev/urandom >"$T/$U2"
head -c 482432 /dev/urandom >"$T/$AR"

HL_VG=""
HL_SLOW=1          # timing windows are multiplied by this under valgrind
if [ "${SONOTA_VALGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null || fail "SONOTA_VALGRIND=1 but valgrind is not installed"
    if ldd "$SRVTEST" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        fail "SONOTA_VALGRIND=1 needs srvtest built without sanitizers (meson setup build-vg -Db_sanitize=none)"
    fi
    # --fair-sched=yes: see lib.sh (the key worker must not starve the main loop)
    HL_VG="valgrind --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible --track-fds=no --log-file=$T/valgrind.%p.log"
    HL_SLOW=3
fi

# hl_start NAME ARGS...: starts srvtest with the three images, legacy plain port too;
# events in $T/NAME.ev. Sets HL_PID and the ports H (files), S (TLS), L (plain).
hl_start() {
    local name=$1; shift
    # shellcheck disable=SC2086
    $HL_VG "$SRVTEST" --bind 127.0.0.1 --serving-ip 127.0.0.1 --http-port 0 --https-port 0 \
        --plain-port 0 --legacy --file "$U1=$T/$U1" --file "$U2=$T/$U2" --file "$AR=$T/$AR" \
        --user1 "$U1" --user2 "$U2" "$@" >"$T/$name.ev" 2>"$T/$name.log" &
    HL_PID=$!
    e2e_track "$HL_PID"
    wait_for $((60 * HL_SLOW)) grep -q '^PORTS' "$T/$name.ev" || { cat "$T/$name.log" >&2; fail "srvtest $name did not start"; }
    read -r H S L < <(sed -n 's/^PORTS http=\([0-9]*\) https=\([0-9]*\) plain=\([0-9]*\)/\1 \2 \3/p' "$T/$name.ev")
    [ -n "$L" ] || fail "no ports: $(cat "$T/$name.ev")"
}

# hl_stop NAME: SIGTERM and a clean exit; under valgrind, no errors and no leaks.
hl_stop() {
    kill -TERM "$HL_PID"
    wait_pid $((30 * HL_SLOW)) "$HL_PID"
    local rc=$?
    if [ "$rc" -eq 99 ]; then
        cat "$T"/valgrind.*.log >&2
        fail "valgrind found errors or leaks in srvtest $1"
    fi
    [ "$rc" -eq 0 ] || { tail -20 "$T/$1.log" >&2; fail "srvtest $1 exited with $rc"; }
    grep -q '^STOPPED' "$T/$1.ev" || fail "srvtest $1 did not stop cleanly"
    if [ -n "$HL_VG" ]; then
        grep -h 'in use at exit\|definitely lost\|indirectly lost\|possibly lost\|still reachable\|ERROR SUMMARY' \
            "$T"/valgrind.*.log | sed 's/^==[0-9]*== */valgrind: /' 
        grep -q 'ERROR SUMMARY: 0 errors' "$T"/valgrind.*.log || { cat "$T"/valgrind.*.log >&2; fail "valgrind errors"; }
        rm -f "$T"/valgrind.*.log
    fi
}

hl_ev_count() { grep -c -- "$2" "$T/$1.ev"; }
hl_wait_ev() {
    wait_for "${3:-5}" grep -q -- "$2" "$T/$1.ev" || { tail -30 "$T/$1.ev" >&2; fail "no event matching '$2'"; }
}

# hl_slots_free: every address the hostile clients used can open 16 connections again.
hl_slots_free() {
    python3 - "$T" "$H" "$S" "$L" <<'PY' || fail "connection slots leaked"
import sys
sys.path.insert(0, sys.argv[1])
from hl import slots_free
slots_free([int(p) for p in sys.argv[2:5]])
PY
    pass "no connection slot leaked: 16 connections from each hostile address admitted on every port"
}

# hl_healthy WHAT: a well-behaved client is still served: a curl Range download
# compared byte for byte, a whole-body download, and a TLS handshake.
hl_healthy() {
    local code
    code=$(curl -s -m 10 -o "$T/healthy.bin" -w '%{http_code}' -r 8192-12287 "http://127.0.0.1:$H/ota/$U1")
    [ "$code" = 206 ] || fail "after $1: a Range request was answered '$code'"
    cmp -s "$T/healthy.bin" <(tail -c +8193 "$T/$U1" | head -c 4096) || fail "after $1: Range bytes differ"
    code=$(curl -s -m 20 -o "$T/healthy.bin" -w '%{http_code}' "http://127.0.0.1:$H/ota/$U2")
    [ "$code" = 200 ] && cmp -s "$T/healthy.bin" "$T/$U2" || fail "after $1: whole-body download failed ($code)"
    echo | timeout $((10 * HL_SLOW)) openssl s_client -connect "127.0.0.1:$S" -tls1_1 \
        -cipher 'AES128-SHA@SECLEVEL=0' >"$T/healthy.tls" 2>&1
    grep -q 'Cipher is AES128-SHA' "$T/healthy.tls" || { cat "$T/healthy.tls" >&2; fail "after $1: TLS handshake failed"; }
    pass "after $1: Range download (cmp), whole body (cmp) and a TLS 1.1 handshake still work"
}

# Open descriptors of the server (sockets included): must come back to the baseline.
hl_fds() { ls "/proc/$HL_PID/fd" 2>/dev/null | wc -l; }

cat >"$T/hl.py" <<'PY'
# hl.py - raw-socket toolkit for the hostile tests: loopback only, every wait bounded.
import json, os, socket, ssl, struct, sys, threading, time

SLOW = float(os.environ.get("HL_SLOW", "1"))
KEY, ACCEPT = "ITEADTmobiM0x1DabcEsnw==", "q1/L5gx6qdQ7y3UWgO/Tah/zXBA="
DEVID, FACTORY, MODEL = "100008db11", "94676db5-88f3-4dc0-8573-5e6615eaacc4", "ITA-GZ1-GL"

def conn(port, src="127.0.0.2", timeout=10, rcvbuf=None):
    """A TCP connection to 127.0.0.1:port from the loopback address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s

def tls(port, src="127.0.0.2", timeout=10, version=ssl.TLSVersion.TLSv1_2):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx.wrap_socket(conn(port, src, timeout))

def http_done(buf):
    """A reply is complete once its head and its Content-Length bytes are in."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    return len(body) >= n

def frame_done(buf):
    """At least one whole WebSocket frame is in."""
    if len(buf) < 2:
        return False
    n, j = buf[1] & 0x7f, 2
    if n == 126:
        if len(buf) < 4:
            return False
        n, j = struct.unpack(">H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return False
        n, j = struct.unpack(">Q", buf[2:10])[0], 10
    return len(buf) >= j + n

def rx(s, wait=3.0, done=None, limit=1 << 22):
    """Reads for up to `wait` s (until done(bytes) if given). Returns (bytes, end):
    end is 'EOF' or 'RST' when the server closed, else 'OPEN'."""
    out = b""
    end = time.time() + wait * SLOW
    while len(out) < limit:
        if done and done(out):
            return out, "OPEN"
        left = end - time.time()
        if left <= 0:
            return out, "OPEN"
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out, "OPEN"
        except (ConnectionResetError, ssl.SSLError, OSError):
            return out, "RST"
        if not d:
            return out, "EOF"
        out += d
    return out, "OPEN"

def send(s, data):
    try:
        s.sendall(data)
        return True
    except OSError:
        return False

def status(reply):
    line = reply.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and line.startswith(b"HTTP/1.") and parts[1].isdigit() else None

def body(reply):
    return reply.partition(b"\r\n\r\n")[2]

def header(reply, name):
    for line in reply.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode()
    return None

def closes_within(s, seconds):
    """Waits until the server closes; returns the seconds it took (None if it did not)."""
    t0 = time.time()
    data, end = rx(s, seconds)
    return (time.time() - t0, data) if end != "OPEN" else (None, data)

_say = threading.Lock()

def say(line):
    """print() for threads: one whole line at a time."""
    with _say:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

def check_window(what, took, expect, slack=3.0):
    """took must be within [expect - 1, expect + slack] (scaled under valgrind)."""
    assert took is not None, "%s: still open" % what
    assert expect - 1.0 <= took <= expect + slack * SLOW, "%s: closed after %.1f s, expected ~%.0f s" % (what, took, expect)
    say("%s: closed after %.1f s (limit %.0f s)" % (what, took, expect))

def in_thread(fn, *args):
    """Runs fn(*args) in a thread; .join() re-raises its assertion."""
    res = {}
    def run():
        try:
            fn(*args)
        except BaseException as e:   # reported by join()
            res["e"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    class J:
        def join(self, timeout=None):
            t.join(timeout)
            assert not t.is_alive(), "%s did not finish" % fn.__name__
            if "e" in res:
                raise res["e"]
    return J()

def slots_free(ports, srcs=("127.0.0.2", "127.0.0.3"), n=16):
    """n connections from each src to each port are all admitted: no slot of the
    many earlier (refused, timed out, reset) connections from there leaked."""
    for port in ports:
        for src in srcs:
            socks = [conn(port, src) for _ in range(n)]
            time.sleep(0.3)
            for s in socks:
                r, end = rx(s, 0.05)
                assert end == "OPEN" and r == b"", "%s -> :%d refused: %r %s" % (src, port, r[:40], end)
            for s in socks:
                s.close()
    time.sleep(0.3)

# ---- WebSocket (the device's way: fixed key, mask 00 00 00 00, PROTOCOL.md §1.4) ----
def ws_open(port, use_tls=True, src="127.0.0.2"):
    s = tls(port, src) if use_tls else conn(port, src)
    s.sendall(("GET /api/ws HTTP/1.1\r\nHost: iotgo.iteadstudio.com\r\nConnection: upgrade\r\n"
               "Upgrade: websocket\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % KEY).encode())
    r, _ = rx(s, 5, done=http_done)
    assert r.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"), r[:80]
    assert ("Sec-WebSocket-Accept: " + ACCEPT).encode() in r, r
    return s

def frame(payload, op=1, fin=True, mask=b"\0\0\0\0", rsv=0, lenform=None):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    b0 = (0x80 if fin else 0) | rsv << 4 | op
    m = 0x80 if mask is not None else 0
    if lenform == 64 or (lenform is None and n > 65535):
        h = bytes([b0, m | 127]) + struct.pack(">Q", n)
    elif lenform == 16 or (lenform is None and n >= 126):
        h = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, m | n])
    if mask is not None:
        h += mask
        payload = bytes(p ^ mask[i % 4] for i, p in enumerate(payload))
    return h + payload

def parse_frames(data):
    """Server frames in data: [(opcode, payload)]; asserts they are unmasked and whole."""
    out, i = [], 0
    while i < len(data):
        assert i + 2 <= len(data), "truncated frame header"
        op, n, j = data[i] & 0x0f, data[i + 1] & 0x7f, i + 2
        assert data[i] & 0x80 and not data[i + 1] & 0x80, "fragmented or masked server frame"
        if n == 126:
            n, j = struct.unpack(">H", data[i + 2:i + 4])[0], i + 4
        assert n != 127, "64-bit length from the server"
        assert j + n <= len(data), "truncated frame"
        out.append((op, data[j:j + n]))
        i = j + n
    return out

def close_code(frames):
    """The status code of the last frame if it is a close frame, else None."""
    if not frames or frames[-1][0] != 8:
        return None
    p = frames[-1][1]
    return struct.unpack(">H", p[:2])[0] if len(p) >= 2 else 1005

def msg(apikey, action, **kw):
    m = {"userAgent": "device", "apikey": apikey, "deviceid": DEVID, "action": action}
    m.update(kw)
    return json.dumps(m)

def register(s, devid=DEVID):
    s.sendall(frame(json.dumps({"userAgent": "device", "apikey": FACTORY, "deviceid": devid,
                                "action": "register", "version": 2, "romVersion": "1.5.5",
                                "model": MODEL, "ts": 1})))
    r = json_reply(s)
    assert r and r["error"] == 0 and len(r["apikey"]) == 36, r
    return r["apikey"]

_left = {}   # bytes read past the frame json_reply returned, per socket

def read_frames(s, wait=3.0):
    """Everything until the server closes (or `wait` s): ([(op, payload)], end)."""
    data = _left.pop(id(s), b"")
    more, end = rx(s, wait)
    return parse_frames(data + more), end

def json_reply(s, wait=3.0):
    """The next text frame as JSON, or None when nothing came within `wait` s."""
    data = _left.pop(id(s), b"")
    if not frame_done(data):
        more, _ = rx(s, wait, done=lambda b: frame_done(data + b))
        data += more
    if not frame_done(data):
        _left[id(s)] = data
        return None
    n = len(data)
    for k in range(2, len(data) + 1):
        if frame_done(data[:k]):
            n = k
            break
    fr = parse_frames(data[:n])
    _left[id(s)] = data[n:]
    assert fr[0][0] == 1, "not a text frame: %r" % (fr,)
    return json.loads(fr[0][1])
PY
export HL_SLOW
