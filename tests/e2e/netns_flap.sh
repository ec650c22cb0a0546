#!/usr/bin/env bash
# Story: a flaky WiFi: the laptop's link goes down and comes back (addresses kept) in the
# middle of the intermediate download (stage 2) and of the final download (stage 3), on a
# slow link. sonota does not exit; the device retries; the flash ends with the final image.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_setup
lap_shape 400kbit
flash_images 200000 300000

start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
lap_join ap 1
wait_event 30 '"provisioned"' "not provisioned"
dev_join home
lap_join home 1
wait_event 60 '"state":"progress","file":"image_user' "the intermediate download did not start"
lap_flap 3
kill -0 "$SONOTA_PID" 2>/dev/null || ffail "sonota exited when the link went down in stage 2"
wait_event 120 '"stage":"final"' "stage 2 did not finish after the flap"
pass "stage 2: link flap mid-download survived"

dev_join final
lap_join final 2
wait_event 60 '"state":"progress","file":"image_arduino.bin"' "the final download did not start"
lap_flap 3
kill -0 "$SONOTA_PID" 2>/dev/null || ffail "sonota exited when the link went down in stage 3"
sonota_exit 150
flash_success
SIM_RC=0
final_in_flash
pass "stage 3: link flap mid-download survived; final image in flash"
