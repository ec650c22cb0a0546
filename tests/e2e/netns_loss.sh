#!/usr/bin/env bash
# Story: addresses come and go. Back home after stage 1, the laptop first gets another
# DHCP address (192.168.1.24): sonota says the device cannot reach it and waits. With
# 192.168.1.23 back, the serving IP vanishes for 8 s in the middle of the download, and
# in stage 3 192.168.4.2 vanishes for 6 s mid-download. sonota reports each loss, keeps
# running (bounded by --timeout) and finishes; the flash ends with the final image.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_setup
lap_shape 400kbit
flash_images 200000 300000
addr_gap() { # addr_gap IP/24 SECONDS: the address disappears for a while (lease lost)
    ip -n "$LAP" addr del "$1" dev wlan0 || fail "addr del $1"
    sleep "$2"
    ip -n "$LAP" addr add "$1" dev wlan0 || fail "addr add $1"
    echo "# $1 was gone for $2 s"
}

start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
lap_join ap 1
wait_event 30 '"provisioned"' "not provisioned"
dev_join home
lap_join home 1 192.168.1.24/24             # DHCP handed out another address
wait_event 40 '"serving-absent"' "no warning that the serving IP is missing"
flash_expect 'e["event"] == "warning" and e["code"] == "serving-absent" and "192.168.1.24" in e["message"] and "192.168.1.23" in e["message"]'
kill -0 "$SONOTA_PID" 2>/dev/null || ffail "sonota exited without its serving IP"
lap_join home 1                             # the lease came back
wait_event 60 '"state":"progress","file":"image_user' "the intermediate download did not start"
addr_gap "$HOME_LAP/24" 8
kill -0 "$SONOTA_PID" 2>/dev/null || ffail "sonota exited when the serving IP vanished"
wait_event 10 '"address-lost"' "no address-lost event for the serving IP"
flash_expect 'e["event"] == "address-lost" and e["kind"] == "serving" and e["ip"] == "192.168.1.23"'
wait_event 120 '"stage":"final"' "stage 2 did not finish after the serving IP came back"
flash_expect 'e["event"] == "address" and e["kind"] == "serving" and e["ip"] == "192.168.1.23"'
pass "stage 2: wrong DHCP address explained; serving IP lost mid-download and back"

dev_join final
lap_join final 2
wait_event 60 '"state":"progress","file":"image_arduino.bin"' "the final download did not start"
addr_gap 192.168.4.2/24 6
kill -0 "$SONOTA_PID" 2>/dev/null || ffail "sonota exited when 192.168.4.2 vanished"
sonota_exit 150
flash_success
flash_expect 'e["event"] == "address-lost" and e["kind"] == "final" and e["ip"] == "192.168.4.2"'
SIM_RC=0
final_in_flash
pass "stage 3: 192.168.4.2 lost mid-download and back; final image in flash"
