/* test_espimg.c - ESP8266 image parsing, header fields, test-image generation, names and
 * JSON (PROTOCOL.md §5). Rejections by espimg_check: test_espimg_check.c. Every parser input
 * is malloc'd to its exact length. */
#include "lib/espimg.h"

#include "lib/espimg_json.h"
#include "espimg_test_util.h"

static void v1_header_fields(void **state)
{
    (void)state;
    uint8_t b[256];
    const uint32_t addr[] = {0x40100000u, 0x3FFE8000u}, len[] = {12, 8};
    size_t n = put_v1(b, 0, 2, 0x3F, 0x40100123u, 2, addr, len, 0x11);
    assert_int_equal(n, 48); /* 8 + 8+12 + 8+8 = 44 → checksum at 47 */
    struct espimg_info in;
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.format, ESPIMG_FMT_V1);
    assert_int_equal(in.flash_mode, ESPIMG_MODE_DIO);
    assert_int_equal(in.flash_size, ESPIMG_SIZE_2M);
    assert_int_equal(in.flash_freq, ESPIMG_FREQ_80M);
    assert_string_equal(espimg_flash_mode_name(in.flash_mode), "DIO");
    assert_string_equal(espimg_flash_size_name(in.flash_size), "2MB");
    assert_string_equal(espimg_flash_freq_name(in.flash_freq), "80MHz");
    assert_int_equal(in.entry, 0x40100123u);
    assert_int_equal(in.nsegs, 2);
    assert_int_equal(in.seg[0].addr, 0x40100000u);
    assert_int_equal(in.seg[0].len, 12);
    assert_int_equal(in.seg[0].offset, 16);
    assert_int_equal(in.seg[1].addr, 0x3FFE8000u);
    assert_int_equal(in.seg[1].len, 8);
    assert_int_equal(in.seg[1].offset, 36);
    assert_true(in.checksum_ok);
    assert_int_equal(in.checksum_stored, b[47]);
    assert_int_equal(in.checksum_computed, b[47]);
    assert_false(in.crc_ok);
    assert_false(in.full_image);
    assert_false(in.has_irom);
    assert_int_equal(in.slot, 0);
    assert_int_equal(in.used_len, 48);
    assert_int_equal(in.trailing, 0);
    assert_int_equal(in.len, 48);
    /* trailing bytes are reported, not rejected */
    memset(b + 48, 0xFF, 20);
    assert_int_equal(parse(b, 68, &in), SO_OK);
    assert_int_equal(in.used_len, 48);
    assert_int_equal(in.trailing, 20);
    /* checksum already in the last byte of a block: no padding */
    const uint32_t l3[] = {4};
    n = put_v1(b, 0, 3, 0x20, 0x40100000u, 1, addr, l3, 0); /* 8+8+4 = 20 → 31 */
    assert_int_equal(n, 32);
}

static void v2_header_fields(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = make(ESPIMG_USE_USER1, 8196, 3, &n);
    assert_int_equal(n, 8196);
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_int_equal(in.format, ESPIMG_FMT_V2);
    assert_int_equal(in.v2_segbyte, 4);
    assert_int_equal(in.v2_entry, ESPIMG_ENTRY_USER);
    assert_true(in.has_irom);
    assert_int_equal(in.irom.addr, 0);
    assert_int_equal(in.irom.offset, 16);
    assert_int_equal(in.irom.len, rd32(img + 12));
    assert_int_equal(in.irom.len % 16, 0);
    assert_int_equal(img[16 + in.irom.len], 0xE9);
    assert_int_equal(in.nsegs, img[16 + in.irom.len + 1]);
    assert_int_equal(in.nsegs, 3);
    assert_int_equal(in.seg[0].addr, 0x40100000u);
    assert_int_equal(in.entry, ESPIMG_ENTRY_USER);
    assert_int_equal(in.flash_size, ESPIMG_SIZE_1M);
    assert_true(in.checksum_ok);
    assert_true(in.crc_ok);
    assert_int_equal(in.crc_stored, rd32(img + n - 4));
    assert_int_equal(in.crc_computed, so_crc32_esp8266(img, n - 4));
    assert_int_equal(in.used_len, n);
    assert_int_equal(in.slot, 1);
    assert_int_equal(in.slot_how, ESPIMG_SLOT_BY_REFS);
    assert_true(in.refs_slot1 > 4 * in.refs_slot2);
    free(img);

    img = make(ESPIMG_USE_USER2, 8196, 3, &n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_int_equal(in.slot, 2);
    assert_true(in.refs_slot2 > 4 * in.refs_slot1);
    free(img);
}

/* The second header wins when the two v2 headers disagree (§5). */
static void v2_second_header_wins(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = make(ESPIMG_USE_USER1, 0, 1, &n);
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    size_t h2 = 16 + in.irom.len;
    img[2] = ESPIMG_MODE_QIO;
    img[3] = 0x01; /* 512KB, 26MHz */
    img[h2 + 2] = ESPIMG_MODE_DOUT;
    wr32(img + n - 4, so_crc32_esp8266(img, n - 4));
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_int_equal(in.v2_flash_mode, ESPIMG_MODE_QIO);
    assert_int_equal(in.v2_flash_size, ESPIMG_SIZE_512K);
    assert_int_equal(in.v2_flash_freq, ESPIMG_FREQ_26M);
    assert_int_equal(in.flash_mode, ESPIMG_MODE_DOUT);
    assert_int_equal(in.flash_size, ESPIMG_SIZE_1M);
    assert_true(in.crc_ok);
    free(img);
}

static void full_image_fields(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = make(ESPIMG_USE_FINAL, 20000, 9, &n);
    assert_int_equal(n, 20000);
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_int_equal(in.format, ESPIMG_FMT_V1);
    assert_true(in.full_image);
    assert_true(in.eboot_like);
    assert_int_equal(in.app_err, SO_OK);
    assert_int_equal(in.nsegs, 1);
    assert_int_equal(in.seg[0].addr, ESPIMG_EBOOT_ADDR);
    assert_int_equal(in.flash_mode, ESPIMG_MODE_DOUT);
    assert_int_equal(in.app.offset, 0x1000);
    assert_int_equal(in.app.nsegs, 4);
    assert_int_equal(in.app.seg[0].addr, ESPIMG_IROM_SLOT1);
    assert_int_equal(in.app.seg[0].offset, 0x1010); /* data lands at its link address */
    assert_int_equal(in.app.flash_mode, ESPIMG_MODE_DOUT);
    assert_int_equal(in.app.flash_size, ESPIMG_SIZE_1M);
    assert_true(in.checksum_ok);
    assert_true(in.app.checksum_ok);
    assert_false(in.arduino_crc_present);
    assert_int_equal(in.slot, 1);
    assert_int_equal(in.slot_how, ESPIMG_SLOT_BY_SEGMENT);
    assert_int_equal(in.used_len, n);
    assert_int_equal(img[in.seg[0].offset + in.seg[0].len + 16], 0xAA); /* padding */
    free(img);
}

static void bad_magic(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = make(ESPIMG_USE_USER1, 0, 1, &n);
    struct espimg_info in;
    img[0] = 0x00;
    assert_int_equal(parse(img, n, &in), SO_E_IMG_MAGIC);
    assert_int_equal(in.format, 0);
    img[0] = 0xFF; /* erased flash (§8: E2A "magic 0xFF") */
    assert_int_equal(parse(img, n, &in), SO_E_IMG_MAGIC);
    img[0] = 0xEA;
    img[16 + rd32(img + 12)] = 0xEA; /* second v2 header must be 0xE9 */
    assert_int_equal(parse(img, n, &in), SO_E_IMG_MAGIC);
    free(img);
    img = make(ESPIMG_USE_FINAL, 0, 1, &n);
    img[0] = 'P'; /* e.g. a zip or text file */
    assert_int_equal(parse(img, n, &in), SO_E_IMG_MAGIC);
    free(img);
}

/* Every prefix of a valid image is rejected as truncated (never read past the end). */
static void truncated(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = make(ESPIMG_USE_USER2, 4100, 5, &n);
    struct espimg_info in;
    for (size_t k = 0; k < n; k++)
        assert_int_equal(parse(img, k, &in), SO_E_IMG_SHORT);
    assert_int_equal(parse(img, n, &in), SO_OK);
    free(img);

    img = make(ESPIMG_USE_DIY, 4608, 5, &n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.full_image);
    size_t eboot_end = ((in.seg[0].offset + in.seg[0].len) | 15) + 1;
    assert_true(eboot_end < 0x1000);
    for (size_t k = 0; k < n; k++) {
        enum so_err e = parse(img, k, &in);
        if (k < eboot_end) {
            assert_int_equal(e, SO_E_IMG_SHORT);
        } else {
            /* eboot alone is a valid v1 image; the cut app makes it no full image */
            assert_int_equal(e, SO_OK);
            assert_false(in.full_image);
            assert_true(in.app_err == SO_E_IMG_SHORT || in.app_err == SO_E_IMG_MAGIC);
            char why[512];
            assert_int_equal(espimg_check(&in, k, ESPIMG_USE_FINAL, why, sizeof why),
                             SO_E_IMG_FORMAT);
        }
    }
    free(img);
}

static void bad_segments(void **state)
{
    (void)state;
    uint8_t b[256];
    const uint32_t addr[] = {0x40100000u}, len[] = {16};
    size_t n = put_v1(b, 0, 3, 0x20, 0x40100000u, 1, addr, len, 0);
    struct espimg_info in;
    assert_int_equal(parse(b, n, &in), SO_OK);
    b[1] = 0; /* no segments */
    assert_int_equal(parse(b, n, &in), SO_E_IMG_SEGMENTS);
    b[1] = 17; /* more than 16 */
    assert_int_equal(parse(b, n, &in), SO_E_IMG_SEGMENTS);
    b[1] = 1;
    wr32(b + 12, 18); /* not a multiple of 4 */
    assert_int_equal(parse(b, n, &in), SO_E_IMG_SEGMENTS);
    wr32(b + 12, 0x7FFFFFFCu); /* absurd */
    assert_int_equal(parse(b, n, &in), SO_E_IMG_SEGMENTS);
    wr32(b + 12, 64); /* plausible but past the end */
    assert_int_equal(parse(b, n, &in), SO_E_IMG_SHORT);
    wr32(b + 12, 16);
    b[1] = 2; /* a second segment header cut short */
    assert_int_equal(parse(b, 36, &in), SO_E_IMG_SHORT);
    /* (with the whole padding there it reads as an empty segment, as esptool would) */
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.nsegs, 2);
    assert_int_equal(in.seg[1].len, 0);

    size_t vn;
    uint8_t *img = make(ESPIMG_USE_USER1, 0, 1, &vn);
    wr32(img + 12, rd32(img + 12) + 2); /* irom length not a multiple of 4 */
    assert_int_equal(parse(img, vn, &in), SO_E_IMG_SEGMENTS);
    wr32(img + 12, 0xFFFFFFF0u);
    assert_int_equal(parse(img, vn, &in), SO_E_IMG_SEGMENTS);
    free(img);
}

static void make_test_kinds(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 4100, 4608, 10000, 65536, 300001};
    for (int k = 0; k < ESPIMG_USE__COUNT; k++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n;
            uint8_t *img = make((enum espimg_use)k, sizes[s], (uint32_t)s, &n);
            int user = k <= ESPIMG_USE_USER2;
            assert_int_equal(n % 16, user ? 4 : 0);
            assert_true(n >= (user ? 4100u : 4608u));
            if (sizes[s] == 0)
                assert_int_equal(n, k <= ESPIMG_USE_USER2 ? ESPIMG_DEFAULT_USER
                                    : k == ESPIMG_USE_FINAL ? ESPIMG_DEFAULT_FINAL
                                                            : ESPIMG_DEFAULT_DIY);
            else if (sizes[s] >= 4608)
                assert_true(n <= sizes[s] && n + 16 > sizes[s]);
            char why[512];
            assert_int_equal(check(img, n, (enum espimg_use)k, why, sizeof why), SO_OK);
            free(img);
        }
    /* deterministic from the seed */
    size_t a, b;
    uint8_t *x = make(ESPIMG_USE_USER2, 9000, 42, &a), *y = make(ESPIMG_USE_USER2, 9000, 42, &b);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(y);
    y = make(ESPIMG_USE_USER2, 9000, 43, &b);
    assert_memory_not_equal(x, y, a);
    free(x);
    free(y);
    uint8_t *p = (uint8_t *)1;
    size_t n = 7;
    assert_int_equal(espimg_make_test((enum espimg_use)7, 0, 0, &p, &n), SO_E_ARG);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(espimg_make_test(ESPIMG_USE_DIY, (1u << 20) + 1, 0, &p, &n), SO_E_ARG);
    assert_int_equal(espimg_make_test(ESPIMG_USE_DIY, 0, 0, NULL, &n), SO_E_ARG);
}

static void names(void **state)
{
    (void)state;
    static const char *const modes[] = {"QIO", "QOUT", "DIO", "DOUT"};
    for (uint8_t m = 0; m < 4; m++)
        assert_string_equal(espimg_flash_mode_name(m), modes[m]);
    assert_string_equal(espimg_flash_mode_name(4), "?");
    assert_string_equal(espimg_flash_size_name(0), "512KB");
    assert_string_equal(espimg_flash_size_name(1), "256KB");
    assert_string_equal(espimg_flash_size_name(2), "1MB");
    assert_string_equal(espimg_flash_size_name(4), "4MB");
    assert_string_equal(espimg_flash_size_name(6), "4MB-c1");
    assert_string_equal(espimg_flash_size_name(9), "16MB");
    assert_string_equal(espimg_flash_size_name(7), "?");
    assert_string_equal(espimg_flash_freq_name(0), "40MHz");
    assert_string_equal(espimg_flash_freq_name(1), "26MHz");
    assert_string_equal(espimg_flash_freq_name(2), "20MHz");
    assert_string_equal(espimg_flash_freq_name(0xF), "80MHz");
    assert_string_equal(espimg_flash_freq_name(3), "?");
    static const char *const uses[] = {"user1", "user2", "final", "diy"};
    for (int u = 0; u < ESPIMG_USE__COUNT; u++) {
        enum espimg_use got;
        assert_string_equal(espimg_use_name((enum espimg_use)u), uses[u]);
        assert_int_equal(espimg_use_from_name(uses[u], &got), 0);
        assert_int_equal(got, u);
    }
    enum espimg_use got;
    assert_int_equal(espimg_use_from_name("User1", &got), -1);
    assert_int_equal(espimg_use_from_name(NULL, &got), -1);
    assert_null(espimg_use_name((enum espimg_use)4));
}

static void json_shape(void **state)
{
    (void)state;
    size_t n;
    uint8_t *img = make(ESPIMG_USE_USER2, 0, 1, &n);
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    cJSON *o = espimg_to_json(&in);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "format")->valuestring, "v2");
    assert_int_equal(cJSON_GetObjectItem(o, "slot")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItem(o, "slot_evidence")->valuestring, "references");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "crc"), "ok")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "segments")), 3);
    cJSON *fit = cJSON_GetObjectItem(o, "fit");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(fit, "user2"), "ok")));
    cJSON *u1 = cJSON_GetObjectItem(fit, "user1");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(u1, "ok")));
    assert_int_equal(cJSON_GetObjectItem(u1, "code")->valueint, SO_E_IMG_SLOT);
    assert_non_null(strstr(cJSON_GetObjectItem(u1, "reason")->valuestring, "linked for user2"));
    cJSON_Delete(o);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_header_fields),
        cmocka_unit_test(v2_header_fields),
        cmocka_unit_test(v2_second_header_wins),
        cmocka_unit_test(full_image_fields),
        cmocka_unit_test(bad_magic),
        cmocka_unit_test(truncated),
        cmocka_unit_test(bad_segments),
        cmocka_unit_test(make_test_kinds),
        cmocka_unit_test(names),
        cmocka_unit_test(json_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
