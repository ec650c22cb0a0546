#!/usr/bin/env bash
# User story: before flashing, I inspect and validate firmware images with `sonota image`.
# Generates every kind with make-test, checks the verdict matrix (human and --json output),
# then corrupts copies (bad magic, checksum, CRC, wrong slot, oversize, wrong flash mode/size,
# eboot-less, truncated) and expects the right verdict, sentence and exit code for each.
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/image_lib.sh"

[ -x "${SONOTA:-}" ] || fail "SONOTA is not set to the sonota binary"
command -v python3 >/dev/null || skip "python3 is needed to read --json output"
D=$E2E_TMP


# setbyte FILE OFFSET VALUE: overwrites one byte in place.
setbyte() {
    printf "$(printf '\\%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

getbyte() {
    od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '
}

flipbyte() {
    setbyte "$1" "$2" $(( $(getbyte "$1" "$2") ^ ${3:-1} ))
}

# json FILE PY_EXPR: evaluates PY_EXPR with `d` = the parsed `image info --json` array.
json() {
    python3 - "$1" "$2" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("JSON check failed: " + sys.argv[2], file=sys.stderr)
    print(json.dumps(d, indent=1)[:3000], file=sys.stderr)
    sys.exit(1)
PY
}

# ---- 1. generate every kind ----
declare -A SIZE=([user1]=239220 [user2]=239220 [final]=482432 [diy]=480000)
for k in user1 user2 final diy; do
    run 0 "make-test $k" "$SONOTA" image make-test --kind "$k" "$D/$k.bin"
    [ "$(stat -c %s "$D/$k.bin")" = "${SIZE[$k]}" ] || fail "make-test $k: size $(stat -c %s "$D/$k.bin")"
    expect "$D/out" "$(sha256sum "$D/$k.bin" | cut -d' ' -f1)" "make-test $k prints the sha256"
done
pass "make-test writes user1/user2 (239220 B), final (482432 B), diy (480000 B)"

run 0 "make-test again" "$SONOTA" image make-test --kind user1 "$D/again.bin"
cmp -s "$D/user1.bin" "$D/again.bin" || fail "make-test is not deterministic"
run 0 "make-test seed" "$SONOTA" image make-test --kind user1 --seed 99 "$D/seed.bin"
cmp -s "$D/user1.bin" "$D/seed.bin" && fail "a different seed gave the same image"
run 0 "make-test size" "$SONOTA" image make-test --kind final --size 8192 "$D/small.bin"
[ "$(stat -c %s "$D/small.bin")" = 8192 ] || fail "make-test --size 8192"
pass "make-test is deterministic per seed and honours --size"

# ---- 2. verdict matrix via `image check` ----
declare -A FIT=(
    [user1.user1]=0 [user1.user2]=3 [user1.final]=3 [user1.diy]=3
    [user2.user1]=3 [user2.user2]=0 [user2.final]=3 [user2.diy]=3
    [final.user1]=3 [final.user2]=3 [final.final]=0 [final.diy]=0
    [diy.user1]=3 [diy.user2]=3 [diy.final]=0 [diy.diy]=0)
for k in user1 user2 final diy; do
    for u in user1 user2 final diy; do
        run "${FIT[$k.$u]}" "check $k as $u" "$SONOTA" image check --use "$u" "$D/$k.bin"
        if [ "${FIT[$k.$u]}" = 0 ]; then
            expect "$D/out" "fit for $u" "check $k as $u"
        else
            expect "$D/err" "NOT fit for $u" "check $k as $u"
        fi
    done
done
pass "check: each generated image is fit for its own path(s) only (16 combinations)"

# ---- 3. human info ----
run 0 "info user1" "$SONOTA" image info "$D/user1.bin"
expect "$D/out" "v2 (0xEA" "info user1 format"
expect "$D/out" "flash QIO, 1MB, 40MHz, entry 0x40100004" "info user1 header"
expect "$D/out" "segments     3" "info user1 segments"
expect "$D/out" "load 0x40100000" "info user1 segment list"
expect "$D/out" "checksum     ok" "info user1 checksum"
expect "$D/out" "crc32        ok" "info user1 crc"
expect "$D/out" "linked for   user1 (irom at 0x40201010" "info user1 slot"
expect "$D/out" "full image   no" "info user1 full image"
expect "$D/out" "$(sha256sum "$D/user1.bin" | cut -d' ' -f1)" "info user1 sha256"
expect "$D/out" "user1      yes" "info user1 fit"
expect "$D/out" "user2      NO: This image is linked for user1" "info user1 unfit for user2"
run 0 "info final" "$SONOTA" image info "$D/final.bin"
expect "$D/out" "full Arduino image: eboot at 0x0 + app at 0x1000" "info final format"
expect "$D/out" "eboot header flash DOUT, 1MB, 40MHz, entry 0x4010f000" "info final eboot"
expect "$D/out" "app header   flash DOUT, 1MB" "info final app header"
expect "$D/out" "load 0x40201010" "info final irom segment"
expect "$D/out" "full image   yes" "info final full image"
expect "$D/out" "final      yes" "info final fit"
pass "info (human) shows format, header, segments, checksum, CRC, slot, full image, sha256, fitness"

# ---- 4. --json ----
run 0 "info --json" "$SONOTA" image info --json "$D/user1.bin" "$D/user2.bin" "$D/final.bin" "$D/diy.bin"
cp "$D/out" "$D/all.json"
json "$D/all.json" "len(d) == 4 and all(i['parsed'] for i in d)"
json "$D/all.json" "[i['format'] for i in d] == ['v2', 'v2', 'v1', 'v1']"
json "$D/all.json" "[i['slot'] for i in d] == [1, 2, 1, 1]"
json "$D/all.json" "all(i['checksum']['ok'] for i in d) and d[0]['crc']['ok'] and d[1]['crc']['ok']"
json "$D/all.json" "[i['full_image'] for i in d] == [False, False, True, True]"
json "$D/all.json" "d[2]['flash_mode'] == 'DOUT' and d[2]['flash_size'] == '1MB' and d[2]['app']['flash_mode'] == 'DOUT'"
json "$D/all.json" "[i['size'] for i in d] == [239220, 239220, 482432, 480000]"
json "$D/all.json" "[[i['fit'][u]['ok'] for u in ('user1','user2','final','diy')] for i in d] == [[True,False,False,False],[False,True,False,False],[False,False,True,True],[False,False,True,True]]"
json "$D/all.json" "d[0]['fit']['user2']['reason'].startswith('This image is linked for user1')"
for i in 0 1 2 3; do
    f=$(json "$D/all.json" "print(d[$i]['file']) or True")
    json "$D/all.json" "d[$i]['sha256'] == '$(sha256sum "$f" | cut -d' ' -f1)'"
done
pass "info --json: formats, slots, checksums, CRCs, full-image flags, sizes, sha256 and fit matrix"

run 0 "info --use fit" "$SONOTA" image info --use user2 "$D/user2.bin"
run 3 "info --use unfit" "$SONOTA" image info --use user2 "$D/user1.bin"
pass "info --use exits 3 for an unfit image, 0 for a fit one"

# ---- 5. corrupted copies ----
cp "$D/user1.bin" "$D/magic.bin"; setbyte "$D/magic.bin" 0 0
run 3 "info bad magic" "$SONOTA" image info "$D/magic.bin"
expect "$D/out" "NOT AN IMAGE: not an ESP8266 image (bad magic byte)" "info bad magic"
run 3 "check bad magic" "$SONOTA" image check --use user1 "$D/magic.bin"
expect "$D/err" "bad magic" "check bad magic"
run 3 "info --json bad magic" "$SONOTA" image info --json "$D/magic.bin"
cp "$D/out" "$D/magic.json"
json "$D/magic.json" "d[0]['parsed'] is False and 'magic' in d[0]['error']"
pass "bad magic: unparseable, exit 3 (info, check, --json)"

cp "$D/final.bin" "$D/sum.bin"; flipbyte "$D/sum.bin" 100
run 3 "check bad checksum" "$SONOTA" image check --use final "$D/sum.bin"
expect "$D/err" "XOR checksum of the bootloader (eboot) image at offset 0 does not match" "bad checksum"
run 3 "check bad checksum diy" "$SONOTA" image check --use diy "$D/sum.bin"
run 0 "info bad checksum" "$SONOTA" image info --json "$D/sum.bin"
cp "$D/out" "$D/sum.json"
json "$D/sum.json" "d[0]['checksum']['ok'] is False and d[0]['checksum']['stored'] != d[0]['checksum']['computed']"
cp "$D/final.bin" "$D/appsum.bin"; flipbyte "$D/appsum.bin" 300000
run 3 "check bad app checksum" "$SONOTA" image check --use final "$D/appsum.bin"
expect "$D/err" "app image at 0x1000 does not match" "bad app checksum"
pass "bad XOR checksum (eboot and app): final/diy refused, stored vs computed shown"

cp "$D/user2.bin" "$D/crc.bin"; flipbyte "$D/crc.bin" $(( 239220 - 1 ))
run 3 "check bad crc" "$SONOTA" image check --use user2 "$D/crc.bin"
expect "$D/err" "CRC32 does not match" "bad crc"
run 0 "info bad crc" "$SONOTA" image info --json "$D/crc.bin"
cp "$D/out" "$D/crc.json"
json "$D/crc.json" "d[0]['crc']['ok'] is False and d[0]['checksum']['ok'] is True"
cp "$D/user2.bin" "$D/crc2.bin"; flipbyte "$D/crc2.bin" 5000
run 3 "check irom flip" "$SONOTA" image check --use user2 "$D/crc2.bin"
expect "$D/err" "CRC32 does not match" "irom corruption caught by the CRC"
pass "bad CRC32 (stored CRC or irom data changed): user2 refused"

run 3 "wrong slot" "$SONOTA" image check --use user1 "$D/user2.bin"
expect "$D/err" "linked for user2 (irom at 0x40281010) but is offered as user1" "wrong slot"
run 0 "wrong slot --force" "$SONOTA" image check --use user1 --force "$D/user2.bin"
expect "$D/err" "WARNING" "--force warns"
expect "$D/err" "NOT fit for user1" "--force says why"
pass "wrong slot: refused with the reason; --force accepts with a loud WARNING"

run 0 "make oversize user" "$SONOTA" image make-test --kind user1 --size 480000 "$D/big_user.bin"
run 3 "oversize user" "$SONOTA" image check --use user1 "$D/big_user.bin"
expect "$D/err" "471040 bytes (460 KiB)" "oversize user"
cp "$D/diy.bin" "$D/big_diy.bin"; truncate -s 520193 "$D/big_diy.bin"
run 3 "oversize diy" "$SONOTA" image check --use diy "$D/big_diy.bin"
expect "$D/err" "520192 bytes (508 KiB)" "oversize diy"
run 0 "diy-sized final still fits final" "$SONOTA" image check --use final "$D/big_diy.bin"
truncate -s 524289 "$D/big_diy.bin"
run 3 "oversize final" "$SONOTA" image check --use final "$D/big_diy.bin"
expect "$D/err" "524288 bytes (512 KiB)" "oversize final"
truncate -s 524288 "$D/big_diy.bin"
run 0 "final at the limit" "$SONOTA" image check --use final "$D/big_diy.bin"
pass "oversize: user > 471040, diy > 520192, final > 524288 refused; limits themselves accepted"

cp "$D/final.bin" "$D/mode.bin"; setbyte "$D/mode.bin" 2 2
run 3 "wrong flash mode" "$SONOTA" image check --use final "$D/mode.bin"
expect "$D/err" "flash mode DIO (2), but the final image must be DOUT" "wrong flash mode"
run 3 "wrong flash mode diy" "$SONOTA" image check --use diy "$D/mode.bin"
run 0 "info wrong mode" "$SONOTA" image info --json "$D/mode.bin"
cp "$D/out" "$D/mode.json"
json "$D/mode.json" "d[0]['flash_mode'] == 'DIO' and d[0]['flash_mode_code'] == 2 and d[0]['fit']['final']['ok'] is False"
cp "$D/final.bin" "$D/size.bin"; setbyte "$D/size.bin" 3 $(( 0x40 ))
run 3 "wrong flash size" "$SONOTA" image check --use final "$D/size.bin"
expect "$D/err" "flash size 4MB" "wrong flash size"
pass "wrong flash mode (DIO) and size (4MB): final and diy refused"

dd if="$D/final.bin" of="$D/noeboot.bin" bs=4096 skip=1 status=none
run 3 "eboot-less final" "$SONOTA" image check --use final "$D/noeboot.bin"
expect "$D/err" "lacks the Arduino bootloader (eboot)" "eboot-less final"
run 3 "app alone for diy" "$SONOTA" image check --use diy "$D/noeboot.bin"
expect "$D/err" "lacks the Arduino bootloader (eboot)" "eboot-less diy"
pass "eboot-less image: refused as final and as DIY image (both are written at 0x0)"

head -c 100000 "$D/user1.bin" >"$D/short.bin"
run 3 "truncated" "$SONOTA" image info "$D/short.bin"
expect "$D/out" "image is truncated" "truncated"
run 3 "v1 offered as user1" "$SONOTA" image check --use user1 "$D/final.bin"
expect "$D/err" "full Arduino image" "v1 as user1"
run 3 "v2 offered as final" "$SONOTA" image check --use final "$D/user1.bin"
expect "$D/err" "v2 (0xEA) OTA user image" "v2 as final"
pass "truncated image, v1 offered as user1, v2 offered as final: refused"

run 3 "mixed info exit" "$SONOTA" image info "$D/user1.bin" "$D/magic.bin"
expect "$D/out" "crc32        ok" "mixed info still shows the good image"
pass "info over several files reports each and exits 3 if one is unparseable"

# ---- 5b. files users download instead, and incomplete full images ----
gzip -c -n "$D/diy.bin" >"$D/diy.bin.gz"
for use in final diy user1; do
    run 3 "gzip as $use" "$SONOTA" image check --use "$use" "$D/diy.bin.gz"
    expect "$D/err" "gzip file: unpack it first (gunzip FILE)" "gzip as $use"
done
run 3 "info gzip" "$SONOTA" image info --json "$D/diy.bin.gz"
cp "$D/out" "$D/gz.json"
json "$D/gz.json" "d[0]['parsed'] is False and d[0]['foreign'] == 'gzip' and d[0]['reason'].startswith('gzip file')"
# ESP32-C3 app image: 8-byte header, extended header (wp 0xEE, chip id 5), 2 segments
python3 - "$D/esp32.bin" <<'PY'
import struct, sys
segs = [(0x3C000020, bytes(range(64))), (0x42000020, bytes(64))]
h = struct.pack('<BBBBI', 0xE9, len(segs), 2, 0x20, 0x40380080)
h += bytes([0xEE, 0, 0, 0]) + struct.pack('<HBHH', 5, 0, 3, 0xFFFF) + bytes(4) + b'\x01'
body = b''.join(struct.pack('<II', a, len(d)) + d for a, d in segs)
img = h + body
img += bytes(15 - len(img) % 16) + b'\xef' + bytes(32)  # checksum block + SHA-256
open(sys.argv[1], 'wb').write(img)
PY
run 3 "esp32 as diy" "$SONOTA" image check --use diy "$D/esp32.bin"
expect "$D/err" "This is an ESP32 image (chip id 5, ESP32-C3), not ESP8266" "esp32 image"
run 3 "info esp32" "$SONOTA" image info "$D/esp32.bin"
expect "$D/out" "ESP32-C3" "info esp32"
head -c 4096 "$D/diy.bin" >"$D/eboot_only.bin"
head -c $(( $(stat -c %s "$D/diy.bin") - 1 )) "$D/diy.bin" >"$D/app_short.bin"
for use in final diy; do
    run 3 "eboot only as $use" "$SONOTA" image check --use "$use" "$D/eboot_only.bin"
    expect "$D/err" "only a bootloader" "eboot-only as $use"
    run 3 "app one byte short as $use" "$SONOTA" image check --use "$use" "$D/app_short.bin"
    expect "$D/err" "is incomplete or invalid (image is truncated)" "short app as $use"
done
pass "gzip and ESP32 files named as such; eboot-only and one-byte-short full images refused for final and diy"

# ---- 6. usage and I/O errors ----
run 2 "check without --use" "$SONOTA" image check "$D/user1.bin"
run 2 "unknown use" "$SONOTA" image check --use user3 "$D/user1.bin"
run 2 "unknown subcommand" "$SONOTA" image frobnicate
run 2 "make-test without kind" "$SONOTA" image make-test "$D/x.bin"
run 2 "make-test bad size" "$SONOTA" image make-test --kind diy --size 12x "$D/x.bin"
run 0 "make-test help" "$SONOTA" image make-test --help
expect "$D/out" "4100..1048576" "make-test --help states the --size range"
for bad in 1 4099 1048577; do
    run 2 "make-test --size $bad" "$SONOTA" image make-test --kind user1 --size "$bad" "$D/x.bin"
    expect "$D/err" "--size must be 4100..1048576 bytes, not '$bad'" "make-test --size error = help"
done
run 0 "make-test smallest" "$SONOTA" image make-test --kind user1 --size 4100 "$D/x.bin"
[ "$(stat -c %s "$D/x.bin")" = 4100 ] || fail "make-test --size 4100"
run 2 "elf2image without version" "$SONOTA" image elf2image a.elf b.bin
run 2 "info without file" "$SONOTA" image info
for sub in info check elf2image make-test; do
    run 0 "$sub --help" "$SONOTA" image "$sub" --help
    expect "$D/out" "usage: sonota image $sub" "$sub --help"
done
run 0 "image --help" "$SONOTA" image --help
run 1 "missing file" "$SONOTA" image info "$D/does-not-exist.bin"
expect "$D/err" "cannot read" "missing file"
pass "usage errors exit 2, --help exits 0, unreadable files exit 1"
echo "image_cli: all checks passed"
