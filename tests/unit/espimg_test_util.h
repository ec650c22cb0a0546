/* espimg_test_util.h - helpers shared by test_espimg.c and test_espimg_check.c: exact-length
 * copies, test images, hand-made v1/v2 images. */
#ifndef ESPIMG_TEST_UTIL_H
#define ESPIMG_TEST_UTIL_H

#include "lib/crc32.h"
#include "lib/espimg.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static inline void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint8_t *exact(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, src, n);
    return p;
}

static inline uint8_t *make(enum espimg_use kind, size_t size, uint32_t seed, size_t *n)
{
    uint8_t *p = NULL;
    assert_int_equal(espimg_make_test(kind, size, seed, &p, n), SO_OK);
    assert_non_null(p);
    return p;
}

/* Parses an exact-length copy. */
static inline enum so_err parse(const uint8_t *img, size_t n, struct espimg_info *in)
{
    uint8_t *c = exact(img, n);
    enum so_err e = espimg_parse(c, n, in);
    free(c);
    return e;
}

static inline enum so_err check(const uint8_t *img, size_t n, enum espimg_use use, char *why,
                                size_t cap)
{
    struct espimg_info in;
    assert_int_equal(parse(img, n, &in), SO_OK);
    return espimg_check(&in, n, use, why, cap);
}

/* Writes a v1 image at b+off (segments filled with fill, fill+1, ...); returns its end. */
static inline size_t put_v1(uint8_t *b, size_t off, uint8_t mode, uint8_t sf, uint32_t entry,
                            unsigned n, const uint32_t *addr, const uint32_t *len, uint8_t fill)
{
    uint8_t *h = b + off;
    h[0] = 0xE9;
    h[1] = (uint8_t)n;
    h[2] = mode;
    h[3] = sf;
    wr32(h + 4, entry);
    size_t pos = off + 8;
    uint8_t sum = 0xEF;
    for (unsigned i = 0; i < n; i++) {
        wr32(b + pos, addr[i]);
        wr32(b + pos + 4, len[i]);
        pos += 8;
        for (uint32_t k = 0; k < len[i]; k++) {
            b[pos] = (uint8_t)(fill + k);
            sum ^= b[pos++];
        }
    }
    while ((pos & 15) != 15)
        b[pos++] = 0;
    b[pos++] = sum;
    return pos;
}

/* A hand-made v2 image: irom of `ilen` bytes filled with word `w`, one RAM segment. */
static inline uint8_t *hand_v2(uint32_t entry, uint32_t ilen, uint32_t w, size_t *n)
{
    uint8_t *b = calloc(1, 64 + ilen + 64);
    b[0] = 0xEA;
    b[1] = 4;
    b[3] = 0x20;
    wr32(b + 4, entry);
    wr32(b + 12, ilen);
    for (uint32_t i = 0; i < ilen; i += 4)
        wr32(b + 16 + i, w);
    const uint32_t addr[] = {0x40100000u}, len[] = {16};
    size_t end = put_v1(b, 16 + ilen, 0, 0x20, entry, 1, addr, len, 0);
    wr32(b + end, so_crc32_esp8266(b, end));
    *n = end + 4;
    return b;
}

#endif
