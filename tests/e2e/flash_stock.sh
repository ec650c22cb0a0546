#!/usr/bin/env bash
# Story: a Basic on stock 1.5.5 running user1 (so it fetches user2), Range downloads, the
# default TLS profile: provision, fake cloud, FinalStage, final image; nothing leaks.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --slot
flash_images 239220 482432
flash_ports
flash_sim --slot 1
flash_sonota
flash_success
flash_expect 'e["event"] == "stage" and e["stage"] == "provision"'
flash_expect 'e["event"] == "provisioned" and e["ssid"] == "Home" and e["serverName"] == "127.0.0.1"'
flash_expect 'e["event"] == "device" and e["source"] == "ap" and e["deviceid"].startswith("1000")'
flash_expect 'e["event"] == "action" and e["action"] == "reconnect-home"'
flash_expect 'e["event"] == "ack" and e["error"] == 0'
flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_user2-0x81000.bin"' \
    "a device in slot 1 must get user2"
flash_expect 'e["event"] == "stage" and e["stage"] == "final"'
flash_expect 'e["event"] == "action" and e["action"] == "join-final"'
flash_expect 'e["event"] == "done" and len(e["images"]) == 3 and e["stages"]["provision"] is not None'
pass "stock 1.5.5, slot 1, Range: flashed, no secret in output or log"
