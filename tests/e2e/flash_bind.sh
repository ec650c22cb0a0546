#!/usr/bin/env bash
# Story (issue 13, item 9): `--no-check-ip --serving-host 127.0.0.1` listens on the address
# it names, not on every interface, and says so: the start event's bindIp, the listening
# events and the sockets agree; a connection to another local address is refused. Then the
# device completes as usual.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require
command -v ss >/dev/null || skip "ss (iproute2) not installed"
flash_images 30000 40000
flash_ports

"$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 --no-check-ip \
    --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
    --wifi-password "$SECRET" --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 \
    >"$OUT" 2>"$ERR" </dev/null &
SONOTA_PID=$!
e2e_track "$SONOTA_PID"
wait_for 60 port_listening "$HTTPS_PORT" || ffail "sonota's HTTPS port did not open"
for p in "$HTTP_PORT" "$HTTPS_PORT"; do
    addrs=$(ss -ltnH "sport = :$p" | awk '{print $4}' | sort -u | tr '\n' ' ')
    [ "$addrs" = "127.0.0.1:$p " ] || ffail "port $p listens on '$addrs', not 127.0.0.1:$p only"
done
python3 - "$HTTPS_PORT" <<'PY' || ffail "a connection to 127.0.0.2 was accepted"
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.2", int(sys.argv[1])))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
PY
flash_expect 'e["event"] == "start" and e["servingIp"] == "127.0.0.1" and e["bindIp"] == "127.0.0.1"' \
    "the start event does not say what is bound"
flash_expect 'e["event"] == "listening" and e["detail"] == "https 127.0.0.1:'"$HTTPS_PORT"'"'
flash_expect 'e["event"] == "listening" and e["detail"] == "http 127.0.0.1:'"$HTTP_PORT"'"'
flash_expect_none 'e["event"] == "listening" and "0.0.0.0" in e["detail"]'
pass "--no-check-ip --serving-host 127.0.0.1: bound to 127.0.0.1 only, and said so"

flash_sim
SONOTA_RC=0
wait_pid 200 "$SONOTA_PID" || SONOTA_RC=$?
flash_success
pass "the device completes"
