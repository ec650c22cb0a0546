#!/usr/bin/env bash
# Story: the laptop crashes (SIGKILL) in stage 2 while the device downloads the
# intermediate firmware over a slow WiFi. The device's download fails and it keeps
# calling. The user runs the SAME command again: sonota finds the serving IP up and its
# record of the provisioned device, skips stage 1 and serves the download again; the
# flow ends with the final image in the sim's flash.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_setup
lap_shape 400kbit                           # ~50 KB/s, like a real device (§8)
flash_images 200000 120000

start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
lap_join ap 1
wait_event 30 '"provisioned"' "not provisioned"
dev_join home
lap_join home 2
wait_event 60 '"state":"progress","file":"image_user' "the intermediate download did not start"
kill -KILL "$SONOTA_PID"
sonota_exit 10
python3 - "$STATE_FILE" <<'PY' || ffail "the state file does not record stage 2"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["stage"] == "cloud" and r["servingIp"] == "192.168.1.23", r
PY
pass "killed mid-download in stage 2; the record says cloud"

sleep 2                                     # the device notices and retries
run_sonota
wait_event 20 '"detected"' "no detection"
flash_expect 'e["event"] == "detected" and e["start"] == "cloud" and e["record"]["stage"] == "cloud"'
wait_event 90 '"stage":"final"' "the intermediate firmware was not delivered after the restart"
flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"].startswith("image_user")'
flash_expect_none 'e["event"] == "provisioned"' "provisioned again"
dev_join final
lap_join final 2
sonota_exit 120
[ "$SONOTA_RC" -eq 0 ] || ffail "run 2 exited $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "done"'
sim_exit 60
final_in_flash
pass "restarted with the same command after a kill in stage 2: final image in flash"
