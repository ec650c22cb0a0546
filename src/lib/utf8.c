/* utf8.c - UTF-8 validation by the table of well-formed byte sequences in RFC 3629
 * §4 (also Unicode 15 table 3-7): the second byte's range depends on the first,
 * which rules out overlong forms, surrogates and code points above U+10FFFF. */
#include "lib/utf8.h"

/* Sequence length and the allowed range of the second byte for a first byte
 * (0 = not a first byte). Later bytes are always 0x80..0xBF. */
static size_t lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b < 0x80)
        return 1;
    if (b < 0xC2) /* continuation bytes, and C0/C1 (overlong 2-byte forms) */
        return 0;
    if (b < 0xE0)
        return 2;
    if (b == 0xE0)
        *lo = 0xA0; /* overlong 3-byte forms below U+0800 */
    else if (b == 0xED)
        *hi = 0x9F; /* surrogates U+D800..U+DFFF */
    if (b < 0xF0)
        return 3;
    if (b == 0xF0)
        *lo = 0x90; /* overlong 4-byte forms below U+10000 */
    else if (b == 0xF4)
        *hi = 0x8F; /* above U+10FFFF */
    return b <= 0xF4 ? 4 : 0;
}

int so_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t lo, hi;
        size_t len = lead(p[i], &lo, &hi);
        if (!len || len > n - i)
            return 0;
        if (len > 1 && (p[i + 1] < lo || p[i + 1] > hi))
            return 0;
        for (size_t k = 2; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}
