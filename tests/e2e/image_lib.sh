# image_lib.sh - helpers of the `sonota image` stories (image_cli, image_elf, image_linked).
# Source it after lib.sh; never run it. Output of each command goes to $D/out and $D/err.

# run WANT_RC DESCRIPTION CMD...: runs CMD, stdout → $D/out, stderr → $D/err; fails on another rc.
run() {
    local want=$1 what=$2 rc
    shift 2
    "$@" >"$D/out" 2>"$D/err"
    rc=$?
    if [ "$rc" != "$want" ]; then
        echo "--- stdout" >&2; cat "$D/out" >&2; echo "--- stderr" >&2; cat "$D/err" >&2
        fail "$what: exit $rc, expected $want (command: $*)"
    fi
}

# expect FILE TEXT DESCRIPTION: FILE must contain TEXT.
expect() {
    grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3: '$2' not in $(basename "$1")"; }
}
