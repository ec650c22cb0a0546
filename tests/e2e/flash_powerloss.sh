#!/usr/bin/env bash
# Story: the device loses power in the middle of each download (issue 6): the stock
# firmware's OTA download, the intermediate firmware's user2 self-copy (rom2) and the final
# image. The cut point is a random file byte (PL_SEED=<seed> replays a run; PL_STOCK_AT,
# PL_ROM2_AT, PL_FINAL_AT=<byte> pick one). After the cut the flash must still boot what
# the real boot ROM/bootloader would boot (PROTOCOL.md §1.5, §4, §5), sonota must say what
# happened and what to do, as far as its server can see it; the user stops sonota (Ctrl-C),
# powers the device up again (the sim restarts on the same flash file) and reruns the
# command as sonota's hint says: the run ends with the final image whenever the flash
# allows it. A cut while the intermediate firmware rewrites the first 4 KiB (eboot) bricks
# the device, and the sim must say so (fixed case at the end).
. "${E2E_DIR:?E2E_DIR must point at tests/e2e}/flash_lib.sh" || exit 1
flash_require --fault --slot --no-ap
"$SONOFF_SIM" --help 2>&1 | grep -q 'power-loss=WHICH:N' || skip "sonoff-sim lacks --fault power-loss"
flash_images 60000 480000   # a final image larger than loopback socket buffers absorb at once

SEED=${PL_SEED:-$RANDOM}
RANDOM=$SEED
echo "# seed $SEED (replay: PL_SEED=$SEED)"

# eboot's end in the final image (v1 image: header, segments, checksum block): a cut that
# leaves fewer bytes than this at 0x0 leaves no bootable loader.
EBOOT_END=$(python3 - "$FW/image_arduino.bin" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
p = 8
for _ in range(b[1]):
    p += 8 + struct.unpack_from("<I", b, p + 4)[0]
print((p + 1 + 15) // 16 * 16)
PY
) || fail "cannot parse the final image"

# The sonota command of flash_lib.sh's flash_sonota, in the background (SONOTA_PID).
sonota_bg() {
    "$SONOTA" flash --device "http://127.0.0.1:$AP_PORT" \
        --serving-host 127.0.0.1 --no-check-ip --http-port "$HTTP_PORT" \
        --https-port "$HTTPS_PORT" --wifi-ssid Home --wifi-password "$SECRET" \
        --firmware-dir "$FW" --json --log "$SLOG" --timeout 200 "$@" \
        >"$OUT" 2>"$ERR" </dev/null &
    SONOTA_PID=$!
    e2e_track "$SONOTA_PID"
}

# Powers the device up again on the same flash: no AP to wait for (it is provisioned or
# runs the intermediate firmware). SIM_PID, output in $SIM_OUT.
sim_up() {
    "$SONOFF_SIM" --flash "$E2E_TMP/flash.bin" --ap-addr 127.0.0.1 --ap-port "$AP_PORT" \
        --final-host 127.0.0.1 --final-port "$HTTP_PORT" --time-scale 0.05 --timeout 120 \
        --report "$E2E_TMP/sim-report.json" --log-file "$E2E_TMP/sim2.log" "$@" \
        >"$SIM_OUT" 2>&1 &
    SIM_PID=$!
    e2e_track "$SIM_PID"
}

rand_below() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }

# cut_at WHICH SLOT FILE N: run 1 until the power cut at byte N of FILE; checks the sim died
# there and sonota said what happened, then stops sonota like a user (Ctrl-C).
cut_at() {
    local which=$1 slot=$2 file=$3 n=$4
    rm -f "$E2E_TMP/flash.bin" "$E2E_TMP/sim2.log" "$E2E_TMP/sim-report.json"
    flash_ports
    flash_sim --slot "$slot" --fault "power-loss=$which:$n"
    sonota_bg
    local rc=0
    wait_pid 90 "$SIM_PID" || rc=$?
    [ "$rc" -eq 3 ] || ffail "$which: the sim exited $rc, not 3 (power cut at byte $n of $file)"
    grep -q "POWER LOSS (--fault power-loss=$which:$n)" "$SIM_OUT" ||
        ffail "$which: no power-loss line from the sim"
    grep -q "power cut while writing byte $n of the $which download" "$E2E_TMP/sim.log" ||
        ffail "$which: the sim log does not show the cut at byte $n"
    [ ! -e "$E2E_TMP/sim-report.json" ] || ffail "$which: a power cut must not write the report"
    kill -0 "$SONOTA_PID" 2>/dev/null || ffail "$which: sonota exited when the device died"
}

# sonota explains: the device stopped downloading FILE, and what the user does now. The
# server knows only what TCP acknowledged: when the device's TCP had taken the whole file
# before the cut (its last few KiB), sonota saw the download complete and cannot tell.
says_vanished() {
    if python3 - "$OUT" "$1" <<'PY'; then
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(e["event"] == "download" and e["state"] == "done" and e["file"] == sys.argv[2]
                  for e in ev) else 1)
PY
        echo "# the device's TCP had all of $1 before the cut: sonota saw it complete"
        return
    fi
    wait_for 15 grep -q "stopped downloading $1" "$OUT" ||
        ffail "sonota did not say the device stopped downloading $1"
    flash_expect "e['event'] == 'info' and 'stopped downloading $1' in e['message'] and '$2' in e['message']" \
        "the vanished-device message lacks '$2'"
}

# ctrl_c HINT [final]: the user stops sonota; exit 130 with the hint how to continue.
# With "final", sonota may have ended by itself (exit 0): E2A writes the first 4 KiB last,
# so a cut there (or in the last KiB the device's TCP had taken) comes after the server
# sent the whole image, which is all sonota can see.
ctrl_c() {
    local rc=0
    kill -INT "$SONOTA_PID" 2>/dev/null
    wait_pid 15 "$SONOTA_PID" || rc=$?
    if [ "$rc" -eq 0 ] && [ "${2:-}" = final ]; then
        flash_check_output
        flash_expect 'e["event"] == "done"' "sonota exited 0 without a done event"
        flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_arduino.bin"' \
            "sonota exited 0 before the final image was sent"
        echo "# sonota had sent the whole final image before the cut: it reported success"
        return
    fi
    [ "$rc" -eq 130 ] || ffail "Ctrl-C: sonota exited $rc, not 130"
    flash_check_output
    flash_expect "e['event'] == 'error' and e['code'] == 'interrupted' and '$1' in e['message']" \
        "the interruption message lacks '$1'"
}

# boots WHAT: the restarted sim's first boot is WHAT (boot.c: what the ROM would start).
boots() {
    wait_for 20 grep -q "boot 1: " "$E2E_TMP/sim2.log" || ffail "the restarted sim did not boot"
    grep -q "boot 1: $1" "$E2E_TMP/sim2.log" ||
        ffail "after the cut the flash boots '$(grep -m1 -o 'boot 1: .*' "$E2E_TMP/sim2.log")', not '$1'"
}

# rerun_start: sonota again with --no-prov, as its hint says, listening before the user
# powers the device up again. The rerun never saw the device's cloud session, so the
# intermediate firmware's address is given: the sim fetches from 127.0.0.1, not from
# FinalStage's 192.168.4.1 (issue 13 item 2: only fetches from there count).
rerun_start() {
    sonota_bg --no-prov --final-device 127.0.0.1
    wait_for 20 grep -q '"wait-device"' "$OUT" || ffail "the rerun does not wait for the device"
}

# rerun_end: the rerun ends with the final image in the flash.
rerun_end() {
    local rc=0
    wait_pid 120 "$SONOTA_PID" || rc=$?
    [ "$rc" -eq 0 ] || ffail "the rerun exited $rc"
    flash_check_output
    flash_expect 'e["event"] == "done"' "the rerun has no done event"
    flash_expect 'e["event"] == "download" and e["state"] == "done" and e["file"] == "image_arduino.bin"' \
        "the rerun did not send the final image"
    rc=0
    wait_pid 60 "$SIM_PID" || rc=$?
    [ "$rc" -eq 0 ] || ffail "the sim exited $rc after the rerun (no final image in the flash)"
    grep -q "sonoff-sim: OK: final firmware" "$SIM_OUT" || ffail "the sim does not report the final image"
}

# 1. the stock firmware's download into the other slot: the system params still select
# the old slot, so the stock firmware boots and calls again (§1.5, §5).
f=image_user2-0x81000.bin
n=${PL_STOCK_AT:-$(rand_below "$(stat -c %s "$FW/$f")")}
echo "# stock: power cut at byte $n of $f"
cut_at stock 1 "$f" "$n"
says_vanished "$f" "boots its old firmware again"
ctrl_c "--no-prov"
rerun_start
sim_up --no-ap
boots "stock firmware in user1"
rerun_end
pass "stock download cut at byte $n: stock firmware boots, rerun ends with the final image"

# 2. E2A in user1 copies user2 (the device ran stock from slot 2): it erased sectors
# 128-255 with the system params, so the bootloader falls back to user1 = E2A (§4).
f=image_user2-0x81000.bin
n=${PL_ROM2_AT:-$(rand_below "$(stat -c %s "$FW/$f")")}
echo "# rom2: power cut at byte $n of $f"
cut_at rom2 2 "$f" "$n"
says_vanished "$f" "power-cycle the device"
ctrl_c "FinalStage"
rerun_start
sim_up
boots "intermediate firmware in user1"
rerun_end
pass "rom2 download cut at byte $n: E2A boots from user1, rerun ends with the final image"

# 3. the final image: E2A (user2) erased 0x1000-0x7FFFF and writes the app from 0x1000;
# the saved first 4 KiB (eboot) go to 0x0 last (§4).
f=image_arduino.bin
n=${PL_FINAL_AT:-$(rand_below "$(stat -c %s "$FW/$f")")}
echo "# final: power cut at byte $n of $f (eboot ends at $EBOOT_END)"
cut_at final 1 "$f" "$n"
if [ "$n" -ge 4096 ]; then
    says_vanished "$f" "power-cycle the device"
fi
ctrl_c "FinalStage" final
[ "$n" -ge 4096 ] && rerun_start
sim_up
if [ "$n" -ge 4100 ]; then
    boots "intermediate firmware in user2"
    rerun_end
    pass "final download cut at byte $n: E2A boots from user2, rerun ends with the final image"
elif [ "$n" -ge 4096 ]; then
    # Not a word of the app at 0x1000: E2A cannot tell which mode it is in (§4) and idles.
    boots "intermediate firmware in user2"
    rc=0
    wait_pid 60 "$SIM_PID" || rc=$?
    [ "$rc" -eq 1 ] && grep -q "not recognized" "$SIM_OUT" ||
        ffail "cut before the app's first word: the sim exited $rc without 'not recognized'"
    pass "final download cut at byte $n: E2A idles (mode not recognized), reported"
elif [ $((n & ~3)) -ge "$EBOOT_END" ]; then
    boots "final firmware"             # eboot complete; only the 0xAA padding is missing
    wait_pid 30 "$SIM_PID" || ffail "the sim does not accept the final image"
    pass "final download cut at byte $n (after eboot): the final image boots"
else
    boots "BRICKED"
    rc=0
    wait_pid 30 "$SIM_PID" || rc=$?
    [ "$rc" -eq 1 ] || ffail "a bricked flash must make the sim exit 1, got $rc"
    pass "final download cut at byte $n (inside eboot): BRICKED, reported honestly"
fi

# 4. fixed: the cut inside eboot, written last at 0x0 after erasing sector 0 (§4): no
# loader for the ROM. The sim must not pretend the device boots.
n=$(( (RANDOM % (EBOOT_END / 4)) * 4 ))
echo "# final: power cut at byte $n of image_arduino.bin (inside eboot)"
cut_at final 1 image_arduino.bin "$n"
ctrl_c "FinalStage" final
sim_up
boots "BRICKED: no valid v1 boot image at 0x0"
rc=0
wait_pid 30 "$SIM_PID" || rc=$?
[ "$rc" -eq 1 ] || ffail "a bricked flash must make the sim exit 1, got $rc"
grep -q "FAIL: BRICKED" "$SIM_OUT" || ffail "the sim does not say BRICKED"
pass "final download cut at byte $n inside eboot: BRICKED, reported honestly"
