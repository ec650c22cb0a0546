#!/usr/bin/env bash
# Story (issue 13, items 4 and 5): what a peer on the LAN can make `sonota flash` write.
#  1. Escape injection: the device reports a model with terminal escape sequences; a
#     hostile client (127.0.0.3) sends a dispatch and a register with deviceid
#     "\x1b]0;pwned\x07" and model "\x1b[2J", raw ESC bytes in a frame, and an HTTP
#     request with them in the path, Host and User-Agent. Neither the terminal (human
#     output with NO_COLOR, and --json) nor the --log file holds an ESC byte; the
#     sequences are shown escaped; --json stays valid JSON; the device is flashed.
#  2. Amplification: 10,000 `{}` WebSocket frames (60 KB) from 127.0.0.2 with -vv and
#     --log: at most FLOOD_MAX_LINES log lines and FLOOD_MAX_BYTES bytes (log and
#     terminal each), a summary "N similar messages from 127.0.0.2 suppressed" with the
#     count, and a simulated device completes right after.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require
. "$E2E_DIR/hostile_lib.sh" || exit 1     # hl.py (raw clients); srvtest is not started
flash_images 239220 482432
FLOOD_MAX_LINES=200
FLOOD_MAX_BYTES=40000
EVIL_MODEL=$'ITA\x1b]0;pwned\x07\x1b[2J'

# start_sonota EXTRA...: `sonota flash` in the background (SONOTA_PID), its cloud up.
start_sonota() {
    "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" \
        --serving-host 127.0.0.1 --no-check-ip --http-port "$HTTP_PORT" \
        --https-port "$HTTPS_PORT" --wifi-ssid Home --wifi-password "$SECRET" \
        --firmware-dir "$FW" --log "$SLOG" --timeout 200 "$@" >"$OUT" 2>"$ERR" </dev/null &
    SONOTA_PID=$!
    e2e_track "$SONOTA_PID"
    wait_for 60 port_listening "$HTTPS_PORT" || ffail "the fake cloud did not open"
}

# finish: the sim (started after the attacks) is flashed and sonota exits 0.
finish() {
    local rc=0
    wait_pid 120 "$SONOTA_PID" || rc=$?
    [ "$rc" -eq 0 ] || ffail "sonota exited $rc after $1"
    rc=0
    wait_pid 60 "$SIM_PID" || rc=$?
    [ "$rc" -eq 0 ] || ffail "the sim exited $rc after $1 (its flash does not boot the final image)"
    assert_no_secret "$SECRET" "$OUT" "$ERR" "$SLOG"
}

# no_esc WHAT FILE...: not one ESC byte (0x1b) in these files.
no_esc() {
    local what=$1 f; shift
    for f in "$@"; do
        if LC_ALL=C grep -q $'\x1b' "$f"; then
            LC_ALL=C grep -n $'\x1b' "$f" | head -5 | cat -v >&2
            ffail "$what: an ESC byte reached $(basename "$f")"
        fi
    done
}

# The hostile client: dispatch, register, raw ESC bytes in a frame, an HTTP request.
inject() {
    python3 - "$T" "$HTTPS_PORT" "$HTTP_PORT" <<'PY' || ffail "the injecting client failed"
import json, sys
sys.path.insert(0, sys.argv[1])
from hl import *
https, http = int(sys.argv[2]), int(sys.argv[3])
EVIL_ID, EVIL_MODEL = "\x1b]0;pwned\x07", "\x1b[2J"
body = json.dumps({"accept": "ws", "version": 2, "ts": 1, "deviceid": EVIL_ID,
                   "apikey": FACTORY, "model": EVIL_MODEL, "romVersion": "1.5.5\x1b[31m"})
s = tls(https, "127.0.0.3")
s.sendall(("POST /dispatch/device HTTP/1.1\r\nHost: eu-disp.coolkit.cc\r\n"
           "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
           % (len(body), body)).encode())
r, _ = rx(s, 5, done=http_done)
s.close()
s = ws_open(https, src="127.0.0.3")
s.sendall(frame(json.dumps({"userAgent": "device\x1b[2J", "apikey": FACTORY,
                            "deviceid": EVIL_ID, "action": "register", "version": 2,
                            "romVersion": "1.5.5", "model": EVIL_MODEL, "ts": 1})))
json_reply(s, 3)
s.sendall(frame(b'{"action":"\x1b]0;pwned\x07","deviceid":"\x1b[2J\xff\xc2\x9b"}'))
s.sendall(frame(b"", op=9))
rx(s, 5, done=lambda b: b"\x8a\x00" in b)
s.close()
s = conn(http, "127.0.0.3")
s.sendall(b"GET /ota/\x1b[2J HTTP/1.1\r\nHost: \x1b]0;pwned\x07\r\nUser-Agent: \x1b[2J\r\n\r\n")
rx(s, 5, done=http_done)
s.close()
PY
}

# ---- 1a: human output (NO_COLOR: every ESC on the terminal would be the peer's) ----
flash_ports
export NO_COLOR=1
start_sonota -v
flash_sim --model "$EVIL_MODEL" --time-scale 1   # real delays: the attack fits in the run
# The attacker comes once the real device is in the cloud stage (so that its register
# does not stand in for the device's: issue 13 items 2 and 3 are about that).
wait_for 60 grep -q 'upgrade command sent' "$OUT" || ffail "the device did not reach the cloud stage"
inject
finish "the injection (human output)"
no_esc "human output" "$OUT" "$ERR" "$SLOG"
grep -qF 'ITA\x1b]0;pwned\x07\x1b[2J' "$OUT" ||
    ffail "the device's model is not shown escaped on the terminal"
grep -qF '\x1b]0;pwned\x07' "$SLOG" || ffail "the hostile deviceid is not in the log, escaped"
grep -qF '\x1b[2J' "$SLOG" || ffail "the hostile model is not in the log, escaped"
pass "escape injection, human output: no ESC byte from any peer on the terminal or in the log; shown as \\x1b"

# ---- 1b: --json ----
rm -f "$SLOG" "$E2E_TMP/flash.bin"
flash_ports
start_sonota --json -vv
flash_sim --model "$EVIL_MODEL" --time-scale 1   # real delays: the attack fits in the run
wait_for 60 grep -q '"event":"upgrade"' "$OUT" || ffail "the device did not reach the cloud stage"
inject
finish "the injection (--json)"
no_esc "--json" "$OUT" "$ERR" "$SLOG"
flash_check_output
flash_expect 'e["event"] == "device" and e.get("model") == "ITA\x1b]0;pwned\x07\x1b[2J"' \
    "--json lost the device's model (JSON escapes are lossless)"
flash_expect 'e["event"] == "done"' "no done event"
pass "escape injection, --json: valid JSON, the model exact once decoded, no raw ESC byte"

# ---- 2: 10,000 {} frames with -vv and --log ----
rm -f "$SLOG" "$E2E_TMP/flash.bin"
flash_ports
start_sonota --json -vv
sleep 1
read -r L0 B0 < <(wc -lc <"$SLOG")
read -r O0 < <(cat "$OUT" "$ERR" | wc -c)
python3 - "$T" "$HTTPS_PORT" <<'PY' || ffail "the flood client failed"
import sys, time
sys.path.insert(0, sys.argv[1])
from hl import *
s = ws_open(int(sys.argv[2]), src="127.0.0.2")
t0 = time.time()
s.sendall(frame(b"{}") * 10000)
s.sendall(frame(b"", op=9))     # answered after every frame before it was handled
data, end = rx(s, 120, done=lambda b: b"\x8a\x00" in b)
assert b"\x8a\x00" in data, "no pong after the flood (%s)" % end
say("10000 frames of {} handled in %.1f s" % (time.time() - t0))
s.close()
PY
read -r L1 B1 < <(wc -lc <"$SLOG")
read -r O1 < <(cat "$OUT" "$ERR" | wc -c)
echo "flood: log +$((L1 - L0)) lines, +$((B1 - B0)) bytes; terminal +$((O1 - O0)) bytes"
[ $((L1 - L0)) -lt "$FLOOD_MAX_LINES" ] || ffail "10,000 frames wrote $((L1 - L0)) log lines (bound $FLOOD_MAX_LINES)"
[ $((B1 - B0)) -lt "$FLOOD_MAX_BYTES" ] || ffail "10,000 frames wrote $((B1 - B0)) log bytes (bound $FLOOD_MAX_BYTES)"
[ $((O1 - O0)) -lt "$FLOOD_MAX_BYTES" ] || ffail "10,000 frames wrote $((O1 - O0)) terminal bytes (bound $FLOOD_MAX_BYTES)"
flash_sim
finish "the flood"
flash_check_output
flash_expect 'e["event"] == "done"' "no done event after the flood"
# Each summary names the address; together they count what was left out.
python3 - "$SLOG" <<'PY' || ffail "no summary of the suppressed lines"
import re, sys
n = sum(int(m.group(1)) for m in re.finditer(r"(\d+) similar messages from 127\.0\.0\.2 suppressed",
                                               open(sys.argv[1], errors="replace").read()))
print("suppressed from 127.0.0.2: %d lines" % n)
assert n >= 10000, n
PY
pass "10,000 {} frames: log and terminal bounded, the suppressed lines counted, the device flashed right after"
