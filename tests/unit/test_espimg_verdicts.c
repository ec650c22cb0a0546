/* test_espimg_verdicts.c - the image verdicts of issue 12: incomplete full images (final and
 * DIY), the slot of v2 images linked at other addresses, tasmota-minimal as a first image,
 * gzip and ESP32 files; and that what espimg_check accepts for final/diy is exactly what
 * the simulator's boot check starts (src/sim/boot.c). */
#include "lib/espimg.h"
#include "sim/boot.h"
#include "sim/spiflash.h"

#include "espimg_test_util.h"

#include <stdio.h>
#include <unistd.h>

/* The app's XOR checksum made right after editing its data (test images carry no Arduino
 * CRC). */
static void fix_app_checksum(uint8_t *img, size_t n)
{
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.full_image);
    img[in.app.end - 1] = in.app.checksum_computed;
}

/* A v2 image whose irom (ilen bytes) is code linked at `base`: every 8th word a literal
 * pointing into [base, base+ilen) (the first at base, the last at base+ilen-4, as calls to
 * the first and last function), the rest plain data; `noise` extra words anywhere in the
 * flash mapping. Entry 0x40100004. */
static uint8_t *linked_v2(uint32_t base, uint32_t ilen, unsigned noise, size_t *n)
{
    uint8_t *b = hand_v2(ESPIMG_ENTRY_USER, ilen, 0x12345678u, n);
    uint32_t words = ilen / 4, k = 0;
    for (uint32_t i = 0; i < words; i += 8, k++) {
        uint32_t off = i == 0 ? 0 : i + 8 >= words ? ilen - 4 : (k * 1009u * 4u) % ilen;
        wr32(b + 16 + 4 * i, base + off);
    }
    for (unsigned j = 0; j < noise; j++)
        wr32(b + 16 + 4 * (4 + 8 * j), 0x40200000u + (j * 0x9E3779B1u) % 0x100000u);
    const uint32_t addr[] = {0x40100000u}, len[] = {16};
    size_t end = put_v1(b, 16 + ilen, 0, 0x20, ESPIMG_ENTRY_USER, 1, addr, len, 0);
    wr32(b + end, so_crc32_esp8266(b, end));
    return b;
}

static void slot_by_link_address(void **state)
{
    (void)state;
    static const struct {
        uint32_t base, ilen;
        unsigned noise;
        int slot;
        enum espimg_slot_why why;
    } cases[] = {
        {0x40201010u, 0x2000, 0, 1, ESPIMG_SLOT_WHY_NONE},
        {0x40281010u, 0x2000, 0, 2, ESPIMG_SLOT_WHY_NONE},
        {0x40201010u, 0x40000, 20, 1, ESPIMG_SLOT_WHY_NONE},     /* big, some noise */
        {0x40281010u, 0x40000, 20, 2, ESPIMG_SLOT_WHY_NONE},
        {0x40240000u, 0x2000, 0, 0, ESPIMG_SLOT_WHY_FEW},
        {0x40240000u, 0x60000, 0, 0, ESPIMG_SLOT_WHY_START},     /* overlaps user1's window */
        {0x40210000u, 0x2000, 0, 0, ESPIMG_SLOT_WHY_FEW},
        {0x40210000u, 0x40000, 0, 0, ESPIMG_SLOT_WHY_START},
        {0x40202010u, 0x2000, 0, 0, ESPIMG_SLOT_WHY_START},      /* inside user1's window */
        {0x40202010u, 0x40000, 20, 0, ESPIMG_SLOT_WHY_START},
        {0x40200010u, 0x40000, 0, 0, ESPIMG_SLOT_WHY_OUTSIDE},   /* below the base */
        /* 16 bytes off: caught by the edge rule while the image has < 2048 references
         * (a bigger one tolerates that much noise at the edges; DESIGN.md) */
        {0x40201020u, 0x2000, 0, 0, ESPIMG_SLOT_WHY_OUTSIDE},    /* past the end */
        {0x40201000u, 0x2000, 0, 0, ESPIMG_SLOT_WHY_OUTSIDE},    /* +0x10 forgotten */
        {0x40282010u, 0x2000, 0, 0, ESPIMG_SLOT_WHY_START},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n;
        char why[512];
        struct espimg_info in;
        uint8_t *b = linked_v2(cases[c].base, cases[c].ilen, cases[c].noise, &n);
        assert_int_equal(parse(b, n, &in), SO_OK);
        if (in.slot != cases[c].slot || in.slot_why != cases[c].why) {
            espimg_slot_evidence(&in, why, sizeof why);
            print_error("case %zu (0x%08x): slot %d why %d: %s\n", c,
                        (unsigned)cases[c].base, in.slot, (int)in.slot_why, why);
        }
        assert_int_equal(in.slot, cases[c].slot);
        assert_int_equal(in.slot_why, cases[c].why);
        enum so_err e1 = espimg_check(&in, n, ESPIMG_USE_USER1, why, sizeof why);
        enum so_err e2 = espimg_check(&in, n, ESPIMG_USE_USER2, why, sizeof why);
        assert_int_equal(e1, cases[c].slot == 1 ? SO_OK : SO_E_IMG_SLOT);
        assert_int_equal(e2, cases[c].slot == 2 ? SO_OK : SO_E_IMG_SLOT);
        if (!cases[c].slot)
            assert_non_null(strstr(why, "linked for neither OTA slot"));
        free(b);
    }
    /* the generated test images (SonOTA-like, random bytes around the references: the
     * noise the tolerances are for) decide their slot for every seed and size tried */
    static const size_t sizes[] = {4100, 40000, 239220, 460000};
    for (uint32_t seed = 1; seed <= 48; seed++)
        for (int s = 1; s <= 2; s++) {
            size_t n;
            struct espimg_info in;
            uint8_t *b = make(s == 1 ? ESPIMG_USE_USER1 : ESPIMG_USE_USER2,
                              sizes[seed % 4], seed, &n);
            assert_int_equal(parse(b, n, &in), SO_OK);
            assert_int_equal(in.slot, s);
            assert_int_equal(in.slot_how, ESPIMG_SLOT_BY_REFS);
            free(b);
        }
}

/* Final and DIY write the file from 0x0: an app one byte short, an eboot-only 4 KiB file,
 * an app whose irom is linked elsewhere, and an image 0 that is no eboot never pass. */
static void incomplete_full_images(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    struct espimg_info in;
    uint8_t *img = make(ESPIMG_USE_DIY, 0, 3, &n);
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_OK);

    assert_int_equal(parse(img, n - 1, &in), SO_OK); /* app one byte short */
    assert_false(in.full_image);
    assert_int_equal(in.app_err, SO_E_IMG_SHORT);
    for (int u = ESPIMG_USE_FINAL; u <= ESPIMG_USE_DIY; u++) {
        assert_int_equal(espimg_check(&in, n - 1, (enum espimg_use)u, why, sizeof why),
                         SO_E_IMG_FORMAT);
        assert_non_null(strstr(why, "incomplete"));
    }
    assert_int_equal(espimg_check_boot(&in, why, sizeof why), SO_E_IMG_FORMAT);

    assert_int_equal(parse(img, ESPIMG_APP_OFFSET, &in), SO_OK); /* eboot only, 4 KiB */
    assert_true(in.eboot_like);
    assert_false(in.full_image);
    for (int u = ESPIMG_USE_FINAL; u <= ESPIMG_USE_DIY; u++) {
        assert_int_equal(espimg_check(&in, ESPIMG_APP_OFFSET, (enum espimg_use)u, why,
                                      sizeof why), SO_E_IMG_FORMAT);
        assert_non_null(strstr(why, "only a bootloader"));
    }

    /* the app's irom segment moved to 0x40202010 (its flash is mapped at 0x40201010) */
    assert_int_equal(parse(img, n, &in), SO_OK);
    uint8_t *bad = exact(img, n);
    wr32(bad + in.app.seg[0].offset - 8, 0x40202010u);
    assert_int_equal(parse(bad, n, &in), SO_OK);
    assert_true(in.app_irom_misplaced);
    assert_int_equal(in.app_irom_want, 0x40201010u);
    assert_int_equal(check(bad, n, ESPIMG_USE_DIY, why, sizeof why), SO_E_IMG_SLOT);
    assert_non_null(strstr(why, "0x40202010"));
    assert_int_equal(check(bad, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_SLOT);
    free(bad);

    /* image 0 is not eboot (loads at 0x40100000): nothing would start the app */
    bad = exact(img, n);
    wr32(bad + 8, 0x40100000u);
    assert_int_equal(check(bad, n, ESPIMG_USE_FINAL, why, sizeof why), SO_E_IMG_FORMAT);
    assert_non_null(strstr(why, "eboot"));
    free(bad);
    free(img);
}

static void put_str(uint8_t *p, const char *s, size_t n)
{
    memcpy(p, s, n);
}

static void tasmota_minimal(void **state)
{
    (void)state;
    char why[512];
    size_t n;
    struct espimg_info in;
    uint8_t *img = make(ESPIMG_USE_DIY, 0, 4, &n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    uint8_t *d = img + in.app.seg[3].offset; /* .rodata */
    /* what a full build holds: "Tasmota" and "-minimal" inside its OTA URL format */
    put_str(d, "Tasmota\0%s-minimal%s\0\0\0", 24);
    fix_app_checksum(img, n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_false(in.tasmota_minimal);
    assert_int_equal(check(img, n, ESPIMG_USE_DIY, why, sizeof why), SO_OK);
    /* "minimal" on its own but no Tasmota: someone else's word */
    put_str(d, "Tasmotx\0minimal\0", 16);
    fix_app_checksum(img, n);
    assert_int_equal(check(img, n, ESPIMG_USE_FINAL, why, sizeof why), SO_OK);
    /* the minimal build: PSTR(CODE_IMAGE_STR) = "minimal", aligned, NUL-padded */
    put_str(d, "Tasmota\0minimal\0(%s)\0\0\0", 24);
    fix_app_checksum(img, n);
    assert_int_equal(parse(img, n, &in), SO_OK);
    assert_true(in.tasmota_minimal);
    for (int u = ESPIMG_USE_FINAL; u <= ESPIMG_USE_DIY; u++) {
        assert_int_equal(espimg_check(&in, n, (enum espimg_use)u, why, sizeof why),
                         SO_E_IMG_FORMAT);
        assert_string_equal(why, "tasmota-minimal cannot be the first image: flash a full "
                                 "build such as tasmota-lite first (minimal has no settings "
                                 "and cannot do anything but take the next upgrade).");
    }
    /* it boots, though: the simulator starts it */
    assert_int_equal(espimg_check_boot(&in, why, sizeof why), SO_OK);
    free(img);
}

static void gzip_and_esp32(void **state)
{
    (void)state;
    char why[512];
    struct espimg_info in;
    static const uint8_t gz[] = {0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03, 0xE9, 0x04};
    assert_int_equal(parse(gz, sizeof gz, &in), SO_E_IMG_MAGIC);
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_GZIP);
    espimg_parse_error(&in, SO_E_IMG_MAGIC, why, sizeof why);
    assert_non_null(strstr(why, "gzip file: unpack it first (gunzip FILE)"));
    assert_int_equal(parse(gz, 2, &in), SO_E_IMG_MAGIC); /* just the magic */
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_GZIP);

    /* ESP32-S3 app: extended header (wp 0xEE, chip id 9, no hash), DROM, DRAM, IROM. With
     * hash_appended 0 the first 16 bytes also read as two empty ESP8266 segments, so the
     * file parses as an ESP8266 v1 image unless the ESP32 header is looked at first. */
    uint8_t b[24 + 3 * 8 + 3 * 32 + 16];
    memset(b, 0, sizeof b);
    b[0] = 0xE9;
    b[1] = 3;
    b[2] = 2;
    b[3] = 0x20;
    wr32(b + 4, 0x40375A88u);
    b[8] = 0xEE;
    b[12] = 9;
    size_t pos = 24;
    const uint32_t seg[3] = {0x3C020020u, 0x3FC90000u, 0x42000020u};
    for (int i = 0; i < 3; i++) {
        wr32(b + pos, seg[i]);
        wr32(b + pos + 4, 32);
        pos += 8 + 32;
    }
    b[sizeof b - 1] = 0xEF;
    assert_int_equal(parse(b, sizeof b, &in), SO_E_IMG_MAGIC);
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_ESP32);
    assert_int_equal(in.foreign_chip, 9);
    espimg_parse_error(&in, SO_E_IMG_MAGIC, why, sizeof why);
    assert_non_null(strstr(why, "This is an ESP32 image (chip id 9, ESP32-S3), not ESP8266"));
    b[12] = 0; /* ESP32 */
    assert_int_equal(parse(b, sizeof b, &in), SO_E_IMG_MAGIC);
    assert_string_equal(espimg_chip_name(in.foreign_chip), "ESP32");
    b[12] = 0x33; /* no chip id esptool knows: read as ESP8266 (and refused as such) */
    (void)parse(b, sizeof b, &in);
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_NONE);
    b[12] = 5;
    b[20] = 1; /* reserved bytes not zero */
    (void)parse(b, sizeof b, &in);
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_NONE);
    b[20] = 0;
    assert_int_equal(parse(b, sizeof b, &in), SO_E_IMG_MAGIC);
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_ESP32);
    wr32(b + 24 + 4, 0x1000); /* segment table past the end */
    (void)parse(b, sizeof b, &in);
    assert_int_equal(in.foreign, ESPIMG_FOREIGN_NONE);

    /* ESP8266 images of every kind are not taken for ESP32 */
    for (int u = 0; u < ESPIMG_USE__COUNT; u++) {
        size_t n;
        uint8_t *img = make((enum espimg_use)u, 0, 5, &n);
        assert_int_equal(parse(img, n, &in), SO_OK);
        free(img);
    }
}

/* What espimg_check accepts for final/diy, the simulated device boots after writing it at
 * 0x0 (and the other way round, minus the tasmota-minimal policy and download limits). */
static void boot_agrees(void **state)
{
    (void)state;
    char dir[] = "/tmp/espimg-boot-XXXXXX", path[64], err[128], why[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/flash.bin", dir);
    size_t n;
    uint8_t *img = make(ESPIMG_USE_DIY, 0, 6, &n);
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    uint8_t *bad_irom = exact(img, n);
    wr32(bad_irom + in.app.seg[0].offset - 8, 0x40202010u);
    uint8_t *bad_sum = exact(img, n);
    bad_sum[in.app.seg[2].offset] ^= 0x10;
    const struct {
        const uint8_t *data;
        size_t len;
    } imgs[] = {
        {img, n}, {img, n - 1}, {img, n - 16}, {img, ESPIMG_APP_OFFSET},
        {img, ESPIMG_APP_OFFSET + 8}, {bad_irom, n}, {bad_sum, n},
    };
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++) {
        struct spiflash f;
        unlink(path);
        assert_int_equal(spiflash_open(&f, path, err, sizeof err), SO_OK);
        /* the old content after the image is the stock layout's user1 (0xEA at 0x1000) */
        assert_int_equal(boot_make_stock_layout(&f, 1, err, sizeof err), SO_OK);
        for (unsigned s = 0; s * SPIFLASH_SECTOR < imgs[i].len; s++)
            assert_int_equal(spiflash_erase_sector(&f, s), SO_OK);
        assert_int_equal(spiflash_write(&f, 0, imgs[i].data, imgs[i].len), SO_OK);
        struct boot_info bi;
        boot_check(&f, &bi);
        enum so_err pe = parse(imgs[i].data, imgs[i].len, &in);
        enum so_err e = pe != SO_OK ? pe
                                    : espimg_check(&in, imgs[i].len, ESPIMG_USE_DIY, why,
                                                   sizeof why);
        if ((e == SO_OK) != (bi.kind == BOOT_FINAL))
            print_error("image %zu: check %s, sim boot kind %d (%s)\n", i, e ? why : "ok",
                        (int)bi.kind, bi.what);
        assert_int_equal(e == SO_OK, bi.kind == BOOT_FINAL);
        spiflash_close(&f);
    }
    unlink(path);
    rmdir(dir);
    free(bad_irom);
    free(bad_sum);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slot_by_link_address),
        cmocka_unit_test(incomplete_full_images),
        cmocka_unit_test(tasmota_minimal),
        cmocka_unit_test(gzip_and_esp32),
        cmocka_unit_test(boot_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
