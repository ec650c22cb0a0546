#!/usr/bin/env bash
# `make demo`: the whole job against the built-in simulator, on loopback: the stock-firmware
# flow, then Tasmota's first boot configured with the home WiFi and MQTT.
# Exits 0 only if the simulator's emulated flash ends holding the final image and the
# simulated Tasmota joined the home WiFi with the settings.
# usage: scripts/demo.sh BUILD_DIR   (relative to the source tree, or absolute)
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build="$top/$build" ;; esac # absolute (tests) or under the top
sonota="$build/src/sonota/sonota"
sim="$build/src/sim/sonoff-sim"
work=$(mktemp -d "${TMPDIR:-/tmp}/sonota-demo.XXXXXX")
sim_pid=""
cleanup() {
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Free loopback ports, so the demo never collides with something already listening.
read -r ap_port http_port https_port tas_port lan_port < <(python3 - <<'PY'
import socket
socks = []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)

# Bold headings only on a terminal, and never with NO_COLOR (https://no-color.org):
# `make demo 2>&1 | cat` or a log file must not get raw escape codes.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi

say "1. Generating test images (real users pass their own Tasmota/intermediate files)"
mkdir -p "$work/fw"
"$sonota" image make-test --kind user1 "$work/fw/image_user1-0x01000.bin" || exit 1
"$sonota" image make-test --kind user2 "$work/fw/image_user2-0x81000.bin" || exit 1
"$sonota" image make-test --kind final "$work/fw/image_arduino.bin" || exit 1
"$sonota" image info "$work/fw/image_user1-0x01000.bin" "$work/fw/image_arduino.bin" || exit 1

say "2. Starting the simulated Sonoff (stock firmware 1.5.5, AP mode on 127.0.0.1:$ap_port)"
"$sim" --ap-addr 127.0.0.1 --ap-port "$ap_port" \
       --final-host 127.0.0.1 --final-port "$http_port" \
       --flash "$work/flash.bin" --time-scale 0.05 --timeout 120 \
       --tasmota --tasmota-addr 127.0.0.1 --tasmota-port "$tas_port" \
       --tasmota-lan-addr 127.0.0.1 --tasmota-lan-port "$lan_port" --linger 1 \
       --report "$work/sim-report.json" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!

say "3. Running sonota flash against it (what a user sees)"
export SONOTA_WIFI_PASSWORD="demo-password-not-shown"
"$sonota" flash --device "http://127.0.0.1:$ap_port" --serving-host 127.0.0.1 --no-check-ip \
    --http-port "$http_port" --https-port "$https_port" --wifi-ssid DemoHome \
    --firmware-dir "$work/fw" --timeout 120 \
    --configure-device "127.0.0.1:$tas_port" --mqtt-host broker.demo --topic demo-plug \
    --lan-check "127.0.0.1:$lan_port"
sonota_rc=$?

wait "$sim_pid"
sim_rc=$?
sim_pid=""
say "4. What the simulated device's flash holds now"
cat "$work/sim.out"
if [ "$sonota_rc" -eq 0 ] && [ "$sim_rc" -eq 0 ]; then
    say "Demo succeeded: the emulated flash boots the final image, and Tasmota is on the home WiFi."
    exit 0
fi
echo "demo FAILED: sonota exit $sonota_rc, simulator exit $sim_rc" >&2
echo "--- simulator log ---" >&2
tail -n 30 "$work/sim.err" >&2
exit 1
