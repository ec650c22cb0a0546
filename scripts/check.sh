#!/usr/bin/env bash
# Runs every test and ends with one line CI reads: "N passed, N failed, N skipped".
# usage: scripts/check.sh CHECK_BUILD_DIR FUZZ_BUILD_DIR
# Three parts (docs/TESTING.md, "How `make check` runs: in parallel"): meson test (unit
# programs and end-to-end stories, CHECK_JOBS at once), then the valgrind stories
# (scripts/valgrind.sh, CHECK_VALGRIND_JOBS at once) beside the fuzzers (scripts/fuzz.sh,
# CHECK_FUZZ_JOBS at once, CHECK_FUZZ_SECONDS each). Most stories wait on
# timers and device pacing, not on the CPU, so more jobs than cores is the point.
# Env: CHECK_JOBS (default 6), CHECK_VALGRIND=0 (leave valgrind out), CHECK_VALGRIND_JOBS
#      (default 2), CHECK_VALGRIND_BUILD (default build-valgrind), CHECK_FUZZ_SECONDS
#      (default 10), CHECK_FUZZ_JOBS (default 2).
set -u
check_dir=$1
fuzz_dir=$2
fuzz_seconds=${CHECK_FUZZ_SECONDS:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$(date +%s)

ninja -C "$check_dir" || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
parts=$(mktemp -d "${TMPDIR:-/tmp}/sonota-check.XXXXXX")
trap 'rm -rf "$parts"' EXIT

# The other two builds before any test starts: compiling next to the stories would only
# slow them. A failed build is a failure of its part.
vg_build=${CHECK_VALGRIND_BUILD:-build-valgrind}
fuzz_built=1
ninja -C "$fuzz_dir" >"$parts/fuzz-build.log" 2>&1 || fuzz_built=0
if [ "${CHECK_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
    { [ -f "$vg_build/build.ninja" ] || meson setup "$vg_build" -Db_sanitize=none; } \
        >"$parts/vg-build.log" 2>&1 &&
        ninja -C "$vg_build" src/sonota/sonota src/sim/sonoff-sim tests/e2e/srvtest \
            >>"$parts/vg-build.log" 2>&1
fi

# Unit programs and end-to-end stories (tests/*/meson.build: the longest start first;
# none is is_parallel: false).
meson test -C "$check_dir" --print-errorlogs --num-processes "${CHECK_JOBS:-6}"
meson_rc=$?

# Valgrind: a few end-to-end stories again with every program under memcheck, from a build
# without sanitizers (scripts/valgrind.sh). Started when meson test is done, not beside it:
# its stories are the most sensitive to a busy CPU (valgrind makes every program ~20x
# slower while the simulated device keeps its real-time windows), and beside six ASan
# stories both sides failed now and then (a CPU share, TLS and start-up windows). They run
# at a higher priority than the fuzzers (nice -5, where allowed), story bound 600 s.
vg_pid=
if [ "${CHECK_VALGRIND:-1}" != 0 ]; then
    vg_nice=()
    nice -n -5 true 2>/dev/null && vg_nice=(nice -n -5)
    VALGRIND_JOBS=${CHECK_VALGRIND_JOBS:-2} VALGRIND_STORY_TIMEOUT=${VALGRIND_STORY_TIMEOUT:-600} \
        "${vg_nice[@]}" scripts/valgrind.sh "$vg_build" >"$parts/valgrind.out" 2>&1 </dev/null &
    vg_pid=$!
fi

# Fuzzers: each parser target CHECK_FUZZ_SECONDS; a crash is a failure. Started once the
# stories are done: a fuzzer's seconds are fixed, so it must not share the CPU with six
# stories (beside them a target managed a few hundred runs instead of hundreds of
# thousands); the valgrind stories may still be running.
fuzz_pid=
if [ "$fuzz_built" = 1 ]; then
    scripts/fuzz.sh "$fuzz_dir" "$fuzz_seconds" "${CHECK_FUZZ_JOBS:-2}" \
        >"$parts/fuzz.out" 2>&1 </dev/null &
    fuzz_pid=$!
fi

counts=$(python3 - "$check_dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
) || counts="0 1 0"
read -r passed failed skipped <<<"$counts"
echo "meson test: $passed passed, $failed failed, $skipped skipped ($(( $(date +%s) - start )) s since the start)"

if [ -n "$vg_pid" ]; then
    wait "$vg_pid"
    cat "$parts/valgrind.out"
    if read -r vp vf vs < <(tail -n 1 "$parts/valgrind.out" |
            sed -n 's/^valgrind: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p'); then
        passed=$((passed + vp))
        failed=$((failed + vf))
        skipped=$((skipped + vs))
    else
        failed=$((failed + 1))
    fi
fi

if [ -n "$fuzz_pid" ]; then
    wait "$fuzz_pid"
    cat "$parts/fuzz.out"
    fp=$(grep -c '^fuzz .*: ok' "$parts/fuzz.out")
    ff=$(grep -c '^fuzz .*: FAIL' "$parts/fuzz.out")
    passed=$((passed + fp))
    failed=$((failed + ff))
else
    tail -n 20 "$parts/fuzz-build.log"
    echo "fuzz build failed"
    failed=$((failed + 1))
fi

echo "check: $(( $(date +%s) - start )) s wall time"
[ "$meson_rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
