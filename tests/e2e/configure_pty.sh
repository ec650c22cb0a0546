#!/usr/bin/env bash
# Story: a person at a terminal runs `sonota configure` without --wifi-ssid or a password in
# the environment: sonota asks for the WiFi name (echoed) and the password (not echoed, never
# shown), then configures the simulated Tasmota and finds it on the LAN. Ctrl-C at the
# password question ends the run with 130. Driven through a pty (python3 pty module).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/tasmota_lib.sh" || exit 1
tas_require
tas_flash
tas_ports
tas_sim --tasmota-home-ssid Home --tasmota-home-psk-sha256 \
    "$(printf '%s' "$WSECRET" | sha256sum | cut -d' ' -f1)"

# drive MODE: "answer" types the SSID and the password; "interrupt" sends ^C at the password.
drive() {
    python3 - "$1" "$SONOTA" "$AP_PORT" "$LAN_ADDR:$LAN_PORT" "$E2E_TMP/tty.$1" <<'PY'
import os, pty, select, sys, time
mode, sonota, ap, lan, log = sys.argv[1:]
secret = os.environ["WSECRET"]
argv = [sonota, "configure", "--device", "http://127.0.0.1:" + ap, "--mqtt-host", "broker.lan",
        "--topic", "lamp", "--lan-check", lan, "--no-color", "--timeout", "60"]
env = dict(os.environ)
env.pop("SONOTA_WIFI_PASSWORD", None)
env["SONOTA_MQTT_PASSWORD"] = os.environ["MSECRET"]
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
ok = read_until(b"(SSID)", 20)
if ok:
    os.write(fd, b"Home\n")
    ok = read_until(b"(not shown)", 20)
if ok and mode == "interrupt":
    time.sleep(0.3)
    os.write(fd, b"\x03")
    read_until(b"\x00", 5)  # until it exits
elif ok:
    time.sleep(0.3)  # the prompt flushes input typed before echo went off (TCSAFLUSH)
    os.write(fd, secret.encode() + b"\n")
    ok = read_until(b"== Done ==", 60)
    read_until(b"\x00", 2)
open(log, "wb").write(out)
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
if not ok:
    print("the terminal session did not get as far as expected", file=sys.stderr)
    sys.exit(1)
want = 130 if mode == "interrupt" else 0
if code != want:
    print(f"exit {code}, expected {want}", file=sys.stderr)
    sys.exit(1)
if secret.encode() in out or os.environ["MSECRET"].encode() in out:
    print("a password was echoed or printed on the terminal", file=sys.stderr)
    sys.exit(1)
if b"Home" not in out:
    print("the SSID answer was not echoed", file=sys.stderr)
    sys.exit(1)
if mode == "answer" and b"Tasmota answers on your LAN" not in out:
    print("no LAN confirmation on the screen", file=sys.stderr)
    sys.exit(1)
PY
}

drive interrupt || tfail "Ctrl-C at the password prompt (see $E2E_TMP/tty.interrupt)"
tas_no_secrets "$E2E_TMP/tty.interrupt"
pass "Ctrl-C at the hidden password question ends with 130, nothing sent"

drive answer || tfail "the terminal session failed (see $E2E_TMP/tty.answer)"
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || tfail "the sim exited $rc"
tas_report 'r["joined_lan"] and r["wifi_password"]["sha256_prefix"] == sha(W)[:8] and r["mqtt_host"] == "broker.lan"' \
    "the device did not get the typed password"
tas_no_secrets "$E2E_TMP/tty.answer" "$REPORT" "$SIM_OUT" "$SIM_LOG"
pass "SSID and password asked on the terminal, password never echoed, device on the LAN"
