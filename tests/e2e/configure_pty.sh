#!/usr/bin/env bash
# Story: a person at a terminal runs `sonota configure` without --wifi-ssid or a password in
# the environment: sonota asks for the WiFi name (echoed) and the password (not echoed, never
# shown), then configures the simulated Tasmota and finds it on the LAN. Ctrl-C at the
# password question ends the run with 130; three unusable passwords end it with 2 (the
# reason shown each time, an empty one needs a yes). Driven through a pty (pty_drive.py).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/tasmota_lib.sh" || exit 1
tas_require
tas_flash
tas_ports
tas_sim --tasmota-home-ssid Home --tasmota-home-psk-sha256 \
    "$(printf '%s' "$WSECRET" | sha256sum | cut -d' ' -f1)"

# drive MODE: "answer" types the SSID and the password; "interrupt" sends ^C at the password.
drive() {
    local steps
    if [ "$1" = interrupt ]; then
        steps=(--pause 0.3 --send '\x03' --drain 5 --exit 130)
    else
        # the prompt flushes input typed before echo went off (TCSAFLUSH): pause first
        steps=(--pause 0.3 --send-env WSECRET --expect '== Done ==:60' --drain 2
               --must-show 'Tasmota answers on your LAN')
    fi
    env -u SONOTA_WIFI_PASSWORD SONOTA_MQTT_PASSWORD="$MSECRET" WSECRET="$WSECRET" \
        MSECRET="$MSECRET" python3 "$E2E_DIR/pty_drive.py" --log "$E2E_TMP/tty.$1" \
        --secret-env WSECRET --secret-env MSECRET --must-show Home \
        --expect '(SSID):20' --send 'Home\n' --expect '(not shown):20' "${steps[@]}" -- \
        "$SONOTA" configure --device "http://127.0.0.1:$AP_PORT" --mqtt-host broker.lan \
        --topic lamp --lan-check "$LAN_ADDR:$LAN_PORT" --no-color --timeout 60
}

drive interrupt || tfail "Ctrl-C at the password prompt (see $E2E_TMP/tty.interrupt)"
tas_no_secrets "$E2E_TMP/tty.interrupt"
pass "Ctrl-C at the hidden password question ends with 130, nothing sent"

# Unusable answers are refused with the reason and asked again, at most three times.
env -u SONOTA_WIFI_PASSWORD BAD=qz7Kp python3 "$E2E_DIR/pty_drive.py" --log "$E2E_TMP/tty.bad" \
    --secret-env BAD --exit 2 --must-show 'no usable WiFi password after 3 answers' \
    --expect '(SSID):20' --send 'Home\n' --expect '(not shown):20' --send-env BAD \
    --expect 'too short:10' --pause 0.3 --send-env BAD --expect 'Not usable:10' --pause 0.3 \
    --send '\n' --expect '[y/N]:10' --send '\n' --drain 10 -- \
    "$SONOTA" configure --device "http://127.0.0.1:$AP_PORT" --mqtt-host broker.lan \
    --topic lamp --no-color --timeout 60 || tfail "unusable passwords (see $E2E_TMP/tty.bad)"
pass "unusable passwords refused with the reason (an empty one needs a yes), exit 2"

drive answer || tfail "the terminal session failed (see $E2E_TMP/tty.answer)"
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || tfail "the sim exited $rc"
tas_report 'r["joined_lan"] and r["wifi_password"]["sha256_prefix"] == sha(W)[:8] and r["mqtt_host"] == "broker.lan"' \
    "the device did not get the typed password"
tas_no_secrets "$E2E_TMP/tty.answer" "$REPORT" "$SIM_OUT" "$SIM_LOG"
pass "SSID and password asked on the terminal, password never echoed, device on the LAN"
