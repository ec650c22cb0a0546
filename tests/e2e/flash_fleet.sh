#!/usr/bin/env bash
# Story: a drawer of Sonoffs in one `sonota flash --fleet` run. Four simulated devices,
# each calling from its own address: A is provisioned on the pairing AP; B (slot 2) and C
# (whole-body downloads with the strict slow reader, so its first download fails with
# 404 and it is paced) were provisioned before and call at once; D goes into pairing mode
# after A left its AP, on the same AP address. E refuses the upgrade (model mismatch, 406).
# Stages 2 and 3 overlap. Every other emulated flash must boot the final image (E's still
# boots its stock firmware), the run must end by itself after four devices with a table that
# lists each with its own slot and result, exit 4 for E, and nothing leaks the password.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --source-addr --no-ap --server
"$SONOTA" flash --help | grep -q -- --fleet || skip "sonota flash lacks --fleet"
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.11', 0))" 2>/dev/null ||
    skip "cannot bind 127.0.0.11 (loopback has only 127.0.0.1 here)"
flash_images 239220 482432
flash_ports

# sim NAME SOURCE-ADDR [ARGS...]: one device in the background; pid in PID_<NAME>.
sim() {
    local name=$1 src=$2; shift 2
    "$SONOFF_SIM" --flash "$E2E_TMP/flash-$name.bin" --source-addr "$src" \
        --final-host 127.0.0.1 --final-port "$HTTP_PORT" --time-scale 0.05 --timeout 200 \
        --report "$E2E_TMP/report-$name.json" --log-file "$E2E_TMP/sim-$name.log" "$@" \
        >"$E2E_TMP/sim-$name.out" 2>&1 &
    local pid=$!
    e2e_track "$pid"
    printf -v "PID_$name" '%s' "$pid"
}
dump_sims() {
    local f
    for f in "$E2E_TMP"/sim-?.out; do echo "---- $f" >&2; tail -n 15 "$f" >&2; done
}

sim A 127.0.0.11 --slot 1 --ap-addr 127.0.0.1 --ap-port "$AP_PORT"
wait_for 30 port_listening "$AP_PORT" || { dump_sims; fail "device A's AP did not open"; }
SONOTA_WIFI_PASSWORD="$SECRET" timeout -k 5 -s INT 240 "$SONOTA" flash --fleet --fleet-size 4 \
    --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 --no-check-ip \
    --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
    --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 \
    >"$OUT" 2>"$ERR" </dev/null &
SONOTA_PID=$!
e2e_track "$SONOTA_PID"
wait_for 60 port_listening "$HTTPS_PORT" || ffail "sonota's servers did not start"
sim B 127.0.0.12 --slot 2 --no-ap --server "127.0.0.1:$HTTPS_PORT"
sim C 127.0.0.13 --slot 1 --no-ap --server "127.0.0.1:$HTTPS_PORT" --download whole
sim E 127.0.0.15 --slot 1 --no-ap --server "127.0.0.1:$HTTPS_PORT" --fault refuse-model

# Device D goes into pairing mode once A has left its AP (the same address and port).
wait_for 60 grep -q '"fleet-device".*"state":"provisioned"' "$OUT" ||
    { dump_sims; ffail "device A was not provisioned"; }
wait_for 20 sh -c "! ss -ltnH 'sport = :$AP_PORT' | grep -q ." ||
    { dump_sims; ffail "device A did not leave its AP"; }
sim D 127.0.0.14 --slot 2 --ap-addr 127.0.0.1 --ap-port "$AP_PORT"

rc=0
wait_pid 200 "$SONOTA_PID" || rc=$?
[ "$rc" -eq 4 ] || { dump_sims; ffail "sonota --fleet exited $rc, not 4 (one device refused)"; }
for n in A B C D; do
    pid_var="PID_$n"
    src=0
    wait_pid 60 "${!pid_var}" || src=$?
    [ "$src" -eq 0 ] || { dump_sims; ffail "device $n's flash does not boot the final image (sim exit $src)"; }
done
src=0
wait_pid 60 "$PID_E" || src=$?
[ "$src" -eq 1 ] || ffail "device E's sim exited $src"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if not r["final_ok"] and "stock" in r["boots_into"] else 1)' \
    "$E2E_TMP/report-E.json" || ffail "device E's flash does not boot its stock firmware"
SECRET_FILES=("$E2E_TMP"/sim-?.out "$E2E_TMP"/sim-?.log)
assert_no_secret "$SECRET" "$OUT" "$ERR" "$SLOG" "${SECRET_FILES[@]}"

python3 - "$OUT" "$E2E_TMP" <<'PY' || ffail "the fleet events or table are wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ids = {}
for n in "ABCDE":
    r = json.load(open("%s/report-%s.json" % (sys.argv[2], n)))
    ids[n] = r.get("deviceid") or r.get("device", {}).get("deviceid")
assert all(ids.values()) and len(set(ids.values())) == 5, ids
assert ev[-1]["event"] == "error" and ev[-1]["exit"] == 4, ev[-1]
done = ev[-2]
assert done["event"] == "fleet-done", done
rows = {d["deviceid"]: d for d in done["devices"]}
assert done["done"] == 4 and done["total"] == 5 and set(rows) == set(ids.values()), done
e = rows[ids["E"]]
assert e["result"] == "failed" and "406" in e["detail"] and e["slot"] is None, e
for n, want in (("A", "user2"), ("B", "user1"), ("C", "user2"), ("D", "user1")):
    d = rows[ids[n]]
    assert d["result"] == "done" and d["slot"] == want and d["model"] == "ITA-GZ1-GL", (n, d)
# A and D came through stage 1; B and C never did.
prov = {e["deviceid"] for e in ev if e["event"] == "fleet-device" and e["state"] == "provisioned"}
assert prov == {ids["A"], ids["D"]}, prov
# C's first whole-body download failed (404) and C alone was paced afterwards.
acks = [e for e in ev if e["event"] == "ack" and e.get("error") == 404]
assert acks and all(e["deviceid"] == ids["C"] for e in acks), acks
paced = {e["peer"].rsplit(":", 1)[0] for e in ev if e["event"] == "download" and e["paced"]}
assert paced == {"127.0.0.13"}, paced
# Stages overlapped: a download ran while another device's was under way.
open_dl, overlap = {}, False
for e in ev:
    if e["event"] == "download":
        key = e["peer"].rsplit(":", 1)[0]
        if e["state"] == "start":
            overlap |= any(k != key for k in open_dl)
            open_dl[key] = 1
        elif e["state"] in ("done", "abort"):
            open_dl.pop(key, None)
assert overlap, "no two devices downloaded at the same time"
PY
pass "four devices flashed in one --fleet run (two provisioned, two at once, one paced), one refused"
