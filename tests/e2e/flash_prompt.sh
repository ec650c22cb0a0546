#!/usr/bin/env bash
# Story: a person at a terminal: sonota asks for the WiFi name and the password; the password
# is not echoed, never shown, and the run completes.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require
flash_images 40000 60000
flash_ports
flash_sim
python3 - "$SONOTA" "$AP_PORT" "$HTTP_PORT" "$HTTPS_PORT" "$FW" "$SECRET" "$E2E_TMP/tty.out" \
    <<'PY' || ffail "the terminal session failed (see $E2E_TMP/tty.out)"
import os, pty, select, sys, time
sonota, ap, http, https, fw, secret, log = sys.argv[1:]
argv = [sonota, "flash", "--device", "http://127.0.0.1:" + ap, "--serving-host", "127.0.0.1",
        "--no-check-ip", "--http-port", http, "--https-port", https, "--firmware-dir", fw,
        "--no-color", "--timeout", "120"]
env = dict(os.environ)
env.pop("SONOTA_WIFI_PASSWORD", None)
pid, fd = pty.fork()
if pid == 0:
    os.execve(sonota, argv, env)
out = b""
def read_until(pat, secs):
    global out
    end = time.time() + secs
    while pat not in out:
        if time.time() > end:
            return False
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
    return True
ok = read_until(b"(SSID)", 30)
if ok:
    os.write(fd, b"Home\n")
    ok = read_until(b"not shown", 30)
if ok:
    os.write(fd, secret.encode() + b"\n")
    ok = read_until(b"== Done ==", 90)
read_until(b"\x00", 1)  # collect the rest
open(log, "wb").write(out)
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128
if not ok or code != 0:
    print("prompt flow failed, exit", code, file=sys.stderr); sys.exit(1)
if secret.encode() in out:
    print("the password was echoed or printed", file=sys.stderr); sys.exit(1)
if b"Home" not in out:
    print("the SSID answer was not echoed", file=sys.stderr); sys.exit(1)
PY
rc=0
wait_pid 60 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || ffail "the sim exited $rc"
pass "SSID and password asked on the terminal, password never echoed, flashed"
