#!/usr/bin/env bash
# Story: the device's TLS stack is TLS 1.0 (old axTLS), 1.1 or 1.2 (newer mbedTLS builds);
# the fake cloud accepts all three (PROTOCOL.md §2). One run uses SONOTA_WIFI_PASSWORD.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --tls
flash_images 40000 60000
for p in tls1.0 tls1.1 tls1.2; do
    rm -f "$E2E_TMP/flash.bin" "$OUT" "$ERR" "$SLOG"
    flash_ports
    flash_sim --tls "$p"
    if [ "$p" = tls1.2 ]; then
        # The password from the environment instead of the command line.
        SONOTA_WIFI_PASSWORD="$SECRET" timeout -k 5 -s INT 240 "$SONOTA" flash \
            --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 --no-check-ip \
            --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
            --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 \
            >"$OUT" 2>"$ERR" </dev/null
        SONOTA_RC=$?
        flash_expect_none 'e["event"] == "warning" and e["code"] == "password-visible"' \
            "warned about a password that was never on the command line"
    else
        flash_sonota
        flash_expect 'e["event"] == "warning" and e["code"] == "password-visible"' \
            "no warning about --wifi-password in the process list"
    fi
    flash_success
    pass "device TLS profile $p: flashed"
done
