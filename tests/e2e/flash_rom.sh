#!/usr/bin/env bash
# Story: the device's firmware is too new. A 3.x device still answering the stock protocol is
# served with a warning that points to DIY mode; a 1.6 device pins the cloud certificate and
# drops the TLS handshake: sonota says so at once, and --timeout ends the wait.
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

rm -f "$E2E_TMP/flash.bin"
flash_ports
flash_sim --rom-version 1.6.0 --pinning
flash_sonota --timeout 15
[ "$SONOTA_RC" -eq 1 ] || ffail "pinning: expected exit 1 (timeout), got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "warning" and e["code"] == "tls" and "pin" in e["message"]' \
    "the failed handshake was not explained"
flash_expect 'e["event"] == "error" and e["code"] == "timeout" and "--no-prov" in e["message"]'
flash_expect_none 'e["event"] == "upgrade"'
pass "certificate pinning: explained at once, bounded by --timeout"
