/* espimg_make.c - deterministic, structurally valid test images of each kind (PROTOCOL.md §5):
 * user1/user2 = v2 images like SonOTA's Espressif2Arduino builds (irom linked at
 * 0x40201010 / 0x40281010, three RAM segments, XOR checksum, CRC32 variant); final/diy = full
 * Arduino images (eboot at 0 padded with 0xAA to 0x1000, app with irom at 0x40201010, DOUT,
 * 1 MB). The code bytes are pseudo-random with literal-pool-like words pointing into the
 * image's own irom, as real -mlongcalls code has, so slot detection sees what it expects. */
#include "lib/espimg.h"

#include "lib/crc32.h"

#include <stdlib.h>
#include <string.h>

#define MAKE_MAX_SIZE ESPIMG_MAX_SEGMENT_LEN /* irom alone may not exceed 1 MiB */
#define MIN_USER 4100u                       /* ≥ ESPIMG_MIN_E2A, ≡ 4 (mod 16) */
#define MIN_FULL 4608u                       /* eboot 0x1000 + a small app, ≡ 0 (mod 16) */
#define REF_EVERY 32u                        /* one irom pointer per 32 bytes of code */
#define EBOOT_LEN 0x560u
#define APP_DRAM 0x3FFE8000u
#define APP_IRAM 0x40100000u

struct mk {
    uint8_t *p;
    size_t pos;
    uint32_t rng;
};

static uint32_t rnd(struct mk *m)
{
    /* xorshift32: deterministic from the seed, good enough for filler bytes */
    uint32_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return m->rng = x;
}

static void put8(struct mk *m, uint8_t v)
{
    m->p[m->pos++] = v;
}

static void put32(struct mk *m, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(m, (uint8_t)(v >> (8 * i)));
}

static void put_hdr(struct mk *m, uint8_t magic, uint8_t nseg, uint8_t mode, uint8_t sizefreq,
                    uint32_t entry)
{
    put8(m, magic);
    put8(m, nseg);
    put8(m, mode);
    put8(m, sizefreq);
    put32(m, entry);
}

/* A segment header and `len` bytes of code-like data; returns the XOR of the data. With
 * refs_len > 0 every REF_EVERY-th aligned word points into [refs_base, refs_base+refs_len). */
static uint8_t put_seg(struct mk *m, uint32_t addr, uint32_t len, uint32_t refs_base,
                       uint32_t refs_len)
{
    put32(m, addr);
    put32(m, len);
    uint8_t x = 0;
    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t w = rnd(m);
        if (refs_len >= 4 && i % REF_EVERY == 0)
            w = refs_base + (rnd(m) % (refs_len / 4)) * 4;
        for (int k = 0; k < 4; k++) {
            uint8_t b = (uint8_t)(w >> (8 * k));
            x ^= b;
            put8(m, b);
        }
    }
    return x;
}

/* Zero padding, then the checksum as the last byte of the 16-byte block (§5). */
static void put_checksum(struct mk *m, uint8_t sum)
{
    while ((m->pos & 15) != 15)
        put8(m, 0);
    put8(m, sum);
}

static uint32_t round_down4(size_t v)
{
    return (uint32_t)(v & ~(size_t)3);
}

/* v2: 8-byte header, irom (addr 0, len L), second v1 header, .text/.data/.rodata, checksum,
 * CRC. total = 16 + L + 32 + roundup16(ram + 1) + 4 with L a multiple of 16. */
static void make_user(struct mk *m, size_t total, int slot)
{
    uint32_t ram = (uint32_t)(total / 8 > 32768 ? 32768 : total / 8) & ~3u;
    uint32_t text = (ram / 2) & ~3u, data = (ram / 4) & ~3u, rodata = ram - text - data;
    uint32_t ram_blk = ((ram + 1 + 15) / 16) * 16;
    uint32_t irom = (uint32_t)(total - 4 - 48 - ram_blk);
    uint32_t base = slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2;
    uint8_t sizefreq = ESPIMG_SIZE_1M << 4 | ESPIMG_FREQ_40M;

    put_hdr(m, ESPIMG_MAGIC_V2, ESPIMG_V2_SEGMENT_BYTE, ESPIMG_MODE_QIO, sizefreq,
            ESPIMG_ENTRY_USER);
    put_seg(m, 0, irom, base, irom);
    put_hdr(m, ESPIMG_MAGIC_V1, 3, ESPIMG_MODE_QIO, sizefreq, ESPIMG_ENTRY_USER);
    uint8_t sum = ESPIMG_CHECKSUM_SEED;
    sum ^= put_seg(m, APP_IRAM, text, base, irom);
    sum ^= put_seg(m, APP_DRAM, data, 0, 0);
    sum ^= put_seg(m, APP_DRAM + data + 0x100, rodata, 0, 0);
    put_checksum(m, sum);
    put32(m, so_crc32_esp8266(m->p, m->pos));
}

/* Full Arduino image: eboot (1 segment at 0x4010F000) + 0xAA padding to 0x1000, then the
 * app (irom at 0x40201010 first, then .text/.data/.rodata), DOUT, 1 MB (§5). */
static void make_full(struct mk *m, size_t total)
{
    uint8_t sizefreq = ESPIMG_SIZE_1M << 4 | ESPIMG_FREQ_40M;
    put_hdr(m, ESPIMG_MAGIC_V1, 1, ESPIMG_MODE_DOUT, sizefreq, ESPIMG_EBOOT_ADDR);
    uint8_t sum = ESPIMG_CHECKSUM_SEED ^ put_seg(m, ESPIMG_EBOOT_ADDR, EBOOT_LEN, 0, 0);
    put_checksum(m, sum);
    while (m->pos < ESPIMG_APP_OFFSET)
        put8(m, 0xAA);

    size_t app = total - ESPIMG_APP_OFFSET;
    uint32_t ram = (uint32_t)(app / 8 > 32768 ? 32768 : app / 8) & ~3u;
    uint32_t text = (ram / 2) & ~3u, data = (ram / 4) & ~3u, rodata = ram - text - data;
    /* header 8 + 4 segment headers 32 + irom + ram + checksum 1 must round up to `app` */
    uint32_t irom = round_down4(app - 40 - ram - 1);
    put_hdr(m, ESPIMG_MAGIC_V1, 4, ESPIMG_MODE_DOUT, sizefreq, ESPIMG_ENTRY_USER);
    sum = ESPIMG_CHECKSUM_SEED;
    sum ^= put_seg(m, ESPIMG_IROM_SLOT1, irom, ESPIMG_IROM_SLOT1, irom);
    sum ^= put_seg(m, APP_IRAM, text, ESPIMG_IROM_SLOT1, irom);
    sum ^= put_seg(m, APP_DRAM, data, 0, 0);
    sum ^= put_seg(m, APP_DRAM + data + 0x100, rodata, 0, 0);
    put_checksum(m, sum);
}

enum so_err espimg_make_test(enum espimg_use kind, size_t size, uint32_t seed, uint8_t **out,
                             size_t *len)
{
    if (!out || !len)
        return SO_E_ARG;
    *out = NULL;
    *len = 0;
    if (size > MAKE_MAX_SIZE)
        return SO_E_ARG;
    int user = kind == ESPIMG_USE_USER1 || kind == ESPIMG_USE_USER2;
    if (!user && kind != ESPIMG_USE_FINAL && kind != ESPIMG_USE_DIY)
        return SO_E_ARG;
    if (size == 0)
        size = user ? ESPIMG_DEFAULT_USER
                    : kind == ESPIMG_USE_FINAL ? ESPIMG_DEFAULT_FINAL : ESPIMG_DEFAULT_DIY;
    /* v2 files end 4 bytes past a 16-byte boundary (CRC after the checksum block); full
     * images end on one. */
    size_t total = user ? (size < MIN_USER ? MIN_USER : ((size - 4) / 16) * 16 + 4)
                        : (size < MIN_FULL ? MIN_FULL : (size / 16) * 16);
    struct mk m = {malloc(total), 0, seed * 0x9E3779B9u + 0x7F4A7C15u};
    if (!m.p)
        return SO_E_NOMEM;
    if (m.rng == 0)
        m.rng = 1;
    if (user)
        make_user(&m, total, kind == ESPIMG_USE_USER1 ? 1 : 2);
    else
        make_full(&m, total);
    if (m.pos != total) { /* layout arithmetic slipped: never hand out a wrong image */
        free(m.p);
        return SO_E_ARG;
    }
    *out = m.p;
    *len = total;
    return SO_OK;
}
