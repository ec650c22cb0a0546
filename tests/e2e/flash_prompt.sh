#!/usr/bin/env bash
# Story: a person at a terminal: sonota asks for the WiFi name and the password; the password
# is not echoed, never shown, and the run completes.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require
flash_images 40000 60000
flash_ports
flash_sim
env -u SONOTA_WIFI_PASSWORD SECRET="$SECRET" python3 "$E2E_DIR/pty_drive.py" \
    --log "$E2E_TMP/tty.out" --secret-env SECRET --must-show Home \
    --expect '(SSID):30' --send 'Home\n' --expect 'not shown:30' --send-env SECRET \
    --expect '== Done ==:90' --drain 1 -- \
    "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
    --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --firmware-dir "$FW" \
    --no-color --timeout 120 || ffail "the terminal session failed (see $E2E_TMP/tty.out)"
rc=0
wait_pid 60 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "the sim exited $rc"
pass "SSID and password asked on the terminal, password never echoed, flashed"
