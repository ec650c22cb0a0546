#!/usr/bin/env bash
# Story: a broken image is refused (exit 3) before anything talks to the device; --force
# serves it anyway after a loud warning.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require_sonota
flash_images 40000 60000
flash_ports
# Flip one byte in the middle of user1: its CRC32 no longer matches (§5).
python3 - "$FW/image_user1-0x01000.bin" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x55
open(p, "wb").write(bytes(b))
PY
# Something listening where the device would be, counting connections.
python3 - "$AP_PORT" "$E2E_TMP/ap-hits" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(60)
hits = 0
try:
    while True:
        c, _ = s.accept(); hits += 1
        open(sys.argv[2], "w").write(str(hits)); c.close()
except Exception:
    pass
PY
e2e_track $!
wait_for 30 port_listening "$AP_PORT" || fail "listener did not start"

flash_sonota
[ "$SONOTA_RC" -eq 3 ] || ffail "expected exit 3 (invalid image), got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "image" and e["role"] == "user1" and not e["valid"] and e["problem"]'
flash_expect 'e["event"] == "image" and e["role"] == "final" and e["valid"]'
flash_expect 'e["event"] == "error" and e["code"] == "image" and e["exit"] == 3'
flash_expect_none 'e["event"] == "stage"' "a stage started despite the invalid image"
[ ! -e "$E2E_TMP/ap-hits" ] || ffail "the device was contacted despite the invalid image"
pass "invalid image refused with exit 3, device untouched"

# The images are checked while the servers start: a server that cannot start (its port
# taken) does not hide the bad image; the image is the run's error, as before.
python3 - "$HTTP_PORT" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(30)
PY
BUSY_PID=$!
e2e_track $BUSY_PID
wait_for 30 port_listening "$HTTP_PORT" || fail "port holder did not start"
flash_sonota
[ "$SONOTA_RC" -eq 3 ] || ffail "busy port and invalid image: expected exit 3, got $SONOTA_RC"
flash_check_output
flash_expect 'e["event"] == "error" and e["code"] == "image" and e["exit"] == 3'
flash_expect_none 'e["event"] == "error" and e["code"] == "server"' "the busy port hid the bad image"
kill "$BUSY_PID" 2>/dev/null; wait "$BUSY_PID" 2>/dev/null
pass "busy port: the invalid image is still the error (exit 3)"

# --force goes on (and then finds a device that closes at once: a device error).
flash_sonota --force --timeout 8
flash_check_output
flash_expect 'e["event"] == "warning" and e["code"] == "image-forced"'
flash_expect 'e["event"] == "stage" and e["stage"] == "provision"'
[ -e "$E2E_TMP/ap-hits" ] || ffail "--force did not go on to the device"
[ "$SONOTA_RC" -ne 0 ] && [ "$SONOTA_RC" -ne 3 ] || ffail "unexpected exit $SONOTA_RC with --force"
pass "--force serves an invalid image after a warning"
