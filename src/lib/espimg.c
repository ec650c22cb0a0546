/* espimg.c - parse ESP8266 v1 (0xE9) and v2 (0xEA) images and full Arduino images
 * (PROTOCOL.md §5; layout as esptool's bin_image.py reads and writes it). */
#include "lib/espimg.h"

#include "lib/crc32.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One v1-style header with its segments at `off`: 8-byte header, then per segment an
 * (addr, len) pair and the data; the checksum byte is the last byte of the 16-byte block
 * (file offsets, as esptool's align_file_position) that follows the last segment (§5). */
static enum so_err parse_hdr(const uint8_t *data, size_t len, size_t off, struct espimg_hdr *h)
{
    memset(h, 0, sizeof *h);
    h->offset = off;
    if (off > len || len - off < 8)
        return SO_E_IMG_SHORT;
    const uint8_t *p = data + off;
    h->magic = p[0];
    if (h->magic != ESPIMG_MAGIC_V1)
        return SO_E_IMG_MAGIC;
    if (p[1] == 0 || p[1] > ESPIMG_MAX_SEGMENTS)
        return SO_E_IMG_SEGMENTS;
    h->flash_mode = p[2];
    h->flash_size = p[3] >> 4;
    h->flash_freq = p[3] & 0x0F;
    h->entry = rd32(p + 4);
    size_t pos = off + 8;
    uint8_t sum = ESPIMG_CHECKSUM_SEED;
    for (unsigned i = 0; i < p[1]; i++) {
        if (len - pos < 8)
            return SO_E_IMG_SHORT;
        uint32_t addr = rd32(data + pos), slen = rd32(data + pos + 4);
        if (slen % 4 != 0 || slen > ESPIMG_MAX_SEGMENT_LEN)
            return SO_E_IMG_SEGMENTS;
        pos += 8;
        if (len - pos < slen)
            return SO_E_IMG_SHORT;
        h->seg[i] = (struct espimg_segment){addr, slen, (uint32_t)pos};
        for (uint32_t k = 0; k < slen; k++)
            sum ^= data[pos + k];
        pos += slen;
        h->nsegs = i + 1;
    }
    size_t cpos = pos | 15;
    if (cpos >= len)
        return SO_E_IMG_SHORT;
    h->checksum_stored = data[cpos];
    h->checksum_computed = sum;
    h->checksum_ok = sum == data[cpos];
    h->end = cpos + 1;
    return SO_OK;
}

static void copy_hdr(struct espimg_info *o, const struct espimg_hdr *h)
{
    o->flash_mode = h->flash_mode;
    o->flash_size = h->flash_size;
    o->flash_freq = h->flash_freq;
    o->entry = h->entry;
    o->nsegs = h->nsegs;
    memcpy(o->seg, h->seg, sizeof o->seg);
    o->checksum_stored = h->checksum_stored;
    o->checksum_computed = h->checksum_computed;
    o->checksum_ok = h->checksum_ok;
}

static int slot_of_addr(uint32_t a)
{
    if (a >= ESPIMG_IROM_SLOT1 && a < ESPIMG_IROM_SLOT2)
        return 1;
    if (a >= ESPIMG_IROM_SLOT2 && a < ESPIMG_IROM_END)
        return 2;
    return 0;
}

/* Counts aligned 32-bit words of a segment's data that point into slot 1's or slot 2's irom
 * window, each window as long as the image's irom. The lx106 toolchain is used with
 * -mlongcalls, so code holds literal pools full of absolute irom addresses; random bytes hit
 * a window only about irom_len / 2^32 of the time. */
static void count_refs(const uint8_t *d, uint32_t n, uint32_t irom_len, struct espimg_info *o)
{
    for (uint32_t i = 0; i + 4 <= n; i += 4) {
        uint32_t w = rd32(d + i);
        if (w >= ESPIMG_IROM_SLOT1 && w - ESPIMG_IROM_SLOT1 < irom_len)
            o->refs_slot1++;
        else if (w >= ESPIMG_IROM_SLOT2 && w - ESPIMG_IROM_SLOT2 < irom_len)
            o->refs_slot2++;
    }
}

#define REFS_MIN 8   /* fewer references than this decide nothing */
#define REFS_RATIO 4 /* the winning slot needs this many times the other's count */

/* Which slot a v2 image was linked for (irom org 0x40201010 or 0x40281010, §4/§5): the entry
 * point if it lies in an irom window, else the references its code makes. */
static void find_slot_v2(const uint8_t *data, struct espimg_info *o)
{
    int s = slot_of_addr(o->entry);
    if (s) {
        o->slot = s;
        o->slot_how = ESPIMG_SLOT_BY_ENTRY;
        return;
    }
    for (unsigned i = 0; i < o->nsegs; i++) {
        s = slot_of_addr(o->seg[i].addr);
        if (s) {
            o->slot = s;
            o->slot_how = ESPIMG_SLOT_BY_SEGMENT;
            return;
        }
    }
    uint32_t ilen = o->irom.len;
    count_refs(data + o->irom.offset, o->irom.len, ilen, o);
    for (unsigned i = 0; i < o->nsegs; i++)
        count_refs(data + o->seg[i].offset, o->seg[i].len, ilen, o);
    uint64_t r1 = o->refs_slot1, r2 = o->refs_slot2;
    if (r1 >= REFS_MIN && r1 >= REFS_RATIO * r2)
        o->slot = 1;
    else if (r2 >= REFS_MIN && r2 >= REFS_RATIO * r1)
        o->slot = 2;
    o->slot_how = o->slot ? ESPIMG_SLOT_BY_REFS : ESPIMG_SLOT_UNKNOWN;
}

/* A v1 image says where it runs through a segment inside an irom window (the Arduino app's
 * first segment at 0x40201010, §5). */
static void find_slot_v1(const struct espimg_hdr *h, struct espimg_info *o)
{
    for (unsigned i = 0; i < h->nsegs; i++) {
        int s = slot_of_addr(h->seg[i].addr);
        if (s) {
            o->slot = s;
            o->slot_how = ESPIMG_SLOT_BY_SEGMENT;
            return;
        }
    }
    int s = slot_of_addr(h->entry);
    if (s) {
        o->slot = s;
        o->slot_how = ESPIMG_SLOT_BY_ENTRY;
    }
}

static void arduino_crc(const uint8_t *data, size_t len, struct espimg_info *o)
{
    if (len < ESPIMG_ARDUINO_CRC_VAL_OFF + 4 || len > UINT32_MAX)
        return;
    if (rd32(data + ESPIMG_ARDUINO_CRC_LEN_OFF) != (uint32_t)len)
        return;
    static const uint8_t zero[8];
    uint32_t c = so_crc32_msb(SO_CRC32_MSB_INIT, data, ESPIMG_ARDUINO_CRC_LEN_OFF);
    c = so_crc32_msb(c, zero, sizeof zero);
    c = so_crc32_msb(c, data + ESPIMG_ARDUINO_CRC_LEN_OFF + 8,
                     len - ESPIMG_ARDUINO_CRC_LEN_OFF - 8);
    o->arduino_crc_present = 1;
    o->arduino_crc_stored = rd32(data + ESPIMG_ARDUINO_CRC_VAL_OFF);
    o->arduino_crc_computed = c;
    o->arduino_crc_ok = c == o->arduino_crc_stored;
}

static enum so_err parse_v1(const uint8_t *data, size_t len, struct espimg_info *o)
{
    struct espimg_hdr h;
    enum so_err e = parse_hdr(data, len, 0, &h);
    if (e != SO_OK)
        return e;
    o->format = ESPIMG_FMT_V1;
    copy_hdr(o, &h);
    o->used_len = h.end;
    o->eboot_like = h.seg[0].addr >= ESPIMG_EBOOT_ADDR - 0x1000 && h.seg[0].addr < 0x40110000u;
    /* Full Arduino image: eboot fits below 0x1000 and an app image starts there (§5). */
    o->app_err = SO_E_IMG_MAGIC;
    if (h.end <= ESPIMG_APP_OFFSET && len > ESPIMG_APP_OFFSET &&
        data[ESPIMG_APP_OFFSET] == ESPIMG_MAGIC_V1) {
        o->app_err = parse_hdr(data, len, ESPIMG_APP_OFFSET, &o->app);
        if (o->app_err == SO_OK) {
            o->full_image = 1;
            o->used_len = o->app.end;
            find_slot_v1(&o->app, o);
            arduino_crc(data, len, o);
        } else {
            memset(&o->app, 0, sizeof o->app);
        }
    }
    if (!o->full_image)
        find_slot_v1(&h, o);
    return SO_OK;
}

static enum so_err parse_v2(const uint8_t *data, size_t len, struct espimg_info *o)
{
    if (len < 16)
        return SO_E_IMG_SHORT;
    o->format = ESPIMG_FMT_V2;
    o->v2_segbyte = data[1];
    o->v2_flash_mode = data[2];
    o->v2_flash_size = data[3] >> 4;
    o->v2_flash_freq = data[3] & 0x0F;
    o->v2_entry = rd32(data + 4);
    /* irom segment: stored with address 0, data mapped at 0x40200000 + flash offset + 0x10. */
    uint32_t ilen = rd32(data + 12);
    if (ilen % 4 != 0 || ilen > ESPIMG_MAX_SEGMENT_LEN)
        return SO_E_IMG_SEGMENTS;
    if (len - 16 < ilen)
        return SO_E_IMG_SHORT;
    o->has_irom = 1;
    o->irom = (struct espimg_segment){rd32(data + 8), ilen, 16};
    struct espimg_hdr h;
    enum so_err e = parse_hdr(data, len, 16 + (size_t)ilen, &h);
    if (e != SO_OK)
        return e;
    copy_hdr(o, &h); /* the second header wins when they disagree (§5) */
    if (len - h.end < 4)
        return SO_E_IMG_SHORT;
    o->crc_stored = rd32(data + h.end);
    o->crc_computed = so_crc32_esp8266(data, h.end);
    o->crc_ok = o->crc_stored == o->crc_computed;
    o->used_len = h.end + 4;
    find_slot_v2(data, o);
    return SO_OK;
}

enum so_err espimg_parse(const uint8_t *data, size_t len, struct espimg_info *out)
{
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    out->len = len;
    if (!data && len)
        return SO_E_ARG;
    if (len < 8)
        return SO_E_IMG_SHORT;
    enum so_err e;
    if (data[0] == ESPIMG_MAGIC_V1)
        e = parse_v1(data, len, out);
    else if (data[0] == ESPIMG_MAGIC_V2)
        e = parse_v2(data, len, out);
    else
        e = SO_E_IMG_MAGIC;
    if (e != SO_OK) {
        memset(out, 0, sizeof *out);
        out->len = len;
        return e;
    }
    out->trailing = len - out->used_len;
    return SO_OK;
}

const char *espimg_flash_mode_name(uint8_t mode)
{
    static const char *const names[] = {"QIO", "QOUT", "DIO", "DOUT"};
    return mode < 4 ? names[mode] : "?";
}

const char *espimg_flash_size_name(uint8_t code)
{
    switch (code) {
    case ESPIMG_SIZE_512K: return "512KB";
    case ESPIMG_SIZE_256K: return "256KB";
    case ESPIMG_SIZE_1M: return "1MB";
    case ESPIMG_SIZE_2M: return "2MB";
    case ESPIMG_SIZE_4M: return "4MB";
    case ESPIMG_SIZE_2M_C1: return "2MB-c1";
    case ESPIMG_SIZE_4M_C1: return "4MB-c1";
    case ESPIMG_SIZE_8M: return "8MB";
    case ESPIMG_SIZE_16M: return "16MB";
    default: return "?";
    }
}

const char *espimg_flash_freq_name(uint8_t code)
{
    switch (code) {
    case ESPIMG_FREQ_40M: return "40MHz";
    case ESPIMG_FREQ_26M: return "26MHz";
    case ESPIMG_FREQ_20M: return "20MHz";
    case ESPIMG_FREQ_80M: return "80MHz";
    default: return "?";
    }
}

static const char *const use_names[ESPIMG_USE__COUNT] = {"user1", "user2", "final", "diy"};

const char *espimg_use_name(enum espimg_use use)
{
    return (unsigned)use < ESPIMG_USE__COUNT ? use_names[use] : NULL;
}

int espimg_use_from_name(const char *name, enum espimg_use *use)
{
    for (unsigned i = 0; name && i < ESPIMG_USE__COUNT; i++)
        if (!strcmp(name, use_names[i])) {
            *use = (enum espimg_use)i;
            return 0;
        }
    return -1;
}
