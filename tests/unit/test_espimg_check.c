/* test_espimg_check.c - every espimg_check rejection (format, checksum, CRC, slot, size,
 * flash mode/size, eboot-less final) with its sentence (PROTOCOL.md §5, §10.9; limits §1.5,
 * §4, §6). Every parser input is malloc'd to its exact length. */
#include "lib/espimg.h"

#include "espimg_test_util.h"

static void bad_checksum(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    struct espimg_info in;
    uint8_t *img = make(ESPIMG_USE_USER1, 0, 2, &n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    img[in.seg[1].offset + 5] ^= 0x40; /* RAM data: XOR checksum and CRC break */
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_false(in.checksum_ok);
    assert_false(in.crc_ok);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER1, why, sizeof why), SO_E_IMG_CRC);
    wr32(img + n - 4, so_crc32_esp8266(img, n - 4)); /* CRC made right again */
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.crc_ok);
    assert_false(in.checksum_ok);
    assert_int_equal(in.checksum_computed ^ in.checksum_stored, 0x40);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER1, why, sizeof why),
                     SO_E_IMG_CHECKSUM);
    assert_non_null(strstr(why, "checksum"));
    free(img);

    /* irom is outside the XOR checksum (esptool include_in_checksum=False) but in the CRC */
    img = make(ESPIMG_USE_USER1, 0, 2, &n);
    img[100] ^= 1;
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.checksum_ok);
    assert_false(in.crc_ok);
    free(img);

    /* final: eboot checksum, then app checksum */
    img = make(ESPIMG_USE_FINAL, 0, 2, &n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    img[in.seg[0].offset] ^= 1;
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_CHECKSUM);
    assert_non_null(strstr(why, "eboot"));
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_CHECKSUM);
    img[in.seg[0].offset] ^= 1;
    img[in.app.seg[2].offset + 8] ^= 1;
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_CHECKSUM);
    assert_non_null(strstr(why, "app image"));
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_CHECKSUM);
    free(img);
}

/* Arduino core ≥ 2.6 stores length + CRC at 0x1010/0x1014 (elf2bin add_crc), leaving the
 * app's XOR checksum stale; the CRC then stands in for it. */
static void arduino_crc(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    struct espimg_info in;
    uint8_t *img = make(ESPIMG_USE_FINAL, 0, 4, &n);
    wr32(img + 0x1010, 0);
    wr32(img + 0x1014, 0);
    uint32_t crc = so_crc32_msb(SO_CRC32_MSB_INIT, img, n);
    wr32(img + 0x1010, (uint32_t)n);
    wr32(img + 0x1014, crc);
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.arduino_crc_present);
    assert_true(in.arduino_crc_ok);
    assert_int_equal(in.arduino_crc_stored, crc);
    assert_false(in.app.checksum_ok); /* stale, as in real Tasmota images */
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_FINAL, why, sizeof why), SO_OK);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_DIY, why, sizeof why), SO_OK);
    img[n - 100] ^= 0x10;
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.arduino_crc_present);
    assert_false(in.arduino_crc_ok);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_FINAL, why, sizeof why),
                     SO_E_IMG_CHECKSUM);
    assert_non_null(strstr(why, "Arduino CRC"));
    free(img);
}

static void bad_crc(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    struct espimg_info in;
    uint8_t *img = make(ESPIMG_USE_USER2, 0, 2, &n);
    img[n - 1] ^= 0x80;
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.checksum_ok);
    assert_false(in.crc_ok);
    assert_int_equal(in.crc_stored ^ in.crc_computed, 0x80000000u);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER2, why, sizeof why), SO_E_IMG_CRC);
    assert_non_null(strstr(why, "CRC32"));
    free(img);
}

static void wrong_slot(void **state)
{
    (void)state;
    char why[512];
    size_t n1, n2;
    uint8_t *u1 = make(ESPIMG_USE_USER1, 0, 6, &n1), *u2 = make(ESPIMG_USE_USER2, 0, 6, &n2);
    assert_int_equal(check(u1, n1, ESPIMG_USE_USER1, why, sizeof why), SO_OK);
    assert_string_equal(why, "");
    assert_int_equal(check(u2, n2, ESPIMG_USE_USER2, why, sizeof why), SO_OK);
    assert_int_equal(check(u1, n1, ESPIMG_USE_USER2, why, sizeof why), SO_E_IMG_SLOT);
    assert_non_null(strstr(why, "linked for user1"));
    assert_int_equal(check(u2, n2, ESPIMG_USE_USER1, why, sizeof why), SO_E_IMG_SLOT);
    assert_non_null(strstr(why, "linked for user2"));
    free(u1);
    free(u2);
}

static void slot_detection(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    struct espimg_info in;
    /* an entry point outside IRAM decides nothing, even inside slot 2's irom */
    uint8_t *b = hand_v2(0x40281234u, 64, 0x40281020u, &n);
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.slot, 0);
    assert_int_equal(in.slot_why, ESPIMG_SLOT_WHY_ENTRY);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER2, why, sizeof why), SO_E_IMG_SLOT);
    assert_non_null(strstr(why, "entry point not in IRAM"));
    free(b);
    /* nothing points anywhere: unknown, refused with a hint */
    b = hand_v2(0x40100004u, 64, 0, &n);
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.slot, 0);
    assert_int_equal(in.slot_how, ESPIMG_SLOT_UNKNOWN);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER1, why, sizeof why), SO_E_IMG_SLOT);
    assert_non_null(strstr(why, "linked for neither OTA slot"));
    assert_int_equal(in.slot_why, ESPIMG_SLOT_WHY_FEW);
    free(b);
    /* 16 literal words into slot 1's window */
    b = hand_v2(0x40100004u, 64, 0x40201020u, &n);
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.slot, 1);
    assert_int_equal(in.refs_slot1, 16);
    assert_int_equal(in.slot_how, ESPIMG_SLOT_BY_REFS);
    free(b);
    /* a word past the irom's own length does not count */
    b = hand_v2(0x40100004u, 64, 0x40201010u + 64, &n);
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.refs_slot1, 0);
    assert_int_equal(in.slot_refs[0].above, 16);
    free(b);
    /* too few references decide nothing */
    b = hand_v2(0x40100004u, 16, 0x40281010u, &n);
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_int_equal(in.refs_slot2, 4);
    assert_int_equal(in.slot, 0);
    free(b);
}

static void oversize(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    /* user: ≤ 471040 B. v2 lengths are ≡ 4 mod 16, so reach the limit with trailing bytes */
    uint8_t *img = make(ESPIMG_USE_USER1, 471040, 1, &n);
    assert_int_equal(n, 471028);
    uint8_t *big = calloc(1, ESPIMG_MAX_USER + 1);
    memcpy(big, img, n);
    assert_int_equal(check(big, ESPIMG_MAX_USER, ESPIMG_USE_USER1, why, sizeof why), SO_OK);
    assert_int_equal(check(big, ESPIMG_MAX_USER + 1, ESPIMG_USE_USER1, why, sizeof why),
                     SO_E_TOOBIG);
    assert_non_null(strstr(why, "471040"));
    free(big);
    free(img);
    img = make(ESPIMG_USE_USER2, 600000, 1, &n);
    assert_int_equal(check(img, n, ESPIMG_USE_USER2, why, sizeof why), SO_E_TOOBIG);
    free(img);
    /* final: ≤ 524288; diy: ≤ 520192 */
    img = make(ESPIMG_USE_FINAL, ESPIMG_MAX_FINAL, 1, &n);
    assert_int_equal(n, ESPIMG_MAX_FINAL);
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_OK);
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_TOOBIG);
    assert_non_null(strstr(why, "520192"));
    free(img);
    img = make(ESPIMG_USE_FINAL, ESPIMG_MAX_FINAL + 16, 1, &n);
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_TOOBIG);
    assert_non_null(strstr(why, "524288"));
    free(img);
    img = make(ESPIMG_USE_DIY, ESPIMG_MAX_DIY, 1, &n);
    assert_int_equal(n, ESPIMG_MAX_DIY);
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_OK);
    free(img);
    img = make(ESPIMG_USE_DIY, ESPIMG_MAX_DIY + 16, 1, &n);
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_TOOBIG);
    free(img);
}

static void wrong_flash_mode_and_size(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    uint8_t *img = make(ESPIMG_USE_FINAL, 0, 1, &n);
    for (uint8_t mode = 0; mode < 3; mode++) {
        img[2] = mode; /* eboot header (not in its checksum) */
        assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FLASH_MODE);
        assert_non_null(strstr(why, espimg_flash_mode_name(mode)));
        assert_non_null(strstr(why, "bootloader header"));
        assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_FLASH_MODE);
    }
    img[2] = 3;
    img[0x1002] = ESPIMG_MODE_QIO; /* app header */
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FLASH_MODE);
    assert_non_null(strstr(why, "app header"));
    img[0x1002] = 3;
    img[3] = 0x40; /* 4MB */
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FLASH_SIZE);
    assert_non_null(strstr(why, "4MB"));
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_FLASH_SIZE);
    img[3] = 0x20;
    img[0x1003] = 0x00; /* 512KB */
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FLASH_SIZE);
    img[0x1003] = 0x2F; /* 1MB, 80MHz: frequency is free */
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_OK);
    free(img);
}

static void wrong_format(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    uint8_t *img = make(ESPIMG_USE_FINAL, 0, 1, &n);
    assert_int_equal(check(img, n, ESPIMG_USE_USER1, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "full Arduino image"));
    assert_int_equal(check(img, n, ESPIMG_USE_USER2, why, sizeof why), SO_E_IMG_FORMAT);
    free(img);
    img = make(ESPIMG_USE_USER1, 0, 1, &n);
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "v2 (0xEA)"));
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_FORMAT);
    free(img);
    /* a plain v1 RAM image offered as user1 */
    uint8_t b[128];
    const uint32_t addr[] = {0x40100000u}, len[] = {16};
    size_t bn = put_v1(b, 0, 3, 0x20, 0x40100000u, 1, addr, len, 0);
    assert_int_equal(check(b, bn, ESPIMG_USE_USER1, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "v1 (0xE9)"));
}

static void eboot_less_final(void **state)
{
    (void)state;
    char why[512];
    /* an Arduino app alone (irom first at 0x40201010), as if flashed without eboot */
    size_t cap = 0x3000;
    uint8_t *b = calloc(1, cap);
    const uint32_t addr[] = {0x40201010u, 0x40100000u}, len[] = {0x1800, 64};
    size_t n = put_v1(b, 0, 3, 0x20, 0x40100004u, 2, addr, len, 0);
    struct espimg_info in;
    assert_int_equal(parse(b, n, &in), SO_OK);
    assert_false(in.full_image);
    assert_int_equal(in.slot, 1);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "eboot"));
    /* DIY writes the file at 0x0 as well: an app without eboot does not boot */
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "eboot"));
    free(b);

    /* eboot followed by a broken app header */
    size_t fn;
    uint8_t *img = make(ESPIMG_USE_FINAL, 0, 1, &fn);
    img[0x1001] = 0;
    assert_int_equal(parse(img, fn, &in), SO_OK);
    assert_false(in.full_image);
    assert_int_equal(in.app_err, SO_E_IMG_SEGMENTS);
    assert_int_equal(espimg_check(&in, fn, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "app image at 0x1000 is incomplete or invalid"));
    assert_int_equal(espimg_check(&in, fn, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_FORMAT);
    free(img);
}

static void check_arguments(void **state)
{
    (void)state;
    char why[64];
    struct espimg_info in;
    memset(&in, 0, sizeof in);
    assert_int_equal(espimg_check(&in, 0, ESPIMG_USE_USER1, why, sizeof why), SO_E_ARG);
    assert_int_equal(espimg_check(NULL, 0, ESPIMG_USE_USER1, NULL, 0), SO_E_ARG);
    size_t n;
    uint8_t *img = make(ESPIMG_USE_USER1, 0, 1, &n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_int_equal(espimg_check(&in, n - 1, ESPIMG_USE_USER1, why, sizeof why), SO_E_ARG);
    assert_int_equal(espimg_check(&in, n, (enum espimg_use)9, why, sizeof why), SO_E_ARG);
    /* a short buffer truncates the sentence safely; NULL why is fine */
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER2, why, sizeof why), SO_E_IMG_SLOT);
    assert_int_equal(strlen(why), sizeof why - 1);
    assert_int_equal(espimg_check(&in, n, ESPIMG_USE_USER2, NULL, 0), SO_E_IMG_SLOT);
    free(img);
    assert_int_equal(espimg_parse(NULL, 0, &in), SO_E_IMG_SHORT);
    assert_int_equal(espimg_parse(NULL, 5, &in), SO_E_ARG);
    assert_int_equal(espimg_parse((const uint8_t *)"x", 1, NULL), SO_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_checksum),
        cmocka_unit_test(arduino_crc),
        cmocka_unit_test(bad_crc),
        cmocka_unit_test(wrong_slot),
        cmocka_unit_test(slot_detection),
        cmocka_unit_test(oversize),
        cmocka_unit_test(wrong_flash_mode_and_size),
        cmocka_unit_test(wrong_format),
        cmocka_unit_test(eboot_less_final),
        cmocka_unit_test(check_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
