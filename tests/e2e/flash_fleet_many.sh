#!/usr/bin/env bash
# Story (issue 13 item 7): a fleet bigger than the old 64-row table. 70 lightweight
# devices (bench/loadgen.py: the stock firmware's stage 2 message by message, then the
# intermediate firmware's whole-file fetch of the final image), each from its own loopback
# address, against the real `sonota flash --fleet --fleet-size 70`. The run must end by
# itself once 70 are done (before issue 13 the table stopped at 64 and it never did), with
# a table that lists all 70, each done.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require_sonota
LOADGEN="$E2E_DIR/../../bench/loadgen.py"
[ -f "$LOADGEN" ] || skip "bench/loadgen.py not found"
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.1.2', 0))" 2>/dev/null ||
    skip "cannot bind 127.0.1.2 (loopback has only 127.0.0.1 here)"
N=70
flash_images 239220 482432
flash_ports

timeout -k 5 -s INT 200 "$SONOTA" flash --fleet --fleet-size "$N" --no-prov \
    --serving-host 127.0.0.1 --no-check-ip --http-port "$HTTP_PORT" \
    --https-port "$HTTPS_PORT" --firmware-dir "$FW" --json --log "$SLOG" --timeout 180 \
    >"$OUT" 2>"$ERR" </dev/null &
SONOTA_PID=$!
e2e_track "$SONOTA_PID"
wait_for 60 port_listening "$HTTPS_PORT" || ffail "sonota's servers did not start"
python3 "$LOADGEN" --port "$HTTPS_PORT" --devices "$N" --chunk-delay-ms 0 --own-addr --final \
    --timeout 150 --out "$E2E_TMP/loadgen.json" >"$E2E_TMP/loadgen.out" 2>&1 &
LG_PID=$!
e2e_track "$LG_PID"

rc=0
wait_pid 190 "$SONOTA_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "sonota --fleet --fleet-size $N exited $rc, not 0"
lrc=0
wait_pid 60 "$LG_PID" || lrc=$?
[ "$lrc" -eq 0 ] || { cat "$E2E_TMP/loadgen.out" >&2; ffail "some devices failed (loadgen exit $lrc)"; }
python3 - "$OUT" "$N" <<'PY' || ffail "the fleet table is wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
done = [e for e in ev if e["event"] == "fleet-done"][-1]
rows = done["devices"]
assert done["done"] == n and done["total"] == n and len(rows) == n, (done["done"], done["total"])
assert len({r["deviceid"] for r in rows}) == n
assert all(r["result"] == "done" and r["slot"] == "user2" for r in rows), rows
assert not any(e["event"] == "warning" and e["code"] == "fleet-full" for e in ev)
PY
pass "$N devices, each from its own address: all listed, the run ended at --fleet-size $N"
