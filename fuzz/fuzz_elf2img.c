/* fuzz_elf2img.c - libFuzzer target for src/lib/elf2img.c.
 * Input: 2 option bytes, then the ELF file. Byte 0: bits 0-1 version, bits 2-4 flash mode;
 * byte 1: flash size << 4 | flash freq (out-of-range options are part of the test).
 * Invariants: elf2img either refuses (SO_E_ELF with a sentence, or SO_E_ARG for bad options,
 * and no output), or its output parses with lib/espimg as an image of the asked version, with
 * the asked header fields, the ELF's entry point, good checksum (and CRC for v2), no trailing
 * bytes, and it carries every loadable ELF section's bytes at the section's load address
 * (read here from the ELF, independently of elf2img). */
#include "lib/elf2img.h"
#include "lib/espimg.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the image holds load address `addr` (n bytes): a pointer into img, or NULL. v2's irom
 * segment is stored with address 0 and mapped at 0x40200000 + its flash offset (link address
 * minus 0x10 header bytes), which elf2img takes from its first section's address. */
static const uint8_t *find(const uint8_t *img, const struct espimg_info *in, uint32_t irom_base,
                           uint32_t addr, uint32_t n)
{
    for (unsigned i = 0; i < in->nsegs; i++) {
        const struct espimg_segment *s = &in->seg[i];
        if (addr >= s->addr && (uint64_t)addr + n <= (uint64_t)s->addr + s->len)
            return img + s->offset + (addr - s->addr);
    }
    if (in->has_irom && addr >= irom_base &&
        (uint64_t)addr + n <= (uint64_t)irom_base + in->irom.len)
        return img + in->irom.offset + (addr - irom_base);
    return NULL;
}

/* Every ELF section elf2img must carry (esptool's rule, elf2img.h) is in the image. */
static void sections_carried(const uint8_t *elf, size_t len, const uint8_t *img,
                             const struct espimg_info *in)
{
    uint32_t shoff = rd32(elf + 32), shentsize = rd16(elf + 46), shnum = rd16(elf + 48);
    uint32_t irom_base = UINT32_MAX;
    for (uint32_t i = 0; i < shnum; i++) {
        const uint8_t *s = elf + shoff + (size_t)i * shentsize;
        uint32_t type = rd32(s + 4), addr = rd32(s + 12), size = rd32(s + 20);
        if (in->has_irom && (rd32(s + 8) & 2) && (type == 1 || (type >= 14 && type <= 16)) &&
            addr && size && addr >= ESPIMG_IROM_MAP && addr < ESPIMG_IROM_END && addr < irom_base)
            irom_base = addr;
    }
    for (uint32_t i = 0; i < shnum; i++) {
        const uint8_t *s = elf + shoff + (size_t)i * shentsize;
        uint32_t type = rd32(s + 4), flags = rd32(s + 8), addr = rd32(s + 12);
        uint32_t off = rd32(s + 16), size = rd32(s + 20);
        if (!(flags & 2) || !(type == 1 || (type >= 14 && type <= 16)) || !addr || !size)
            continue;
        assert(off <= len && len - off >= size);
        const uint8_t *p = find(img, in, irom_base, addr, size);
        assert(p != NULL);
        /* sections overlapping (with their padding to 4) would overwrite each other: only
         * one alone must match byte for byte */
        int alone = 1;
        for (uint32_t k = 0; k < shnum && alone; k++) {
            const uint8_t *t = elf + shoff + (size_t)k * shentsize;
            uint32_t ka = rd32(t + 12), ks = rd32(t + 20);
            alone = k == i || !ka || !ks ||
                    (uint64_t)ka + ((uint64_t)ks + 3) / 4 * 4 <= addr ||
                    (uint64_t)addr + ((uint64_t)size + 3) / 4 * 4 <= ka;
        }
        if (alone)
            assert(memcmp(p, elf + off, size) == 0);
    }
}

static void check_image(const uint8_t *elf, size_t len, const struct elf2img_opts *o,
                        const uint8_t *img, size_t n, const char *msg)
{
    struct espimg_info in;
    enum so_err e = espimg_parse(img, n, &in);
    if (e != SO_OK) {
        /* A v1 image whose first segment lies outside every ESP8266 region (elf2img notes
         * it) can look exactly like an ESP32 image header; espimg names it ESP32. */
        assert(o->version == 1 && e == SO_E_IMG_MAGIC && in.foreign == ESPIMG_FOREIGN_ESP32);
        assert(img[11] != 0x3F && img[11] != 0x40 && strstr(msg, "outside the ESP8266"));
        return;
    }
    assert(in.format == (o->version == 2 ? ESPIMG_FMT_V2 : ESPIMG_FMT_V1));
    assert(in.used_len == n && in.trailing == 0 && in.checksum_ok);
    assert(in.flash_mode == o->flash_mode && in.flash_size == o->flash_size &&
           in.flash_freq == o->flash_freq && in.entry == rd32(elf + 24));
    if (o->version == 2) {
        assert(in.crc_ok && in.has_irom && in.irom.addr == 0);
        assert(in.v2_flash_mode == o->flash_mode && in.v2_flash_size == o->flash_size &&
               in.v2_flash_freq == o->flash_freq && in.v2_entry == in.entry);
        assert(in.v2_segbyte == ESPIMG_V2_SEGMENT_BYTE);
    }
    sections_carried(elf, len, img, &in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct elf2img_opts o = {data[0] & 3, (uint8_t)(data[0] >> 2 & 7), (uint8_t)(data[1] >> 4),
                             (uint8_t)(data[1] & 15)};
    size -= 2;
    /* exact-length copy: a read past the end is caught by ASan */
    uint8_t *elf = malloc(size ? size : 1);
    if (!elf)
        return 0;
    memcpy(elf, data + 2, size);
    uint8_t *img = (uint8_t *)1;
    size_t n = 1;
    char msg[512];
    enum so_err e = elf2img(elf, size, &o, &img, &n, msg, sizeof msg);
    if (e != SO_OK) {
        assert(img == NULL && n == 0 && msg[0] != '\0');
        int bad_opts = (o.version != 1 && o.version != 2) || o.flash_mode > 3;
        assert(bad_opts ? e == SO_E_ARG : e == SO_E_ELF);
    } else {
        assert(o.version == 1 || o.version == 2);
        assert(img != NULL && n > 0);
        check_image(elf, size, &o, img, n, msg);
        free(img);
    }
    free(elf);
    return 0;
}
