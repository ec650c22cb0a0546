#!/usr/bin/env bash
# `make bench`: prints every benchmark figure (docs/BENCHMARKS.md) in one run.
# usage: bench/run.sh BUILD_DIR        (BENCH_QUICK=1: reduced sizes, a smoke check)
# Everything runs on 127.0.0.1; the figures also go to BUILD_DIR/bench-results.json
# (BENCH_JSON=FILE to change). BENCH_ONLY=footprint,tls,idle,device,scale,fleet runs a subset;
# BENCH_KEEP=1 keeps the scratch directories.
set -u
build=${1:?usage: bench/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench: openssl (the command) is needed" >&2; exit 1; }
ninja -C "$build" >/dev/null || { echo "bench: build failed" >&2; exit 1; }
args=("$build")
[ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ] && args+=(--quick)
[ -n "${BENCH_ONLY:-}" ] && args+=(--only "$BENCH_ONLY")
[ -n "${BENCH_JSON:-}" ] && args+=(--json "$BENCH_JSON")
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$here/bench.py" "${args[@]}"
