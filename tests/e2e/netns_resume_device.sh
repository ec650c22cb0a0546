#!/usr/bin/env bash
# Story: the DEVICE is interrupted at every stage (power cut: the sim stops with --fault
# stop-after=STAGE) and powered up again on the same flash, while one sonota run keeps
# going: after POST /ap (it then boots with the stored WiFi settings: --no-ap), after
# registering with the fake cloud, right after writing the intermediate firmware, after
# the intermediate firmware moved itself to slot 2 (rom2). sonota waits through each
# outage and the last power-up ends with the final image in the flash.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions --no-ap --fault --slot
netns_setup
flash_images 60000 90000
power_cut() { # power_cut STAGE WHAT: the sim stopped by itself at the stop-after stage
    sim_exit 90
    [ "$SIM_RC" -eq 124 ] && ffail "the sim did not stop after $2"
    grep -q "stage reached: $1" "$E2E_TMP/sim$SIM_N.log" || ffail "the sim did not reach $1"
    shift
    grep -q "sonoff-sim: OK" "$SIM_OUT" && ffail "the sim reports the final image after $1 already"
    kill -0 "$SONOTA_PID" 2>/dev/null || ffail "sonota exited when the device stopped after $1"
    echo "# device stopped after $1 (exit $SIM_RC)"
}

start_sim --slot 2 --fault stop-after=ap    # stock firmware in slot 2: the long path (§4)
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
lap_join ap 1
wait_event 30 '"provisioned"' "not provisioned"
power_cut ap "POST /ap"
dev_join home
lap_join home 1
start_sim --no-ap --fault stop-after=register
power_cut register "registering with the fake cloud"
start_sim --no-ap --fault stop-after=download
wait_event 90 '"stage":"final"' "the intermediate firmware was not delivered"
power_cut download "writing the intermediate firmware"
dev_join final
lap_join final 1
start_sim --fault stop-after=rom2
wait_event 60 '"file":"image_user2-0x81000.bin"' "the intermediate firmware did not fetch user2"
power_cut rom2 "rom2 (user2 written by the intermediate firmware)"
start_sim
sonota_exit 120
flash_success
SIM_RC=0
final_in_flash
flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_user1-0x01000.bin"'
pass "device interrupted after ap, register, download, rom2; one sonota run: final image in flash"
