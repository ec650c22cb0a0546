#!/usr/bin/env bash
# Story: `sonota diy flash tasmota-lite.bin` frees a stock 3.x device in DIY mode: it finds
# the device by mDNS, reads info, unlocks OTA, serves the image itself (4 KiB Range
# requests, Host: dl.itead.cn, optionally 'Content-Range: bytes='), shows progress, and
# says "done" only after the device has downloaded every byte and come back as Tasmota -
# on the LAN, or at its WiFi AP 192.168.4.1 (PROTOCOL.md §6, §7). The simulated device
# writes the image at 0x0 of its flash and boots it; its report proves what it boots.
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/diy_lib.sh" || exit 1
diy_require

# report_final: the sim exited 0 and its flash boots exactly our image.
report_final() {
    [ "$SIM_RC" -eq 0 ] || { cat "$T/$SIM_NAME.out" >&2; fail "$1: the sim did not end flashed"; }
    python3 - "$T/$SIM_NAME.json" "$SHA" <<'PY' || fail "$1: sim report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["final_ok"] is True, r
assert r["final_sha256"] == sys.argv[2], (r["final_sha256"], sys.argv[2])
assert r["final_len"] == 480000, r["final_len"]
PY
}

# ---- 1. v2.0 fw 3.6.0, locked, found by mDNS; Tasmota comes back on the LAN ----
start_sim lan --device-id 1000cc0001 --linger 3 --after-flash lan
diy flash "$T/diy.bin" --http-port 0 --wait 60
expect_rc 0 "flash (LAN)"
expect_out "image $T/diy.bin: 480000 bytes, DOUT, sha256 $SHA" "image line"
expect_out "OTA unlocked" "unlocked on the way"
expect_out "the device accepted ota_flash" "ota_flash accepted"
expect_out "   50%" "progress"
expect_out "100%  the device has all 480000 bytes" "download complete"
expect_out "done: the device runs Tasmota 9.2.0(sim) at http://$DEV_IP/ on the LAN" "done line"
[ "$(grep -n '100%' "$OUT" | cut -d: -f1)" -lt "$(grep -n '^done:' "$OUT" | cut -d: -f1)" ] ||
    fail "done printed before the download finished"
sim_log "ota_flash: downloadUrl http://$LAP_IP:" || fail "download URL not on the laptop address"
sim_log "sha256sum $SHA" || fail "the sha256 sent is not the file's lowercase digest"
[ "$(grep -cE 'diy: GET /ota/diy.bin bytes=[0-9]+-[0-9]+ Host: dl.itead.cn$' "$T/lan.log")" -eq 118 ] || fail "expected 118 4 KiB Range requests with Host: dl.itead.cn"
sim_log "GET /ota/diy.bin bytes=479232-479999 Host: dl.itead.cn" || fail "last chunk"
sim_log "first reply: Content-Range: bytes 0-4095/480000" || fail "standard Content-Range"
if [ "${E2E_PLATFORM:-}" = windows ]; then
    # Known open item (docs/TESTING.md "Other platforms"): under Wine the result POST's
    # connection is accepted but its request may never be read; the flash completes.
    sim_log "result 0 posted to /api/device/otaFlash: HTTP 200" ||
        echo "note: under Wine the device's result POST went unanswered (known)"
else
    sim_log "result 0 posted to /api/device/otaFlash: HTTP 200" || fail "result POST not answered"
fi
sim_log "SHA-256 ok, written at 0x0" || fail "image not written"
sim_log "tasmota: GET /cm?cmnd=Status%202" || fail "sonota did not ask Tasmota"
no_spacing_violation
wait_sim 30
report_final "LAN"
pass "v2.0 device: unlocked, 118 Range requests (Host dl.itead.cn), SHA-256 ok, back as Tasmota on the LAN"

# ---- 2. v1.4 fw 3.3.0 by address, already unlocked, 'bytes=' form; Tasmota's AP ----
ip -n "$DEV" addr add 192.168.4.1/24 dev dd$$     # the AP Tasmota will open
ip -n "$LAP" addr add 192.168.4.2/24 dev dl$$     # the laptop joined it
start_sim ap --diy-proto 1.4 --unlocked --linger 3 --no-mdns   # default: Tasmota's own AP
diy flash "$T/diy.bin" --device "$DEV_IP" --http-port 0 --content-range-equals --wait 60 \
    --browse-time 1
expect_rc 0 "flash (AP)"
expect_out "protocol   v1.4" "v1.4 device"
grep -q "unlocking" "$OUT" && fail "unlocked an unlocked device"
expect_out "(Content-Range: bytes=...)" "equals form announced"
expect_out "its WiFi AP answers at http://192.168.4.1/" "done at the AP"
expect_out "Join that WiFi with this computer and sonota finds it at http://192.168.4.1/" \
    "the waiting banner does not send the user to Tasmota's WiFi"
expect_out "done: the device runs Tasmota 9.2.0(sim)" "version from Status 2 (StatusFWR)"
sim_log "first reply: Content-Range: bytes=0-4095/480000" || fail "'bytes=' form not sent"
sim_log "Host: $LAP_IP:" || fail "fw 3.3.0 sends the URL's host"
wait_sim 30
report_final "AP"
pass "v1.4 device: 'Content-Range: bytes=' accepted, back as Tasmota at its AP 192.168.4.1"
ip -n "$DEV" addr del 192.168.4.1/24 dev dd$$
ip -n "$LAP" addr del 192.168.4.2/24 dev dl$$

# ---- 3. ota_flash answered only after the whole download; then an "Empty reply" ----
start_sim full --diy-reply full --unlocked --linger 2 --device-id 1000cc0003 --after-flash lan
diy flash "$T/diy.bin" --device 1000cc0003 --bind "$LAP_IP" --http-port 0 --wait 60
expect_rc 0 "flash (reply after the download)"
expect_out "serving the image at http://$LAP_IP:" "--bind serves from that address"
expect_out "100%  the device has all 480000 bytes" "download complete (full)"
wait_sim 30
report_final "full"
start_sim empty --fault empty-reply --unlocked --linger 2 --device-id 1000cc0004 \
    --after-flash lan
diy flash "$T/diy.bin" --device 1000cc0004 --http-port 0 --wait 60
expect_rc 0 "flash (empty reply)"
expect_err "closed the connection without answering ota_flash" "empty reply warning"
expect_out "done: the device runs Tasmota" "done after an empty reply"
wait_sim 30
report_final "empty reply"
pass "reply after the whole download, and ota_flash's 'Empty reply' (ID#95), both end flashed"

# ---- 4. the device never comes back: no false success ----
start_sim gone --unlocked --tasmota-port 8099 --linger 1 --device-id 1000cc0005 \
    --after-flash lan
diy flash "$T/diy.bin" --device 1000cc0005 --http-port 0 --wait 4
expect_rc 1 "flash without reappearance"
expect_out "100%  the device has all 480000 bytes" "download complete (gone)"
expect_err "did not come back within 4 s" "no reappearance message"
grep -q "^done" "$OUT" && fail "claimed success"
stop_sim
pass "a device that does not come back (Tasmota elsewhere) is not reported as done"


# ---- 5. someone else on the LAN fetches the image and POSTs a result: not the device ----
start_sim stranger --unlocked --linger 2 --device-id 1000cc0006 --after-flash lan
port=18$((RANDOM % 900 + 100))
( for _ in $(seq 1 100); do      # bounded: at most 100 tries, 10 s
      ip netns exec "$LAP" curl -s -m 2 -o /dev/null "http://$LAP_IP:$port/ota/diy.bin" &&
          ip netns exec "$LAP" curl -s -m 2 -o /dev/null -d '{"error":471}' \
              "http://$LAP_IP:$port/api/device/otaFlash" && break
      sleep 0.1
  done ) &
stranger=$!
diy flash "$T/diy.bin" --device 1000cc0006 --http-port "$port" --wait 60
wait "$stranger"
expect_rc 0 "flash with a stranger fetching the image"
expect_err "$LAP_IP is not the device ($DEV_IP)" "the stranger's requests are not the device's"
[ "$(grep -c '100%  the device has all' "$OUT")" -eq 1 ] || fail "download done counted twice"
expect_out "done: the device runs Tasmota" "done after the device's own download"
wait_sim 30
report_final "stranger"
pass "a stranger's download and result POST move nothing; the device is flashed"
