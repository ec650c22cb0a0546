#!/usr/bin/env bash
# Story: what a user sees. No message, help text or event cites the protocol reference
# ("PROTOCOL.md §N", a file users do not have); a bare `sonota` prints the command
# overview (exit 2); `make demo 2>&1 | cat` carries no raw escape codes and its progress bars
# end at 100 %; `sonota diy SUB --help` describes SUB.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/lib.sh" || exit 1
[ -x "${SONOTA:-}" ] && [ -x "${SONOFF_SIM:-}" ] || skip "SONOTA and SONOFF_SIM must be built"

# Every string the programs can print is in their binaries; comments are not.
for b in "$SONOTA" "$SONOFF_SIM"; do
    real=$b
    [ -n "${VALGRIND_WRAP:-}" ] && real=$(sed -n 's/.*" "\(\/[^"]*\)" "\$@"$/\1/p' "$b")
    hits=$(strings -e S -n 6 "$real" | grep -E 'PROTOCOL\.md|§ ?[0-9]|section [0-9]' | head -5)
    [ -z "$hits" ] || fail "$(basename "$real") prints protocol references: $hits"
done
pass "no user-facing text cites PROTOCOL.md or a § number"

rc=0
"$SONOTA" >"$E2E_TMP/bare.out" 2>"$E2E_TMP/bare.err" </dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "bare sonota: expected exit 2, got $rc"
for c in flash diy image configure; do
    grep -q "^  $c " "$E2E_TMP/bare.out" || fail "bare sonota: the overview lacks '$c'"
done
grep -q "usage: sonota" "$E2E_TMP/bare.out" || fail "bare sonota: no usage line"
pass "bare sonota: command overview, exit 2"

# The demo piped through cat: plain text only (colour is for terminals).
if [ -n "${VALGRIND_WRAP:-}" ]; then
    pass "demo: skipped under valgrind (it runs the real binaries itself)"
else
    build=$(cd "$(dirname "$SONOTA")/../.." && pwd)
    env -u NO_COLOR timeout 120 "$E2E_DIR/../../scripts/demo.sh" "$build" 2>&1 | cat \
        >"$E2E_TMP/demo.out"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || fail "the demo failed ($rc): $(tail -5 "$E2E_TMP/demo.out")"
    grep -q "Demo succeeded" "$E2E_TMP/demo.out" || fail "the demo did not finish"
    if grep -q $'\033' "$E2E_TMP/demo.out"; then
        fail "make demo 2>&1 | cat prints escape codes: $(grep -m1 $'\033' "$E2E_TMP/demo.out" | od -c | head -2)"
    fi
    grep -q '] 100%' "$E2E_TMP/demo.out" || fail "the demo's progress bars never reach 100 %"
    pass "demo piped: no escape codes, progress bars end at 100 %"
fi

# `sonota diy SUB --help` describes SUB (and only the options SUB takes).
"$SONOTA" diy flash --help >"$E2E_TMP/h.flash" || fail "diy flash --help failed"
"$SONOTA" diy discover --help >"$E2E_TMP/h.disc" || fail "diy discover --help failed"
"$SONOTA" diy info --help >"$E2E_TMP/h.info" || fail "diy info --help failed"
grep -q "^usage: sonota diy flash FILE" "$E2E_TMP/h.flash" && grep -q -- "--serve-ip" "$E2E_TMP/h.flash" \
    && ! grep -q -- "--info " "$E2E_TMP/h.flash" || fail "diy flash --help does not describe flash"
grep -q "^usage: sonota diy discover" "$E2E_TMP/h.disc" && grep -q -- "--info " "$E2E_TMP/h.disc" \
    && ! grep -q -- "--serve-ip" "$E2E_TMP/h.disc" || fail "diy discover --help does not describe discover"
grep -q "^usage: sonota diy info" "$E2E_TMP/h.info" && ! grep -q -- "--serve-ip" "$E2E_TMP/h.info" \
    || fail "diy info --help does not describe info"
"$SONOTA" diy --help | grep -q "^usage: sonota diy discover" || fail "diy --help lost the overview"
pass "sonota diy SUB --help describes SUB"
