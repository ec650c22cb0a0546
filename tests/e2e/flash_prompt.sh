#!/usr/bin/env bash
# Story: a person at a terminal: sonota asks for the WiFi name and the password; the password
# is not echoed, never shown, and the run completes. A password no device accepts (too short,
# too long) is refused with the reason and asked again; an empty answer (open network) needs a
# confirmation; after three unusable answers sonota stops (exit 2) before touching the device.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require
flash_images 40000 60000
flash_ports

# Three unusable answers: too short, too long, empty but not confirmed. Nothing is sent.
LONGPW=$(printf 'x%.0s' $(seq 1 70))
env -u SONOTA_WIFI_PASSWORD BAD=qz7Kp LONGPW="$LONGPW" python3 "$E2E_DIR/pty_drive.py" \
    --log "$E2E_TMP/tty.bad" --secret-env BAD --secret-env LONGPW --exit 2 \
    --must-show 'no usable WiFi password after 3 answers' \
    --expect '(SSID):30' --send 'Home\n' --expect 'not shown:30' --send-env BAD \
    --expect 'too short:10' --pause 0.3 --send-env LONGPW \
    --expect 'too long:10' --pause 0.3 --send '\n' \
    --expect 'open network, no password? [y/N]:10' --send 'n\n' --drain 10 -- \
    "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
    --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --firmware-dir "$FW" \
    --no-color --timeout 60 || ffail "unusable answers were not refused (see $E2E_TMP/tty.bad)"
grep -q "Stage 1/3" "$E2E_TMP/tty.bad" && ffail "stage 1 started without a usable password"
pass "unusable passwords refused with the reason, never shown; exit 2 after three answers"

flash_sim
# A short one, then an empty one declined, then the real one.
env -u SONOTA_WIFI_PASSWORD SECRET="$SECRET" BAD=qz7Kp python3 "$E2E_DIR/pty_drive.py" \
    --log "$E2E_TMP/tty.out" --secret-env SECRET --secret-env BAD --must-show Home \
    --must-show 'Try again' \
    --expect '(SSID):30' --send 'Home\n' --expect 'not shown:30' --send-env BAD \
    --expect 'too short:10' --pause 0.3 --send '\n' \
    --expect 'open network, no password? [y/N]:10' --send 'n\n' \
    --expect 'Then type the password:10' --pause 0.3 --send-env SECRET \
    --expect '== Done ==:90' --drain 1 -- \
    "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
    --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --firmware-dir "$FW" \
    --no-color --timeout 120 || ffail "the terminal session failed (see $E2E_TMP/tty.out)"
rc=0
wait_pid 60 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "the sim exited $rc"
pass "SSID and password asked on the terminal, password never echoed, flashed"
