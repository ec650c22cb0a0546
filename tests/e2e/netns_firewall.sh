#!/usr/bin/env bash
# Story: a local firewall drops the device's connections (PROTOCOL.md §8: the classic
# "stuck before FinalStage"). In the laptop's namespace a rule drops TCP 8443: sonota
# warns at start, naming the rule and a command that opens the port; the device cannot
# get through until the test runs exactly that command. Before FinalStage the chain policy
# becomes drop: joining FinalStage brings a second warning for 8080 and its fix.
# Uses nft (or iptables without nft); skips when neither exists.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/netns_lib.sh" || exit 1
flash_require --dispatch-tries --max-sessions --no-ap --server
if command -v nft >/dev/null; then
    TOOL=nft
elif command -v iptables >/dev/null; then
    TOOL=iptables
else
    skip "neither nft nor iptables is installed: no firewall to test against"
fi
netns_setup
flash_images 60000 90000
fw() { ip netns exec "$LAP" "$@" || fail "firewall setup: $*"; }
if [ "$TOOL" = nft ]; then
    fw nft add table inet lapfw
    fw nft add chain inet lapfw input '{ type filter hook input priority 0; policy accept; }'
    fw nft add rule inet lapfw input ct state established,related accept
    fw nft add rule inet lapfw input tcp dport 8443 drop
else
    fw iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    fw iptables -A INPUT -p tcp --dport 8443 -j DROP
fi
# apply_fix PORT: runs the fix sonota suggested for PORT (without sudo), in the laptop.
apply_fix() {
    local fix
    fix=$(python3 - "$OUT" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("code") == "firewall" and sys.argv[2] in e["ports"].split(", "):
        print(e["fix"])
        break
PY
)
    [ -n "$fix" ] || ffail "no firewall warning with a fix for port $1"
    echo "# applying the suggested fix: $fix"
    local -a cmd
    read -ra cmd <<<"${fix#sudo }"
    ip netns exec "$LAP" "${cmd[@]}" || ffail "the suggested fix failed: $fix"
}

dev_join home                               # a device provisioned earlier, calling home
start_sim --no-ap --server "$HOME_LAP:8443"
run_sonota --no-prov
wait_event 20 '"code":"firewall"' "no firewall warning"
flash_expect 'e["event"] == "warning" and e["code"] == "firewall" and e["ports"] == "8443" and "8443" in e["rule"] and e["fix"].startswith("sudo ")'
sleep 6
event '"source":"dispatch"' && ffail "the device got through the firewall's drop rule"
apply_fix 8443
wait_event 60 '"source":"dispatch"' "the device did not get through after the fix"
wait_event 60 '"stage":"final"' "the intermediate firmware was not delivered"
pass "TCP 8443 dropped: warned with the rule and a fix that works"

if [ "$TOOL" = nft ]; then                  # FinalStage comes with a stricter policy
    fw nft add chain inet lapfw input '{ policy drop; }'
else
    fw iptables -P INPUT DROP
fi
dev_join final
lap_join final 1
wait_for 20 python3 -c '
import json, sys
sys.exit(0 if any(e.get("code") == "firewall" and e["ports"] == "8080"
                  for e in map(json.loads, open(sys.argv[1]))) else 1)' "$OUT" ||
    ffail "no firewall warning for 8080 on FinalStage"
flash_expect 'e["event"] == "warning" and e["code"] == "firewall" and e["ports"] == "8080" and "drop" in e["rule"].lower()'
apply_fix 8080
sonota_exit 120
flash_success
SIM_RC=0
final_in_flash
pass "FinalStage policy drop: warned for 8080 with a fix that works; final image in flash"
