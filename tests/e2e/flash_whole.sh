#!/usr/bin/env bash
# Story: firmware that GETs the whole file without Range fails a full-speed stream (ack 404);
# in --pace auto sonota paces the next attempt by itself and the run completes (§1.5).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --download
flash_images 30000 40000
flash_ports
flash_sim --download whole
flash_sonota --pace auto
flash_success
flash_expect 'e["event"] == "ack" and e["error"] == 404' "expected a failed fast download first"
flash_expect 'e["event"] == "download" and e["paced"] and e["state"] == "done"' \
    "expected a paced download that completes"
pass "whole-file download: 404, automatic paced fallback, flashed"
