#!/usr/bin/env bash
# Story: a chunk arrives corrupted, the device's sha256 check fails (409): sonota stops with
# exit 4 and says the device kept its firmware.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --fault
flash_images 40000 60000
flash_ports
flash_sim --fault corrupt-chunk=2
flash_sonota
[ "$SONOTA_RC" -eq 4 ] || ffail "expected exit 4 (digest mismatch), got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "ack" and e["error"] == 409 and "digest mismatch" in e["meaning"]'
flash_expect 'e["event"] == "error" and e["code"] == "device-refused" and e["exit"] == 4'
flash_expect_none 'e["event"] == "done"'
pass "digest mismatch: exit 4 with an explanation"
