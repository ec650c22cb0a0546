#!/bin/bash
# sim_selftest: sonoff-sim end to end against a small fake cloud written in Python
# (sim_fakecloud.py), independently of sonota's server: dispatch, WebSocket order, upgrade,
# Range and whole-body downloads, Espressif2Arduino's FinalStage, the boot verdict, and the
# firmware's refusals (bad apikey, model, autoRestart, digest, TLS pinning, bad frames).
# Everything on 127.0.0.1 with free high ports; every run is bounded.
. "$E2E_DIR/lib.sh"

[ -n "${SONOFF_SIM:-}" ] && [ -x "$SONOFF_SIM" ] || skip "SONOFF_SIM is not an executable"
[ -n "${SONOTA:-}" ] && [ -x "$SONOTA" ] || skip "SONOTA is not an executable"
"$SONOTA" image --help 2>&1 | grep -q make-test || skip "sonota image make-test is not ready"
command -v openssl >/dev/null || skip "no openssl command"
python3 -c 'import ssl' 2>/dev/null || skip "python3 without ssl"

FAKE="$E2E_DIR/sim_fakecloud.py"
IMG="$E2E_TMP/img"
mkdir -p "$IMG"
"$SONOTA" image make-test --kind user1 --seed 11 "$IMG/image_user1-0x01000.bin" >/dev/null ||
    fail "make-test user1"
"$SONOTA" image make-test --kind user2 --seed 12 "$IMG/image_user2-0x81000.bin" >/dev/null ||
    fail "make-test user2"
"$SONOTA" image make-test --kind final --seed 13 "$IMG/image_arduino.bin" >/dev/null ||
    fail "make-test final"
FINAL_SHA=$(sha256sum "$IMG/image_arduino.bin" | cut -d' ' -f1)
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=test -days 1 \
    -keyout "$E2E_TMP/key.pem" -out "$E2E_TMP/cert.pem" >/dev/null 2>&1 || fail "openssl req"

FAKE_PID=""
# start_fake [FAKE-ARGS...]: a fresh fake cloud on new ports (TP tls, HP http, PP plain).
start_fake() {
    read -r TP HP PP <<<"$(free_ports 3)"
    EV="$E2E_TMP/events.jsonl"
    rm -f "$EV" "$E2E_TMP/ready"
    : >"$EV"
    python3 -W ignore "$FAKE" --tls-port "$TP" --http-port "$HP" --plain-ws-port "$PP" \
        --cert "$E2E_TMP/cert.pem" --key "$E2E_TMP/key.pem" --images "${FAKE_IMG:-$IMG}" \
        --events "$EV" --ready "$E2E_TMP/ready" --lifetime 200 "$@" >"$E2E_TMP/fake.out" 2>&1 &
    FAKE_PID=$!
    e2e_track "$FAKE_PID"
    # a start-up bound, generous: python starts slowly on a loaded machine
    wait_for 30 test -f "$E2E_TMP/ready" || fail "the fake cloud did not start"
}

stop_fake() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
    FAKE_PID=""
}

# run_sim FLASH [SIM-ARGS...]: the sim against the fake cloud; sets RC, OUT, REP.
run_sim() {
    local flash=$1
    shift
    OUT="$E2E_TMP/sim.out"
    REP="$E2E_TMP/report.json"
    rm -f "$REP"
    timeout -k 5 150 "$SONOFF_SIM" --flash "$flash" --no-ap --server "127.0.0.1:$TP" \
        --nonssl-port "$PP" --final-host 127.0.0.1 --final-port "$HP" --time-scale 0.05 \
        --timeout 120 --report "$REP" "$@" >"$OUT" 2>&1
    RC=$?
}

dump() {
    echo "---- sim output (last 30 lines)" >&2
    tail -n 30 "$OUT" >&2
    echo "---- fake cloud events (last 15)" >&2
    tail -n 15 "$EV" | cut -c1-200 >&2
}
sfail() { dump; fail "$@"; }

expect_rc() { [ "$RC" -eq "$1" ] || sfail "$2: sim exited $RC, expected $1"; }
expect_out() { grep -q -- "$1" "$OUT" || sfail "$2: sim output lacks '$1'"; }

# verify: one check per stdin line, all in one python run (python starts slowly):
#   ev   EXPR :: MESSAGE   some fake-cloud event e satisfies EXPR
#   noev EXPR :: MESSAGE   no event does
#   rep  EXPR :: MESSAGE   the sim's JSON report r satisfies EXPR
verify() {
    local msg
    msg=$(python3 -c '
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
try:
    r = json.load(open(sys.argv[2]))
except (OSError, ValueError):
    r = None
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    kind, rest = line.split(None, 1)
    expr, msg = rest.rsplit(" :: ", 1)
    if kind == "rep":
        ok = r is not None and eval(expr, {}, {"r": r})
    else:
        hit = any(eval(expr, {}, {"e": e}) for e in events)
        ok = hit if kind == "ev" else not hit
    if not ok:
        print(msg)
        sys.exit(1)
' "$EV" "$REP") || sfail "${msg:-verify failed}"
}

# 1. Default device (TLS 1.1, Range download, running user1): straight to the final image.
start_fake
run_sim "$E2E_TMP/f1.bin" --device-id 10000bad11
expect_rc 0 "default run"
expect_out "OK: final firmware" "default run"
verify <<CHECKS
ev e["ev"] == "tls" and e["version"] == "TLSv1.1" and e["cipher"] == "AES128-SHA" :: the device did not speak TLS 1.1 AES128-SHA
ev e["ev"] == "dispatch" and e["body"]["accept"] == "ws;2" and e["body"]["deviceid"] == "10000bad11" and e["body"]["model"] == "ITA-GZ1-GL" and e["host"] == "127.0.0.1" :: dispatch request
ev e["ev"] == "ws_open" and e["host"] == "iotgo.iteadstudio.com" and e["key"] == "ITEADTmobiM0x1DabcEsnw==" :: fixed WebSocket handshake
ev e["ev"] == "query" and e["params"] == ["timers"] :: query
ev e["ev"] == "ack" and e["error"] == 0 and e["sequence"] == "1001" :: switch toggles acked
ev e["ev"] == "range" and e["file"] == "image_user2-0x81000.bin" and e["host"] == "dl.itead.cn" and e["ua"] == "itead-device" and e["query"] and e["first"] == 0 and e["last"] == 4095 :: Range request shape
noev e["ev"] == "range" and e["file"] == "image_user1-0x01000.bin" :: running user1 must fetch user2
ev e["ev"] == "upgradeState" and e["state"] == 0 :: upgradeState 0
ev e["ev"] == "whole" and e["file"] == "image_arduino.bin" and e["version"] == "HTTP/1.0" and e["ua"] == "ESP8266HTTPClient" :: E2A HTTP/1.0 GET
noev e["ev"] == "bad_device_frame" :: device frames must be masked with 00 00 00 00
rep r["final_ok"] and r["final_sha256"] == "$FINAL_SHA" :: final image sha256
rep r["stages"] == ["dispatch", "register", "upgrade", "download", "final"] :: stages
rep [a["error"] for a in r["acks"]] == [0, 0] :: acks in the report
CHECKS
stop_fake
pass "default device: TLS 1.1, Range, FinalStage, final image in flash"

# 2. Device running user2 on TLS 1.2: user1.bin, then E2A's ROM2 path, then the final image.
start_fake
run_sim "$E2E_TMP/f2.bin" --slot 2 --tls tls1.2
expect_rc 0 "slot 2 run"
verify <<CHECKS
ev e["ev"] == "tls" and e["version"] == "TLSv1.2" :: TLS 1.2
ev e["ev"] == "range" and e["file"] == "image_user1-0x01000.bin" :: running user2 must fetch user1
ev e["ev"] == "whole" and e["file"] == "image_user2-0x81000.bin" and e["version"] == "HTTP/1.0" :: ROM2 path fetch
rep [d["kind"] for d in r["downloads"]] == ["range", "e2a-rom2", "e2a-final"] :: download kinds
rep any("RF cal" in n for n in r["notes"]) :: the ROM2 erase of the RF/system sectors is noted
rep r["final_sha256"] == "$FINAL_SHA" :: final image sha256 (slot 2)
CHECKS
stop_fake
pass "user2 device: ROM2 path, then final"

# 3. Style B: a full-speed stream overruns the slow reader (ack 404); the next session gets
#    paced serving (1400 B / 20 ms, as SonOTA flips to slowstream) and succeeds.
start_fake --whole auto
run_sim "$E2E_TMP/f3.bin" --download whole
expect_rc 0 "whole-body run"
expect_out "receive buffer overrun" "fast stream must fail"
verify <<CHECKS
ev e["ev"] == "ack" and e["error"] == 404 :: asynchronous 404 ack
ev e["ev"] == "whole" and e["paced"] and e["host"] == "dl.itead.cn" :: paced second attempt
rep r["sessions"] == 2 and [d["ok"] for d in r["downloads"]][:2] == [False, True] :: one failed, one good download
CHECKS
stop_fake
pass "whole-body download: fast fails (404), paced passes"

# 4. Range download dropped mid-file: the firmware reconnects and continues.
start_fake
run_sim "$E2E_TMP/f4.bin" --fault drop-at=50000
expect_rc 0 "drop-at run"
expect_out "reconnect 1/3" "reconnect after the drop"
stop_fake
pass "dropped Range download resumes"

# 5. Corrupted chunk: digest mismatch -> upgradeState 409, the stock firmware keeps booting.
start_fake
run_sim "$E2E_TMP/f5.bin" --fault corrupt-chunk=3 --wait-upgrade 2
expect_rc 1 "corrupt-chunk run"
verify <<CHECKS
ev e["ev"] == "upgradeState" and e["state"] == 409 :: 409 reported
rep r["boots_into"].startswith("stock firmware in user1") and not r["final_ok"] :: still stock
CHECKS
stop_fake
pass "digest mismatch: 409, nothing bricked"

# 6. Refusals acked like the firmware: model (406), missing autoRestart (400).
start_fake --upgrade-model PSA-BHA-GL
run_sim "$E2E_TMP/f6.bin" --wait-upgrade 2
expect_rc 1 "model mismatch"
verify <<<'ev e["ev"] == "ack" and e["error"] == 406 :: 406 for another model'
stop_fake
start_fake --no-autorestart
run_sim "$E2E_TMP/f6b.bin" --wait-upgrade 2
expect_rc 1 "no autoRestart"
verify <<<'ev e["ev"] == "ack" and e["error"] == 400 :: 400 without autoRestart (IG variant)'
run_sim "$E2E_TMP/f6c.bin" --fw-variant old
expect_rc 0 "old variant ignores autoRestart"
stop_fake
pass "upgrade refusals: 406, 400; old variant accepts"

# 7. A server that hands back the factory apikey is refused; a foreign message is ignored.
start_fake --bad-apikey
run_sim "$E2E_TMP/f7.bin" --max-sessions 1
expect_rc 1 "bad apikey"
expect_out "server gave bad apikey" "bad apikey"
stop_fake
start_fake --foreign-first
run_sim "$E2E_TMP/f7b.bin"
expect_rc 0 "foreign upgrade ignored, real one done"
expect_out "without the owner apikey" "foreign message logged"
stop_fake
pass "owner apikey rules"

# 8. Frames the firmware refuses drop the connection.
for kind in masked len64 frag big pong; do
    start_fake --evil "$kind"
    run_sim "$E2E_TMP/f8-$kind.bin" --max-sessions 1 --wait-upgrade 3 --hb-interval 2
    expect_rc 1 "evil $kind"
    expect_out "protocol error" "evil $kind"
    stop_fake
done
pass "masked, 64-bit, fragmented, oversized frames and a bad pong are refused"

# 9. TLS profiles: fw >= 1.6 pinning fails; TLS 1.0 and plain 8081-style builds work.
start_fake
run_sim "$E2E_TMP/f9.bin" --pinning --max-sessions 1 --dispatch-tries 1
expect_rc 1 "pinning"
expect_out "certificate pinning" "pinning"
verify <<<'ev e["ev"] == "tls_fail" :: the server saw the handshake dropped'
run_sim "$E2E_TMP/f9b.bin" --tls tls1.0
expect_rc 0 "TLS 1.0"
verify <<<'ev e["ev"] == "tls" and e["version"] == "TLSv1" :: TLS 1.0 negotiated'
run_sim "$E2E_TMP/f9c.bin" --tls none
expect_rc 0 "plain (non-SSL build)"
stop_fake
pass "TLS profiles"

# 10. Resume: stop after the download, then run again on the same flash (a reboot):
#     E2A takes over without any cloud.
start_fake
run_sim "$E2E_TMP/f10.bin" --fault stop-after=download
expect_rc 1 "stop-after=download"
verify <<<'rep r["boots_into"].startswith("intermediate firmware in user2") :: E2A staged'
run_sim "$E2E_TMP/f10.bin"
expect_rc 0 "resume"
verify <<<"rep r['stages'] == ['final'] and r['final_sha256'] == '$FINAL_SHA' :: resumed to final"
run_sim "$E2E_TMP/f10.bin"
expect_rc 0 "already final"
verify <<<'rep r["boots"] == 1 and r["sessions"] == 0 :: a final flash boots at once'
stop_fake
pass "resume after stop-after=download"

# 11. E2A's server closes early: the firmware spins forever (power cycle needed). After the
#     power cycle (a re-run) it finds the app magic 0xE9 at 0x1000 and redoes the final path.
start_fake --short-final 100000
run_sim "$E2E_TMP/f11.bin"
expect_rc 1 "short final image"
expect_out "power cycle needed" "E2A hang"
verify <<<'rep r["boots_into"].startswith("intermediate firmware in user2") :: E2A still in user2'
stop_fake
start_fake
run_sim "$E2E_TMP/f11.bin"
expect_rc 0 "power cycle"
expect_out "rom 1 magic byte 0xE9" "E2A sees the half-written app"
verify <<<"rep [d['kind'] for d in r['downloads']] == ['e2a-final'] and r['final_sha256'] == '$FINAL_SHA' :: final after the power cycle"
stop_fake
pass "E2A hang on a short body, recovered by a power cycle"

# 12. A whole-body download cut by the network cannot resume: 404, a new session, success.
start_fake --whole paced
run_sim "$E2E_TMP/f12.bin" --download whole --fault drop-at=100000
expect_rc 0 "whole-body drop"
expect_out "cannot resume" "whole-body drop"
verify <<CHECKS
ev e["ev"] == "ack" and e["error"] == 404 :: 404 after the drop
rep r["sessions"] == 2 :: second session
CHECKS
stop_fake
pass "whole-body drop: 404 then a new session"

# 13. A user2 file linked for user1: the digest matches, so the firmware reboots into it;
#     the boot check calls the flash bricked (exit 1, reason in the report).
BAD="$E2E_TMP/img-bad"
mkdir -p "$BAD"
cp "$IMG/image_user1-0x01000.bin" "$IMG/image_arduino.bin" "$BAD/"
cp "$IMG/image_user1-0x01000.bin" "$BAD/image_user2-0x81000.bin"
FAKE_IMG="$BAD" start_fake
run_sim "$E2E_TMP/f13.bin"
expect_rc 1 "wrong-slot image"
expect_out "BRICKED: user2 image" "wrong-slot image"
verify <<CHECKS
ev e["ev"] == "upgradeState" and e["state"] == 0 :: the firmware reports success (digest ok)
rep r["boots_into"].startswith("BRICKED") and any("not valid for slot 2" in n for n in r["notes"]) :: bricked, with a note
CHECKS
stop_fake
pass "wrong-slot image: the firmware boots it and bricks"

# 14. --source-addr: every outgoing connection (dispatch, WebSocket, Range download, E2A's
#     polls and downloads) comes from the given loopback address; the fake cloud records the
#     peer of each accepted connection. Without it the kernel picks 127.0.0.1 (test 1 above
#     is checked again here as the control).
start_fake
run_sim "$E2E_TMP/f14.bin" --slot 2 --source-addr 127.0.0.5
expect_rc 0 "source-addr run"
expect_out "outgoing connections from 127.0.0.5" "source-addr run"
verify <<CHECKS
ev e["ev"] == "accept" and e["listener"] == "tls" and e["peer"] == "127.0.0.5" :: TLS connections from 127.0.0.5
ev e["ev"] == "accept" and e["listener"] == "http" and e["peer"] == "127.0.0.5" :: file connections from 127.0.0.5
ev e["ev"] == "dispatch" and e["peer"] == "127.0.0.5" :: dispatch from 127.0.0.5
ev e["ev"] == "ws_open" and e["peer"] == "127.0.0.5" :: WebSocket from 127.0.0.5
ev e["ev"] == "range" and e["peer"] == "127.0.0.5" :: Range download from 127.0.0.5
ev e["ev"] == "whole" and e["file"] == "image_arduino.bin" and e["peer"] == "127.0.0.5" :: E2A download from 127.0.0.5
noev e["ev"] == "accept" and e["peer"] != "127.0.0.5" :: some connection did not come from 127.0.0.5
rep r["final_ok"] :: final image with --source-addr
CHECKS
run_sim "$E2E_TMP/f14b.bin" --fault stop-after=register
verify <<<'ev e["ev"] == "accept" and e["peer"] == "127.0.0.1" :: without --source-addr the kernel picks 127.0.0.1'
run_sim "$E2E_TMP/f14c.bin" --tls none --fault stop-after=register --source-addr 127.0.0.6
verify <<<'ev e["ev"] == "accept" and e["listener"] == "plain" and e["peer"] == "127.0.0.6" :: plain (non-SSL) session from 127.0.0.6'
run_sim "$E2E_TMP/f14d.bin" --source-addr 203.0.113.9 --max-sessions 1 --dispatch-tries 1
expect_rc 1 "non-local source address"
expect_out "cannot bind the source address 203.0.113.9" "non-local source address"
for bad in 127.0.0 ::1 localhost 127.0.0.1:80; do
    "$SONOFF_SIM" --source-addr "$bad" --flash "$E2E_TMP/unused.bin" >"$OUT" 2>&1
    RC=$?
    expect_rc 2 "--source-addr $bad"
    expect_out "needs an IPv4 address" "--source-addr $bad"
done
[ ! -e "$E2E_TMP/unused.bin" ] || fail "a usage error created the flash file"
stop_fake
pass "--source-addr: every connection from the given address; clear errors"

# 15. Two devices at once, as in a fleet: both pair on the same AP address and port, one
#     after the other (the AP closes once provisioned, while the first device flashes on),
#     then both flash concurrently against one cloud, each from its own source address.
start_fake
read -r APP <<<"$(free_ports 1)"
ap_listening() { ss -ltnH "sport = :$APP" 2>/dev/null | grep -q .; }
provision() {
    python3 - "$APP" "$TP" <<'PY'
import json, sys, urllib.request
body = json.dumps({"version": 4, "ssid": "Home", "password": "fleet-pw-1",
                   "serverName": "127.0.0.1", "port": int(sys.argv[2])}).encode()
r = urllib.request.urlopen("http://127.0.0.1:%s/ap" % sys.argv[1], body, timeout=5).read()
sys.exit(0 if json.loads(r) == {"error": 0} else 1)
PY
}
# fleet_sim N ID ADDR: one device on the shared AP port, in the background (PID in SIMPID).
fleet_sim() {
    timeout -k 5 150 "$SONOFF_SIM" --flash "$E2E_TMP/fleet$1.bin" --device-id "$2" \
        --source-addr "$3" --ap-addr 127.0.0.1 --ap-port "$APP" --nonssl-port "$PP" \
        --final-host 127.0.0.1 --final-port "$HP" --time-scale 0.05 --timeout 120 \
        --chunk-delay-ms 40 --report "$E2E_TMP/fleet$1.json" >"$E2E_TMP/fleet$1.out" 2>&1 &
    SIMPID=$!
    e2e_track "$SIMPID"
}
fdump() { tail -n 20 "$E2E_TMP"/fleet*.out >&2; fail "$@"; }
fleet_sim 1 10000f1ee1 127.0.0.11
P1=$SIMPID
wait_for 15 ap_listening || fdump "device 1: the AP did not open"
provision || fdump "device 1: POST /ap"
wait_for 10 sh -c "! ss -ltnH 'sport = :$APP' | grep -q ." || fdump "device 1 kept its AP open"
kill -0 "$P1" 2>/dev/null || fdump "device 1 ended right after pairing"
fleet_sim 2 10000f1ee2 127.0.0.12
P2=$SIMPID
wait_for 15 ap_listening || fdump "device 2 could not open the AP on the same address and port"
kill -0 "$P1" 2>/dev/null || fdump "device 1 ended before device 2 paired: no overlap to test"
provision || fdump "device 2: POST /ap"
rc1=0; rc2=0
wait_pid 140 "$P1" || rc1=$?
wait_pid 140 "$P2" || rc2=$?
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] || fdump "fleet: device 1 exited $rc1, device 2 exited $rc2"
OUT="$E2E_TMP/fleet2.out"
REP="$E2E_TMP/fleet1.json"
verify <<CHECKS
ev e["ev"] == "dispatch" and e["body"]["deviceid"] == "10000f1ee1" and e["peer"] == "127.0.0.11" :: device 1 dispatch from 127.0.0.11
ev e["ev"] == "dispatch" and e["body"]["deviceid"] == "10000f1ee2" and e["peer"] == "127.0.0.12" :: device 2 dispatch from 127.0.0.12
noev e["ev"] == "dispatch" and {"10000f1ee1": "127.0.0.11", "10000f1ee2": "127.0.0.12"}[e["body"]["deviceid"]] != e["peer"] :: a dispatch came from the other device's address
ev e["ev"] == "range" and e["peer"] == "127.0.0.11" :: device 1 downloads
ev e["ev"] == "range" and e["peer"] == "127.0.0.12" :: device 2 downloads
noev e["ev"] == "accept" and e["peer"] not in ("127.0.0.11", "127.0.0.12") :: a connection from another address
rep r["final_ok"] and r["final_sha256"] == "$FINAL_SHA" and r["deviceid"] == "10000f1ee1" :: device 1 report
CHECKS
REP="$E2E_TMP/fleet2.json"
verify <<<"rep r['final_ok'] and r['final_sha256'] == '$FINAL_SHA' and r['deviceid'] == '10000f1ee2' :: device 2 report"
# The two devices' connections really overlapped in time (else this proves nothing about
# running at once).
python3 - "$EV" <<'PY' || fdump "the two devices' connections did not overlap in time"
import json, sys
t = {}
for e in map(json.loads, open(sys.argv[1])):
    if e["ev"] == "accept":
        a, b = t.get(e["peer"], (e["t"], e["t"]))
        t[e["peer"]] = (min(a, e["t"]), max(b, e["t"]))
(a1, b1), (a2, b2) = t["127.0.0.11"], t["127.0.0.12"]
sys.exit(0 if a1 < b2 and a2 < b1 else 1)
PY
assert_no_secret fleet-pw-1 "$E2E_TMP"/fleet*.out "$E2E_TMP"/fleet*.json
stop_fake
pass "two devices: same AP port one after the other, concurrent flashing, own source addresses"
