#!/usr/bin/env bash
# Story: the whole flash with real WiFi switching, in namespaces: the laptop starts at home,
# joins the device's ITEAD AP, goes home, then FinalStage, with gaps (no network at all)
# between networks; a phone holds 192.168.4.2 at first. sonota and the sim use their real
# defaults; sonota's servers listen on the serving IP and on 192.168.4.2, never 0.0.0.0.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_setup
flash_images 60000 90000

start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
run_sonota
wait_event 60 '"join-ap"' "no pairing guidance"
wait_event 10 "\"https $HOME_LAP:8443\"" "the cloud does not listen on the serving IP"
assert_bound
flash_expect 'e["event"] == "detected" and e["start"] == "wait-ap" and e["record"] is None'

lap_join ap 3                               # the user joins ITEAD-<id>: 3 s without network
wait_event 30 '"provisioned"' "not provisioned"
[ -f "$STATE_FILE" ] || ffail "no state file after POST /ap"
mode_is "$STATE_FILE" 600 || ffail "the state file is not mode 0600"
assert_no_secret "$SECRET" "$STATE_FILE"
lap_leave                                   # the AP is gone; the laptop has no network
dev_join home                               # the device joined the home WiFi
sleep 4
lap_join home 1
wait_event 60 '"stage":"final"' "the intermediate firmware was not delivered"
assert_bound

dev_join final                              # E2A opens FinalStage
lap_join final 2 192.168.4.3/24             # a phone took .2
wait_event 20 '"final-address"' "no warning about 192.168.4.3"
lap_join final 2                            # the phone left; the laptop got .2
wait_event 20 '"http 192.168.4.2:8080"' "no file server on 192.168.4.2"
assert_bound
sonota_exit 120
flash_success
flash_expect 'e["event"] == "start" and e["servingIp"] == "192.168.1.23" and e["httpPort"] == 8080'
flash_expect 'e["event"] == "address" and e["kind"] == "ap" and e["ip"] == "10.10.7.2"'
flash_expect 'e["event"] == "provisioned" and e["serverName"] == "192.168.1.23" and e["port"] == 8443'
flash_expect 'e["event"] == "address" and e["kind"] == "final-other" and e["ip"] == "192.168.4.3"'
flash_expect_none 'e["event"] == "listening" and "0.0.0.0" in e["detail"]' "a listener on 0.0.0.0"
[ -f "$STATE_FILE" ] && ffail "the state file is still there after success"
pass "walk-through with WiFi gaps in namespaces: flashed; servers bound to the serving IP and 192.168.4.2"
