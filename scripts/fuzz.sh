#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, from its seed corpus, and prints one line per target
# (in name order, whatever order they ran in).
# usage: scripts/fuzz.sh FUZZ_BUILD_DIR SECONDS [JOBS]
# JOBS targets run at once (default 1). Each still gets SECONDS of wall time of its own;
# scripts/check.sh runs two at a time next to the end-to-end stories, which mostly wait.
set -u
dir=$1
seconds=$2
jobs=${3:-1}
top=$(cd "$(dirname "$0")/.." && pwd)
results=$(mktemp -d "${TMPDIR:-/tmp}/sonota-fuzz.XXXXXX")
trap 'rm -rf "$results"' EXIT

# run_target EXE: one target; its line (and on failure the log's end) in $results/NAME.
run_target() {
    local exe=$1 name seeds work log runs
    name=$(basename "$exe")
    seeds="$top/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
    log=$(mktemp)
    if "$exe" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 \
            -artifact_prefix="$work/" >"$log" 2>&1 </dev/null; then
        runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*')
        echo "fuzz $name: ok (${runs:-?} runs in ${seconds}s)" >"$results/$name"
    else
        { echo "fuzz $name: FAIL"; tail -n 40 "$log"; } >"$results/$name"
    fi
    rm -rf "$work" "$log"
}

names=()
running=0
for exe in "$dir"/fuzz/fuzz_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    names+=("$(basename "$exe")")
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_target "$exe" &
    running=$((running + 1))
done
wait
status=0
for name in "${names[@]}"; do
    if [ -f "$results/$name" ]; then
        cat "$results/$name"
    else
        echo "fuzz $name: FAIL (no result)"
    fi
    grep -q "^fuzz $name: ok" "$results/$name" 2>/dev/null || status=1
done
exit $status
