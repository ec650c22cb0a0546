# netns_lib.sh - real networks for the `sonota flash` stories (issue 4). Source it; never
# run it. Builds two network namespaces joined by a veth pair: a "laptop" (sonota, its
# WiFi interface wlan0) and a "device" (sonoff-sim, interface ap0), and moves the laptop's
# link between the three networks of the stock flow exactly as WiFi switching does: link
# down, addresses gone, a gap, link up, a new address and default route (DHCP):
#   ap     the device's pairing AP ITEAD-<id>: device 10.10.7.1, laptop 10.10.7.2 (§1.2)
#   home   the home LAN: laptop 192.168.1.23 (the serving IP), device 192.168.1.50
#   final  FinalStage: device 192.168.4.1, laptop 192.168.4.2 (§4)
# sonota and sonoff-sim run with their real defaults (no address or port overrides) and
# ONLY inside these namespaces; nothing here touches the main namespace's addresses.
# Cleanup (lib.sh) kills what the story started and deletes the namespaces on any exit.
# Skips (77) where namespaces cannot be created.

. "$E2E_DIR/flash_lib.sh" || exit 1

HOME_LAP=192.168.1.23
HOME_DEV=192.168.1.50
HOME_GW=192.168.1.1
FLASH="$E2E_TMP/flash.bin"
SIM_N=0
RUN_N=0

# netns_setup: the two namespaces and the link; the laptop starts at home, the device in
# pairing mode (its AP up). Call after flash_require.
netns_setup() {
    netns_require
    LAP="sonota-lap-$$"
    DEV="sonota-dev-$$"
    netns_new "$LAP"
    netns_new "$DEV"
    ip link add wlan0 netns "$LAP" type veth peer name ap0 netns "$DEV" || fail "veth pair"
    ip -n "$DEV" link set ap0 up
    lap_join home 0
    dev_join ap
}

# Address and gateway of each network, for one side.
net_addr() { # net_addr SIDE NET
    case "$1:$2" in
    lap:ap) echo "10.10.7.2/24 10.10.7.1" ;;
    lap:home) echo "$HOME_LAP/24 $HOME_GW" ;;
    lap:final) echo "192.168.4.2/24 192.168.4.1" ;;
    dev:ap) echo "10.10.7.1/24 -" ;;
    dev:home) echo "$HOME_DEV/24 $HOME_GW" ;;
    dev:final) echo "192.168.4.1/24 -" ;;
    *) fail "net_addr $1 $2" ;;
    esac
}

# lap_leave: the laptop's WiFi disconnects: link down, every address gone.
lap_leave() {
    ip -n "$LAP" link set wlan0 down
    ip -n "$LAP" addr flush dev wlan0
}

# lap_join NET [GAP] [ADDR/24]: WiFi switch: leave, GAP seconds without any network
# (default 2), then associate and get the network's address (or ADDR, gateway .1) and
# default route.
lap_join() {
    local a gw
    read -r a gw <<<"$(net_addr lap "$1")"
    if [ -n "${3:-}" ]; then # another address: its network's .1 is the gateway
        a=$3
        gw="${3%.*}.1"
    fi
    lap_leave
    sleep "${2:-2}"
    ip -n "$LAP" link set wlan0 up
    ip -n "$LAP" addr add "$a" dev wlan0 || fail "addr add $a"
    ip -n "$LAP" route replace default via "$gw" dev wlan0 || fail "default route via $gw"
    echo "# laptop joined $1 ($a)"
}

# dev_join NET: the device's side moves (its AP, the home WiFi, FinalStage).
dev_join() {
    local a gw
    read -r a gw <<<"$(net_addr dev "$1")"
    ip -n "$DEV" addr flush dev ap0
    ip -n "$DEV" addr add "$a" dev ap0 || fail "dev addr add $a"
    [ "$gw" = - ] || ip -n "$DEV" route replace default via "$gw" dev ap0
    echo "# device on $1 ($a)"
}

# lap_flap SECONDS: the link goes down and comes back (addresses stay; the default
# route comes back as DHCP would restore it).
lap_flap() {
    local gw
    gw=$(ip -n "$LAP" route show default | awk '{print $3; exit}')
    ip -n "$LAP" link set wlan0 down
    sleep "$1"
    ip -n "$LAP" link set wlan0 up
    [ -n "$gw" ] && ip -n "$LAP" route replace default via "$gw" dev wlan0
    echo "# laptop link flapped for $1 s"
}

# lap_shape RATE: a slow WiFi (downloads from the laptop take seconds, like the real
# 35-55 KB/s of PROTOCOL.md §8). Skips when tc cannot shape here.
lap_shape() {
    ip netns exec "$LAP" tc qdisc replace dev wlan0 root tbf rate "$1" burst 8kb \
        latency 400ms 2>/dev/null || skip "tc tbf (traffic shaping) is not available here"
}

lap_listening() { ip netns exec "$LAP" ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
dev_listening() { ip netns exec "$DEV" ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
# The laptop's listening sockets as "addr:port" lines.
lap_listeners() { ip netns exec "$LAP" ss -ltnH 2>/dev/null | awk '{print $4}'; }

# start_sim [SIM-OPTION...]: (re)starts the device on the same flash file, in its
# namespace with the real addresses (a re-run is a power cycle: it boots what the flash
# holds). Sets SIM_PID, SIM_OUT (per start).
start_sim() {
    SIM_N=$((SIM_N + 1))
    SIM_OUT="$E2E_TMP/sim$SIM_N.out"
    ip netns exec "$DEV" "$SONOFF_SIM" --flash "$FLASH" --time-scale 0.05 --timeout 300 \
        --dispatch-tries 60 --max-sessions 30 --report "$E2E_TMP/sim$SIM_N.json" \
        --log-file "$E2E_TMP/sim$SIM_N.log" "$@" >"$SIM_OUT" 2>&1 &
    SIM_PID=$!
    e2e_track "$SIM_PID"
    echo "# sim #$SIM_N: $*"
}

# run_sonota: sonota as a user runs it, always with this same command line (real
# defaults; the password from the environment). Sets SONOTA_PID, OUT, ERR, SLOG (per run).
run_sonota() {
    RUN_N=$((RUN_N + 1))
    OUT="$E2E_TMP/sonota$RUN_N.json"
    ERR="$E2E_TMP/sonota$RUN_N.err"
    SLOG="$E2E_TMP/sonota$RUN_N.log"
    SONOTA_WIFI_PASSWORD="$SECRET" XDG_STATE_HOME="$XDG_STATE_HOME" \
        ip netns exec "$LAP" "$SONOTA" flash --wifi-ssid Home --firmware-dir "$FW" --json \
        --log "$SLOG" --timeout 240 "$@" >"$OUT" 2>"$ERR" </dev/null &
    SONOTA_PID=$!
    e2e_track "$SONOTA_PID"
    echo "# sonota run #$RUN_N"
}

# event PATTERN: the current run's output has a line with this text.
event() { grep -q -- "$1" "$OUT"; }
# wait_event SECONDS PATTERN [WHAT]
wait_event() { wait_for "$1" event "$2" || ffail "${3:-no event matching $2}"; }

# sonota_exit SECONDS: waits for the current run; sets SONOTA_RC.
sonota_exit() {
    SONOTA_RC=0
    wait_pid "$1" "$SONOTA_PID" 2>/dev/null || SONOTA_RC=$?
}

# sim_exit SECONDS: waits for the current sim; sets SIM_RC.
sim_exit() {
    SIM_RC=0
    wait_pid "$1" "$SIM_PID" || SIM_RC=$?
}

# assert_bound: no listener of the laptop on 0.0.0.0 or *: sonota binds to the addresses
# the stages need (docs/DESIGN.md).
assert_bound() {
    local l
    l=$(lap_listeners)
    if printf '%s\n' "$l" | grep -Eq '^(0\.0\.0\.0|\*|\[::\]):'; then
        ffail "sonota listens on every interface: $(echo "$l" | tr '\n' ' ')"
    fi
}

# final_in_flash: the sim's last run exited 0 and reported the final image booting.
final_in_flash() {
    [ "$SIM_RC" -eq 0 ] || ffail "the sim exited $SIM_RC (its flash does not boot the final image)"
    grep -q "sonoff-sim: OK" "$SIM_OUT" || ffail "the sim did not report the final image"
}

STATE_FILE="$XDG_STATE_HOME/sonota/flash-state.json"

# On failure: the end of every run's output and of every sim start.
flash_dump() {
    local f
    for f in "$E2E_TMP"/sonota*.json "$E2E_TMP"/sonota*.err "$E2E_TMP"/sim*.out \
             "$E2E_TMP"/sim*.log; do
        [ -f "$f" ] || continue
        echo "---- $(basename "$f") (last 25 lines)" >&2
        tail -n 25 "$f" >&2
    done
}
