#!/usr/bin/env bash
# Story: the user presses Ctrl-C while sonota waits for the device: it stops at once, says how
# to continue, exits 130 and frees its ports. SIGTERM does the same.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require_sonota
flash_images 40000 60000
for sig in INT TERM; do
    flash_ports
    "$SONOTA" flash --no-prov --no-check-ip --serving-host 127.0.0.1 --http-port "$HTTP_PORT" \
        --https-port "$HTTPS_PORT" --firmware-dir "$FW" --json --timeout 120 \
        >"$OUT" 2>"$ERR" </dev/null &
    pid=$!
    e2e_track "$pid"
    wait_for 20 grep -q '"wait-device"' "$OUT" || ffail "sonota did not reach the cloud wait"
    port_listening "$HTTPS_PORT" || ffail "the cloud port is not listening"
    kill -s "$sig" "$pid"
    rc=0
    wait_pid 10 "$pid" || rc=$?
    [ "$rc" -eq 130 ] || ffail "SIG$sig: expected exit 130, got $rc"
    flash_check_output
    flash_expect 'e["event"] == "error" and e["code"] == "interrupted" and "--no-prov" in e["message"]'
    port_listening "$HTTPS_PORT" && ffail "port $HTTPS_PORT still open after exit"
    port_listening "$HTTP_PORT" && ffail "port $HTTP_PORT still open after exit"
    pass "SIG$sig: exit 130, resume hint, ports closed"
done
