#!/usr/bin/env bash
# Story: Ctrl-C in stage 1 right after the device took the WiFi settings (POST /ap), while
# the laptop is still on the device's AP. The user runs the SAME command again (no
# --no-prov): sonota finds the laptop on a pairing WiFi and its record of the earlier
# POST /ap, asks the device once more, sees it gone, and continues with stage 2 when the
# laptop is home again. Then a SIGKILL in stage 2 before the device called, and a third
# run at home that goes straight to stage 2. The sim's flash ends holding the final image.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_setup
flash_images 60000 90000

start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
lap_join ap 1
wait_event 30 '"provisioned"' "not provisioned"
kill -INT "$SONOTA_PID"
sonota_exit 15
[ "$SONOTA_RC" -eq 130 ] || ffail "SIGINT: expected exit 130, got $SONOTA_RC"
flash_expect 'e["event"] == "error" and e["code"] == "interrupted" and "same command" in e["message"]'
python3 - "$STATE_FILE" <<'PY' || ffail "the state file does not record the provisioning"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["stage"] == "provisioned" and r["servingIp"] == "192.168.1.23" and len(r["deviceid"]) == 10, r
assert r["httpsPort"] == 8443 and r["ssid"] == "Home" and "password" not in json.dumps(r).lower(), r
PY
assert_no_secret "$SECRET" "$STATE_FILE"
pass "stage 1 interrupted after POST /ap: exit 130, stage recorded (0600, no password)"

# Run 2: same command, still on the (now silent) pairing WiFi.
dev_join home                               # the device left its AP and joined home WiFi
# ... and does not get through to the laptop until run 2 is killed: "before the device
# called" must not depend on how fast run 2 and this script are on a loaded machine.
ip -n "$DEV" route add unreachable "$HOME_LAP/32" || ffail "route to hold the device back"
run_sonota
wait_event 20 '"detected"' "no detection"
flash_expect 'e["event"] == "detected" and e["start"] == "recheck" and e["record"]["stage"] == "provisioned"'
sleep 3
lap_join home 2                             # the user goes home
wait_event 30 '"stage":"cloud"' "no stage 2 after returning home"
flash_expect_none 'e["event"] == "provisioned"' "provisioned again"
# Before the device calls, the laptop crashes (SIGKILL: no cleanup at all).
kill -KILL "$SONOTA_PID"
sonota_exit 10
flash_expect_none 'e["event"] == "device"' "the device called run 2 (it was held back)"
ip -n "$DEV" route del unreachable "$HOME_LAP/32" || ffail "route to let the device through"
pass "run 2 found stage 2 by itself (no --no-prov); killed"

# Run 3: same command, at home: straight to stage 2, then the rest of the flow.
run_sonota
wait_event 20 '"detected"' "no detection"
flash_expect 'e["event"] == "detected" and e["start"] == "cloud" and e["stage"] == "cloud"'
wait_event 60 '"stage":"final"' "the intermediate firmware was not delivered"
dev_join final
lap_join final 2
sonota_exit 120
flash_check_output
[ "$SONOTA_RC" -eq 0 ] || ffail "run 3 exited $SONOTA_RC"
flash_expect 'e["event"] == "done"'
flash_expect_none 'e["event"] == "stage" and e["stage"] == "provision"' "run 3 went through stage 1"
sim_exit 60
final_in_flash
[ -f "$STATE_FILE" ] && ffail "the state file is still there after success"
pass "interrupted in stage 1 and 2, restarted with the same command: final image in flash"
