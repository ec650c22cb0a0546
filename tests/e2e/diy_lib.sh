# diy_lib.sh - shared setup of the `sonota diy` user stories: a "laptop" and a "device"
# network namespace joined by a veth pair (10.231.0.1 / 10.231.0.2, multicast routed over
# it), sonoff-sim --mode diy in the device namespace, sonota in the laptop namespace.
# Source it; never run it. Skips (77) where namespaces cannot be made.

. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/lib.sh" || exit 1

T=$E2E_TMP
LAP_IP=10.231.0.1
DEV_IP=10.231.0.2
OUT=$T/sonota.out
ERR=$T/sonota.err
RC=0

diy_require() {
    [ -n "${SONOTA:-}" ] && [ -x "$SONOTA" ] || skip "SONOTA is not an executable"
    [ -n "${SONOFF_SIM:-}" ] && [ -x "$SONOFF_SIM" ] || skip "SONOFF_SIM is not an executable"
    "$SONOTA" diy --help >/dev/null 2>&1 || skip "sonota lacks the diy command"
    "$SONOFF_SIM" --help 2>&1 | grep -q -- '--mode stock|diy' || skip "sonoff-sim lacks --mode diy"
    command -v python3 >/dev/null || skip "python3 not installed"
    netns_require
    LAP="sonota-lap-$$"
    DEV="sonota-dev-$$"
    netns_new "$LAP"
    netns_new "$DEV"
    ip link add dl$$ netns "$LAP" type veth peer name dd$$ netns "$DEV" || fail "veth pair"
    ip -n "$LAP" addr add $LAP_IP/24 dev dl$$
    ip -n "$DEV" addr add $DEV_IP/24 dev dd$$
    ip -n "$LAP" link set dl$$ up
    ip -n "$DEV" link set dd$$ up
    # mDNS: 224.0.0.251 goes over the veth in both namespaces
    ip -n "$LAP" route add 224.0.0.0/4 dev dl$$
    ip -n "$DEV" route add 224.0.0.0/4 dev dd$$
    "$SONOTA" image make-test --kind diy "$T/diy.bin" >/dev/null || fail "make-test diy"
    SHA=$(sha256sum "$T/diy.bin" | cut -d' ' -f1)
}


# start_sim NAME [SIM-OPTION...]: a fresh DIY device; log in $T/NAME.log, report
# $T/NAME.json, stdout/stderr $T/NAME.out. Waits until its API listens and mDNS has
# announced (probing takes 0.75 s). Sets SIM_PID and SIM_NAME.
# (the sim logs "API http://ADDR:PORT/zeroconf/, OTA ..." once it listens and publishes)
start_sim() {
    SIM_NAME=$1
    shift
    rm -f "$T/$SIM_NAME.flash"
    ip netns exec "$DEV" "$SONOFF_SIM" --mode diy --flash "$T/$SIM_NAME.flash" \
        --diy-addr "$DEV_IP" --time-scale 0.05 --timeout 120 --report "$T/$SIM_NAME.json" \
        --log-file "$T/$SIM_NAME.log" "$@" >"$T/$SIM_NAME.out" 2>&1 &
    SIM_PID=$!
    e2e_track "$SIM_PID"
    wait_for 30 grep -q "/zeroconf/, OTA" "$T/$SIM_NAME.log" ||
        { cat "$T/$SIM_NAME.out" >&2; fail "sim $SIM_NAME did not start"; }
    sleep 1
}

# stop_sim: SIGTERM; the sim must exit by itself (1: not flashed) without sanitizer reports.
stop_sim() {
    kill -TERM "$SIM_PID" 2>/dev/null
    local rc=0
    wait_pid 20 "$SIM_PID" || rc=$?
    [ "$rc" -ne 124 ] || fail "sim $SIM_NAME ignored SIGTERM"
    assert_clean "$T/$SIM_NAME.out"
    SIM_RC=$rc
}

# wait_sim SECONDS: the sim ends by itself (after a flash); SIM_RC its status.
wait_sim() {
    local rc=0
    wait_pid "$1" "$SIM_PID" || rc=$?
    assert_clean "$T/$SIM_NAME.out"
    SIM_RC=$rc
}

# assert_clean FILE...: no sanitizer report in the files.
assert_clean() {
    local f
    for f in "$@"; do
        if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$f" 2>/dev/null; then
            cat "$f" >&2
            fail "sanitizer report in $f"
        fi
    done
}

# diy ARG...: `sonota diy ARG...` in the laptop namespace, bounded; RC, $OUT, $ERR.
diy() {
    RC=0
    timeout 120 ip netns exec "$LAP" "$SONOTA" diy "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
    assert_clean "$ERR"
}

# post PATH BODY [BODY...]: raw POSTs to the device's /zeroconf/PATH from the laptop, back
# to back (no 200 ms pause), with Python's urllib (no curl needed); prints each reply.
post() {
    ip netns exec "$LAP" python3 - "http://$DEV_IP:8081/zeroconf/$1" "${@:2}" <<'PY'
import sys, urllib.request
for body in sys.argv[2:]:
    req = urllib.request.Request(sys.argv[1], data=body.encode(), method="POST")
    try:
        print(urllib.request.urlopen(req, timeout=5).read().decode())
    except Exception as e:
        print("ERROR", e)
PY
}

# expect_rc N WHAT: the last `diy` ended with status N.
expect_rc() {
    [ "$RC" -eq "$1" ] || { cat "$OUT" "$ERR" >&2; fail "$2: exit $RC, expected $1"; }
}
# expect_err TEXT WHAT / expect_out TEXT WHAT: fixed text in stderr / stdout.
expect_err() { grep -qF -- "$1" "$ERR" || { cat "$OUT" "$ERR" >&2; fail "$2: stderr lacks '$1'"; }; }
expect_out() { grep -qF -- "$1" "$OUT" || { cat "$OUT" "$ERR" >&2; fail "$2: stdout lacks '$1'"; }; }
# sim_log TEXT: the sim's log holds TEXT; sim_count TEXT: how many lines.
sim_log() { grep -qF -- "$1" "$T/$SIM_NAME.log"; }
sim_count() { grep -cF -- "$1" "$T/$SIM_NAME.log"; }
# sim_id: the device id the sim uses.
sim_id() { sed -n 's/.*device \(1000[0-9a-f]\{6\}\), model.*/\1/p' "$T/$SIM_NAME.log" | head -1; }

# expect_code CODE NAME WHAT: the tool exited 4 and explained the device's error CODE.
expect_code() {
    expect_rc 4 "$3"
    expect_err "error $1 ($2)" "$3"
}

# no_spacing_violation: every request of this run came >= 200 ms after the previous reply.
no_spacing_violation() {
    ! sim_log "spacing violation:" || { grep -F "spacing violation:" "$T/$SIM_NAME.log" >&2; fail "requests closer than 200 ms"; }
}
