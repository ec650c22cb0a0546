#!/usr/bin/env bash
# Runs every test and ends with one line CI reads: "N passed, N failed, N skipped".
# usage: scripts/check.sh CHECK_BUILD_DIR FUZZ_BUILD_DIR
set -u
check_dir=$1
fuzz_dir=$2
fuzz_seconds=${CHECK_FUZZ_SECONDS:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

ninja -C "$check_dir" || { echo "0 passed, 1 failed"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
meson test -C "$check_dir" --print-errorlogs --num-processes 2
meson_rc=$?

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
)
read -r passed failed skipped <<<"$counts"

# Valgrind: a few end-to-end stories again with every program under memcheck, from a build
# without sanitizers (scripts/valgrind.sh; CHECK_VALGRIND=0 leaves it out).
if [ "${CHECK_VALGRIND:-1}" != 0 ]; then
    out=$(scripts/valgrind.sh "${CHECK_VALGRIND_BUILD:-build-valgrind}")
    echo "$out"
    if read -r vp vf vs < <(echo "$out" | tail -n 1 |
            sed -n 's/^valgrind: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p'); then
        passed=$((passed + vp))
        failed=$((failed + vf))
        skipped=$((skipped + vs))
    else
        failed=$((failed + 1))
    fi
fi

# Fuzzers: each parser target briefly; a crash is a failure.
if ninja -C "$fuzz_dir"; then
    out=$(scripts/fuzz.sh "$fuzz_dir" "$fuzz_seconds")
    echo "$out"
    fp=$(echo "$out" | grep -c '^fuzz .*: ok')
    ff=$(echo "$out" | grep -c '^fuzz .*: FAIL')
    passed=$((passed + fp))
    failed=$((failed + ff))
else
    echo "fuzz build failed"
    failed=$((failed + 1))
fi

[ "$meson_rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
