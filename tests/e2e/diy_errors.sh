#!/usr/bin/env bash
# Story: every way a DIY flash can go wrong is explained in words, with exit status 4 for
# the device's error codes 400, 401, 403, 404, 408, 413, 422, 424, 471, 500 and 503
# (PROTOCOL.md §6), and sonota's own checks stop bad images before any request: more than
# 520192 bytes, not DOUT, a digest that is not the file's (uppercase is never sent).
# Where sonota's checks make a code impossible, the simulator injects it (--fault), and
# the natural cause is shown too where one exists. A device that refuses the image without a
# word (back on its stock API) and one that accepts ota_flash but fetches nothing are told
# within seconds, not at --wait / --timeout.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/diy_lib.sh" || exit 1
diy_require

# httpd MODE: a foreign download server in the laptop namespace; sets HTTPD_PORT.
httpd() {
    ip netns exec "$LAP" python3 "$E2E_DIR/diy_httpd.py" "$1" "$LAP_IP" "$T/diy.bin" \
        "$T/httpd-$1.log" >"$T/httpd-$1.out" 2>&1 &
    e2e_track $!
    # a start-up bound, generous: python starts slowly on a loaded machine
    wait_for 30 grep -q '^PORT' "$T/httpd-$1.out" || fail "diy_httpd $1 did not start"
    HTTPD_PORT=$(sed -n 's/^PORT //p' "$T/httpd-$1.out")
}
# raw PATH BODY: one request straight to the device; prints the reply.
raw() { post "$@"; }
ID=1000dd0001
AT=(--device "$DEV_IP" --deviceid "$ID")

# ---- sonota's own checks: nothing reaches the device ----
start_sim checks --device-id "$ID" --unlocked --after-flash lan
"$SONOTA" image make-test --kind diy --size 600000 "$T/big.bin" >/dev/null || fail "make big"
cp "$T/diy.bin" "$T/dio.bin"
printf '\002' | dd of="$T/dio.bin" bs=1 seek=2 conv=notrunc 2>/dev/null   # flash mode DIO
printf '\002' | dd of="$T/dio.bin" bs=1 seek=4098 conv=notrunc 2>/dev/null
diy flash "$T/big.bin" "${AT[@]}"
expect_rc 3 "oversize image"
expect_err "600000 bytes, more than the 520192 bytes" "oversize message"
diy flash "$T/dio.bin" "${AT[@]}"
expect_rc 3 "DIO image"
expect_err "DOUT" "flash mode message"
diy flash "$T/diy.bin" "${AT[@]}" --url "http://$LAP_IP:9/x.bin" --sha256 "$(printf '%064d' 7)"
expect_rc 3 "wrong digest"
expect_err "does not match" "digest message"
[ "$(sim_count 'POST /zeroconf/')" -eq 0 ] || fail "a refused image still caused requests"
pass "oversize, non-DOUT and wrong-digest images are refused before any request (exit 3)"

# ---- 400 bad JSON: natural (a raw broken body) and through sonota (injected) ----
raw info '{"deviceid":"","data":{}' | grep -q '"error":400' || fail "broken JSON not 400"
sleep 0.3
# ---- 422 bad parameters: natural (https URL) ----
raw ota_flash "{\"deviceid\":\"$ID\",\"data\":{\"downloadUrl\":\"https://$LAP_IP/x.bin\",\"sha256sum\":\"$SHA\"}}" |
    grep -q '"error":422' || fail "https downloadUrl not 422"
# ---- 413 natural: --force sends an oversize image; the device sees the size and refuses ----
sleep 0.3
diy flash "$T/big.bin" "${AT[@]}" --force --http-port 0
expect_code 413 "firmware too large" "--force oversize"
expect_err "WARNING: --force" "force warning"
expect_err "Use a smaller build such as tasmota-lite.bin" "413 sentence"
# ---- 424: closed port, and a server without Range support ----
diy flash "$T/diy.bin" "${AT[@]}" --url "http://$LAP_IP:9/x.bin"
expect_code 424 "download failed" "closed port"
expect_err "does not support Range requests" "424 sentence"
httpd norange
diy flash "$T/diy.bin" "${AT[@]}" --url "http://$LAP_IP:$HTTPD_PORT/diy.bin"
expect_code 424 "download failed" "no Range support"
sim_log "the server answered 200, not 206 (no Range support)" || fail "424 cause"
# ---- 408: a server that never answers the pre-download ----
httpd silent
diy flash "$T/diy.bin" "${AT[@]}" --url "http://$LAP_IP:$HTTPD_PORT/diy.bin"
expect_code 408 "pre-download timeout" "silent server"
expect_err "timed out pre-downloading the firmware" "408 sentence"
# ---- uppercase digest given: sent lowercase, so the flash works (ID#102) ----
httpd range
UPPER=$(printf '%s' "$SHA" | tr a-f A-F)
diy flash "$T/diy.bin" "${AT[@]}" --url "http://$LAP_IP:$HTTPD_PORT/diy.bin" --sha256 "$UPPER" \
    --wait 60
expect_rc 0 "uppercase --sha256"
sim_log "sha256sum $SHA" || fail "the digest was not sent in lowercase"
sim_log "sha256sum $UPPER" && fail "an uppercase digest was sent"
grep -q "GET /diy.bin?deviceid=$ID&ts=" "$T/httpd-range.log" || fail "foreign server not used"
grep -q "POST /api/device/otaFlash {\"deviceid\":\"$ID\",\"error\":0}" "$T/httpd-range.log" ||
    fail "no result POST to the foreign server"
wait_sim 30
no_spacing_violation
pass "400/422 natural; 413 (--force), 424 (closed port, no Range), 408 (silent server) explained; uppercase digest sent lowercase"

# ---- 400 and 422 through sonota (injected: sonota never sends such requests) ----
start_sim e400 --device-id "$ID" --fault diy-error=info:400
diy info "${AT[@]}"
expect_code 400 "bad JSON" "injected 400"
expect_err "could not parse the request body as JSON" "400 sentence"
stop_sim
start_sim e422 --device-id "$ID" --unlocked --fault diy-error=ota_flash:422
diy flash "$T/diy.bin" "${AT[@]}" --http-port 0
expect_code 422 "invalid parameters" "injected 422"
expect_err "rejected the request parameters" "422 sentence"
stop_sim
pass "400 and 422 explained"

# ---- 401: encryption on ----
start_sim e401 --device-id "$ID" --encrypt
diy info "${AT[@]}"
expect_code 401 "encryption required" "401"
expect_err "wants encrypted requests" "401 sentence"
stop_sim

# ---- 403 and 503: locked, no Internet for the unlock ----
start_sim e403 --device-id "$ID" --no-internet
diy flash "$T/diy.bin" "${AT[@]}" --no-unlock --http-port 0
expect_code 403 "OTA locked" "403"
expect_err "Run 'sonota diy unlock' first" "403 sentence"
expect_out "OTA is locked and --no-unlock was given" "403 note"
diy unlock "${AT[@]}"
expect_code 503 "unlock service unreachable" "503 (unlock)"
expect_err "needs Internet access" "503 sentence"
diy flash "$T/diy.bin" "${AT[@]}" --http-port 0
expect_code 503 "unlock service unreachable" "503 (flash unlocks first)"
[ "$(sim_count 'POST /zeroconf/ota_flash')" -eq 1 ] || fail "flash went on after a failed unlock"
stop_sim
pass "401, 403 and 503 explained"

# ---- 404: fw 3.7.6 and a wrong id ----
start_sim e404 --device-id "$ID" --fw-version 3.7.6 --unlocked
diy flash "$T/diy.bin" --device "$DEV_IP" --deviceid 1000dd0999 --http-port 0
expect_code 404 "unknown device id" "404"
expect_err "pass --deviceid ID" "404 sentence"
stop_sim

# ---- 500: the unlock service refuses the device ----
start_sim e500 --device-id "$ID" --unlock-refused
diy unlock "${AT[@]}"
expect_code 500 "unlock refused" "500"
expect_err "refused this device" "500 sentence"
stop_sim
pass "404 and 500 explained"

# ---- 413 injected: a device with a smaller limit ----
start_sim e413 --device-id "$ID" --unlocked --fault diy-limit=100000
diy flash "$T/diy.bin" "${AT[@]}" --http-port 0
expect_code 413 "firmware too large" "injected 413"
sim_log "the file has 480000 bytes, more than 100000" || fail "413 cause"
stop_sim

# ---- 471: a corrupted chunk; reported by the result POST, or in the reply ----
start_sim e471 --device-id "$ID" --unlocked --fault corrupt-chunk=5
diy flash "$T/diy.bin" "${AT[@]}" --http-port 0 --wait 30
expect_code 471 "SHA-256 mismatch" "471 (result POST)"
expect_err "Do NOT power-cycle the device" "471 sentence"
expect_err "after its download the device reported error 471" "471 told as the device's result POST"
grep -q "answered ota_flash with error 471" "$ERR" && fail "a result POST reported as the ota_flash answer"
sim_log "result 471 posted to /api/device/otaFlash: HTTP 200" || fail "the result POST got no reply"
expect_out "100%  the device has all 480000 bytes" "471 after the whole download"
grep -q "^done" "$OUT" && fail "471 reported as done"
sim_log "SHA-256 mismatch" || fail "the sim did not detect the corruption"
stop_sim
python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['final_ok'] is False" \
    "$T/e471.json" || fail "a corrupt image was written"
start_sim e471b --device-id "$ID" --unlocked --diy-reply full --fault corrupt-chunk=3
diy flash "$T/diy.bin" "${AT[@]}" --http-port 0 --wait 30
expect_code 471 "SHA-256 mismatch" "471 (in the reply)"
stop_sim
pass "413 and 471 (both ways of reporting it) explained; the corrupt image is not written"

# ---- the device refuses the image without saying so: back on its stock API ----
# (a corrupted chunk fails its SHA-256 check, and no result POST tells sonota): sonota asks
# /zeroconf/info and says the device is still on its stock firmware, long before --wait.
start_sim quiet471 --unlocked --device-id 1000cc0006 --fault corrupt-chunk=4 \
    --fault no-result-post
t0=$(date +%s)
diy flash "$T/diy.bin" --device 1000cc0006 --http-port 0 --wait 120
took=$(( $(date +%s) - t0 ))
expect_rc 4 "refused image, back on the stock API"
expect_err "the device is still on its stock firmware 3.6.0" "stock API message"
expect_err "nothing was written" "nothing written"
grep -q "may still be flashing" "$ERR" && fail "'may still be flashing' for a device on its stock API"
[ "$took" -lt 60 ] || fail "the stock API verdict took $took s (--wait 120)"
stop_sim
pass "a device back on its stock API is asked (/zeroconf/info) and reported in $took s"

# ---- ota_flash accepted, but not a byte requested: said within seconds ----
start_sim nofetch --unlocked --device-id 1000cc0007 --fault no-fetch
t0=$(date +%s)
diy flash "$T/diy.bin" --device 1000cc0007 --http-port 0 --timeout 300 --wait 300
took=$(( $(date +%s) - t0 ))
expect_rc 1 "no byte requested"
expect_err "has not asked for a single byte" "no-fetch message"
expect_err "It still answers on its DIY API: nothing was written" "no-fetch state"
[ "$took" -lt 40 ] || fail "no byte requested: said after $took s"
stop_sim
pass "ota_flash accepted but nothing fetched: said after $took s, not at --timeout"
