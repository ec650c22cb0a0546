#!/usr/bin/env bash
# Story: a non-SSL firmware build talks plain HTTP/WebSocket on a fixed port whatever it was
# told (PROTOCOL.md §1.3); --legacy serves dispatch + WebSocket there too.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --nonssl-port
flash_images 40000 60000
flash_ports
flash_sim --tls none --nonssl-port "$PLAIN_PORT"
flash_sonota --legacy --plain-port "$PLAIN_PORT"
flash_success
flash_expect 'e["event"] == "start" and e["legacy"] and e["plainPort"] == '"$PLAIN_PORT"
pass "legacy plain port: flashed"
