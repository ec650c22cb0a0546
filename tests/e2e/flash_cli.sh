#!/usr/bin/env bash
# Story: scripted runs never hang on a question: without a terminal, missing answers are
# errors that name the flag; bad options are usage errors (exit 2).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require_sonota
flash_images 40000 60000
flash_ports
out=$("$SONOTA" flash --help) || fail "--help failed"
for f in --serving-host --wifi-password SONOTA_WIFI_PASSWORD --no-prov --legacy --pace --force; do
    printf '%s' "$out" | grep -q -- "$f" || fail "--help lacks $f"
done
pass "--help"

rc=0
"$SONOTA" flash --http-port 0 --firmware-dir "$FW" >/dev/null 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--http-port" "$ERR" || fail "bad port: exit $rc"
rc=0
"$SONOTA" flash --pace warp --firmware-dir "$FW" >/dev/null 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "bad pace: exit $rc"
rc=0
"$SONOTA" flash --serving-host 127.0.0.1 >/dev/null 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--firmware-dir" "$ERR" || fail "no firmware: exit $rc"
pass "usage errors exit 2 and name the option"

# No password, no terminal: a clear error naming the ways to give one, and no device contact.
rc=0
env -u SONOTA_WIFI_PASSWORD timeout 20 "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" \
    --serving-host 127.0.0.1 --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" \
    --wifi-ssid Home --firmware-dir "$FW" --json >"$OUT" 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 2 ] || ffail "missing password: expected exit 2, got $rc"
flash_expect 'e["event"] == "error" and "SONOTA_WIFI_PASSWORD" in e["message"]'
flash_expect_none 'e["event"] == "stage"'
rc=0
timeout 20 "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
    --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-password "$SECRET" \
    --firmware-dir "$FW" --json >"$OUT" 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 2 ] || ffail "missing SSID: expected exit 2, got $rc"
flash_expect 'e["event"] == "error" and "--wifi-ssid" in e["message"]'
assert_no_secret "$SECRET" "$OUT" "$ERR"
pass "missing answers without a terminal: exit 2 naming the flag"

# A port already taken: a network error (exit 5) before the device is touched.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); time.sleep(30)' \
    "$HTTPS_PORT" &
e2e_track $!
wait_for 30 port_listening "$HTTPS_PORT" || fail "blocker did not start"
rc=0
timeout 20 "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" --serving-host 127.0.0.1 \
    --no-check-ip --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --wifi-ssid Home \
    --wifi-password "$SECRET" --firmware-dir "$FW" --json >"$OUT" 2>"$ERR" </dev/null || rc=$?
[ "$rc" -eq 5 ] || ffail "port in use: expected exit 5, got $rc"
flash_expect 'e["event"] == "error" and e["code"] == "server"'
flash_expect_none 'e["event"] == "stage"'
pass "port in use: exit 5 before touching the device"
