#!/usr/bin/env bash
# Story (issue 13 item 3, --fleet): before a device shows up, four fake sessions register
# with its id (public: it is in its pairing SSID) and a factory key of their own, each
# taking an upgrade command and acking 404. Before issue 13 the fleet counted upgrade
# attempts per device id, so the real device then got "giving up" and never its upgrade.
# Now attempts belong to the identity that earned them (id + factory key): the real
# device, provisioned on its pairing AP, gets its own budget, is flashed, and the run ends
# by itself (--fleet-size 1) with a table that lists it alone; the fakes are reported as
# not the device.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --source-addr --device-id
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.21', 0))" 2>/dev/null ||
    skip "cannot bind 127.0.0.21 (loopback has only 127.0.0.1 here)"
flash_images 239220 482432
flash_ports
DEV=1000b1c71e
FAKE_KEY=0badc0de-0000-4000-8000-00000000beef

SONOTA_WIFI_PASSWORD="$SECRET" timeout -k 5 -s INT 120 "$SONOTA" flash --fleet --fleet-size 1 \
    --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 --no-check-ip \
    --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
    --firmware-dir "$FW" --json --log "$SLOG" --timeout 90 \
    >"$OUT" 2>"$ERR" </dev/null &
SONOTA_PID=$!
e2e_track "$SONOTA_PID"
wait_for 60 port_listening "$HTTPS_PORT" || ffail "sonota's servers did not start"

for i in 21 22 23 24; do
    python3 "$E2E_DIR/fake_session.py" --port "$HTTPS_PORT" --src "127.0.0.$i" \
        --deviceid "$DEV" --apikey "$FAKE_KEY" --ack 404 >"$E2E_TMP/fake-$i.json" ||
        ffail "fake session $i failed"
    grep -q '"acked": 1' "$E2E_TMP/fake-$i.json" || ffail "fake session $i got no upgrade"
done

# The real device: pairing mode, then its own address for everything (as on a LAN).
"$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --device-id "$DEV" --slot 1 --source-addr 127.0.0.20 \
    --ap-addr 127.0.0.1 --ap-port "$AP_PORT" --final-host 127.0.0.1 --final-port "$HTTP_PORT" \
    --time-scale 0.05 --timeout 80 --report "$E2E_TMP/sim-report.json" \
    --log-file "$E2E_TMP/sim.log" >"$SIM_OUT" 2>&1 &
SIM_PID=$!
e2e_track "$SIM_PID"

rc=0
wait_pid 100 "$SONOTA_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "sonota --fleet exited $rc, not 0"
rc=0
wait_pid 60 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "the device's flash does not boot the final image (sim exit $rc)"
flash_check_output
python3 - "$OUT" "$DEV" <<'PY' || ffail "the fleet events or table are wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
dev = sys.argv[2]
assert not any("giving up" in json.dumps(e) for e in ev), "someone gave up"
done = [e for e in ev if e["event"] == "fleet-done"][-1]
assert done["done"] == 1 and done["total"] == 1, done
row = done["devices"][0]
assert row["deviceid"] == dev and row["result"] == "done" and row["slot"] == "user2", row
# the row the fakes had under the id went to the device once it was provisioned
assert any(e["event"] == "warning" and e["code"] == "not-the-device" and dev in e["message"]
           for e in ev)
# the device's final image went to its own address
assert any(e["event"] == "download" and e["state"] == "done" and e["file"] == "image_arduino.bin"
           and e["peer"].startswith("127.0.0.20:") for e in ev)
PY
pass "four fake sessions with the device's id did not spend its attempts; it was flashed"
