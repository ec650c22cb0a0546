#!/usr/bin/env bash
# Story: the real walk-through, with the computer's addresses changing like WiFi switches do,
# in network namespaces this test creates. sonota runs WITHOUT --no-check-ip and without
# --serving-host: it picks its only home address, waits for 10.10.7.x (pairing AP), then for
# its home address again, then for 192.168.4.2 (FinalStage, after warning about .3), on the
# real ports 8080/8443 and the device's real addresses.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions
netns_require
PC="sonota-pc-$$"
DEV="sonota-dev-$$"
netns_new "$PC"
netns_new "$DEV"
ip link add fl0 netns "$PC" type veth peer name fl1 netns "$DEV" || fail "veth"
ip -n "$PC" link set fl0 up
ip -n "$DEV" link set fl1 up
ip -n "$PC" addr add 192.168.77.10/24 dev fl0   # home WiFi
ip -n "$DEV" addr add 10.10.7.1/24 dev fl1      # the device's pairing AP
flash_images 60000 90000

pc_addr() { # pc_addr OLD NEW: the computer switches networks
    [ -n "$1" ] && ip -n "$PC" addr del "$1" dev fl0
    ip -n "$PC" addr add "$2" dev fl0
}
dev_addr() {
    [ -n "$1" ] && ip -n "$DEV" addr del "$1" dev fl1
    ip -n "$DEV" addr add "$2" dev fl1
}
event() { grep -q -- "$1" "$OUT"; }

ip netns exec "$DEV" "$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --ap-addr 10.10.7.1 \
    --ap-port 80 --time-scale 0.05 --timeout 200 --dispatch-tries 20 --max-sessions 10 \
    --report "$E2E_TMP/sim-report.json" --log-file "$E2E_TMP/sim.log" >"$SIM_OUT" 2>&1 &
SIM_PID=$!
e2e_track "$SIM_PID"
dev_listening() { ip netns exec "$DEV" ss -ltnH "sport = :$1" | grep -q .; }
wait_for 30 dev_listening 80 || ffail "the sim's AP did not open"

SONOTA_WIFI_PASSWORD="$SECRET" ip netns exec "$PC" "$SONOTA" flash --wifi-ssid Home \
    --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 >"$OUT" 2>"$ERR" </dev/null &
SONOTA_PID=$!
e2e_track "$SONOTA_PID"

wait_for 60 event '"join-ap"' || ffail "no pairing guidance"
pc_addr 192.168.77.10/24 10.10.7.2/24                 # joined ITEAD-<id>
wait_for 30 event '"provisioned"' || ffail "not provisioned"
pc_addr 10.10.7.2/24 192.168.77.10/24                 # back home
dev_addr 10.10.7.1/24 192.168.77.20/24                # the device joined the home WiFi
wait_for 60 event '"stage":"final"' || ffail "the intermediate firmware was not delivered"
pc_addr 192.168.77.10/24 192.168.4.3/24               # a phone took .2 on FinalStage
dev_addr 192.168.77.20/24 192.168.4.1/24
wait_for 20 event '"final-address"' || ffail "no warning about 192.168.4.3"
pc_addr 192.168.4.3/24 192.168.4.2/24                 # the phone left; we got .2
rc=0
wait_pid 120 "$SONOTA_PID" || rc=$?
SONOTA_RC=$rc
flash_success
flash_expect 'e["event"] == "start" and e["servingIp"] == "192.168.77.10" and e["httpPort"] == 8080'
flash_expect 'e["event"] == "address" and e["kind"] == "ap" and e["ip"] == "10.10.7.2"'
flash_expect 'e["event"] == "address" and e["kind"] == "final-other" and e["ip"] == "192.168.4.3"'
flash_expect 'e["event"] == "provisioned" and e["serverName"] == "192.168.77.10" and e["port"] == 8443'
pass "address-driven walk-through in namespaces: flashed"
