#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, from its seed corpus, and prints one line per target.
# usage: scripts/fuzz.sh FUZZ_BUILD_DIR SECONDS
set -u
dir=$1
seconds=$2
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
for exe in "$dir"/fuzz/fuzz_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    name=$(basename "$exe")
    seeds="$top/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
    log=$(mktemp)
    if "$exe" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 \
            -artifact_prefix="$work/" >"$log" 2>&1; then
        runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*')
        echo "fuzz $name: ok (${runs:-?} runs in ${seconds}s)"
    else
        echo "fuzz $name: FAIL"
        tail -n 40 "$log"
        status=1
    fi
    rm -rf "$work" "$log"
done
exit $status
