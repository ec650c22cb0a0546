#!/usr/bin/env bash
# Story: two devices, one after another, in one `sonota flash --fleet` run with real WiFi
# switching (namespaces, real default addresses): the laptop starts at home, joins the
# first device's ITEAD AP, goes home, then FinalStage; then the second device goes into
# pairing mode and the laptop walks the same networks again. sonota provisions only while
# this computer is on a pairing WiFi, keeps its servers bound to the serving IP and
# 192.168.4.2, and ends by itself after two devices with a table listing both.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
"$SONOTA" flash --help | grep -q -- --fleet || skip "sonota flash lacks --fleet"
netns_setup
flash_images 60000 90000

# walk N: device N from pairing mode to its final image, the laptop following it.
walk() {
    FLASH="$E2E_TMP/flash$1.bin"
    start_sim
    wait_for 30 dev_listening 80 || ffail "device $1's AP did not open"
    lap_join ap 2
    wait_for 30 sh -c "[ \$(grep -c '\"state\":\"provisioned\"' '$OUT') -ge $1 ]" ||
        ffail "device $1 was not provisioned"
    lap_leave
    dev_join home
    sleep 2
    lap_join home 1
    wait_for 60 sh -c "[ \$(grep -c '\"state\":\"intermediate\"' '$OUT') -ge $1 ]" ||
        ffail "device $1 did not get the intermediate firmware"
    assert_bound
    dev_join final
    lap_join final 2
    wait_for 60 sh -c "[ \$(grep -c '\"state\":\"done\"' '$OUT') -ge $1 ]" ||
        ffail "device $1 did not get the final image"
    sim_exit 60
    final_in_flash
    lap_join home 1
    dev_join ap                               # the next device's pairing AP
}

run_sonota --fleet --fleet-size 2
wait_event 20 "\"https $HOME_LAP:8443\"" "the cloud does not listen on the serving IP"
wait_event 60 '"join-ap"' "no pairing guidance"
walk 1
walk 2
sonota_exit 60
[ "$SONOTA_RC" -eq 0 ] || ffail "sonota --fleet exited $SONOTA_RC"
flash_check_output
flash_expect_none 'e["event"] == "listening" and "0.0.0.0" in e["detail"]' "a listener on 0.0.0.0"
flash_expect 'e["event"] == "listening" and e["detail"] == "http 192.168.4.2:8080"' \
    "no file server on 192.168.4.2"
python3 - "$OUT" <<'PY' || ffail "the fleet table is wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
d = ev[-1]
assert d["event"] == "fleet-done" and d["done"] == 2 and d["total"] == 2, d
assert all(r["result"] == "done" and r["slot"] == "user2" for r in d["devices"]), d
assert len({r["deviceid"] for r in d["devices"]}) == 2, d
PY
pass "two devices one after another in one --fleet run, with real WiFi switching"
