# lib.sh - shared helpers for end-to-end user stories. Source it; never run it.
# Exit 77 means "skipped" to meson. Every wait is bounded; cleanup runs on any exit.

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sonota-e2e.XXXXXX")
# Each story has its own state directory (sonota's resume record), never the user's and
# never another story's: stories run in parallel.
export XDG_STATE_HOME="$E2E_TMP/state"
E2E_PIDS=""
E2E_NETNS=""

e2e_cleanup() {
    local pid ns
    for pid in $E2E_PIDS; do
        kill "$pid" 2>/dev/null
    done
    for pid in $E2E_PIDS; do
        wait "$pid" 2>/dev/null
    done
    for ns in $E2E_NETNS; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    [ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# Start-up waits (a server or helper listening, sonota's first guidance) are bounds, not
# measurements: 30-60 s, because stories run in parallel and the machine may be shared.

# python3 behind a version manager's shim (pyenv) starts a few shells per call (~0.4 s
# of CPU here), and even the interpreter behind it starts 3x slower than Debian's (0.1 s
# against 0.03 s); stories call it hundreds of times and need only the standard library,
# so they use Debian's /usr/bin/python3, or else the interpreter behind the shim.
if [ -z "${E2E_PY_DIRECT:-}" ]; then
    if [ -x /usr/bin/python3 ]; then
        PATH="$E2E_TMP/py:$PATH"
        mkdir -p "$E2E_TMP/py" && ln -s /usr/bin/python3 "$E2E_TMP/py/python3"
    elif command -v python3 >/dev/null; then
        e2e_py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
        [ -n "$e2e_py" ] && [ -x "$e2e_py" ] && PATH="$(dirname "$e2e_py"):$PATH"
    fi
    export E2E_PY_DIRECT=1 PATH
fi

# VALGRIND_WRAP=1 (scripts/valgrind.sh): sonota, sonoff-sim and srvtest run under valgrind
# memcheck through small wrappers that replace $SONOTA, $SONOFF_SIM and $SRVTEST, so no
# story needs changing. Each process logs to
# $VALGRIND_LOG_DIR/vg.<story>.<program>.<pid>.log (the caller checks them; an error also
# makes the program exit 99). Valgrind slows programs ~20x: every bounded wait (wait_for,
# wait_pid) is multiplied by E2E_SLOW.
E2E_SLOW=${E2E_SLOW:-1}   # check-platform.sh stretches waits under Wine and qemu
if [ -n "${VALGRIND_WRAP:-}" ]; then
    command -v valgrind >/dev/null || { echo "VALGRIND_WRAP set but valgrind is missing" >&2; exit 1; }
    E2E_SLOW=${E2E_SLOW_VALGRIND:-6}
    E2E_VG_LOGS=${VALGRIND_LOG_DIR:-$E2E_TMP/vg}
    mkdir -p "$E2E_TMP/vg" "$E2E_VG_LOGS"
    # --fair-sched=yes: valgrind runs one thread at a time, and its default lock lets a
    # busy thread keep it; the TLS key worker (seconds of RSA under valgrind) must not
    # hold the main loop back on a loaded machine.
    e2e_vg_wrap() { # e2e_vg_wrap VAR: $VAR becomes a wrapper running it under valgrind
        local real=${!1:-} wrapper
        [ -n "$real" ] && [ -x "$real" ] || return 0
        wrapper="$E2E_TMP/vg/$(basename "$real")"
        printf '#!/bin/sh\nexec valgrind -q --fair-sched=yes --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no --log-file="%s" "%s" "$@"\n' \
            "$E2E_VG_LOGS/vg.$(basename "$0" .sh).$(basename "$real").%p.log" "$real" >"$wrapper"
        chmod +x "$wrapper"
        export "$1=$wrapper"
    }
    e2e_vg_wrap SONOTA
    e2e_vg_wrap SONOFF_SIM
    # hostile_lib.sh has its own SONOTA_VALGRIND=1 mode for srvtest
    [ "${SONOTA_VALGRIND:-0}" = 1 ] || e2e_vg_wrap SRVTEST
fi

# mode_is FILE MODE: the file has that octal mode. Under Wine (E2E_PLATFORM=windows,
# scripts/check-platform.sh) files get Windows ACLs, which Wine cannot show as modes.
mode_is() {
    [ "${E2E_PLATFORM:-}" = windows ] && return 0
    [ "$(stat -c %a "$1")" = "$2" ]
}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# e2e_rt COMMAND...: runs COMMAND at real-time priority (SCHED_FIFO) where allowed, else
# as is. For clients that model a device's real-time reading (read every 10 ms, fail on a
# backlog): with stories in parallel on a loaded machine, an ordinary process can be
# descheduled for longer than the check allows, and the test would blame the server.
e2e_rt() {
    if command -v chrt >/dev/null && chrt -f 10 true 2>/dev/null; then
        chrt -f 10 "$@"
    else
        "$@"
    fi
}

# Remembers a background process for cleanup: `cmd & e2e_track $!`
e2e_track() { E2E_PIDS="$E2E_PIDS $1"; }

# Prints N free TCP ports, below the kernel's ephemeral range so that an outgoing
# connection cannot take one between this check and the server's bind. Stories run in
# parallel (scripts/check.sh): a port handed out is recorded for 10 minutes in a registry
# shared by every story (E2E_PORT_REGISTRY, under flock), so two stories never pick the
# same port before either has bound it.
E2E_PORT_REGISTRY=${E2E_PORT_REGISTRY:-${TMPDIR:-/tmp}/sonota-e2e-ports}
free_ports() {
    python3 - "$1" "$E2E_PORT_REGISTRY" <<'PY'
import fcntl, os, random, socket, sys, time
want, registry = int(sys.argv[1]), sys.argv[2]
lo, hi = 32768, 60999
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except OSError:
    pass
top = lo - 1 if lo > 12000 else 65535
bottom = 10000 if lo > 12000 else hi + 1
now = time.time()
taken = {}
try:  # a registry this user may not write: only the bind check below
    fd = os.open(registry, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)
    old = os.read(fd, 1 << 20).decode(errors="replace")
except OSError:
    fd, old = None, ""
for line in old.split("\n"):
    try:
        port, when = line.split()
        if now - float(when) < 600:
            taken[int(port)] = float(when)
    except ValueError:
        pass
ports = []
for _ in range(5000):
    if len(ports) == want:
        break
    p = random.randint(bottom, top)
    if p in ports or p in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", p))
        ports.append(p)
    except OSError:
        pass
    finally:
        s.close()
for p in ports:
    taken[p] = now
if fd is not None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, "".join("%d %.0f\n" % kv for kv in taken.items()).encode())
    os.close(fd)
if len(ports) < want:
    sys.exit("no free ports")
print(*ports)
PY
}

# The polling loops below keep time and nap with bash builtins (EPOCHSECONDS; read -t on
# a pipe nobody writes to) instead of date and sleep: a process costs ~5 ms of CPU on
# the 2-core test machine, and at ten looks a second, six stories polling at once took
# most of a core from the programs under test. The pipe is open only while a loop runs.

# wait_for SECONDS COMMAND...: retries COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
    local deadline=$(( EPOCHSECONDS + $1 * E2E_SLOW )) nap
    shift
    exec {nap}<> <(:)
    while ! "$@" 2>/dev/null; do
        if [ "$EPOCHSECONDS" -ge "$deadline" ]; then
            exec {nap}<&-
            return 1
        fi
        read -r -t 0.1 -u "$nap" _ || true
    done
    exec {nap}<&-
}

# single_threaded PID: sonota's start-up worker (the per-run TLS key, src/io/tls.c) has
# finished, so its CPU (seconds under ASan on a loaded machine) is not counted by a CPU
# measurement that follows.
single_threaded() { [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -eq 1 ]; }

# wait_pid SECONDS PID: waits for PID to exit; returns its status, or 124 (and kills it) on timeout.
wait_pid() {
    local deadline=$(( EPOCHSECONDS + $1 * E2E_SLOW )) pid=$2 nap
    exec {nap}<> <(:)
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$EPOCHSECONDS" -ge "$deadline" ]; then
            exec {nap}<&-
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 124
        fi
        read -r -t 0.1 -u "$nap" _ || true
    done
    exec {nap}<&-
    wait "$pid"
}

# Fails when a file contains a secret.
assert_no_secret() {
    local secret=$1; shift
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        if grep -qF -- "$secret" "$f"; then
            fail "secret leaked into $f"
        fi
    done
}

# ---- network namespaces (issue 4) ----
E2E_NETNS_LOCK=${TMPDIR:-/tmp}/sonota-e2e-netns.lock
# Skips unless this process may create namespaces.
netns_require() {
    command -v ip >/dev/null || skip "iproute2 (ip) not installed"
    local probe="sonota-probe-$$"
    command -v flock >/dev/null || skip "flock (util-linux) not installed"
    flock "$E2E_NETNS_LOCK" ip netns add "$probe" 2>/dev/null || skip "cannot create network namespaces here (needs root/CAP_SYS_ADMIN)"
    ip netns del "$probe"
}

# netns_new NAME: creates a namespace with loopback up, removed at exit. Serialised with
# the other stories' (flock): the first `ip netns add` on a machine creates the /run/netns
# mount, and two doing that at once can fail.
netns_new() {
    flock "$E2E_NETNS_LOCK" ip netns add "$1" || fail "ip netns add $1"
    E2E_NETNS="$E2E_NETNS $1"
    ip -n "$1" link set lo up
}
