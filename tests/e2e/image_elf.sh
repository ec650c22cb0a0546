#!/usr/bin/env bash
# User story: I build my own intermediate firmware and turn the ELF into OTA images with
# `sonota image elf2image`, then check them. Assembles a tiny program with .text at
# 0x40100000, .data/.rodata at 0x3FFE8000 and .irom0.text at 0x40201010 (or 0x40281010),
# links it with a linker script written here, converts it (v1 and v2) and verifies the
# result against the sections objcopy extracts. Skips (77) without binutils-xtensa-lx106.
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/image_lib.sh"

[ -x "${SONOTA:-}" ] || fail "SONOTA is not set to the sonota binary"
for t in as ld objcopy; do
    command -v "xtensa-lx106-elf-$t" >/dev/null || skip "xtensa-lx106-elf-$t not installed (binutils-xtensa-lx106)"
done
command -v python3 >/dev/null || skip "python3 is needed to read --json output"
D=$E2E_TMP


cat >"$D/prog.S" <<'EOF'
    .section .text,"ax"
    .global _start
    .align 4
_start:
    nop
    ret
    .align 4
    .word irom_func, irom_func + 4, irom_table, irom_table + 8
    .section .data,"aw"
    .align 4
counter:
    .word 0x11223344, 0x55667788, counter
    .section .rodata,"a"
    .align 4
    .ascii "sonota\0"
    .section .bss,"aw",@nobits
    .space 64
    .section .irom0.text,"ax"
    .align 4
irom_func:
    nop
    ret
    .align 4
irom_table:
    .rept 1100
    .word irom_func
    .endr
EOF

# link SLOT_IROM_ORIGIN OUT.elf
link() {
    cat >"$D/link.ld" <<EOF
ENTRY(_start)
MEMORY {
  iram (rx) : ORIGIN = 0x40100000, LENGTH = 0x8000
  dram (rw) : ORIGIN = 0x3FFE8000, LENGTH = 0x14000
  irom (rx) : ORIGIN = $1, LENGTH = 0x6B000
}
SECTIONS {
  .text : { *(.literal .text) } > iram
  .data : { *(.data) } > dram
  .rodata : { *(.rodata) } > dram
  .bss : { *(.bss) } > dram
  .irom0.text : { *(.irom0.literal .irom0.text) } > irom
}
EOF
    xtensa-lx106-elf-ld -T "$D/link.ld" -o "$2" "$D/prog.o" || fail "ld ($1)"
}

xtensa-lx106-elf-as -o "$D/prog.o" "$D/prog.S" || fail "as"
link 0x40201010 "$D/user1.elf"
link 0x40281010 "$D/user2.elf"
pass "assembled and linked a test program for irom 0x40201010 and 0x40281010"

# section NAME ELF: raw bytes of one section, zero-padded to 4 (esptool pads segments to 4)
section() {
    xtensa-lx106-elf-objcopy -O binary --only-section="$1" "$2" "$D/sec.bin" || fail "objcopy $1"
    python3 -c "import sys; d=open(sys.argv[1],'rb').read(); sys.stdout.buffer.write(d + b'\0'*(-len(d)%4))" "$D/sec.bin"
}

# ---- v2 for each slot ----
for slot in 1 2; do
    run 0 "elf2image v2 user$slot" "$SONOTA" image elf2image --version 2 --flash-mode dout \
        --flash-size 1MB --flash-freq 40m "$D/user$slot.elf" "$D/user$slot.bin"
    expect "$D/out" "linked for user$slot" "elf2image v2 user$slot"
    run 0 "check user$slot" "$SONOTA" image check --use "user$slot" "$D/user$slot.bin"
    other=$(( 3 - slot ))
    run 3 "check user$slot as user$other" "$SONOTA" image check --use "user$other" "$D/user$slot.bin"
    expect "$D/err" "linked for user$slot" "wrong slot for an ELF-built image"
    run 0 "info v2 user$slot" "$SONOTA" image info --json "$D/user$slot.bin"
    cp "$D/out" "$D/user$slot.json"
    section .text "$D/user$slot.elf" >"$D/text.bin"
    { section .data "$D/user$slot.elf"; section .rodata "$D/user$slot.elf"; } >"$D/dram.bin"
    section .irom0.text "$D/user$slot.elf" >"$D/irom.bin"
    python3 - "$D/user$slot.json" "$D/user$slot.bin" "$D/text.bin" "$D/dram.bin" "$D/irom.bin" "$slot" <<'PY' || fail "v2 user$slot layout"
import json, sys
info = json.load(open(sys.argv[1]))[0]
img = open(sys.argv[2], 'rb').read()
text, dram, irom = (open(p, 'rb').read() for p in sys.argv[3:6])
slot = int(sys.argv[6])
def need(cond, what):
    if not cond:
        print("mismatch:", what, file=sys.stderr); sys.exit(1)
need(img[0] == 0xEA and img[1] == 4 and img[2] == 3 and img[3] == 0x20, "v2 header EA 04 03 20")
need(info['format'] == 'v2' and info['flash_mode'] == 'DOUT' and info['flash_size'] == '1MB', "format/mode/size")
need(info['entry'] == 0x40100000, "entry = e_entry")
need(info['crc']['ok'] and info['checksum']['ok'], "checksum and CRC")
need(info['slot'] == slot, "linked slot")
need(info['irom']['offset'] == 16 and info['irom']['len'] == (len(irom) + 15) // 16 * 16, "irom padded to 16")
need(img[16:16 + len(irom)] == irom, "irom bytes")
segs = info['segments']
need(len(segs) == 2, ".data and .rodata merged, .bss left out: 2 RAM segments")
need(segs[0]['addr'] == 0x40100000 and img[segs[0]['offset']:][:segs[0]['len']] == text, ".text bytes")
need(segs[1]['addr'] == 0x3FFE8000 and img[segs[1]['offset']:][:segs[1]['len']] == dram, ".data+.rodata bytes")
need(len(img) % 16 == 4 and info['used_len'] == len(img), "length: checksum block + CRC")
PY
done
pass "v2: headers, irom (padded, at offset 16), merged RAM segments, checksum, CRC and slot match the ELF"

# ---- v1 ----
run 0 "elf2image v1 arduino layout" "$SONOTA" image elf2image --version 1 --flash-mode dout "$D/user1.elf" "$D/app.bin"
expect "$D/err" "Arduino app layout" "v1 with irom at 0x40201010 explains the layout"
run 0 "info v1" "$SONOTA" image info --json "$D/app.bin"
cp "$D/out" "$D/app.json"
python3 - "$D/app.json" <<'PY' || fail "v1 layout"
import json, sys
i = json.load(open(sys.argv[1]))[0]
assert i['format'] == 'v1' and i['checksum']['ok'], i
assert [s['addr'] for s in i['segments']] == [0x40201010, 0x40100000, 0x3FFE8000], i['segments']
assert i['segments'][0]['offset'] == 16
PY
run 3 "v1 app as diy" "$SONOTA" image check --use diy "$D/app.bin"
expect "$D/err" "eboot" "DIY writes at 0x0: a bare app is no DIY image either"
run 3 "v1 app as final" "$SONOTA" image check --use final "$D/app.bin"
expect "$D/err" "eboot" "a bare app is no final image"
run 3 "v1 with irom at 0x40281010" "$SONOTA" image elf2image --version 1 "$D/user2.elf" "$D/no.bin"
expect "$D/err" "separate file" "v1 refuses irom outside the Arduino layout"
[ -e "$D/no.bin" ] && fail "a refused conversion left an output file"
pass "v1: irom at 0x40201010 goes first (Arduino app), elsewhere refused with the reason"

# ---- not an ELF ----
run 0 "make-test" "$SONOTA" image make-test --kind user1 "$D/img.bin"
run 3 "elf2image on an image" "$SONOTA" image elf2image --version 2 "$D/img.bin" "$D/x.bin"
expect "$D/err" "Not an ELF" "elf2image refuses non-ELF input"
run 2 "bad flash mode" "$SONOTA" image elf2image --version 2 --flash-mode fast "$D/user1.elf" "$D/x.bin"
pass "elf2image: non-ELF input exits 3, bad options exit 2"
echo "image_elf: all checks passed"
