# flash_lib.sh - shared setup of the `sonota flash` user stories: sonota and sonoff-sim on
# 127.0.0.1 with random free high ports. Source it (after setting nothing); never run it.
# Skips (77) only when a binary lacks a feature the story needs.

. "$E2E_DIR/lib.sh" || exit 1

FW="$E2E_TMP/fw"
OUT="$E2E_TMP/sonota.json"
ERR="$E2E_TMP/sonota.err"
SLOG="$E2E_TMP/sonota.log"
SIM_OUT="$E2E_TMP/sim.out"
SECRET="e2e-pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
# Runs that watch addresses remember their stage (flash_state.h): never in the user's home.
export XDG_STATE_HOME="$E2E_TMP/state"

# flash_require_sonota: skips unless sonota offers the scripted flash run.
flash_require_sonota() {
    [ -n "${SONOTA:-}" ] && [ -x "$SONOTA" ] || skip "SONOTA is not an executable"
    local h f
    h=$("$SONOTA" flash --help 2>&1) || skip "sonota flash --help fails (flash not built)"
    for f in --serving-host --no-check-ip --firmware-dir --json --https-port; do
        printf '%s' "$h" | grep -q -- "$f" || skip "sonota flash lacks $f"
    done
    "$SONOTA" image --help 2>&1 | grep -q make-test || skip "sonota image lacks make-test"
}

# flash_require [SIM-OPTION...]: also the simulator, with the options a story needs.
flash_require() {
    flash_require_sonota
    [ -n "${SONOFF_SIM:-}" ] && [ -x "$SONOFF_SIM" ] || skip "SONOFF_SIM is not an executable"
    local h f
    h=$("$SONOFF_SIM" --help 2>&1) || skip "sonoff-sim --help fails (sim not built)"
    for f in --ap-addr --ap-port --final-host --final-port --flash --time-scale --report \
             --log-file "$@"; do
        printf '%s' "$h" | grep -q -- "$f" || skip "sonoff-sim lacks $f"
    done
}

# flash_images USER_SIZE FINAL_SIZE: test images under SonOTA's names in $FW.
flash_images() {
    mkdir -p "$FW"
    "$SONOTA" image make-test --kind user1 --size "$1" "$FW/image_user1-0x01000.bin" >/dev/null ||
        fail "make-test user1"
    "$SONOTA" image make-test --kind user2 --size "$1" --seed 2 "$FW/image_user2-0x81000.bin" \
        >/dev/null || fail "make-test user2"
    "$SONOTA" image make-test --kind final --size "$2" --seed 3 "$FW/image_arduino.bin" \
        >/dev/null || fail "make-test final"
}

# Four free ports (lib.sh: free_ports, below the kernel's ephemeral range and never
# handed to a parallel story as well).
flash_ports() {
    read -r AP_PORT HTTP_PORT HTTPS_PORT PLAIN_PORT <<<"$(free_ports 4)"
    [ -n "$PLAIN_PORT" ] || fail "no free ports"
}

port_listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# flash_sim [SIM-ARGS...]: the simulated device in the background (SIM_PID); its AP on
# 127.0.0.1:$AP_PORT, E2A fetching from 127.0.0.1:$HTTP_PORT.
flash_sim() {
    : >"$SIM_OUT" # emptied here, not only in the child: sim_ap_opened must not see a previous sim's line
    "$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --ap-addr 127.0.0.1 --ap-port "$AP_PORT" \
        --final-host 127.0.0.1 --final-port "$HTTP_PORT" --time-scale 0.05 --timeout 200 \
        --report "$E2E_TMP/sim-report.json" --log-file "$E2E_TMP/sim.log" "$@" \
        >"$SIM_OUT" 2>&1 &
    SIM_PID=$!
    e2e_track "$SIM_PID"
    wait_for 30 sim_ap_opened || { flash_dump; fail "the sim's AP did not open"; }
}

# The AP listens (or did: with sonota already asking, provisioning can close it before
# a loaded machine runs the next `ss`; the sim prints the line once it listens).
sim_ap_opened() {
    port_listening "$AP_PORT" || grep -q "^sim: AP mode: SSID" "$SIM_OUT" 2>/dev/null
}

# flash_sonota [EXTRA-ARGS...]: the scripted run; sets SONOTA_RC.
flash_sonota() {
    timeout -k 5 -s INT 240 "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" \
        --serving-host 127.0.0.1 --no-check-ip --http-port "$HTTP_PORT" \
        --https-port "$HTTPS_PORT" --wifi-ssid Home --wifi-password "$SECRET" \
        --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 "$@" \
        >"$OUT" 2>"$ERR" </dev/null
    SONOTA_RC=$?
}

flash_dump() {
    local f
    for f in "$OUT" "$ERR" "$SIM_OUT"; do
        [ -f "$f" ] || continue
        echo "---- $(basename "$f") (last 40 lines)" >&2
        tail -n 40 "$f" >&2
    done
}

ffail() { flash_dump; fail "$@"; }

# Every stdout line is one JSON object with a string "event"; no password anywhere.
flash_check_output() {
    python3 - "$OUT" <<'PY' || ffail "stdout is not one JSON object per line with an event"
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and isinstance(o.get("event"), str), line
    n += 1
assert n > 0
PY
    assert_no_secret "$SECRET" "$OUT" "$ERR" "$SLOG"
    if [ -f "$SLOG" ]; then
        mode_is "$SLOG" 600 || ffail "the log file is not mode 0600"
    fi
}

# flash_expect PYTHON-EXPR [MESSAGE]: some event e satisfies the expression.
flash_expect() {
    python3 - "$OUT" "$1" <<'PY' || ffail "${2:-no event matches: $1}"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(eval(sys.argv[2], {}, {"e": e}) for e in ev) else 1)
PY
}

# flash_expect_none PYTHON-EXPR [MESSAGE]
flash_expect_none() {
    python3 - "$OUT" "$1" <<'PY' || ffail "${2:-an event matches: $1}"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(1 if any(eval(sys.argv[2], {}, {"e": e}) for e in ev) else 0)
PY
}

# flash_success: sonota exit 0 with a done event, the sim exits 0 (its flash boots the
# final image), no secret leaked.
flash_success() {
    [ "$SONOTA_RC" -eq 0 ] || ffail "sonota exited $SONOTA_RC"
    flash_check_output
    flash_expect 'e["event"] == "done"' "no done event"
    flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_arduino.bin"' \
        "the final image was not sent completely"
    flash_expect 'e["event"] == "device" and e.get("model") == "ITA-GZ1-GL" and e.get("romVersion") == "1.5.5"' \
        "model and romVersion were not reported"
    local rc=0
    wait_pid 60 "$SIM_PID" || rc=$?
    [ "$rc" -eq 0 ] || ffail "the sim exited $rc (its flash does not boot the final image)"
}
