#!/usr/bin/env bash
# Story: the device refuses the upgrade for a model mismatch (ack 406): sonota stops with
# exit 4 and explains; nothing is sent.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --fault
flash_images 40000 60000
flash_ports
flash_sim --fault refuse-model
flash_sonota
[ "$SONOTA_RC" -eq 4 ] || ffail "expected exit 4 (device refused), got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "ack" and e["error"] == 406 and "model mismatch" in e["meaning"]'
flash_expect 'e["event"] == "error" and e["code"] == "device-refused" and e["exit"] == 4 and "model" in e["message"]'
flash_expect_none 'e["event"] == "done"'
flash_expect_none 'e["event"] == "download"' "nothing must be downloaded after a refusal"
pass "model mismatch: exit 4 with an explanation"
