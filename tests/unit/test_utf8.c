/* Unit tests for src/lib/utf8.c: RFC 3629 §4's well-formed sequences, every kind of
 * ill-formed one (overlong, surrogate, above U+10FFFF, cut short, stray continuation),
 * and every code point encoded by a reference encoder. Inputs are malloc'd to their
 * exact length so ASan reports over-reads. */
#include "lib/utf8.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static int valid_exact(const char *s, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    int v = so_utf8_valid(p, n);
    free(p);
    return v;
}

struct ucase {
    const char *bytes;
    size_t n;
    int valid;
    const char *what;
};

#define U(s, v, w) {s, sizeof(s) - 1, v, w}

static const struct ucase cases[] = {
    U("", 1, "empty"),
    U("{\"action\":\"update\"}", 1, "ASCII JSON"),
    U("a\0b", 1, "NUL is a character"),
    U("\xC3\xA9", 1, "U+00E9 (2 bytes)"),
    U("\xE2\x82\xAC", 1, "U+20AC (3 bytes)"),
    U("\xF0\x9F\x98\x80", 1, "U+1F600 (4 bytes)"),
    U("\xF4\x8F\xBF\xBF", 1, "U+10FFFF, the last code point"),
    U("\xED\x9F\xBF", 1, "U+D7FF, just below the surrogates"),
    U("\xEE\x80\x80", 1, "U+E000, just above the surrogates"),
    U("\xEF\xBF\xBF", 1, "U+FFFF (a noncharacter, but well-formed)"),
    U("\xC0\x80", 0, "overlong NUL"),
    U("\xC1\xBF", 0, "overlong 2-byte form"),
    U("\xE0\x80\x80", 0, "overlong 3-byte NUL"),
    U("\xE0\x9F\xBF", 0, "overlong U+07FF"),
    U("\xF0\x80\x80\x80", 0, "overlong 4-byte NUL"),
    U("\xF0\x8F\xBF\xBF", 0, "overlong U+FFFF"),
    U("\xED\xA0\x80", 0, "surrogate U+D800"),
    U("\xED\xBF\xBF", 0, "surrogate U+DFFF"),
    U("\xF4\x90\x80\x80", 0, "U+110000"),
    U("\xF5\x80\x80\x80", 0, "F5 lead byte"),
    U("\xFF", 0, "FF"),
    U("\xFE\xFF", 0, "a UTF-16 byte order mark"),
    U("\x80", 0, "stray continuation byte"),
    U("a\xBF", 0, "continuation byte after ASCII"),
    U("\xC3", 0, "2-byte sequence cut short"),
    U("\xE2\x82", 0, "3-byte sequence cut short"),
    U("\xF0\x9F\x98", 0, "4-byte sequence cut short"),
    U("\xC3\x28", 0, "ASCII where a continuation belongs"),
    U("\xE2\x28\xA1", 0, "3-byte, bad second byte"),
    U("\xE2\x82\x28", 0, "3-byte, bad third byte"),
    U("\xF0\x9F\x98\x28", 0, "4-byte, bad fourth byte"),
    U("ok \xC3\xA9 then \xC0", 0, "bad byte at the end of good text"),
};

static void table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct ucase *c = &cases[i];
        if (valid_exact(c->bytes, c->n) != c->valid)
            fail_msg("%s: expected %s", c->what, c->valid ? "valid" : "invalid");
    }
}

/* Encodes cp the textbook way (no checks); returns the length. */
static size_t encode(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every code point: valid unless a surrogate; one past the end is not; every
 * strict prefix of a multi-byte sequence is not. */
static void every_code_point(void **state)
{
    (void)state;
    char b[4];
    for (uint32_t cp = 0; cp <= 0x110000; cp++) {
        size_t n = encode(cp, b);
        int want = cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        if (so_utf8_valid((const uint8_t *)b, n) != want)
            fail_msg("U+%04X: expected %s", (unsigned)cp, want ? "valid" : "invalid");
        for (size_t k = 1; k < n; k++)
            assert_false(so_utf8_valid((const uint8_t *)b, k));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(every_code_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
