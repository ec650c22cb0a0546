/* test_elf2img.c - ESP8266 ELF to image conversion (esptool elf2image rules, PROTOCOL.md §5),
 * on ELF files written by a small ELF32 writer here, so nothing needs to be installed. */
#include "lib/elf2img.h"

#include "lib/crc32.h"
#include "lib/espimg.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGBITS 1
#define NOBITS 8
#define ALLOC 2
#define EXEC 4

struct tsec {
    const char *name;
    uint32_t type, flags, addr;
    const void *data;
    uint32_t size;
};

static void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ELF32 LE: header, section data, .shstrtab, section headers (null, sections, .shstrtab).
 * The buffer is exactly *len bytes. */
static uint8_t *write_elf(const struct tsec *s, unsigned n, uint16_t machine, uint32_t entry,
                          size_t *len)
{
    size_t data = 0, names = 1 + strlen(".shstrtab") + 1;
    for (unsigned i = 0; i < n; i++) {
        if (s[i].type != NOBITS)
            data += s[i].size;
        names += strlen(s[i].name) + 1;
    }
    size_t strtab_off = 52 + data, shoff = (strtab_off + names + 3) & ~(size_t)3;
    *len = shoff + (size_t)(n + 2) * 40;
    uint8_t *e = calloc(1, *len);
    assert_non_null(e);
    memcpy(e, "\x7f" "ELF", 4);
    e[4] = 1; /* ELFCLASS32 */
    e[5] = 1; /* little-endian */
    e[6] = 1;
    w16(e + 16, 2); /* ET_EXEC */
    w16(e + 18, machine);
    w32(e + 20, 1);
    w32(e + 24, entry);
    w32(e + 32, (uint32_t)shoff);
    w16(e + 40, 52);
    w16(e + 46, 40);
    w16(e + 48, (uint16_t)(n + 2));
    w16(e + 50, (uint16_t)(n + 1));
    size_t doff = 52, noff = 1;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *h = e + shoff + (size_t)(i + 1) * 40;
        size_t nl = strlen(s[i].name) + 1;
        memcpy(e + strtab_off + noff, s[i].name, nl);
        w32(h, (uint32_t)noff);
        noff += nl;
        w32(h + 4, s[i].type);
        w32(h + 8, s[i].flags);
        w32(h + 12, s[i].addr);
        w32(h + 16, (uint32_t)doff);
        w32(h + 20, s[i].size);
        if (s[i].type != NOBITS && s[i].size) {
            memcpy(e + doff, s[i].data, s[i].size);
            doff += s[i].size;
        }
    }
    memcpy(e + strtab_off + noff, ".shstrtab", 10);
    uint8_t *h = e + shoff + (size_t)(n + 1) * 40;
    w32(h, (uint32_t)noff);
    w32(h + 4, 3); /* SHT_STRTAB */
    w32(h + 16, (uint32_t)strtab_off);
    w32(h + 20, (uint32_t)names);
    return e;
}

static const uint8_t text6[] = {1, 2, 3, 4, 5, 6};
static const uint8_t data4[] = {0xAA, 0xBB, 0xCC, 0xDD};
static const uint8_t irom4[] = {0x10, 0x10, 0x20, 0x40};

static enum so_err conv(const struct tsec *s, unsigned n, int version, uint8_t **img,
                        size_t *ilen, char *msg, size_t cap)
{
    size_t elen;
    uint8_t *elf = write_elf(s, n, ELF2IMG_EM_XTENSA, 0x40100000u, &elen);
    struct elf2img_opts o = ELF2IMG_OPTS_DEFAULT;
    o.version = version;
    enum so_err e = elf2img(elf, elen, &o, img, ilen, msg, cap);
    free(elf);
    return e;
}

static void v1_exact_bytes(void **state)
{
    (void)state;
    const struct tsec s[] = {
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".data", PROGBITS, ALLOC, 0x3FFE8000u, data4, 4},
        {".bss", NOBITS, ALLOC, 0x3FFE8100u, NULL, 64},        /* no file data */
        {".comment", PROGBITS, 0, 0, "GCC", 4},                  /* not loaded */
        {".empty", PROGBITS, ALLOC, 0x3FFE9000u, NULL, 0},      /* empty */
    };
    static const uint8_t want[48] = {
        0xE9, 0x02, 0x00, 0x20, 0x00, 0x00, 0x10, 0x40,             /* QIO, 1MB, 40m */
        0x00, 0x00, 0x10, 0x40, 0x08, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 0, 0,
        0x00, 0x80, 0xFE, 0x3F, 0x04, 0x00, 0x00, 0x00, 0xAA, 0xBB, 0xCC, 0xDD,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xE8, /* 0xEF ^ 1^2^3^4^5^6 ^ 0xAA^0xBB^0xCC^0xDD */
    };
    uint8_t *img;
    size_t n;
    char msg[256];
    assert_int_equal(conv(s, 5, 1, &img, &n, msg, sizeof msg), SO_OK);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(img, want, n);
    assert_string_equal(msg, "");
    struct espimg_info in;
    assert_int_equal(espimg_parse(img, n, &in), SO_OK);
    assert_true(in.checksum_ok);
    free(img);
}

static void v2_exact_bytes(void **state)
{
    (void)state;
    const struct tsec s[] = {
        {".irom0.text", PROGBITS, ALLOC | EXEC, 0x40201010u, irom4, 4},
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".data", PROGBITS, ALLOC, 0x3FFE8000u, data4, 4},
    };
    uint8_t want[84] = {
        0xEA, 0x04, 0x00, 0x20, 0x00, 0x00, 0x10, 0x40,
        0, 0, 0, 0, 0x10, 0, 0, 0,                                  /* irom: addr 0, len 16 */
        0x10, 0x10, 0x20, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xE9, 0x02, 0x00, 0x20, 0x00, 0x00, 0x10, 0x40,
        0x00, 0x00, 0x10, 0x40, 0x08, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 0, 0,
        0x00, 0x80, 0xFE, 0x3F, 0x04, 0x00, 0x00, 0x00, 0xAA, 0xBB, 0xCC, 0xDD,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xE8,
    };
    w32(want + 80, so_crc32_esp8266(want, 80));
    uint8_t *img;
    size_t n;
    char msg[256];
    assert_int_equal(conv(s, 3, 2, &img, &n, msg, sizeof msg), SO_OK);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(img, want, n);
    struct espimg_info in;
    assert_int_equal(espimg_parse(img, n, &in), SO_OK);
    assert_true(in.crc_ok);
    assert_true(in.checksum_ok);
    free(img);
}

static void merges_adjacent(void **state)
{
    (void)state;
    static const uint8_t six[6] = {9, 9, 9, 9, 9, 9};
    const struct tsec s[] = {
        {".data", PROGBITS, ALLOC, 0x3FFE8000u, six, 6},        /* padded to 8 */
        {".rodata", PROGBITS, ALLOC, 0x3FFE8008u, data4, 4},    /* starts at its end: merged */
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".text1", PROGBITS, ALLOC | EXEC, 0x40100010u, data4, 4}, /* gap: separate */
        {".edge", PROGBITS, ALLOC, 0x3FFFFFFCu, data4, 4},      /* DRAM, ends at 0x40000000 */
        {".rom", PROGBITS, ALLOC, 0x40000000u, data4, 4},       /* other region: separate */
    };
    uint8_t *img;
    size_t n;
    char msg[512];
    assert_int_equal(conv(s, 6, 1, &img, &n, msg, sizeof msg), SO_OK);
    assert_non_null(strstr(msg, "merged 1 adjacent ELF section"));
    assert_non_null(strstr(msg, ".rom at 0x40000000 lies outside"));
    struct espimg_info in;
    assert_int_equal(espimg_parse(img, n, &in), SO_OK);
    assert_int_equal(in.nsegs, 5);
    assert_int_equal(in.seg[0].addr, 0x3FFE8000u);
    assert_int_equal(in.seg[0].len, 12);
    static const uint8_t merged[12] = {9, 9, 9, 9, 9, 9, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD};
    assert_memory_equal(img + in.seg[0].offset, merged, 12);
    assert_int_equal(in.seg[1].addr, 0x40100000u);
    assert_int_equal(in.seg[2].addr, 0x40100010u);
    assert_int_equal(in.seg[3].addr, 0x3FFFFFFCu);
    assert_int_equal(in.seg[4].addr, 0x40000000u);
    free(img);
}

static void flash_options(void **state)
{
    (void)state;
    const struct tsec s[] = {
        {".irom0.text", PROGBITS, ALLOC | EXEC, 0x40281010u, irom4, 4},
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
    };
    size_t elen, n;
    uint8_t *elf = write_elf(s, 2, ELF2IMG_EM_XTENSA, 0x40100004u, &elen), *img;
    struct elf2img_opts o = {2, ESPIMG_MODE_QOUT, ESPIMG_SIZE_4M, ESPIMG_FREQ_80M};
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, NULL, 0), SO_OK);
    assert_int_equal(img[2], 1);
    assert_int_equal(img[3], 0x4F);
    struct espimg_info in;
    assert_int_equal(espimg_parse(img, n, &in), SO_OK);
    assert_int_equal(in.flash_mode, ESPIMG_MODE_QOUT);
    assert_int_equal(in.flash_size, ESPIMG_SIZE_4M);
    assert_int_equal(in.flash_freq, ESPIMG_FREQ_80M);
    assert_int_equal(in.v2_flash_mode, ESPIMG_MODE_QOUT);
    assert_int_equal(in.entry, 0x40100004u);
    assert_int_equal(in.v2_entry, 0x40100004u);
    free(img);
    free(elf);
}

/* A v2 image whose code references its own irom is recognised as linked for that slot. */
static void v2_slot_from_code(void **state)
{
    (void)state;
    for (int slot = 1; slot <= 2; slot++) {
        uint32_t base = slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2;
        uint8_t irom[4096], text[64]; /* ≥ 4096 B: E2A's minimum for user2 (§4) */
        for (unsigned i = 0; i < sizeof irom; i += 4)
            w32(irom + i, base + ((i * 7) % sizeof irom & ~3u));
        for (unsigned i = 0; i < sizeof text; i += 4)
            w32(text + i, base + i);
        const struct tsec s[] = {
            {".irom0.text", PROGBITS, ALLOC | EXEC, base, irom, sizeof irom},
            {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text, sizeof text},
            {".data", PROGBITS, ALLOC, 0x3FFE8000u, data4, 4},
        };
        uint8_t *img;
        size_t n;
        char msg[256];
        assert_int_equal(conv(s, 3, 2, &img, &n, msg, sizeof msg), SO_OK);
        assert_string_equal(msg, "");
        struct espimg_info in;
        assert_int_equal(espimg_parse(img, n, &in), SO_OK);
        assert_int_equal(in.slot, slot);
        char why[512];
        assert_int_equal(espimg_check(&in, n, slot == 1 ? ESPIMG_USE_USER1 : ESPIMG_USE_USER2,
                                      why, sizeof why), SO_OK);
        free(img);
    }
}

static void irom_rules(void **state)
{
    (void)state;
    uint8_t *img = NULL;
    size_t n;
    char msg[512];
    const struct tsec arduino[] = {
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".irom0.text", PROGBITS, ALLOC | EXEC, 0x40201010u, irom4, 4},
    };
    /* v1 + irom at 0x40201010: irom becomes the first segment (Arduino app layout) */
    assert_int_equal(conv(arduino, 2, 1, &img, &n, msg, sizeof msg), SO_OK);
    assert_non_null(strstr(msg, "Arduino"));
    struct espimg_info in;
    assert_int_equal(espimg_parse(img, n, &in), SO_OK);
    assert_int_equal(in.nsegs, 2);
    assert_int_equal(in.seg[0].addr, 0x40201010u);
    assert_int_equal(in.seg[1].addr, 0x40100000u);
    assert_int_equal(in.slot, 1);
    free(img);
    /* v1 + irom elsewhere: refused, esptool would need a second file */
    const struct tsec sdk[] = {
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".irom0.text", PROGBITS, ALLOC | EXEC, 0x40210000u, irom4, 4},
    };
    assert_int_equal(conv(sdk, 2, 1, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_null(img);
    assert_non_null(strstr(msg, "separate file"));
    assert_non_null(strstr(msg, "0x10000"));
    /* v2 + irom elsewhere: converted, with a note */
    assert_int_equal(conv(sdk, 2, 2, &img, &n, msg, sizeof msg), SO_OK);
    assert_non_null(strstr(msg, "flash offset 0x0fff0"));
    free(img);
    /* v2 without irom: refused */
    const struct tsec ram[] = {{".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6}};
    assert_int_equal(conv(ram, 1, 2, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "irom0"));
    /* two irom candidates */
    const struct tsec two[] = {
        {".irom0.text", PROGBITS, ALLOC | EXEC, 0x40201010u, irom4, 4},
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".irom1", PROGBITS, ALLOC | EXEC, 0x40240000u, irom4, 4},
    };
    assert_int_equal(conv(two, 3, 2, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "several"));
    /* v2 irom only, no RAM segment */
    const struct tsec only[] = {{".irom0.text", PROGBITS, ALLOC, 0x40201010u, irom4, 4}};
    assert_int_equal(conv(only, 1, 2, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "no RAM sections"));
}

static void too_many_segments(void **state)
{
    (void)state;
    struct tsec s[17];
    char names[17][8];
    for (unsigned i = 0; i < 17; i++) {
        snprintf(names[i], sizeof names[i], ".s%u", i);
        s[i] = (struct tsec){names[i], PROGBITS, ALLOC, 0x3FFE8000u + i * 16, data4, 4};
    }
    uint8_t *img = NULL;
    size_t n;
    char msg[256];
    assert_int_equal(conv(s, 16, 1, &img, &n, msg, sizeof msg), SO_OK);
    free(img);
    assert_int_equal(conv(s, 17, 1, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "more than 16"));
}

static void bad_elf(void **state)
{
    (void)state;
    const struct tsec s[] = {
        {".text", PROGBITS, ALLOC | EXEC, 0x40100000u, text6, 6},
        {".data", PROGBITS, ALLOC, 0x3FFE8000u, data4, 4},
    };
    struct elf2img_opts o = ELF2IMG_OPTS_DEFAULT;
    size_t elen, n;
    uint8_t *img = NULL;
    char msg[256];
    uint8_t *elf = write_elf(s, 2, ELF2IMG_EM_XTENSA, 0x40100000u, &elen);
    /* every prefix fails cleanly (exact-length copies) */
    for (size_t k = 0; k < elen; k++) {
        uint8_t *c = malloc(k ? k : 1);
        memcpy(c, elf, k);
        assert_int_equal(elf2img(c, k, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
        assert_null(img);
        assert_true(msg[0] != '\0');
        free(c);
    }
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_OK);
    free(img);
    elf[0] = 0;
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "Not an ELF"));
    elf[0] = 0x7f;
    elf[4] = 2; /* ELFCLASS64 */
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    elf[4] = 1;
    elf[5] = 2; /* big-endian */
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    elf[5] = 1;
    w16(elf + 18, 40); /* ARM */
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "Xtensa"));
    w16(elf + 18, ELF2IMG_EM_XTENSA);
    w16(elf + 48, 0); /* no section headers */
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    w16(elf + 48, 4);
    uint32_t shoff = (uint32_t)elf[32] | (uint32_t)elf[33] << 8;
    w32(elf + shoff + 40 + 16, 0xFFFFFF00u); /* .text data offset past the end */
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "past the end"));
    free(elf);
    /* nothing loadable */
    const struct tsec none[] = {{".comment", PROGBITS, 0, 0, "x", 2}};
    elf = write_elf(none, 1, ELF2IMG_EM_XTENSA, 0, &elen);
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ELF);
    assert_non_null(strstr(msg, "no loadable sections"));
    /* bad arguments */
    o.version = 3;
    assert_int_equal(elf2img(elf, elen, &o, &img, &n, msg, sizeof msg), SO_E_ARG);
    o.version = 1;
    assert_int_equal(elf2img(elf, elen, &o, NULL, &n, msg, sizeof msg), SO_E_ARG);
    assert_int_equal(elf2img(elf, elen, NULL, &img, &n, msg, sizeof msg), SO_E_ARG);
    free(elf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_exact_bytes),
        cmocka_unit_test(v2_exact_bytes),
        cmocka_unit_test(merges_adjacent),
        cmocka_unit_test(flash_options),
        cmocka_unit_test(v2_slot_from_code),
        cmocka_unit_test(irom_rules),
        cmocka_unit_test(too_many_segments),
        cmocka_unit_test(bad_elf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
