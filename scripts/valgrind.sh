#!/usr/bin/env bash
# Runs a representative set of end-to-end stories once with sonota, sonoff-sim and srvtest
# under valgrind memcheck (tests/e2e/lib.sh: VALGRIND_WRAP). Any memory error or definite/
# indirect leak in any of their processes fails the story. Needs a build WITHOUT
# sanitizers; BUILD_DIR is set up (-Db_sanitize=none) when missing.
# usage: scripts/valgrind.sh [BUILD_DIR]          (default build-valgrind)
# Env: VALGRIND_STORIES (names, default below), VALGRIND_STORY_TIMEOUT (s, default 300),
#      VALGRIND_JOBS (stories at once, default 2), VALGRIND_KEEP=1 keeps the logs.
# Prints one line per story, "valgrind STORY: ok|FAIL|skip (...)", then
# "valgrind: N passed, N failed, N skipped"; exits 1 when a story failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${1:-build-valgrind}
# Not here: the netns_* stories (real-time traffic shaping and WiFi walks: their windows
# are timing-sensitive; docs/TESTING.md) and the long flash_* variants (same code paths as
# flash_stock/flash_whole/flash_drop, ~1 min each under valgrind).
# The longest first (seconds alone under valgrind on the 2-core machine: diy_flash 70,
# hostile_http 65, tasmota_configure 55, the flash_* ~30, server_files 10), so that two
# jobs end together.
stories=${VALGRIND_STORIES:-"diy_flash hostile_http tasmota_configure flash_drop flash_stock flash_whole server_files"}
per_story=${VALGRIND_STORY_TIMEOUT:-300}

summary() { echo "valgrind: $1 passed, $2 failed, $3 skipped"; }
if ! command -v valgrind >/dev/null; then
    echo "valgrind: not installed (scripts/deps.sh installs it)"
    summary 0 1 0
    exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Db_sanitize=none >/dev/null || { echo "valgrind: meson setup $build failed"; summary 0 1 0; exit 1; }
fi
# Only the three programs the stories run (the unit tests are not run under valgrind).
vg_targets=(src/sonota/sonota src/sim/sonoff-sim tests/e2e/srvtest)
if ! ninja -C "$build" "${vg_targets[@]}" >/dev/null; then
    echo "valgrind: the build in $build failed"
    summary 0 1 0
    exit 1
fi
sonota="$top/$build/src/sonota/sonota"
sim="$top/$build/src/sim/sonoff-sim"
srvtest="$top/$build/tests/e2e/srvtest"
if ldd "$sonota" "$sim" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    echo "valgrind: $build is built with sanitizers; valgrind needs -Db_sanitize=none"
    summary 0 1 0
    exit 1
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/sonota-valgrind.XXXXXX")

# run_story NAME: the story under valgrind; writes its one-line result to $logs/NAME/result
# (ok, FAIL or skip) and what to show on failure to $logs/NAME/detail.
run_story() {
    local t=$1 dir="$logs/$1" extra=() rc start secs nlogs bad why f what
    mkdir -p "$dir"
    # hostile_lib.sh runs srvtest under valgrind itself (and also fails on possible leaks)
    [ "$t" = hostile_http ] && extra=(SONOTA_VALGRIND=1)
    start=$(date +%s)
    env E2E_DIR="$top/tests/e2e" SONOTA="$sonota" SONOFF_SIM="$sim" SRVTEST="$srvtest" \
        VALGRIND_WRAP=1 VALGRIND_LOG_DIR="$dir" "${extra[@]}" \
        timeout -k 10 "$per_story" bash "tests/e2e/$t.sh" >"$dir/story.out" 2>&1 </dev/null
    rc=$?
    secs=$(( $(date +%s) - start ))
    nlogs=$(find "$dir" -name 'vg.*.log' | wc -l)
    # valgrind -q writes to a log only when it has something to report
    bad=$(find "$dir" -name 'vg.*.log' -size +0c | sort)
    : >"$dir/detail"
    if [ -n "$bad" ]; then
        echo "valgrind $t: FAIL (${secs} s, $nlogs processes; memcheck errors in $(echo "$bad" | wc -l))" >"$dir/result"
        for f in $bad; do
            echo "---- $(basename "$f")"
            head -n 40 "$f"
        done >"$dir/detail"
    elif [ "$rc" -eq 77 ]; then
        echo "valgrind $t: skip (${secs} s; $(grep -m1 '^SKIP' "$dir/story.out"))" >"$dir/result"
    elif [ "$rc" -eq 0 ]; then
        what="$nlogs processes clean"
        [ ${#extra[@]} -gt 0 ] && what="$what; srvtest checked by the story's own valgrind run"
        echo "valgrind $t: ok (${secs} s, $what)" >"$dir/result"
    else
        why="exit $rc"
        [ "$rc" -eq 124 ] && why="timed out after $per_story s"
        echo "valgrind $t: FAIL (${secs} s, $why)" >"$dir/result"
        tail -n 20 "$dir/story.out" >"$dir/detail"
    fi
}

# VALGRIND_JOBS stories at a time (default 2: one per CPU of a small machine; the longest,
# hostile_http, first). Stories use random free ports, so they do not collide.
jobs=${VALGRIND_JOBS:-2}
running=0
for t in $stories; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_story "$t" &
    running=$((running + 1))
done
wait
passed=0 failed=0 skipped=0
for t in $stories; do
    r=$(cat "$logs/$t/result" 2>/dev/null || echo "valgrind $t: FAIL (no result)")
    echo "$r"
    cat "$logs/$t/detail" 2>/dev/null
    case $r in
    *": ok "*) passed=$((passed + 1)) ;;
    *": skip "*) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
    esac
done
[ -n "${VALGRIND_KEEP:-}" ] && echo "valgrind: logs in $logs" || rm -rf "$logs"
summary "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
