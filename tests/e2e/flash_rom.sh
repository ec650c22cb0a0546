#!/usr/bin/env bash
# Story: the device's firmware is too new. A 3.x device still answering the stock protocol is
# served with a warning that points to DIY mode; a 1.6 device pins the cloud certificate and
# ends every TLS handshake after our certificate (alert or close): after three sonota stops
# (exit 4) with the options left (DIY mode for 3.x, else serial). A handshake sonota refused
# or a bare connect-and-close is not taken for pinning.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --rom-version --pinning
flash_images 40000 60000

flash_ports
flash_sim --rom-version 3.1.0
flash_sonota
[ "$SONOTA_RC" -eq 0 ] || ffail "3.1.0: sonota exited $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "device" and e.get("romVersion") == "3.1.0"'
flash_expect 'e["event"] == "warning" and e["code"] == "rom-version" and "DIY" in e["message"]'
rc=0
wait_pid 60 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "3.1.0: the sim exited $rc"
pass "3.x device: warned (DIY mode), still served"

# Pinning, both ways a device can end the handshake after our certificate: sonota stops
# --pin-grace (here 2 s) later (exit 4) with the real options, long before --timeout.
for how in alert close; do
    rm -f "$E2E_TMP/flash.bin"
    flash_ports
    flash_sim --rom-version 1.6.0 --pinning="$how"
    t0=$(date +%s)
    flash_sonota --timeout 45 --pin-grace 2
    took=$(( $(date +%s) - t0 ))
    [ "$SONOTA_RC" -eq 4 ] || ffail "pinning ($how): expected exit 4, got $SONOTA_RC"
    [ "$took" -le $((30 * E2E_SLOW)) ] || ffail "pinning ($how): the verdict took $took s"
    flash_check_output
    flash_expect 'e["event"] == "pinned" and e["handshakes"] >= 3 and e["peer"] == "127.0.0.1"' \
        "no pinned event"
    if [ "$how" = close ]; then
        flash_expect 'e["event"] == "pinned" and e["how"] == "it closed the connection"'
    else
        flash_expect 'e["event"] == "pinned" and "unknown_ca (48)" in e["how"]'
    fi
    flash_expect 'e["event"] == "error" and e["code"] == "pinned" and e["exit"] == 4 and "sonota diy" in e["message"] and "serial" in e["message"]' \
        "the verdict does not give the options"
    flash_expect_none 'e["event"] == "upgrade"'
    kill "$SIM_PID" 2>/dev/null
    pass "certificate pinning ($how after our certificate): exit 4 after $took s, DIY or serial"
done

# No pinning verdict for a handshake we refused (no shared suite) or a bare connect-and-
# close, however often: the run waits on to its --timeout (exit 1).
flash_ports
( wait_for 60 port_listening "$HTTPS_PORT" || exit 1
  for i in 1 2 3 4; do
      echo | timeout 5 openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_1 \
          -cipher 'NULL-SHA@SECLEVEL=0' >/dev/null 2>&1
      python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' \
          "$HTTPS_PORT"
  done ) &
e2e_track $!
flash_sonota --no-prov --timeout $((10 * E2E_SLOW))
[ "$SONOTA_RC" -eq 1 ] || ffail "no shared suite / bare close: expected exit 1 (timeout), got $SONOTA_RC"
flash_expect 'e["event"] == "warning" and e["code"] == "tls" and "pin" not in e["message"]' \
    "the refused handshake was not reported, or blamed on pinning"
flash_expect_none 'e["event"] == "pinned" or e.get("code") == "pinned"'
pass "no shared suite and bare connect-and-close: no pinning verdict"

# Someone on the LAN imitates a pinning client before the device calls: the verdict waits
# --pin-grace, and the device's own register cancels it; the device is flashed.
rm -f "$E2E_TMP/flash.bin"
flash_ports
( wait_for 60 port_listening "$HTTPS_PORT" || exit 1
  for i in 1 2 3 4; do
      echo | timeout 5 openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_2 \
          -verify_return_error >/dev/null 2>&1
  done
  sleep 1
  exec "$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --no-ap --server "127.0.0.1:$HTTPS_PORT" \
      --final-host 127.0.0.1 --final-port "$HTTP_PORT" --time-scale 0.05 --timeout 200 \
      --report "$E2E_TMP/sim-report.json" --log-file "$E2E_TMP/sim.log" >"$SIM_OUT" 2>&1 ) &
SIM_PID=$!
e2e_track "$SIM_PID"
flash_sonota --no-prov --pin-grace $((30 * E2E_SLOW))
flash_expect 'e["event"] == "pinned" and e["handshakes"] >= 3' "the imitation was not seen"
flash_expect 'e["event"] == "warning" and e["code"] == "pinned"' "no pending-verdict warning"
flash_expect_none 'e["event"] == "error" and e.get("code") == "pinned"'
flash_success
pass "a stranger imitating pinning: the verdict waits, the device's register cancels it"
