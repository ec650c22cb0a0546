#!/usr/bin/env bash
# check-platform.sh TARGET - runs a cross-built sonota where it can run here, against the
# native Linux sonoff-sim on loopback:
#   windows-x86_64  sonota.exe under Wine (Debian's wine, wine64)
#   linux-aarch64   the static binary under qemu-user (qemu-aarch64-static), and the unit
#   linux-armhf     tests, cross-built, under the same emulator (qemu-arm-static)
#   linux-x86_64    the static binary as it is, and its unit tests
# The stories are the e2e scripts themselves with $SONOTA replaced by a wrapper; the
# simulator and the other Linux helpers stay native. Ends with one line:
#   "platform TARGET: N passed, N failed, N skipped"
set -u
target=${1:?usage: check-platform.sh TARGET}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
CACHE=${SONOTA_CACHE:-$HOME/.cache/sonota}
native=${CHECK_NATIVE_BUILD:-build}

# What each platform runs. Windows: the stock flow with provisioning and FinalStage, a
# slot-2 device, DIY flash, the image commands, the --json/CLI contract and the server's
# connection table (server_slots).
case "$target" in
windows-*) stories="image_cli image_linked flash_cli server_slots flash_stock flash_slot2 diy_info diy_flash" ;;
*)         stories="image_cli image_linked flash_cli server_slots flash_stock flash_slot2 flash_legacy diy_info diy_flash tasmota_configure" ;;
esac
stories=${CHECK_PLATFORM_STORIES:-$stories}

passed=0 failed=0 skipped=0
result() { # result NAME RC
    case "$2" in
    0)  passed=$((passed + 1)); echo "platform $target: $1 ok" ;;
    77) skipped=$((skipped + 1)); echo "platform $target: $1 SKIP" ;;
    *)  failed=$((failed + 1)); echo "platform $target: $1 FAIL (exit $2)" ;;
    esac
}
finish() {
    echo "platform $target: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}

# The emulator before the build: xdeps names it in the cross file as meson's exe_wrapper
# only when it is installed, and without one meson skips every unit test (seen on a fresh
# machine: 36 skipped, none run).
case "$target" in
linux-aarch64|linux-armhf) scripts/deps.sh qemu-user-static >&2 ;;
esac
exe=$(scripts/xbuild.sh "$target" | tail -n 1) || { failed=1; finish; }
[ -f "$exe" ] || { echo "platform $target: no binary" >&2; failed=1; finish; }
ninja -C "$native" >/dev/null || meson setup "$native" --buildtype=release >/dev/null &&
    ninja -C "$native" >/dev/null || { echo "platform $target: native build failed" >&2; failed=1; finish; }

wrapdir=$(mktemp -d "${TMPDIR:-/tmp}/sonota-platform.XXXXXX")
trap 'rm -rf "$wrapdir"' EXIT
wrapper=$wrapdir/sonota
abs_exe=$top/$exe
case "$target" in
windows-*)
    scripts/deps.sh wine wine64 >&2
    # no .NET or HTML engine prompts, no desktop menu entries in the user's home
    export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
    # Wine lists interfaces through its wineserver's services, so a story that runs sonota
    # inside a network namespace (the DIY stories) needs a wineserver started in that
    # namespace: a second prefix, whose server the wrapper restarts there.
    for prefix in "$CACHE/wine" "$CACHE/wine-netns"; do
        if [ ! -f "$prefix/system.reg" ]; then
            echo "platform $target: creating the Wine prefix $prefix (once)"
            WINEPREFIX=$prefix wine wineboot -i >/dev/null 2>&1
            WINEPREFIX=$prefix wineserver -w
        fi
    done
    cat >"$wrapper" <<EOF
#!/bin/sh
if [ "\$(readlink /proc/self/ns/net)" = "$(readlink /proc/self/ns/net)" ]; then
    export WINEPREFIX="$CACHE/wine"
else
    export WINEPREFIX="$CACHE/wine-netns"
    wineserver -k 2>/dev/null
    wineserver -w 2>/dev/null
fi
exec wine "$abs_exe" "\$@"
EOF
    # One wineserver for the whole run (until the exit trap): each story starts sonota.exe
    # dozens of times, and a wine process that starts while the previous one's server is
    # shutting down can fail with no output (seen once in CI: exit 1 of an image check).
    WINEPREFIX="$CACHE/wine" wineserver -p
    trap 'WINEPREFIX="$CACHE/wine" wineserver -k 2>/dev/null; rm -rf "$wrapdir"' EXIT
    # Wine has no Windows ACLs to show: the stories skip their 0600-mode checks.
    export E2E_PLATFORM=windows ;;
linux-aarch64) printf '#!/bin/sh\nexec qemu-aarch64-static "%s" "$@"\n' "$abs_exe" >"$wrapper"
               export E2E_PLATFORM=qemu SONOTA_EMULATED=1 ;;
linux-armhf)   printf '#!/bin/sh\nexec qemu-arm-static "%s" "$@"\n' "$abs_exe" >"$wrapper"
               export E2E_PLATFORM=qemu SONOTA_EMULATED=1 ;;
linux-x86_64)  printf '#!/bin/sh\nexec "%s" "$@"\n' "$abs_exe" >"$wrapper" ;;
*) echo "platform $target: nothing runs here (macOS binaries are built, not run)" >&2; finish ;;
esac
chmod +x "$wrapper"
# A binary that cannot start would turn most stories into skips: it is a failure.
if "$wrapper" --version >/dev/null 2>&1; then
    result "starts (--version)" 0
else
    result "starts (--version)" 1
    finish
fi

# Unit tests of the Linux targets, under the cross file's exe_wrapper.
case "$target" in
linux-*)
    rm -f "build-x/$target/meson-logs/testlog.json"
    if meson test -C "build-x/$target" --suite unit --num-processes 2 >"$wrapdir/unit.log" 2>&1; then :; fi
    read -r up uf us < <(python3 - "build-x/$target/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
except OSError:
    f = 1
print(p, f, s)
PY
)
    # Not one unit test run is a failure, not a skip: the build lost its exe_wrapper.
    [ "$up" -eq 0 ] && [ "$uf" -eq 0 ] && uf=1 us=0 &&
        echo "platform $target: no unit test ran (no exe_wrapper in the cross file?)"
    echo "platform $target: unit tests $up passed, $uf failed, $us skipped"
    [ "$uf" -eq 0 ] || grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' "$wrapdir/unit.log"
    passed=$((passed + up)) failed=$((failed + uf)) skipped=$((skipped + us)) ;;
esac

export SONOTA=$wrapper
export SONOFF_SIM=$top/$native/src/sim/sonoff-sim
export SRVTEST=$top/$native/tests/e2e/srvtest
export E2E_DIR=$top/tests/e2e
# Emulation and Wine are slower than native: every bounded wait is stretched.
export E2E_SLOW=${E2E_SLOW_PLATFORM:-3}
for s in $stories; do
    start=$(date +%s.%N)
    timeout -k 10 900 bash "tests/e2e/$s.sh" >"$wrapdir/$s.log" 2>&1
    rc=$?
    secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
    result "$s (${secs} s)" "$rc"
    [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || tail -n 30 "$wrapdir/$s.log"
    [ "$rc" -eq 77 ] && tail -n 2 "$wrapdir/$s.log"
done
finish
