# tasmota_lib.sh - shared setup of the `sonota configure` stories: sonoff-sim running Tasmota
# (--tasmota) on 127.0.0.1 with free ports, its "home LAN" on 127.0.0.2 (or 127.0.0.1 with
# another port when 127.0.0.2 cannot be bound). Source it; never run it.

. "$E2E_DIR/lib.sh" || exit 1

SIM_OUT="$E2E_TMP/sim.out"
SIM_LOG="$E2E_TMP/sim.log"
REPORT="$E2E_TMP/report.json"
OUT="$E2E_TMP/configure.out"
ERR="$E2E_TMP/configure.err"
CLOG="$E2E_TMP/configure.log"
rnd() { od -An -N4 -tx1 /dev/urandom | tr -d ' \n'; }
# Passwords with characters that must be URL-encoded (and none Tasmota cannot take).
WSECRET="wifi pw&=%41+$(rnd)"
MSECRET="mq pw/?#$(rnd)"
export WSECRET MSECRET

tas_require() {
    [ -n "${SONOTA:-}" ] && [ -x "$SONOTA" ] || skip "SONOTA is not an executable"
    [ -n "${SONOFF_SIM:-}" ] && [ -x "$SONOFF_SIM" ] || skip "SONOFF_SIM is not an executable"
    "$SONOTA" configure --help 2>&1 | grep -q -- --lan-check || skip "sonota lacks configure"
    "$SONOFF_SIM" --help 2>&1 | grep -q -- --tasmota-lan-addr || skip "sonoff-sim lacks --tasmota"
    command -v python3 >/dev/null || skip "python3 is needed"
}

# A flash file that already boots a final image (Arduino eboot + app at 0x0).
tas_flash() {
    "$SONOTA" image make-test --kind final --size 60000 --seed 7 "$E2E_TMP/final.bin" \
        >/dev/null || fail "make-test final"
    python3 - "$E2E_TMP/final.bin" "$E2E_TMP/flash.bin" <<'PY' || fail "cannot build the flash"
import sys
img = open(sys.argv[1], "rb").read()
flash = bytearray(b"\xff" * 0x100000)
flash[:len(img)] = img
open(sys.argv[2], "wb").write(flash)
PY
}

# Ports and addresses: AP_PORT on 127.0.0.1, the LAN on LAN_ADDR:LAN_PORT.
tas_ports() {
    read -r AP_PORT LAN_PORT <<<"$(free_ports 2)"
    [ -n "$LAN_PORT" ] || fail "no free ports"
    LAN_ADDR=127.0.0.2
    python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.2', $LAN_PORT))" \
        2>/dev/null || LAN_ADDR=127.0.0.1
}

port_open() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# tas_sim [SIM-ARGS...]: the device in the background (SIM_PID), Tasmota's AP web server
# on 127.0.0.1:$AP_PORT.
tas_sim() {
    "$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --tasmota --tasmota-addr 127.0.0.1 \
        --tasmota-port "$AP_PORT" --tasmota-lan-addr "$LAN_ADDR" --tasmota-lan-port "$LAN_PORT" \
        --time-scale 0.05 --timeout 90 --linger 2 --report "$REPORT" --log-file "$SIM_LOG" \
        "$@" >"$SIM_OUT" 2>&1 &
    SIM_PID=$!
    e2e_track "$SIM_PID"
    wait_for 15 port_open "$AP_PORT" || { tas_dump; fail "the simulated Tasmota did not open"; }
}

tas_dump() {
    local f
    for f in "$OUT" "$ERR" "$SIM_OUT"; do
        [ -f "$f" ] || continue
        echo "---- $(basename "$f") (last 30 lines)" >&2
        tail -n 30 "$f" >&2
    done
}

tfail() { tas_dump; fail "$@"; }

# tas_configure [ARGS...]: sonota configure against the sim; sets RC.
tas_configure() {
    SONOTA_WIFI_PASSWORD="$WSECRET" SONOTA_MQTT_PASSWORD="$MSECRET" \
        timeout -k 5 -s INT 120 "$SONOTA" configure --device "http://127.0.0.1:$AP_PORT" \
        --wifi-ssid Home --log "$CLOG" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}

# tas_report PYTHON-EXPR [MESSAGE]: the expression over r (the report's "tasmota" object)
# and R (the whole report) must hold.
tas_report() {
    python3 - "$REPORT" "$1" <<'PY' || tfail "${2:-report check failed: $1}"
import hashlib, json, os, sys
W, M = os.environ["WSECRET"], os.environ["MSECRET"]
R = json.load(open(sys.argv[1]))
r = R.get("tasmota", {})
sha = lambda s: hashlib.sha256(s.encode()).hexdigest()
if not eval(sys.argv[2]):
    print(json.dumps(r, indent=1), file=sys.stderr)
    sys.exit(1)
PY
}

# No password, raw or URL-encoded, in any file given.
tas_no_secrets() {
    local enc f
    for s in "$WSECRET" "$MSECRET"; do
        enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="-._~"))' "$s")
        for f in "$@"; do
            [ -f "$f" ] || continue
            grep -qF -- "$s" "$f" && tfail "a password leaked into $(basename "$f")"
            grep -qF -- "$enc" "$f" && tfail "a URL-encoded password leaked into $(basename "$f")"
        done
    done
    return 0
}
