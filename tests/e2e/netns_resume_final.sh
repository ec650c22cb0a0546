#!/usr/bin/env bash
# Story: Ctrl-C in stage 3 while the intermediate firmware downloads the final image. The
# intermediate firmware hangs on the cut download (the sim stops: "power cycle needed").
# The laptop goes home; the user runs the SAME command there: the record says the device
# has the intermediate firmware, so sonota waits for FinalStage (stage 3) at once. The
# user power-cycles the device (the sim re-runs on the same flash), joins FinalStage, and
# the final image ends in the flash.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_setup
flash_images 60000 300000

start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
lap_join ap 1
wait_event 30 '"provisioned"' "not provisioned"
dev_join home
lap_join home 2
wait_event 60 '"stage":"final"' "the intermediate firmware was not delivered"
lap_shape 400kbit                           # FinalStage: a slow open WiFi
dev_join final
lap_join final 2
wait_event 60 '"state":"progress","file":"image_arduino.bin"' "the final download did not start"
kill -INT "$SONOTA_PID"
sonota_exit 15
[ "$SONOTA_RC" -eq 130 ] || ffail "SIGINT: expected exit 130, got $SONOTA_RC"
flash_expect 'e["event"] == "error" and e["code"] == "interrupted" and "same command" in e["message"]'
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["stage"] == "final"' \
    "$STATE_FILE" || ffail "the state file does not record stage 3"
pass "interrupted mid-download in stage 3: exit 130, stage recorded"

sim_exit 60                                 # E2A hangs on the cut body (PROTOCOL.md §4)
grep -q "power cycle" "$SIM_OUT" || ffail "the sim did not hang on the cut download (exit $SIM_RC)"
lap_join home 2                             # the user gives up and goes home...
run_sonota                                  # ...and runs the same command there
wait_event 20 '"detected"' "no detection"
flash_expect 'e["event"] == "detected" and e["start"] == "final" and e["record"]["stage"] == "final"'
wait_event 10 '"join-final"' "no FinalStage guidance"
start_sim                                   # power cycle: boots the intermediate firmware
lap_join final 2
sonota_exit 150
[ "$SONOTA_RC" -eq 0 ] || ffail "run 2 exited $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_arduino.bin"'
flash_expect_none 'e["event"] == "stage" and e["stage"] != "final"' "run 2 went through stage 1 or 2"
sim_exit 60
final_in_flash
pass "restarted at home with the same command, power-cycled device: final image in flash"
