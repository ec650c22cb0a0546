#!/usr/bin/env bash
# Story: the device runs user2, so it fetches user1; E2A then moves itself to slot 2 over
# FinalStage (GET image_user2) before taking the final image (PROTOCOL.md §4).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --slot
flash_images 120000 200000
flash_ports
flash_sim --slot 2
flash_sonota
flash_success
flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_user1-0x01000.bin"' \
    "a device in slot 2 must get user1"
flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_user2-0x81000.bin"' \
    "E2A in slot 1 must fetch user2 on FinalStage"
pass "slot 2 device: user1, then user2 and the final image on FinalStage"
