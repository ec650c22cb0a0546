#!/bin/bash
# sim_ap: the simulated device's pairing AP (PROTOCOL.md §1.2) is as strict as the firmware:
# GET /device answers the id and factory apikey; a bad POST /ap gets {"error":400} and the
# AP stays up; a good one gets {"error":0}, closes the AP and is remembered in flash.
# The WiFi password never appears in the sim's output, log or report.
. "$E2E_DIR/lib.sh"

[ -n "${SONOFF_SIM:-}" ] && [ -x "$SONOFF_SIM" ] || skip "SONOFF_SIM is not an executable"
command -v curl >/dev/null || skip "no curl"

read -r AP_PORT DEAD_PORT <<<"$(free_ports 2)"
SECRET="pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
FLASH="$E2E_TMP/flash.bin"
OUT="$E2E_TMP/sim.out"
LOG="$E2E_TMP/sim.log"
REP="$E2E_TMP/report.json"
APIKEY=94676db5-88f3-4dc0-8573-5e6615eaacc4

port_listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
dump() { echo "---- sim output" >&2; tail -n 30 "$OUT" >&2; }
sfail() { dump; fail "$@"; }

# stop-after=ap: the run ends right after provisioning (exit 1, "stopped after stage ap").
"$SONOFF_SIM" --flash "$FLASH" --device-id 100016aa70 --apikey "$APIKEY" \
    --ap-addr 127.0.0.1 --ap-port "$AP_PORT" --time-scale 0.05 --timeout 60 \
    --fault stop-after=ap --report "$REP" --log-file "$LOG" >"$OUT" 2>&1 &
SIM_PID=$!
e2e_track "$SIM_PID"
wait_for 30 port_listening "$AP_PORT" || sfail "the AP did not open"
URL="http://127.0.0.1:$AP_PORT"

body=$(curl -sS -m 5 "$URL/device") || sfail "GET /device failed"
python3 - "$body" "$APIKEY" <<'PY' || sfail "GET /device: unexpected body $body"
import json, sys
d = json.loads(sys.argv[1])
assert d == {"deviceid": "100016aa70", "apikey": sys.argv[2], "accept": "post"}, d
PY
pass "GET /device"

post() { curl -sS -m 5 -X POST --data-binary "$1" "$URL/ap"; }
good="{\"version\":4,\"ssid\":\"Home\",\"password\":\"$SECRET\",\"serverName\":\"127.0.0.1\",\"port\":$DEAD_PORT}"
for bad in \
    "{\"version\":3,\"ssid\":\"Home\",\"password\":\"$SECRET\",\"serverName\":\"127.0.0.1\",\"port\":$DEAD_PORT}" \
    "{\"version\":4,\"ssid\":\"Home\",\"password\":\"$SECRET\",\"serverName\":\"127.0.0.1\",\"port\":\"8443\"}" \
    "{\"version\":4,\"ssid\":\"Home\",\"serverName\":\"127.0.0.1\",\"port\":$DEAD_PORT}" \
    "{\"version\":4,\"ssid\":\"Home\",\"password\":\"$SECRET\",\"serverName\":\"127.0.0.1\",\"port\":$DEAD_PORT" \
    "not json"; do
    r=$(post "$bad") || sfail "POST /ap (bad) failed"
    [ "$r" = '{"error":400}' ] || sfail "bad POST /ap answered '$r'"
done
# Without Content-Length (HTTP/1.0 style body until close) the firmware cannot read it.
r=$(printf 'POST /ap HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n%s' "$good" |
    timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
d = b""
while True:
    c = s.recv(4096)
    if not c: break
    d += c
print(d.split(b"\r\n\r\n", 1)[-1].decode())' "$AP_PORT") || sfail "raw POST failed"
[ "$r" = '{"error":400}' ] || sfail "POST /ap without Content-Length answered '$r'"
r=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$URL/nothing") || true
[ "$r" = 404 ] || sfail "unknown path answered $r"
kill -0 "$SIM_PID" 2>/dev/null || sfail "the sim left AP mode after bad requests"
curl -sS -m 5 "$URL/device" >/dev/null || sfail "AP not serving after bad requests"
pass "bad POST /ap: {\"error\":400}, still in AP mode"

r=$(post "$good") || sfail "good POST /ap failed"
[ "$r" = '{"error":0}' ] || sfail "good POST /ap answered '$r'"
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 1 ] || sfail "stop-after=ap should exit 1, got $rc"
grep -q "stopped after stage ap" "$OUT" || sfail "no stop message"
port_listening "$AP_PORT" && sfail "the AP is still listening"
python3 - "$REP" <<'PY' || sfail "report after AP"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["stages"] == ["ap"] and r["deviceid"] == "100016aa70", r
assert r["boots_into"].startswith("stock firmware in user1"), r
PY
pass "good POST /ap: {\"error\":0}, AP closed"

# Re-run with --no-ap: the provisioning kept in flash is used (the device rejoins the same
# server, which is not there: refused, bounded, exit 1).
"$SONOFF_SIM" --flash "$FLASH" --device-id 100016aa70 --apikey "$APIKEY" --no-ap \
    --time-scale 0.05 --timeout 60 --dispatch-tries 1 --max-sessions 1 \
    --log-file "$LOG" >>"$OUT" 2>&1
rc=$?
[ "$rc" -eq 1 ] || sfail "--no-ap rerun exited $rc"
grep -q "dispatch via 127.0.0.1:$DEAD_PORT" "$OUT" || sfail "the stored server was not used"
pass "provisioning remembered in flash"

assert_no_secret "$SECRET" "$OUT" "$LOG" "$REP"
pass "the WiFi password is never printed"
