/* test_crc32.c - zlib CRC-32 vectors, the ESP8266 v2 image CRC rule (PROTOCOL.md §5) and the
 * Arduino eboot CRC (CRC-32/MPEG-2), each also against a bit-by-bit reference, which also
 * checks every entry of the eight-byte-step tables. */
#include "lib/crc32.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* Reference implementations, one bit at a time, straight from the polynomials. */
static uint32_t ref_zlib(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static uint32_t ref_msb(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        for (int k = 7; k >= 0; k--) {
            uint32_t bit = ((c >> 31) ^ (uint32_t)(p[i] >> k)) & 1;
            c <<= 1;
            if (bit)
                c ^= 0x04C11DB7u;
        }
    return c;
}

/* Exact-length copy so ASan catches any over-read. */
static uint8_t *dup(const char *s, size_t *n)
{
    *n = strlen(s);
    uint8_t *p = malloc(*n ? *n : 1);
    memcpy(p, s, *n);
    return p;
}

static void zlib_vectors(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = dup("123456789", &n);
    assert_int_equal(so_crc32(0, p, n), 0xCBF43926u);
    /* chaining like zlib's crc32(crc, buf, len) */
    assert_int_equal(so_crc32(so_crc32(0, p, 4), p + 4, n - 4), 0xCBF43926u);
    free(p);
    p = dup("The quick brown fox jumps over the lazy dog", &n);
    assert_int_equal(so_crc32(0, p, n), 0x414FA339u);
    free(p);
    assert_int_equal(so_crc32(0, NULL, 0), 0);
    assert_int_equal(so_crc32(0x12345678u, NULL, 0), 0x12345678u);
}

static void esp8266_variant_rule(void **state)
{
    (void)state;
    size_t n;
    /* crc32("123456789") = 0xCBF43926 has bit 31 set → inverted */
    uint8_t *p = dup("123456789", &n);
    assert_int_equal(so_crc32_esp8266(p, n), 0xCBF43926u ^ 0xFFFFFFFFu);
    free(p);
    /* crc32("abc") = 0x352441C2 has bit 31 clear → plus one */
    p = dup("abc", &n);
    assert_int_equal(so_crc32(0, p, n), 0x352441C2u);
    assert_int_equal(so_crc32_esp8266(p, n), 0x352441C3u);
    free(p);
    /* empty: crc 0 → 1 */
    assert_int_equal(so_crc32_esp8266(NULL, 0), 1);
    /* the rule holds on many buffers */
    uint8_t buf[257];
    for (unsigned len = 0; len <= sizeof buf; len++) {
        for (unsigned i = 0; i < len; i++)
            buf[i] = (uint8_t)(i * 31 + len * 7);
        uint32_t c = ref_zlib(buf, len);
        uint32_t want = (c & 0x80000000u) ? c ^ 0xFFFFFFFFu : c + 1;
        assert_int_equal(so_crc32_esp8266(buf, len), want);
    }
}

static void msb_vectors(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = dup("123456789", &n);
    assert_int_equal(so_crc32_msb(SO_CRC32_MSB_INIT, p, n), 0x0376E6E7u); /* CRC-32/MPEG-2 */
    assert_int_equal(so_crc32_msb(so_crc32_msb(SO_CRC32_MSB_INIT, p, 3), p + 3, n - 3),
                     0x0376E6E7u);
    free(p);
}

static void tables_match_reference(void **state)
{
    (void)state;
    uint8_t buf[1024];
    uint32_t x = 0x1234567u;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= sizeof buf; len += 7) {
        assert_int_equal(so_crc32(0, buf, len), ref_zlib(buf, len));
        assert_int_equal(so_crc32_msb(SO_CRC32_MSB_INIT, buf, len), ref_msb(buf, len));
    }
    /* every single byte value exercises every table entry */
    for (unsigned b = 0; b < 256; b++) {
        uint8_t one = (uint8_t)b;
        assert_int_equal(so_crc32(0, &one, 1), ref_zlib(&one, 1));
        assert_int_equal(so_crc32_msb(SO_CRC32_MSB_INIT, &one, 1), ref_msb(&one, 1));
    }
}

/* Eight bytes, one of them b, the rest zero: each position j reaches every entry of one of the
 * eight tables as b runs over 0..255; checked at every start alignment and with a tail, so
 * the eight-byte steps and the byte-wise tail both meet the reference. */
static void every_table_entry(void **state)
{
    (void)state;
    uint8_t buf[8 + 8 + 3];
    for (unsigned off = 0; off < 8; off++)
        for (unsigned j = 0; j < 8; j++)
            for (unsigned b = 0; b < 256; b++) {
                memset(buf, 0, sizeof buf);
                buf[off + j] = (uint8_t)b;
                buf[off + 8] = (uint8_t)(b ^ 0x5A); /* a tail byte after the step */
                const uint8_t *p = buf + off;
                assert_int_equal(so_crc32(0, p, 9), ref_zlib(p, 9));
                assert_int_equal(so_crc32_msb(SO_CRC32_MSB_INIT, p, 9), ref_msb(p, 9));
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zlib_vectors),
        cmocka_unit_test(esp8266_variant_rule),
        cmocka_unit_test(msb_vectors),
        cmocka_unit_test(tables_match_reference),
        cmocka_unit_test(every_table_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
