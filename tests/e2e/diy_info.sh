#!/usr/bin/env bash
# Story: `sonota diy info` reads /zeroconf/info from both protocol variants (v1.4: data as a
# JSON string, fw 3.3; v2.0: data as an object), finds the device id firmware 3.7.6+
# insists on (else 404, explained), and keeps 200 ms between requests (PROTOCOL.md §6).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/diy_lib.sh" || exit 1
diy_require

# ---- v2.0 (fw 3.6.0), found by mDNS ----
start_sim v20 --device-id 1000bb0001
diy info
expect_rc 0 "info v2.0"
expect_out "device 1000bb0001 at $DEV_IP:8081" "info header"
expect_out "protocol   v2.0 (info data as an object" "v2.0 detected"
expect_out "firmware   3.6.0" "v2.0 firmware"
expect_out "ssid HomeWiFi   bssid b4:fb:e4:12:34:56   signal -61 dBm" "v2.0 wifi line"
expect_out "OTA        locked" "v2.0 OTA line"
sim_log 'POST /zeroconf/info' || fail "the sim saw no info request"
pass "info v2.0: data object with fwVersion, deviceid, bssid, signalStrength"

# the same by address, with the id learnt from mDNS, three times in a row
for i in 1 2 3; do
    diy info --device "$DEV_IP"
    expect_rc 0 "info by address ($i)"
done
expect_out "device 1000bb0001 at $DEV_IP:8081" "id learnt by address"
stop_sim

# ---- v1.4 (fw 3.3.0): data is a string ----
start_sim v14 --diy-proto 1.4 --device-id 1000bb0002 --no-mdns
diy info --device "$DEV_IP:8081" --browse-time 1
expect_rc 0 "info v1.4"
expect_out "protocol   v1.4 (info data as a JSON string" "v1.4 detected"
expect_out "firmware   ? (not reported by v1.4)" "v1.4 has no fwVersion"
expect_out "ssid sonoffDiy" "v1.4 ssid"
expect_out "switch     off   startup off   pulse off (500 ms)" "v1.4 switch line"
expect_out "device (id unknown) at $DEV_IP:8081" "no id invented"
pass "info v1.4: data as a JSON string, parsed; deviceid \"\" accepted before 3.7.6"
stop_sim

# ---- fw 3.7.6: the real deviceid is required ----
start_sim fw376 --fw-version 3.7.6 --device-id 1000bb0003
diy info --device "$DEV_IP"
expect_rc 0 "3.7.6 with the id from mDNS"
expect_out "device 1000bb0003" "3.7.6 id"
diy info --device "$DEV_IP" --deviceid 1000bb0099
expect_code 404 "unknown device id" "3.7.6 with a wrong id"
expect_err "need the device's real id in every request: pass --deviceid ID" "404 sentence"
stop_sim
start_sim fw376b --fw-version 3.7.6 --device-id 1000bb0004 --no-mdns
diy info --device "$DEV_IP" --browse-time 1
expect_code 404 "unknown device id" "3.7.6 without mDNS and without --deviceid"
expect_err 'the request carried ""; give it with --deviceid ID' "404 hint"
diy info --device "$DEV_IP" --deviceid 1000bb0004
expect_rc 0 "3.7.6 with --deviceid"
expect_out "firmware   3.7.6" "3.7.6 info"
no_spacing_violation
pass "fw 3.7.6: id from mDNS or --deviceid works; none or a wrong one gives 404, explained"

# ---- 200 ms between requests: sonota keeps it; the sim notices when it is broken ----
# sonota diy flash makes info, ota_unlock and ota_flash back to back (rejected at the end)
diy flash "$T/diy.bin" --device "$DEV_IP" --deviceid 1000bb0004 --url "http://$LAP_IP:9/x.bin"
[ "$(sim_count 'POST /zeroconf/')" -ge 4 ] || fail "expected info, ota_unlock, ota_flash requests"
no_spacing_violation
python3 - "$T/fw376b.log" <<'PY' || fail "requests were not 200 ms apart"
import re, sys, datetime
ts = []
for line in open(sys.argv[1]):
    if "diy: POST /zeroconf/" in line:
        t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
        ts.append(t)
gaps = [(b - a).total_seconds() for a, b in zip(ts, ts[1:])]
assert gaps and min(gaps) >= 0.2, gaps
PY
# two raw requests with no pause: the sim logs the violation (the check above can fail)
post signal_strength '{"deviceid":"1000bb0004","data":{}}' '{"deviceid":"1000bb0004","data":{}}' |
    grep -c '"signalStrength":-61' | grep -qx 2 || fail "signal_strength"
sim_log "spacing violation:" || fail "the sim did not notice two requests < 200 ms apart"
pass "requests stay >= 200 ms apart (the sim flags a back-to-back pair)"
stop_sim
