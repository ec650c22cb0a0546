#!/usr/bin/env bash
# Story: the whole job in one run. A Basic on stock 1.5.5 goes through provisioning, the
# fake cloud and FinalStage; the final image boots as Tasmota, opens its WiFi manager AP,
# and the same `sonota flash` run gives it MQTT settings, a host name and the home WiFi
# (the password from stage 1, never typed twice), then sees it answer on the home LAN.
# Passwords (WiFi and MQTT, raw and URL-encoded) appear in no output, log or report.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --tasmota-lan-addr
"$SONOTA" flash --help | grep -q -- --mqtt-host || skip "sonota flash lacks --mqtt-host"
flash_images 239220 482432
flash_ports
read -r TAS_PORT LAN_PORT <<<"$(free_ports 2)"
[ -n "$LAN_PORT" ] || fail "no free ports"
LAN_ADDR=127.0.0.2
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.2', $LAN_PORT))" 2>/dev/null ||
    LAN_ADDR=127.0.0.1
MQTT_SECRET="mq pw/?#$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"

flash_sim --slot 1 --tasmota --tasmota-addr 127.0.0.1 --tasmota-port "$TAS_PORT" \
    --tasmota-lan-addr "$LAN_ADDR" --tasmota-lan-port "$LAN_PORT" --linger 2
SONOTA_MQTT_PASSWORD="$MQTT_SECRET" flash_sonota --configure-device "127.0.0.1:$TAS_PORT" \
    --mqtt-host broker.lan --mqtt-user bob --topic lamp --hostname lamp-1 \
    --tasmota-backlog "SetOption19 1" --lan-check "$LAN_ADDR:$LAN_PORT"
flash_success
flash_expect 'e["event"] == "stage" and e["stage"] == "configure"' "no configure stage"
flash_expect 'e["event"] == "action" and e["action"] == "join-tasmota"' \
    "the user was not told to join the new firmware's WiFi"
python3 - "$OUT" <<'PY' || ffail "the events are not in the expected order"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
names = [(e["event"], e.get("stage") or e.get("action") or e.get("what") or "") for e in ev]
want = [("stage", "provision"), ("stage", "cloud"), ("stage", "final"),
        ("download", ""), ("stage", "configure"), ("action", "join-tasmota"),
        ("configured", "backlog"), ("configured", "wifi"), ("lan", ""), ("done", "")]
it = iter(names)
assert all(any(n[0] == w[0] and (not w[1] or n[1] == w[1]) for n in it) for w in want), names
d = ev[-1]
assert d["event"] == "done", d
c = d["configure"]
assert c and c["wifi"] is True and c["ssid"] == "Home" and c["mqttHost"] == "broker.lan", c
assert c["hostname"] == "lamp-1" and c["lan"] and c["tasmota"].startswith("9."), c
assert d["stages"]["configure"] is not None and d["stages"]["final"] is not None, d
PY
python3 - "$E2E_TMP/sim-report.json" "$SECRET" "$MQTT_SECRET" <<'PY' ||
import hashlib, json, sys
R = json.load(open(sys.argv[1]))
r = R["tasmota"]
sha = lambda s: hashlib.sha256(s.encode()).hexdigest()
assert r["joined_lan"] and r["ssid"] == "Home" and r["hostname"] == "lamp-1", r
assert r["mqtt_host"] == "broker.lan" and r["mqtt_user"] == "bob" and r["topic"] == "lamp", r
assert r["wifi_password"]["sha256_prefix"] == sha(sys.argv[2])[:8], r
assert r["mqtt_password"]["sha256_prefix"] == sha(sys.argv[3])[:8], r
assert r["commands"].index("SetOption19 1") < r["commands"].index("MqttHost broker.lan"), r
PY
    ffail "the device does not hold the settings (see the sim report)"
for s in "$MQTT_SECRET" "$SECRET"; do
    enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="-._~"))' "$s")
    assert_no_secret "$s" "$OUT" "$ERR" "$SLOG" "$SIM_OUT" "$E2E_TMP/sim.log" \
        "$E2E_TMP/sim-report.json"
    assert_no_secret "$enc" "$OUT" "$ERR" "$SLOG" "$SIM_OUT" "$E2E_TMP/sim.log"
done

# A configure option that cannot work is refused before anything is sent.
rc=0
"$SONOTA" flash --firmware-dir "$FW" --no-check-ip --topic "a/b" >/dev/null 2>"$E2E_TMP/bad.err" ||
    rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--topic" "$E2E_TMP/bad.err" || fail "a bad --topic got exit $rc"
pass "stock 1.5.5 to Tasmota on the home LAN with MQTT set, in one sonota flash run"
