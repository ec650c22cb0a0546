#!/usr/bin/env bash
# Story: what a person sees on a terminal. On a pty, sonota shows the stage banners in
# colour and a live progress bar with rate and ETA that redraws in place; with NO_COLOR
# the same run has no colour codes; with -q only the warnings and the summary remain.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --download
[ -f "$E2E_DIR/pty_drive.py" ] || skip "tests/e2e/pty_drive.py is missing"
flash_images 120000 200000

# run NAME [ENV=VALUE...] -- [SONOTA-ARGS...]: one paced flash on a pty, screen in tty-NAME.
run() {
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    flash_ports
    rm -f "$E2E_TMP/flash.bin"
    flash_sim --download whole
    env -u NO_COLOR "${envs[@]}" SONOTA_WIFI_PASSWORD="$SECRET" SECRET="$SECRET" \
        python3 "$E2E_DIR/pty_drive.py" --log "$E2E_TMP/tty-$name" --secret-env SECRET \
        --expect '== Done ==:90' --drain 2 -- \
        "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
        --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
        --firmware-dir "$FW" --pace slow --timeout 120 "$@" ||
        ffail "the $name terminal session failed (see $E2E_TMP/tty-$name)"
    local rc=0
    wait_pid 60 "$SIM_PID" || rc=$?
    [ "$rc" -eq 0 ] || ffail "the sim exited $rc in the $name run"
    assert_no_secret "$SECRET" "$E2E_TMP/tty-$name"
}

# has FILE PYTHON-REGEX: the screen log matches (bytes, escapes allowed).
has() {
    python3 - "$@" <<'PY'
import re, sys
sys.exit(0 if re.search(sys.argv[2].encode(), open(sys.argv[1], "rb").read()) else 1)
PY
}

run colour --
T="$E2E_TMP/tty-colour"
has "$T" '\x1b\[1;36m\r?\n== Stage 1/3' || ffail "no coloured stage banner on the terminal"
has "$T" '\x1b\[1;32m\r?\n== Done ==' || ffail "no green summary on the terminal"
has "$T" '\r  image_arduino\.bin \[#+\.*\] +[0-9]+%  [0-9]+/200000 B  [0-9.]+ KiB/s  ETA [0-9]+:[0-9]{2}\x1b\[K' ||
    ffail "no progress bar with rate and ETA redrawn in place"
[ "$(grep -ao 'ETA [0-9]*:[0-9]*' "$T" | sort -u | wc -l)" -ge 2 ] ||
    ffail "the ETA did not count down (the bar was not redrawn)"

run plain NO_COLOR=1 --
T="$E2E_TMP/tty-plain"
has "$T" '== Stage 1/3' && has "$T" 'ETA [0-9]+:' || ffail "the NO_COLOR run lacks banners or progress"
has "$T" '\x1b\[[0-9;]*m' && ffail "colour codes on the terminal although NO_COLOR is set"

run quiet -- -q
T="$E2E_TMP/tty-quiet"
has "$T" '== Done ==' || ffail "-q lost the summary"
has "$T" 'Stage 1/3|ETA|sending image' && ffail "-q still shows banners or progress"
pass "terminal: colours, live progress bar with ETA, NO_COLOR and -q"
