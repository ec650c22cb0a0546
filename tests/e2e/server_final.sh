#!/usr/bin/env bash
# User story: when FinalStage gives this computer 192.168.4.2, the file server also
# listens there (E2A fetches from 192.168.4.2:8080 only, PROTOCOL.md §4) as a second
# listener of the running server (server.h: srv_listen_final), served by the same loop:
# the same files, Range replies and download events, the file server alone (no cloud
# route), and the first listener keeps serving. Runs srvtest on 127.0.0.1 with the
# FinalStage listener on 127.0.0.9 (loopback only).
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${SRVTEST:-}" ] && [ -x "$SRVTEST" ] || skip "SRVTEST (the srvtest driver) not built"
command -v python3 >/dev/null || skip "python3 not installed"

T=$E2E_TMP
U1=image_user1-0x01000.bin
U2=image_user2-0x81000.bin
head -c 239220 /dev/urandom >"$T/$U1"
head -c 239220 /dev/urandom >"$T/$U2"

"$SRVTEST" --bind 127.0.0.1 --serving-ip 127.0.0.1 --http-port 0 --https-port 0 \
    --file "$U1=$T/$U1" --file "$U2=$T/$U2" --user1 "$U1" --user2 "$U2" --pace fast \
    --final 127.0.0.9 >"$T/ev" 2>"$T/log" &
PID=$!
e2e_track "$PID"
wait_for 60 grep -q '^FINAL' "$T/ev" || { cat "$T/log" >&2; fail "srvtest did not add the FinalStage listener"; }
H=$(sed -n 's/^PORTS http=\([0-9]*\).*/\1/p' "$T/ev")
F=$(sed -n 's/^FINAL port=\([0-9]*\)/\1/p' "$T/ev")
[ -n "$H" ] && [ -n "$F" ] && [ "$F" -gt 0 ] || fail "no ports: http '$H' final '$F'"
[ "$(grep -c "^EV LISTENING .*detail=\"http 127.0.0.9:$F\"" "$T/ev")" = 1 ] ||
    fail "not one LISTENING event for the FinalStage listener (asked twice)"
pass "FinalStage listener on 127.0.0.9:$F beside the file server on 127.0.0.1:$H; one LISTENING event"

python3 - "$T" "$H" "$F" "$U1" "$U2" <<'PY' || fail "FinalStage listener checks"
import socket, sys
T, H, F, U1, U2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = open("%s/%s" % (T, U2), "rb").read()

def reply(s, buf=b""):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        assert d, "closed before a reply"
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    cl = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
    while len(buf) < cl:
        d = s.recv(65536)
        assert d, "closed mid-body"
        buf += d
    return head, buf[:cl], buf[cl:]

# E2A's download from the FinalStage address: 4 KiB Range requests, one connection
s = socket.create_connection(("127.0.0.9", F), timeout=10)
got, off, buf = b"", 0, b""
while off < len(data):
    last = min(off + 4095, len(data) - 1)
    s.sendall(b"GET /ota/%s HTTP/1.1\r\nHost: 192.168.4.2\r\nRange: bytes=%d-%d\r\n\r\n" % (U2.encode(), off, last))
    head, body, buf = reply(s, buf)
    assert head.startswith(b"HTTP/1.1 206"), head[:40]
    got += body
    off = last + 1
assert got == data, "the image from the FinalStage listener differs"
# the file server alone: no cloud route there
s.sendall(b"POST /dispatch/device HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
head, body, buf = reply(s, buf)
assert head.startswith(b"HTTP/1.1 404"), head[:40]
s.close()
# the first listener still serves
s = socket.create_connection(("127.0.0.1", H), timeout=10)
s.sendall(b"GET /ota/%s HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n" % U1.encode())
head, body, _ = reply(s)
assert head.startswith(b"HTTP/1.1 206") and body == open("%s/%s" % (T, U1), "rb").read()[:100]
s.close()
print("ok - the image by 4 KiB Range from the FinalStage listener, exact bytes; POST /dispatch/device there is 404; the first listener still serves")
PY
wait_for 10 grep -q "^EV DOWNLOAD_DONE .*file=$U2 .* final=1" "$T/ev" ||
    { cat "$T/ev" >&2; fail "no DOWNLOAD_DONE tagged final=1 for the FinalStage download"; }
grep -q "^EV DOWNLOAD_START .*file=$U2 .* final=1" "$T/ev" || fail "no DOWNLOAD_START tagged final=1"
grep -q "^EV REJECTED .*error=404 .* final=1 .*POST /dispatch/device" "$T/ev" ||
    fail "no REJECTED 404 tagged final=1 for the dispatch on the FinalStage listener"
! grep -q "^EV DOWNLOAD_.*file=$U1 .* final=1" "$T/ev" || fail "a download on the first listener was tagged final=1"
pass "events from the FinalStage listener (START, DONE, the refusal) say final=1; the first listener's do not"

kill -TERM "$PID"
wait_pid 15 "$PID" || { cat "$T/log" >&2; fail "srvtest exited with an error"; }
grep -q '^STOPPED' "$T/ev" || fail "srvtest did not stop cleanly"
pass "stopped cleanly (no leak under ASan)"
