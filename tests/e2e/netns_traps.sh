#!/usr/bin/env bash
# Story: the classic traps (PROTOCOL.md §8, §10.1), each detected before the device is
# touched and explained: a home network that uses the pairing AP's 10.10.7.0/24 or
# FinalStage's 192.168.4.0/24; a --serving-host that is not on any interface; starting on
# the device's pairing WiFi without any home address.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require
netns_setup
flash_images 40000 60000
dev_join home
# trap NAME EXPECTED-EXIT [EXTRA-ARGS...]: one sonota run in the laptop namespace.
trap_run() {
    local name=$1 want=$2
    shift 2
    RUN_N=$((RUN_N + 1))
    OUT="$E2E_TMP/sonota$RUN_N.json"
    ERR="$E2E_TMP/sonota$RUN_N.err"
    SONOTA_RC=0
    SONOTA_WIFI_PASSWORD="$SECRET" timeout -k 5 60 ip netns exec "$LAP" "$SONOTA" flash \
        --wifi-ssid Home --firmware-dir "$FW" --json --timeout 30 "$@" >"$OUT" 2>"$ERR" \
        </dev/null || SONOTA_RC=$?
    [ "$SONOTA_RC" -eq "$want" ] || ffail "$name: expected exit $want, got $SONOTA_RC"
    flash_check_output
    flash_expect_none 'e["event"] == "stage"' "$name: a stage started"
}

lap_join home 0 10.10.7.23/24               # the home router uses 10.10.7.0/24
trap_run "home LAN 10.10.7.0/24" 5
flash_expect 'e["event"] == "error" and e["code"] == "address-clash" and "10.10.7.23" in e["message"] and "10.10.7.0/24" in e["message"] and "another subnet" in e["message"]'
trap_run "home LAN 10.10.7.0/24, explicit --serving-host" 5 --serving-host 10.10.7.23
flash_expect 'e["event"] == "error" and e["code"] == "address-clash" and "10.10.7.0/24" in e["message"]'
pass "home network on 10.10.7.0/24: refused with an explanation"

lap_join home 0 192.168.4.23/24             # the home router uses 192.168.4.0/24
trap_run "home LAN 192.168.4.0/24" 5
flash_expect 'e["event"] == "error" and e["code"] == "address-clash" and "192.168.4.23" in e["message"] and "FinalStage" in e["message"]'
pass "home network on 192.168.4.0/24: refused with an explanation"

lap_join home 0
trap_run "serving IP not local" 2 --serving-host 192.168.1.99
flash_expect 'e["event"] == "error" and e["code"] == "address" and "192.168.1.99" in e["message"] and "192.168.1.23" in e["message"]'
pass "--serving-host that is not on any interface: refused, naming the real address"

# --bind-any: the old way, every interface (for NAT / port forwards).
run_sonota --bind-any
wait_event 20 '"https 0.0.0.0:8443"' "--bind-any does not listen on 0.0.0.0"
lap_listeners | grep -q '^0\.0\.0\.0:8080$' || ffail "--bind-any: no file server on 0.0.0.0"
kill -INT "$SONOTA_PID"
sonota_exit 15
[ "$SONOTA_RC" -eq 130 ] || ffail "--bind-any run: SIGINT gave $SONOTA_RC"
pass "--bind-any listens on 0.0.0.0"

dev_join ap                                 # a device in pairing mode...
start_sim
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"
lap_join ap 0                               # ...and the laptop on its WiFi, nothing else
trap_run "only on the pairing WiFi" 5
flash_expect 'e["event"] == "error" and e["code"] == "address" and "pairing WiFi of device" in e["message"] and "home" in e["message"]'
kill "$SIM_PID" 2>/dev/null
pass "started on the pairing WiFi without a home address: told to start at home"
