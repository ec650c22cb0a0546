#!/usr/bin/env bash
# Story (issue 13, item 6): few file descriptors. Under `ulimit -n 40` sonota computes a
# connection limit that fits (before: 64, then libwebsockets spun on accept() with EMFILE
# and wrote every failure to the log, hundreds of MB), an attacker opening 120 connections
# gets refusals while the log stays small and the CPU idle, and the device then completes.
# Then the server alone (srvtest) with every descriptor used up (--fill-fds): accepts fail
# with EMFILE; no busy loop, one report with a count, and it serves again once
# descriptors are free.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require
[ -n "${SRVTEST:-}" ] && [ -x "$SRVTEST" ] || skip "SRVTEST not built"
[ -z "${VALGRIND_WRAP:-}" ] || skip "descriptor counts differ under valgrind (it keeps its own)"
flash_images 30000 40000
flash_ports

# the CPU share of PID over SECONDS while HOW connections per port are held
flood() { # flood PID SECONDS N PORT...
    python3 - "$@" <<'PY'
import os, socket, sys, time
pid, secs, n, ports = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
tck = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck
c0, t0 = cpu(), time.monotonic()
socks = []
for i in range(n):
    for p in ports:
        s = socket.socket()
        s.bind(("127.0.%d.%d" % (1 + i // 200, 2 + i % 200), 0))
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", int(p)))
            socks.append(s)
        except OSError:
            s.close()
time.sleep(secs)
share = (cpu() - c0) / (time.monotonic() - t0)
for s in socks:
    s.close()
print("%d connections held, %.1f %% of a core" % (len(socks), 100 * share))
assert share < 0.10, "the server spins: %.0f %% of a core" % (100 * share)
PY
}

( ulimit -n 40 && exec "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
    --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
    --wifi-password "$SECRET" --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 \
    >"$OUT" 2>"$ERR" </dev/null ) &
SONOTA_PID=$!
e2e_track "$SONOTA_PID"
wait_for 60 port_listening "$HTTPS_PORT" || ffail "sonota's HTTPS port did not open"
wait_for 60 single_threaded "$SONOTA_PID" || ffail "sonota's TLS key was not ready after 60 s"
grep -q 'open-file limit (40, [0-9]* already open) allows [0-9]* connections' "$SLOG" ||
    ffail "no warning about the open-file limit in the log"
limit=$(sed -n 's/.*open-file limit (40, [0-9]* already open) allows \([0-9]*\) connections.*/\1/p' "$SLOG")
[ "$limit" -ge 4 ] && [ "$limit" -le 30 ] || ffail "connection limit $limit does not fit 40 descriptors"
flood "$SONOTA_PID" 3 60 "$HTTP_PORT" "$HTTPS_PORT" || ffail "120 connections under ulimit -n 40"
bytes=$(stat -c %s "$SLOG")
echo "log: $bytes bytes"
[ "$bytes" -lt 65536 ] || ffail "the log grew to $bytes bytes during the flood"
pass "ulimit -n 40: limit $limit connections, 120 attempts refused, log $bytes bytes"

flash_sim
SONOTA_RC=0
wait_pid 200 "$SONOTA_PID" || SONOTA_RC=$?
flash_success
pass "the device completes under ulimit -n 40 after the flood"

# ---- EMFILE itself: the server alone with every descriptor taken for 4 s, listening on
# 127.0.0.1 and on the wildcard (lws opens "::", dual-stack, when no address is given) ----
dropped_sum() { # LOG: every connection made while full was dropped and counted, none lost
    python3 - "$1" <<'PY'
import re, sys
n = sum(int(m) for m in re.findall(r"out of file descriptors \(open-file limit \d+\): (\d+) connections dropped",
                                   open(sys.argv[1]).read()))
sys.exit(0 if n >= 80 else 1)
PY
}
emfile_round() { # NAME "SRVTEST BIND ARGS"
    EV="$E2E_TMP/fill-$1.ev" FLOG="$E2E_TMP/fill-$1.log"
    ( ulimit -n 64 && exec "$SRVTEST" $2 --serving-ip 127.0.0.1 --http-port 0 \
        --https-port 0 --file "image_user1-0x01000.bin=$FW/image_user1-0x01000.bin" \
        --file "image_user2-0x81000.bin=$FW/image_user2-0x81000.bin" \
        --user1 image_user1-0x01000.bin --user2 image_user2-0x81000.bin --max-seconds 60 \
        --fill-fds 4 --debug >"$EV" 2>"$FLOG" ) &
    ST_PID=$!
    e2e_track "$ST_PID"
    wait_for 30 grep -q '^FILLED' "$EV" || ffail "srvtest --fill-fds did not start"
    read -r H S < <(sed -n 's/^PORTS http=\([0-9]*\) https=\([0-9]*\).*/\1 \2/p' "$EV")
    flood "$ST_PID" 2 40 "$H" "$S" || ffail "connections while descriptors are exhausted"
    bytes=$(stat -c %s "$FLOG")
    echo "srvtest log (debug level): $bytes bytes"
    [ "$bytes" -lt 16384 ] || ffail "the log grew to $bytes bytes while accept() failed"
    grep -q 'REJECTED.*out of file descriptors.*connections dropped at accept' "$EV" ||
        ffail "no REJECTED event for the dropped connections"
    [ "$(grep -c 'out of file descriptors' "$FLOG")" -le 4 ] ||
        ffail "EMFILE reported more than once per interval"
    wait_for 10 grep -q '^UNFILLED' "$EV" || ffail "descriptors were not given back"
    wait_for 10 dropped_sum "$FLOG" || ffail "the reports do not count the 80 dropped connections: $(grep 'out of file' "$FLOG")"
    code=$(curl -s -m 10 -o "$E2E_TMP/r.bin" -w '%{http_code}' -r 0-4095 \
        "http://127.0.0.1:$H/ota/image_user1-0x01000.bin")
    [ "$code" = 206 ] && cmp -s "$E2E_TMP/r.bin" <(head -c 4096 "$FW/image_user1-0x01000.bin") ||
        ffail "no Range reply after descriptors came back ($code)"
    pass "EMFILE ($1): no busy loop, log $bytes bytes, one report with a count; served again afterwards"
    kill "$ST_PID" 2>/dev/null
    wait "$ST_PID" 2>/dev/null
}
emfile_round bound "--bind 127.0.0.1"
emfile_round wildcard ""
