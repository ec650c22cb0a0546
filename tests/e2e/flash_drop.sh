#!/usr/bin/env bash
# Story: the WiFi drops mid-download; the device reconnects and resumes (Range) and the run
# still completes.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --fault
flash_images 120000 200000
flash_ports
flash_sim --fault drop-at=50000
flash_sonota
flash_success
# Range requests: the device resumed on a new connection (the drop may fall between two
# chunks, so the server need not see an abort).
python3 - "$OUT" <<'PY' || ffail "the download did not resume on a new connection"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
dl = [e for e in ev if e["event"] == "download" and e["file"] == "image_user2-0x81000.bin"]
peers = {e["peer"] for e in dl if e["state"] in ("start", "progress", "done", "abort")}
sys.exit(0 if len(peers) >= 2 and dl[-1]["state"] == "done" else 1)
PY
grep -q "drop-at" "$SIM_OUT" || ffail "the sim did not inject the drop"
pass "dropped download: resumed on a new connection, flashed"
