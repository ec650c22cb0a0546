#!/usr/bin/env bash
# Story (issue 13 items 2 and 3): someone else on the LAN tries to end or abort a
# single-device run while the real device (the simulator, provisioned on its pairing AP)
# downloads its intermediate firmware. Three runs, one attack each, from other loopback
# addresses:
#   final  a GET of /ota/image_arduino.bin before the device is at FinalStage;
#   406    a fake session with the device's id (public: it is in the pairing SSID) and
#          a factory key of its own acks the upgrade with 406 (model mismatch);
#   404    five fake sessions ack 404 (failed download) once each.
# Each time the file is served or the session answered, a "not-the-device" warning says
# so, the run does not end, and the simulator completes: its flash boots the final image
# and sonota exits 0 after sending it the final image (before issue 13: "done" and exit 0
# at the stranger's GET, or exit 4 at the fake acks).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --device-id --chunk-delay-ms
command -v curl >/dev/null || skip "curl not installed"
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.5', 0))" 2>/dev/null ||
    skip "cannot bind 127.0.0.5 (loopback has only 127.0.0.1 here)"
flash_images 239220 482432
DEV=1000a77ac1

# attack_run NAME ATTACK: the sim (4 KiB chunk every 100 ms: a ~6 s download) and sonota;
# ATTACK runs once the device's download has started; then both must succeed.
attack_run() {
    local name=$1 attack=$2
    flash_ports
    rm -f "$OUT" "$ERR" "$SLOG" "$E2E_TMP/flash.bin"
    flash_sim --slot 1 --device-id "$DEV" --chunk-delay-ms 100
    timeout -k 5 -s INT 120 "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" \
        --serving-host 127.0.0.1 --no-check-ip --http-port "$HTTP_PORT" \
        --https-port "$HTTPS_PORT" --wifi-ssid Home --wifi-password "$SECRET" \
        --firmware-dir "$FW" --json \
        --log "$SLOG" --timeout 100 >"$OUT" 2>"$ERR" </dev/null &
    SONOTA_PID=$!
    e2e_track "$SONOTA_PID"
    wait_for 40 grep -q '"event":"download","t":[0-9.]*,"state":"start"' "$OUT" ||
        ffail "$name: the device's download did not start"
    "$attack"
    SONOTA_RC=0
    wait_pid 100 "$SONOTA_PID" || SONOTA_RC=$?
    flash_success
    flash_expect 'e["event"] == "warning" and e["code"] == "not-the-device"' \
        "$name: the attack was not reported"
    flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_arduino.bin" and e["peer"].startswith("127.0.0.1:")' \
        "$name: the final image the run counted did not go to the device"
}

# ATTACK_CASES="406 404" runs a subset (to see each fail without the fix).
CASES=" ${ATTACK_CASES:-final 406 404} "

attack_final() {
    curl -sS --interface 127.0.0.5 -o "$E2E_TMP/stolen.bin" \
        "http://127.0.0.1:$HTTP_PORT/ota/image_arduino.bin" || ffail "curl of the final image failed"
    cmp -s "$E2E_TMP/stolen.bin" "$FW/image_arduino.bin" || ffail "the file was not served whole"
}
if [[ $CASES == *" final "* ]]; then
attack_run final attack_final
flash_expect_none 'e["event"] == "download" and e["peer"].startswith("127.0.0.5:")' \
    "the stranger's download was reported as the device's"
pass "a GET of the final image from 127.0.0.5 is served and reported, the run goes on and completes"
fi

attack_406() {
    python3 "$E2E_DIR/fake_session.py" --port "$HTTPS_PORT" --src 127.0.0.6 --deviceid "$DEV" \
        --ack 406 >"$E2E_TMP/fake.json" || ffail "the fake session failed"
    grep -q '"acked": 1' "$E2E_TMP/fake.json" || ffail "the fake session got no upgrade to ack"
}
if [[ $CASES == *" 406 "* ]]; then
attack_run 406 attack_406
flash_expect_none 'e["event"] == "ack" and e["error"] == 406' "the fake 406 was counted"
pass "a fake session's ack 406 with the device's id is answered and reported, not counted"
fi

attack_404() {
    local i pids=()
    for i in 7 8 9 10 11; do
        python3 "$E2E_DIR/fake_session.py" --port "$HTTPS_PORT" --src "127.0.0.$i" \
            --deviceid "$DEV" --ack 404 >"$E2E_TMP/fake-$i.json" &
        pids+=("$!")
    done
    for i in "${pids[@]}"; do wait "$i" || ffail "a fake session failed"; done
    for i in 7 8 9 10 11; do
        grep -q '"acked": 1' "$E2E_TMP/fake-$i.json" || ffail "fake session $i got no upgrade"
    done
}
if [[ $CASES == *" 404 "* ]]; then
attack_run 404 attack_404
flash_expect_none 'e["event"] == "ack" and e["error"] == 404' "a fake 404 was counted"
pass "five fake sessions' acks 404 are not counted against the device"
fi
