#!/usr/bin/env bash
# Story: a freshly flashed device runs Tasmota and opens its WiFi manager AP. `sonota
# configure` sends the user's Backlog and the MQTT settings first, waits for the restart,
# then the home WiFi, and finds the device on the home LAN. Then the same with Tasmota 5.x
# (only the /sv forms), a WiFi the device cannot join, a device that is not there, and bad
# values. Passwords (raw or URL-encoded) never appear in any output, log or report.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/tasmota_lib.sh" || exit 1
tas_require
tas_flash
cp "$E2E_TMP/flash.bin" "$E2E_TMP/flash.fresh"

# ---- 1. modern Tasmota: Backlog (user's commands first), /wi, LAN check ----
tas_ports
tas_sim --tasmota-home-ssid Home
# The simulator decodes queries strictly: a bad escape is a 400.
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' \
       "http://127.0.0.1:$AP_PORT/cm?cmnd=Status%2")
[ "$code" = 400 ] || tfail "a bad %XX escape got HTTP $code, not 400"
tas_configure --mqtt-host broker.lan --mqtt-user bob --topic lamp --hostname lamp-1 \
    --tasmota-backlog "Backlog SetOption19 1;" --lan-check "$LAN_ADDR:$LAN_PORT" --json -v
[ "$RC" -eq 0 ] || tfail "sonota configure exited $RC"
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || tfail "the sim exited $rc (Tasmota did not end on the LAN)"
python3 - "$OUT" <<'PY' || tfail "stdout is not the expected JSON events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
names = [e["event"] for e in ev]
assert all(isinstance(e.get("t"), (int, float)) for e in ev), ev
order = ["configure", "action", "tasmota", "configured", "configured", "action", "lan", "done"]
it = iter(names)
assert all(n in it for n in order), names          # in this order
acts = [e["action"] for e in ev if e["event"] == "action"]
assert acts == ["join-tasmota", "reconnect-home"], acts
conf = [e["what"] for e in ev if e["event"] == "configured"]
assert conf == ["backlog", "wifi"], conf
bl = next(e for e in ev if e["event"] == "configured")
assert bl["commands"] == 6 and "MqttPassword ***" in bl["message"], bl
t = next(e for e in ev if e["event"] == "tasmota")
assert t["version"].startswith("9.2.0") and t["legacy"] is False, t
d = ev[-1]
assert d["event"] == "done" and d["wifi"] is True and d["lan"] and d["backlogCommands"] == 6, d
PY
tas_report 'r["joined_lan"] and r["ssid"] == "Home" and r["hostname"] == "lamp-1"' \
    "the device did not end on the home LAN with its hostname"
tas_report 'r["mqtt_host"] == "broker.lan" and r["mqtt_user"] == "bob" and r["topic"] == "lamp"' \
    "the MQTT settings are not in the device"
tas_report 'r["wifi_password"]["sha256_prefix"] == sha(W)[:8] and r["wifi_password"]["length"] == len(W)' \
    "the device got another WiFi password"
tas_report 'r["mqtt_password"]["sha256_prefix"] == sha(M)[:8] and r["mqtt_password"]["length"] == len(M)' \
    "the device got another MQTT password"
tas_report 'r["commands"].index("SetOption19 1") < r["commands"].index("MqttHost broker.lan")' \
    "the user's Backlog did not run first"
tas_report 'r["restarts"] >= 2 and r["lan_requests"] >= 1 and r["bad_requests"] == 1' \
    "restarts, LAN check or the 400 are missing from the report"
tas_report '[q["path"] for q in r["requests"] if q["status"] == 200].count("/wi") == 1' \
    "the WiFi form was not sent exactly once"
mode_is "$CLOG" 600 || tfail "the --log file is not 0600"
grep -q 'p1=\*\*\*' "$CLOG" || tfail "the log does not show the masked /wi request"
tas_no_secrets "$OUT" "$ERR" "$CLOG" "$REPORT" "$SIM_OUT" "$SIM_LOG" "$E2E_TMP/flash.bin"
pass "modern Tasmota: Backlog first, restart awaited, /wi, seen on the LAN; no password shown"

# A second run on the same flash: the settings were saved, the device joins the LAN at boot.
tas_ports
"$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --tasmota --tasmota-addr 127.0.0.1 \
    --tasmota-port "$AP_PORT" --tasmota-lan-addr "$LAN_ADDR" --tasmota-lan-port "$LAN_PORT" \
    --tasmota-home-ssid Home --time-scale 0.05 --timeout 30 --linger 1 --report "$REPORT" \
    >"$SIM_OUT" 2>&1 || tfail "the configured device did not come up on the LAN again"
tas_report 'r["joined_lan"] and r["boot_count"] == 4 and r["topic"] == "lamp" and r["ap_requests"] == 0' \
    "the settings did not survive in the emulated flash"
pass "settings persist in the emulated flash: the next boot joins the LAN directly"

# ---- 2. Tasmota 5.x: no /cm, no /wi: the /sv forms (MQTT, then WiFi) ----
cp "$E2E_TMP/flash.fresh" "$E2E_TMP/flash.bin"
tas_ports
tas_sim --tasmota-version 5.14.0 --tasmota-home-ssid Home
tas_configure --mqtt-host 10.0.0.5 --mqtt-user bob --topic lamp5 --hostname lamp-5 \
    --tasmota-backlog "SetOption19 1" --lan-check "$LAN_ADDR:$LAN_PORT" --json
[ "$RC" -eq 0 ] || tfail "sonota configure (5.x) exited $RC"
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 0 ] || tfail "the 5.x sim exited $rc"
python3 - "$OUT" <<'PY' || tfail "the 5.x events are wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
t = next(e for e in ev if e["event"] == "tasmota")
assert t["legacy"] is True, t
assert [e["what"] for e in ev if e["event"] == "configured"] == ["mqtt", "wifi"]
assert any(e["event"] == "warning" and e["code"] == "backlog-skipped" for e in ev)
assert ev[-1]["event"] == "done" and ev[-1]["legacy"] is True
PY
tas_report 'r["version"] == "5.14.0" and r["joined_lan"] and r["ssid"] == "Home" and r["hostname"] == "lamp-5"' \
    "5.x: WiFi or hostname not set"
tas_report 'r["mqtt_host"] == "10.0.0.5" and r["mqtt_user"] == "bob" and r["topic"] == "lamp5"' \
    "5.x: MQTT settings not set"
tas_report 'r["mqtt_password"]["sha256_prefix"] == sha(M)[:8] and r["wifi_password"]["sha256_prefix"] == sha(W)[:8]' \
    "5.x: a password did not arrive"
tas_report 'r["commands"] == ["/sv w=2", "/sv w=1"] and r["restarts"] == 1' \
    "5.x: expected the MQTT form then the WiFi form, and one restart"
tas_no_secrets "$OUT" "$ERR" "$CLOG" "$REPORT" "$SIM_OUT" "$SIM_LOG"
pass "Tasmota 5.x: /sv?w=2 (no restart) then /sv?w=1, on the LAN; Backlog skipped with a warning"

# ---- 3. the device cannot join the WiFi (wrong password): the LAN check fails, exit 5 ----
cp "$E2E_TMP/flash.fresh" "$E2E_TMP/flash.bin"
tas_ports
other=$(printf 'not-the-password' | sha256sum | cut -d' ' -f1)
tas_sim --tasmota-home-ssid Home --tasmota-home-psk-sha256 "$other" --timeout 20
tas_configure --topic lamp --lan-check "$LAN_ADDR:$LAN_PORT" --json --timeout 8
[ "$RC" -eq 5 ] || tfail "a device that never joins: exit $RC, not 5"
python3 - "$OUT" <<'PY' || tfail "no lan-check error event"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
e = ev[-1]
assert e["event"] == "error" and e["exit"] == 5 and e["code"] in ("lan-check", "timeout"), e
assert "Home" in e["message"], e
PY
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 1 ] || tfail "the sim should fail (never joined), exited $rc"
tas_report 'not r["joined_lan"] and r["wifi_failures"] >= 1 and r["topic"] == "lamp"' \
    "the sim should record the failed WiFi test"
tas_no_secrets "$OUT" "$ERR" "$CLOG" "$REPORT" "$SIM_OUT" "$SIM_LOG"
pass "a WiFi the device cannot join: the AP stays, sonota gives up with exit 5"

# ---- 4. nothing there, bad values ----
read -r DEAD <<<"$(free_ports 1)"
SONOTA_WIFI_PASSWORD="$WSECRET" timeout 30 "$SONOTA" configure --device "127.0.0.1:$DEAD" \
    --wifi-ssid Home --timeout 2 --json >"$OUT" 2>"$ERR" </dev/null
rc=$?
[ "$rc" -eq 5 ] || tfail "no device: exit $rc, not 5"
grep -q '"event":"error"' "$OUT" || tfail "no device: no error event"
for bad in "--topic a/b" "--mqtt-host 1" "--hostname x;y" "--device ftp://x" "--lan-check a/b" \
           "--tasmota-backlog Power;Backlog"; do
    # shellcheck disable=SC2086
    SONOTA_WIFI_PASSWORD="$WSECRET" "$SONOTA" configure --wifi-ssid Home $bad \
        >"$OUT" 2>"$ERR" </dev/null
    rc=$?
    [ "$rc" -eq 2 ] || tfail "'$bad': exit $rc, not 2"
    [ -s "$ERR" ] || tfail "'$bad': no message"
done
"$SONOTA" configure --wifi-ssid Home --wifi-password short >"$OUT" 2>"$ERR" </dev/null
[ $? -eq 2 ] || tfail "a 5-character WiFi password must be refused (Tasmota keeps the old one)"
"$SONOTA" configure --device "http://127.0.0.1:$DEAD" >"$OUT" 2>"$ERR" </dev/null
[ $? -eq 2 ] && grep -q -- --wifi-ssid "$ERR" || tfail "no SSID and no terminal: exit 2 naming --wifi-ssid"
tas_no_secrets "$OUT" "$ERR"
pass "no device: exit 5; bad values and missing answers: exit 2 before anything is sent"
