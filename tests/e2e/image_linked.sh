#!/usr/bin/env bash
# User story: I try images nobody on this project made. Real ESP8266 programs (assembled
# and linked here from tests/fixtures/esp8266 with binutils-xtensa-lx106) converted with
# `sonota image elf2image`: v2 images linked for user1, user2 and for neither slot
# (irom at 0x40240000, 0x40210000, 0x40202010), a full Arduino-style image (eboot at
# 0x4010F000 padded to 0x1000 + app with irom at 0x40201010), its eboot alone, its app one
# byte short, and a Tasmota-minimal-like build. Every verdict of `image check` and `image
# info` is checked, and `flash --final` / `diy flash` refuse what check refuses, before
# anything is sent. Skips (77) without binutils-xtensa-lx106.
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/image_lib.sh"

[ -x "${SONOTA:-}" ] || fail "SONOTA is not set to the sonota binary"
for t in as ld; do
    command -v "xtensa-lx106-elf-$t" >/dev/null || skip "xtensa-lx106-elf-$t not installed (binutils-xtensa-lx106)"
done
command -v python3 >/dev/null || skip "python3 is needed to read --json output"
FX=$E2E_DIR/../fixtures/esp8266
D=$E2E_TMP

json() { # FILE EXPR: EXPR over d = the parsed JSON must be true
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1" ||
        { cat "$1" >&2; fail "json: $2"; }
}

# ---- build the fixtures ----
xtensa-lx106-elf-as -o "$D/app.o" "$FX/app.S" || fail "as app"
xtensa-lx106-elf-as --defsym MINIMAL=1 -o "$D/min.o" "$FX/app.S" || fail "as minimal"
xtensa-lx106-elf-as -o "$D/eboot.o" "$FX/eboot.S" || fail "as eboot"
xtensa-lx106-elf-ld -T "$FX/eboot.ld" -o "$D/eboot.elf" "$D/eboot.o" || fail "ld eboot"
link() { # IROM_ORIGIN OBJ OUT.elf
    sed "s/@IROM@/$1/" "$FX/app.ld.in" >"$D/app.ld"
    xtensa-lx106-elf-ld -T "$D/app.ld" -o "$3" "$2" || fail "ld at $1"
}
for a in 0x40201010 0x40281010 0x40240000 0x40210000 0x40202010; do
    link "$a" "$D/app.o" "$D/app_$a.elf"
    run 0 "elf2image v2 $a" "$SONOTA" image elf2image --version 2 --flash-mode dout \
        "$D/app_$a.elf" "$D/v2_$a.bin"
done
link 0x40201010 "$D/min.o" "$D/min.elf"
# full_image EBOOT.bin APP.bin OUT: eboot padded with 0xAA to 0x1000, then the app
full_image() {
    python3 -c "import sys; e=open(sys.argv[1],'rb').read(); a=open(sys.argv[2],'rb').read(); open(sys.argv[3],'wb').write(e + b'\xaa'*(0x1000-len(e)) + a)" "$@" ||
        fail "full image $3"
}
run 0 "elf2image eboot" "$SONOTA" image elf2image --version 1 --flash-mode dout "$D/eboot.elf" "$D/eboot.bin"
run 0 "elf2image app v1" "$SONOTA" image elf2image --version 1 --flash-mode dout "$D/app_0x40201010.elf" "$D/app.bin"
run 0 "elf2image minimal v1" "$SONOTA" image elf2image --version 1 --flash-mode dout "$D/min.elf" "$D/min_app.bin"
full_image "$D/eboot.bin" "$D/app.bin" "$D/full.bin"
full_image "$D/eboot.bin" "$D/min_app.bin" "$D/minimal.bin"
head -c 4096 "$D/full.bin" >"$D/eboot_only.bin"
head -c $(( $(stat -c %s "$D/full.bin") - 1 )) "$D/full.bin" >"$D/short.bin"
pass "fixtures: v2 at five irom addresses, full image, eboot only, short app, minimal build"

# ---- v2: linked for user1, user2, neither ----
run 0 "user1 as user1" "$SONOTA" image check --use user1 "$D/v2_0x40201010.bin"
run 3 "user1 as user2" "$SONOTA" image check --use user2 "$D/v2_0x40201010.bin"
expect "$D/err" "linked for user1" "user1 image offered as user2"
run 0 "user2 as user2" "$SONOTA" image check --use user2 "$D/v2_0x40281010.bin"
run 3 "user2 as user1" "$SONOTA" image check --use user1 "$D/v2_0x40281010.bin"
for a in 0x40240000 0x40210000 0x40202010; do
    for u in user1 user2; do
        run 3 "$a as $u" "$SONOTA" image check --use "$u" "$D/v2_$a.bin"
        expect "$D/err" "linked for neither OTA slot (slot unknown" "$a as $u"
    done
    run 0 "$a as user1 --force" "$SONOTA" image check --use user1 --force "$D/v2_$a.bin"
    expect "$D/err" "WARNING" "$a forced"
    run 0 "info $a" "$SONOTA" image info "$D/v2_$a.bin"
    expect "$D/out" "UNKNOWN: neither slot" "info $a"
    expect "$D/out" "evidence     entry 0x40100004 (IRAM); 19 references" "info evidence $a"
    run 0 "info --json $a" "$SONOTA" image info --json "$D/v2_$a.bin"
    cp "$D/out" "$D/$a.json"
    json "$D/$a.json" "d[0]['slot'] == 0 and d[0]['slot_refs']['entry_iram'] and d[0]['slot_refs']['in_mapping'] == 19 and d[0]['slot_refs']['lowest'] >= $a and d[0]['slot_refs']['unknown_because'] == 'start' and d[0]['slot_refs']['user1']['inside'] >= 8"
done
# 0x40202010 lies inside user1's window: the evidence is that nothing refers to its first
# 4 KiB (code starts 4 KiB higher) and some references lie past base + irom length
json "$D/0x40202010.json" "d[0]['slot_refs']['user1']['inside'] > 8 and d[0]['slot_refs']['user1']['head'] == 0 and d[0]['slot_refs']['user1']['above'] > 0 and d[0]['slot_refs']['unknown_because'] == 'start'"
run 0 "info --json user1" "$SONOTA" image info --json "$D/v2_0x40201010.bin"
cp "$D/out" "$D/u1.json"
json "$D/u1.json" "d[0]['slot'] == 1 and d[0]['slot_refs']['user1']['inside'] == 19 and d[0]['slot_refs']['user1']['head'] > 0 and d[0]['slot_refs']['user1']['above'] == 0 and d[0]['slot_refs']['unknown_because'] == 'none'"
pass "v2: user1/user2 decided from the link base; 0x40240000, 0x40210000, 0x40202010 are slot unknown with the evidence shown"

# ---- v1 full images ----
for u in final diy; do
    run 0 "full as $u" "$SONOTA" image check --use "$u" "$D/full.bin"
    run 3 "eboot only as $u" "$SONOTA" image check --use "$u" "$D/eboot_only.bin"
    expect "$D/err" "only a bootloader" "eboot only as $u"
    run 3 "short app as $u" "$SONOTA" image check --use "$u" "$D/short.bin"
    expect "$D/err" "app image at 0x1000 is incomplete or invalid" "short app as $u"
    run 3 "bare app as $u" "$SONOTA" image check --use "$u" "$D/app.bin"
    expect "$D/err" "eboot" "bare app as $u"
    run 3 "minimal as $u" "$SONOTA" image check --use "$u" "$D/minimal.bin"
    expect "$D/err" "tasmota-minimal cannot be the first image: flash a full build such as tasmota-lite first" "minimal as $u"
    run 0 "minimal as $u --force" "$SONOTA" image check --use "$u" --force "$D/minimal.bin"
done
run 0 "info minimal" "$SONOTA" image info "$D/minimal.bin"
expect "$D/out" "tasmota-minimal (never the first image" "info shows tasmota-minimal"
run 0 "info full" "$SONOTA" image info --json "$D/full.bin"
cp "$D/out" "$D/full.json"
json "$D/full.json" "d[0]['full_image'] and d[0]['eboot_like'] and not d[0]['tasmota_minimal'] and d[0]['slot'] == 1 and d[0]['fit']['diy']['ok'] and d[0]['fit']['final']['ok']"
pass "v1: full image fit for final and diy; eboot only, short app, bare app and tasmota-minimal refused"

# ---- the flashing commands refuse the same, before anything is sent ----
mkdir -p "$D/fw"
cp "$D/v2_0x40201010.bin" "$D/fw/image_user1-0x01000.bin"
cp "$D/v2_0x40281010.bin" "$D/fw/image_user2-0x81000.bin"
cp "$D/minimal.bin" "$D/fw/image_arduino.bin"
P=$(free_ports 1) || fail "no free port"
run 3 "flash --final minimal" timeout 30 "$SONOTA" flash --device "http://127.0.0.1:$P" \
    --serving-host 127.0.0.1 --no-check-ip --wifi-ssid Home --wifi-password "secret-pw-1" \
    --firmware-dir "$D/fw" --json
expect "$D/out" "tasmota-minimal cannot be the first image" "flash refuses minimal"
cp "$D/v2_0x40202010.bin" "$D/fw/image_user1-0x01000.bin"
cp "$D/full.bin" "$D/fw/image_arduino.bin"
run 3 "flash with a user1 linked for neither slot" timeout 30 "$SONOTA" flash \
    --device "http://127.0.0.1:$P" --serving-host 127.0.0.1 --no-check-ip --wifi-ssid Home \
    --wifi-password "secret-pw-1" --firmware-dir "$D/fw" --json
expect "$D/out" "linked for neither OTA slot" "flash refuses slot unknown"
for f in minimal short eboot_only; do
    run 3 "diy flash $f" timeout 30 "$SONOTA" diy flash "$D/$f.bin" --device 127.0.0.1 \
        --deviceid 1000aa0001
    expect "$D/err" "cannot be flashed in DIY mode" "diy flash $f"
    expect "$D/err" "nothing was sent" "diy flash $f"
done
pass "flash and diy flash refuse slot-unknown, short, eboot-only and minimal images before sending"
echo "image_linked: all checks passed"
