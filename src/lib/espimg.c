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

/* One reference w (a word in the flash mapping) against one slot's base B and irom
 * length L (see struct espimg_slot_refs). */
static void tally(uint32_t w, uint32_t base, uint32_t ilen, struct espimg_slot_refs *r)
{
    uint64_t b = base, end = b + ilen, v = w;
    if (v >= b && v < end) {
        r->inside++;
        if (v - b < ESPIMG_SLOT_EDGE)
            r->head++;
    } else if (v < b && b - v <= ESPIMG_SLOT_EDGE) {
        r->below++;
        r->edge += b - v <= ESPIMG_SLOT_NEAR && v % 4 == 0;
    } else if (v >= end && v - end < ESPIMG_SLOT_EDGE) {
        r->above++;
        r->edge += v - end < ESPIMG_SLOT_NEAR && v % 4 == 0;
    } else {
        r->outside++;
    }
}

/* Every aligned word of a segment whose value lies in the flash mapping. */
static void collect_refs(const uint8_t *d, uint32_t n, struct espimg_info *o)
{
    for (uint32_t i = 0; i + 4 <= n; i += 4) {
        uint32_t w = rd32(d + i);
        if (w < ESPIMG_IROM_MAP || w >= ESPIMG_IROM_END)
            continue;
        if (!o->refs_map || w < o->ref_lo)
            o->ref_lo = w;
        if (!o->refs_map || w > o->ref_hi)
            o->ref_hi = w;
        o->refs_map++;
        tally(w, ESPIMG_IROM_SLOT1, o->irom.len, &o->slot_refs[0]);
        tally(w, ESPIMG_IROM_SLOT2, o->irom.len, &o->slot_refs[1]);
    }
}

/* Is the code consistent with irom linked at exactly this slot's base? Returns the reason
 * it is not, or ESPIMG_SLOT_WHY_NONE. */
static enum espimg_slot_why slot_fits(const struct espimg_slot_refs *r)
{
    if (r->inside < ESPIMG_SLOT_REFS_MIN)
        return ESPIMG_SLOT_WHY_FEW;
    if (r->head == 0)
        return ESPIMG_SLOT_WHY_START;
    /* Just below the base and just past the end nothing can be; random data words (one
     * in 4096 falls into the 1 MB mapping) are tolerated only in proportion to a big
     * image's references: barely at the edge, a little in the 4 KiB around, some
     * elsewhere. */
    uint32_t edge_noise = r->inside / 256;
    if (r->edge > r->inside / 2048 || r->below > edge_noise || r->above > edge_noise ||
        (uint64_t)r->outside * ESPIMG_SLOT_NOISE > r->inside)
        return ESPIMG_SLOT_WHY_OUTSIDE;
    return ESPIMG_SLOT_WHY_NONE;
}

/* Which slot a v2 image was linked for (§4/§5: irom mapped at 0x40200000 + flash offset +
 * 0x10, so 0x40201010 for user1 and 0x40281010 for user2). The entry point must be in
 * IRAM, and the code's references into the flash mapping must fit code that starts at
 * exactly one of the two bases and is as long as the irom (slot_fits). Counting pointers
 * into a window is not enough: code linked at 0x40202010 lies inside user1's window too. */
static void find_slot_v2(const uint8_t *data, struct espimg_info *o)
{
    o->entry_iram = o->entry >= ESPIMG_IRAM_START && o->entry < ESPIMG_IRAM_END;
    collect_refs(data + o->irom.offset, o->irom.len, o);
    for (unsigned i = 0; i < o->nsegs; i++)
        collect_refs(data + o->seg[i].offset, o->seg[i].len, o);
    o->refs_slot1 = o->slot_refs[0].inside;
    o->refs_slot2 = o->slot_refs[1].inside;
    o->slot_how = ESPIMG_SLOT_UNKNOWN;
    if (!o->entry_iram) {
        o->slot_why = ESPIMG_SLOT_WHY_ENTRY;
        return;
    }
    enum espimg_slot_why w1 = slot_fits(&o->slot_refs[0]);
    enum espimg_slot_why w2 = slot_fits(&o->slot_refs[1]);
    if (w1 == ESPIMG_SLOT_WHY_NONE && w2 != ESPIMG_SLOT_WHY_NONE)
        o->slot = 1;
    else if (w2 == ESPIMG_SLOT_WHY_NONE && w1 != ESPIMG_SLOT_WHY_NONE)
        o->slot = 2;
    if (o->slot) {
        o->slot_how = ESPIMG_SLOT_BY_REFS;
        return;
    }
    /* Neither (or, impossibly, both): report the reason of the slot with more evidence. */
    o->slot_why = o->slot_refs[1].inside > o->slot_refs[0].inside ? w2 : w1;
    if (o->slot_why == ESPIMG_SLOT_WHY_NONE)
        o->slot_why = ESPIMG_SLOT_WHY_OUTSIDE;
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

/* The app's irom segment (a load address in the flash mapping) must load where the flash
 * holding its data is mapped once the image sits at 0x0: 0x40200000 + file offset. */
static void app_irom_place(struct espimg_info *o)
{
    for (unsigned i = 0; i < o->app.nsegs; i++) {
        const struct espimg_segment *sg = &o->app.seg[i];
        if (sg->addr < ESPIMG_IROM_MAP || sg->addr >= ESPIMG_IROM_END)
            continue;
        uint32_t want = ESPIMG_IROM_MAP + sg->offset;
        if (sg->addr != want) {
            o->app_irom_misplaced = 1;
            o->app_irom_addr = sg->addr;
            o->app_irom_want = want;
            return;
        }
    }
}

static const uint8_t *find_bytes(const uint8_t *h, size_t hn, const char *needle, size_t nn)
{
    while (hn >= nn) {
        const uint8_t *p = memchr(h, needle[0], hn - nn + 1);
        if (!p)
            return NULL;
        if (!memcmp(p, needle, nn))
            return p;
        hn -= (size_t)(p - h) + 1;
        h = p + 1;
    }
    return NULL;
}

/* Tasmota's minimal build: PSTR(CODE_IMAGE_STR) puts "minimal" on its own, NUL before and
 * after (PROGMEM strings are 4-byte aligned, padded with NULs), and every Tasmota build
 * says "Tasmota". Other builds only hold "-minimal" inside the format of their OTA URL. */
static int is_tasmota_minimal(const uint8_t *data, size_t len)
{
    static const char mark[] = "\0minimal\0";
    return find_bytes(data, len, "Tasmota", 7) && find_bytes(data, len, mark, sizeof mark - 1);
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
            app_irom_place(o);
        } else {
            memset(&o->app, 0, sizeof o->app);
        }
    }
    if (!o->full_image)
        find_slot_v1(&h, o);
    o->tasmota_minimal = is_tasmota_minimal(data, len);
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

static const struct {
    unsigned id;
    const char *name;
} chips[] = {
    {0x00, "ESP32"},    {0x02, "ESP32-S2"}, {0x05, "ESP32-C3"},  {0x09, "ESP32-S3"},
    {0x0C, "ESP32-C2"}, {0x0D, "ESP32-C6"}, {0x10, "ESP32-H2"},  {0x12, "ESP32-P4"},
    {0x14, "ESP32-C61"}, {0x17, "ESP32-C5"}, {0x19, "ESP32-H21"}, {0x1C, "ESP32-H4"},
};

const char *espimg_chip_name(unsigned chip_id)
{
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
        if (chips[i].id == chip_id)
            return chips[i].name;
    return NULL;
}

/* ESP32-family image (esptool's firmware image format): the 8-byte header, a 16-byte
 * extended header (wp pin, drive, chip id u16 at 12, revisions, 4 reserved zero bytes at
 * 19, hash_appended 0/1 at 23), then the segments at 24. All of it must hold, including a
 * segment table that fits the file, and bytes 8..11 (wp pin, usually 0xEE, and drive
 * settings, usually 0) must not read as an ESP8266 segment address: every ESP8266 address
 * (DPORT, DRAM, IRAM, ROM, flash mapping) has 0x3F or 0x40 as its top byte. So an ESP8266
 * image is never taken for one. */
static int is_esp32(const uint8_t *data, size_t len, unsigned *chip)
{
    if (len < 24 || data[0] != ESPIMG_MAGIC_V1 || data[1] == 0 || data[1] > ESPIMG_MAX_SEGMENTS)
        return 0;
    if (data[11] == 0x3F || data[11] == 0x40)
        return 0;
    unsigned id = (unsigned)data[12] | (unsigned)data[13] << 8;
    if (!espimg_chip_name(id) || (data[19] | data[20] | data[21] | data[22]) != 0 || data[23] > 1)
        return 0;
    size_t pos = 24;
    for (unsigned i = 0; i < data[1]; i++) {
        if (len - pos < 8)
            return 0;
        uint32_t slen = rd32(data + pos + 4);
        if (slen % 4 != 0 || len - pos - 8 < slen)
            return 0;
        pos += 8 + (size_t)slen;
    }
    *chip = id;
    return 1;
}

enum so_err espimg_parse(const uint8_t *data, size_t len, struct espimg_info *out)
{
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    out->len = len;
    if (!data && len)
        return SO_E_ARG;
    enum espimg_foreign foreign = ESPIMG_FOREIGN_NONE;
    unsigned chip = 0;
    if (len >= 2 && data[0] == 0x1F && data[1] == 0x8B)
        foreign = ESPIMG_FOREIGN_GZIP;
    else if (is_esp32(data, len, &chip))
        foreign = ESPIMG_FOREIGN_ESP32;
    enum so_err e;
    if (foreign != ESPIMG_FOREIGN_NONE)
        e = SO_E_IMG_MAGIC;
    else if (len < 8)
        e = SO_E_IMG_SHORT;
    else if (data[0] == ESPIMG_MAGIC_V1)
        e = parse_v1(data, len, out);
    else if (data[0] == ESPIMG_MAGIC_V2)
        e = parse_v2(data, len, out);
    else
        e = SO_E_IMG_MAGIC;
    if (e != SO_OK) {
        memset(out, 0, sizeof *out);
        out->len = len;
        out->foreign = foreign;
        out->foreign_chip = chip;
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
