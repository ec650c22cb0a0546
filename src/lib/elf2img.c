/* elf2img.c - ESP8266 ELF to v1/v2 image, following esptool's elf2image (PROTOCOL.md §5).
 *
 * v1 and irom0: esptool writes a v1 image holding only the RAM segments and puts the irom0
 * data in a second file for flash offset (irom address - 0x40200000). One output file cannot
 * do that, so:
 *  - irom0 at exactly 0x40201010 (the Arduino app layout, §5): the irom segment goes FIRST in
 *    the v1 image, as Arduino's elf2bin.py does. Placed at flash 0x1000 behind eboot, its data
 *    starts at 0x1010 = its link address; eboot skips segments in the flash mapping. A note
 *    says so, since the ROM loader itself cannot boot such an image from 0x0.
 *  - irom0 anywhere else: refused (SO_E_ELF) with the advice to use --version 2 or to link
 *    irom0 at 0x40201010; silently dropping code would produce an image that crashes.
 * Without irom0, v1 is exactly esptool's 0x00000.bin. */
#include "lib/elf2img.h"
#include "lib/fmt_attr.h"

#include "lib/crc32.h"
#include "lib/espimg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHT_PROGBITS 1
#define SHT_NOBITS 8
#define SHT_INIT_ARRAY 14
#define SHT_FINI_ARRAY 15
#define SHT_PREINIT_ARRAY 16
#define SHF_ALLOC 0x2
#define IROM_MAP_START 0x40200000u /* esptool ESP8266ROM.IROM_MAP_START */
#define IROM_MAP_END 0x40300000u

struct sec {
    uint32_t addr, off, raw, pad; /* pad = raw rounded up to 4 */
    char name[32];
};

struct seg {
    uint32_t addr, len;
    unsigned first, last; /* sections [first, last] */
};

struct conv {
    const uint8_t *elf;
    size_t len;
    struct sec sec[ELF2IMG_MAX_SECTIONS];
    unsigned nsec;
    struct seg seg[ELF2IMG_MAX_SECTIONS];
    unsigned nseg;
    uint32_t entry;
    char *msg;
    size_t cap;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Replaces msg with a sentence and returns code. */
SO_PRINTF(3, 4)
static enum so_err fail(struct conv *c, enum so_err code, const char *fmt, ...)
{
    if (c->msg && c->cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, c->cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Appends one note line to msg (dropped when it does not fit). */
SO_PRINTF(2, 3)
static void note(struct conv *c, const char *fmt, ...)
{
    if (!c->msg || !c->cap)
        return;
    size_t used = strlen(c->msg);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->msg + used, c->cap - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 1 >= c->cap - used)
        c->msg[used] = '\0';
    else
        strcat(c->msg, "\n");
}

/* esptool targets/esp8266.py MEMORY_MAP; 0 = outside every region. */
static int mem_type(uint32_t a)
{
    if (a >= 0x3FF00000u && a < 0x3FF00010u)
        return 1; /* DPORT */
    if (a >= 0x3FFE8000u && a < 0x40000000u)
        return 2; /* DRAM */
    if (a >= 0x40100000u && a < 0x40108000u)
        return 3; /* IRAM */
    if (a >= 0x40201010u && a < 0x402E1010u)
        return 4; /* IROM */
    return 0;
}

static int is_irom(uint32_t a)
{
    return a >= IROM_MAP_START && a < IROM_MAP_END;
}

static enum so_err read_sections(struct conv *c)
{
    const uint8_t *e = c->elf;
    if (c->len < 52 || memcmp(e, "\x7f" "ELF", 4) != 0)
        return fail(c, SO_E_ELF, "Not an ELF file (no \\x7fELF magic).");
    if (e[4] != 1 || e[5] != 1)
        return fail(c, SO_E_ELF, "Not a 32-bit little-endian ELF file, as ESP8266 builds are.");
    if (rd16(e + 18) != ELF2IMG_EM_XTENSA)
        return fail(c, SO_E_ELF, "The ELF file is for machine %u, not Xtensa (%u): build it with "
                    "the xtensa-lx106-elf toolchain.", rd16(e + 18), ELF2IMG_EM_XTENSA);
    c->entry = rd32(e + 24);
    uint32_t shoff = rd32(e + 32);
    uint16_t shentsize = rd16(e + 46), shnum = rd16(e + 48), shstrndx = rd16(e + 50);
    if (shnum == 0 || shentsize < 40 || shoff > c->len ||
        (c->len - shoff) / shentsize < shnum)
        return fail(c, SO_E_ELF, "The ELF section header table is missing or truncated.");
    const uint8_t *strtab = NULL;
    uint32_t strsize = 0;
    if (shstrndx < shnum) {
        const uint8_t *s = e + shoff + (size_t)shstrndx * shentsize;
        uint32_t off = rd32(s + 16), size = rd32(s + 20);
        if (rd32(s + 4) != SHT_NOBITS && off <= c->len && c->len - off >= size) {
            strtab = e + off;
            strsize = size;
        }
    }
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *s = e + shoff + (size_t)i * shentsize;
        uint32_t name = rd32(s), type = rd32(s + 4), flags = rd32(s + 8);
        uint32_t addr = rd32(s + 12), off = rd32(s + 16), size = rd32(s + 20);
        /* esptool ELFFile: PROGBITS/INIT_ARRAY/FINI_ARRAY with an address and a size */
        int data_type = type == SHT_PROGBITS || type == SHT_INIT_ARRAY ||
                        type == SHT_FINI_ARRAY || type == SHT_PREINIT_ARRAY;
        if (!data_type || !(flags & SHF_ALLOC) || addr == 0 || size == 0)
            continue;
        if (off > c->len || c->len - off < size)
            return fail(c, SO_E_ELF, "ELF section %u reaches past the end of the file.", i);
        if (size > ESPIMG_MAX_SEGMENT_LEN)
            return fail(c, SO_E_ELF, "ELF section %u is %u bytes, more than an ESP8266 image "
                        "segment can hold.", i, size);
        if (c->nsec == ELF2IMG_MAX_SECTIONS)
            return fail(c, SO_E_ELF, "The ELF file has more than %d loadable sections.",
                        ELF2IMG_MAX_SECTIONS);
        struct sec *t = &c->sec[c->nsec++];
        *t = (struct sec){addr, off, size, (size + 3) & ~3u, ""};
        if (strtab && name < strsize) {
            size_t n = strnlen((const char *)strtab + name, strsize - name);
            if (n >= sizeof t->name)
                n = sizeof t->name - 1;
            memcpy(t->name, strtab + name, n);
        }
        if (!t->name[0])
            snprintf(t->name, sizeof t->name, "#%u", i);
    }
    if (c->nsec == 0)
        return fail(c, SO_E_ELF, "The ELF file has no loadable sections (SHF_ALLOC with data "
                    "at a non-zero address); is it a linked program?");
    return SO_OK;
}

/* esptool merge_adjacent_segments: a section that starts where the previous one ends, in the
 * same memory region, joins it. */
static void merge(struct conv *c)
{
    for (unsigned i = 0; i < c->nsec; i++) {
        struct sec *s = &c->sec[i];
        struct seg *last = c->nseg ? &c->seg[c->nseg - 1] : NULL;
        if (last && mem_type(last->addr) == mem_type(s->addr) &&
            (uint64_t)last->addr + last->len == s->addr &&
            (uint64_t)last->len + s->pad <= ESPIMG_MAX_SEGMENT_LEN) {
            last->len += s->pad;
            last->last = i;
        } else {
            c->seg[c->nseg++] = (struct seg){s->addr, s->pad, i, i};
        }
        if (!mem_type(s->addr) && !is_irom(s->addr))
            note(c, "section %s at 0x%08x lies outside the ESP8266 RAM and flash map", s->name,
                 (unsigned)s->addr);
    }
    if (c->nseg < c->nsec)
        note(c, "merged %u adjacent ELF section%s", c->nsec - c->nseg,
             c->nsec - c->nseg > 1 ? "s" : "");
}

struct out {
    uint8_t *p;
    size_t pos;
};

static void put(struct out *o, const void *d, size_t n)
{
    memcpy(o->p + o->pos, d, n);
    o->pos += n;
}

static void put32(struct out *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(o, b, 4);
}

static void put_hdr(struct out *o, uint8_t magic, uint8_t n, const struct elf2img_opts *op,
                    uint32_t entry)
{
    uint8_t h[4] = {magic, n, op->flash_mode, (uint8_t)(op->flash_size << 4 | op->flash_freq)};
    put(o, h, 4);
    put32(o, entry);
}

/* Segment header (with `addr`), its sections' data zero-padded to 4, then zeros up to
 * `len`; returns the XOR of everything written after the header. */
static uint8_t put_seg(struct out *o, const struct conv *c, const struct seg *s, uint32_t addr,
                       uint32_t len)
{
    put32(o, addr);
    put32(o, len);
    size_t start = o->pos;
    for (unsigned i = s->first; i <= s->last; i++) {
        put(o, c->elf + c->sec[i].off, c->sec[i].raw);
        memset(o->p + o->pos, 0, c->sec[i].pad - c->sec[i].raw);
        o->pos += c->sec[i].pad - c->sec[i].raw;
    }
    memset(o->p + o->pos, 0, len - s->len);
    o->pos += len - s->len;
    uint8_t x = 0;
    for (size_t i = start; i < o->pos; i++)
        x ^= o->p[i];
    return x;
}

static void put_checksum(struct out *o, uint8_t sum)
{
    while ((o->pos & 15) != 15)
        o->p[o->pos++] = 0;
    o->p[o->pos++] = sum;
}

static enum so_err build(struct conv *c, const struct elf2img_opts *op, uint8_t **out,
                         size_t *outlen)
{
    int irom = -1;
    for (unsigned i = 0; i < c->nseg; i++) {
        if (!is_irom(c->seg[i].addr))
            continue;
        if (irom >= 0)
            return fail(c, SO_E_ELF, "Found several segments that could be irom0 (0x%08x and "
                        "0x%08x); check the linker script.", (unsigned)c->seg[irom].addr,
                        (unsigned)c->seg[i].addr);
        irom = (int)i;
    }
    unsigned nram = c->nseg - (irom >= 0);
    if (op->version == 2 && irom < 0)
        return fail(c, SO_E_ELF, "A v2 (OTA user) image needs an irom0 section linked at "
                    "0x%08x or 0x%08x; this ELF has none.", ESPIMG_IROM_SLOT1, ESPIMG_IROM_SLOT2);
    if (op->version == 1 && irom >= 0 && c->seg[irom].addr != ESPIMG_IROM_SLOT1)
        return fail(c, SO_E_ELF, "irom0 is linked at 0x%08x: a v1 image cannot carry it (esptool "
                    "writes it to a separate file for flash offset 0x%05x); use --version 2, "
                    "or link irom0 at 0x%08x for an Arduino-style app at 0x1000.",
                    (unsigned)c->seg[irom].addr, (unsigned)(c->seg[irom].addr - IROM_MAP_START),
                    ESPIMG_IROM_SLOT1);
    unsigned nhdr = op->version == 1 ? c->nseg : nram;
    if (nhdr == 0)
        return fail(c, SO_E_ELF, "The ELF file has no RAM sections to load.");
    if (nhdr > ESPIMG_MAX_SEGMENTS)
        return fail(c, SO_E_ELF, "The image would have %u segments, more than %d; usually the "
                    "linker script is at fault.", nhdr, ESPIMG_MAX_SEGMENTS);
    uint32_t irom_len = irom >= 0 ? (c->seg[irom].len + 15) & ~15u : 0;
    size_t total = 8 + (op->version == 2 ? 8 + (size_t)irom_len + 8 : 0);
    for (unsigned i = 0; i < c->nseg; i++)
        if (op->version == 1 || (int)i != irom)
            total += 8 + (size_t)c->seg[i].len;
    total = (total | 15) + 1 + (op->version == 2 ? 4 : 0);
    struct out o = {malloc(total), 0};
    if (!o.p)
        return SO_E_NOMEM;
    uint8_t sum = ESPIMG_CHECKSUM_SEED;
    if (op->version == 2) {
        put_hdr(&o, ESPIMG_MAGIC_V2, ESPIMG_V2_SEGMENT_BYTE, op, c->entry);
        put_seg(&o, c, &c->seg[irom], 0, irom_len);
        uint32_t a = c->seg[irom].addr;
        if (a != ESPIMG_IROM_SLOT1 && a != ESPIMG_IROM_SLOT2)
            note(c, "irom0 is linked at 0x%08x, not 0x%08x (user1) or 0x%08x (user2): the "
                 "image only runs from flash offset 0x%05x", (unsigned)a, ESPIMG_IROM_SLOT1,
                 ESPIMG_IROM_SLOT2, (unsigned)(a - IROM_MAP_START - 0x10));
    } else if (irom >= 0) {
        note(c, "v1 image with irom0 at 0x%08x as its first segment (Arduino app layout): it "
             "must sit at flash 0x1000 behind a bootloader such as eboot", ESPIMG_IROM_SLOT1);
    }
    put_hdr(&o, ESPIMG_MAGIC_V1, (uint8_t)nhdr, op, c->entry);
    if (op->version == 1 && irom >= 0)
        sum ^= put_seg(&o, c, &c->seg[irom], c->seg[irom].addr, c->seg[irom].len);
    for (unsigned i = 0; i < c->nseg; i++)
        if ((int)i != irom)
            sum ^= put_seg(&o, c, &c->seg[i], c->seg[i].addr, c->seg[i].len);
    put_checksum(&o, sum);
    if (op->version == 2)
        put32(&o, so_crc32_esp8266(o.p, o.pos));
    *out = o.p;
    *outlen = o.pos;
    return SO_OK;
}

enum so_err elf2img(const uint8_t *elf, size_t len, const struct elf2img_opts *opts,
                    uint8_t **out, size_t *outlen, char *msg, size_t msgcap)
{
    if (msg && msgcap)
        msg[0] = '\0';
    if (out)
        *out = NULL;
    if (outlen)
        *outlen = 0;
    if (!out || !outlen || !opts || (!elf && len))
        return SO_E_ARG;
    if ((opts->version != 1 && opts->version != 2) || opts->flash_mode > 3 ||
        opts->flash_size > 0xF || opts->flash_freq > 0xF) {
        if (msg && msgcap)
            snprintf(msg, msgcap, "Invalid options: version must be 1 or 2, flash mode 0-3.");
        return SO_E_ARG;
    }
    struct conv *c = calloc(1, sizeof *c);
    if (!c)
        return SO_E_NOMEM;
    c->elf = elf;
    c->len = len;
    c->msg = msg;
    c->cap = msgcap;
    enum so_err e = read_sections(c);
    if (e == SO_OK) {
        merge(c);
        e = build(c, opts, out, outlen);
    }
    free(c);
    return e;
}
