/* Unit tests for src/lib/text_esc.c (issue 13, item 4): what a peer's string looks like
 * on the terminal, in the log and in --json. Inputs are malloc'd to their exact length
 * (no NUL after them) so ASan catches a read past the end. */
#include "lib/text_esc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define LIT(s) s, sizeof(s) - 1

static char g_out[4096];

static const char *esc_exact(const char *in, size_t n, unsigned flags, int json)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, in, n);
    int cut = -1;
    size_t k = json ? text_esc_json(g_out, sizeof g_out, p, n, &cut)
                    : text_esc(g_out, sizeof g_out, p, n, flags, &cut);
    free(p);
    assert_int_equal(cut, 0);
    assert_int_equal(k, strlen(g_out));
    assert_true(k < TEXT_ESC_CAP(n));
    return g_out;
}

static const char *esc(const char *in, size_t n) { return esc_exact(in, n, 0, 0); }

static void clean_text_is_copied(void **state)
{
    (void)state;
    assert_string_equal(esc(LIT("1000abcdef ITA-GZ1-GL 1.5.5")), "1000abcdef ITA-GZ1-GL 1.5.5");
    /* valid UTF-8 outside the controls stays: é, …, ✓, an emoji */
    assert_string_equal(esc(LIT("caf\xc3\xa9 \xe2\x80\xa6 \xe2\x9c\x93 \xf0\x9f\x98\x80")),
                        "caf\xc3\xa9 \xe2\x80\xa6 \xe2\x9c\x93 \xf0\x9f\x98\x80");
    assert_string_equal(esc(LIT("a\\x1b")), "a\\x1b"); /* a backslash is not doubled */
    assert_false(text_esc_needed(LIT("plain \xc3\xa9"), 0));
    assert_string_equal(esc("", 0), "");
}

static void terminal_sequences_are_escaped(void **state)
{
    (void)state;
    /* the two sequences of the issue: set the window title, clear the screen */
    assert_string_equal(esc(LIT("\x1b]0;pwned\x07")), "\\x1b]0;pwned\\x07");
    assert_string_equal(esc(LIT("\x1b[2J")), "\\x1b[2J");
    assert_string_equal(esc(LIT("a\nb\rc\td")), "a\\nb\\rc\\td");
    assert_string_equal(esc(LIT("\x00\x01\x1f\x7f")), "\\x00\\x01\\x1f\\x7f");
    assert_true(text_esc_needed(LIT("ok\x1b"), 0));
    assert_true(text_esc_needed(LIT("ok\n"), 0));
    assert_false(text_esc_needed(LIT("ok\n"), TEXT_ESC_KEEP_NL));
}

static void keep_nl_keeps_only_newlines(void **state)
{
    (void)state;
    assert_string_equal(esc_exact(LIT("== x ==\n  y\x1b[31m\r"), TEXT_ESC_KEEP_NL, 0),
                        "== x ==\n  y\\x1b[31m\\r");
}

static void c1_and_bidi_are_escaped(void **state)
{
    (void)state;
    /* U+009B (CSI), U+0080, U+009F in UTF-8 form; U+00A0 is printable */
    assert_string_equal(esc(LIT("\xc2\x9b" "2J")), "\\u009b2J");
    assert_string_equal(esc(LIT("\xc2\x80\xc2\x9f\xc2\xa0")), "\\u0080\\u009f\xc2\xa0");
    /* right-to-left override, isolates; U+2029 and U+2070 are left alone */
    assert_string_equal(esc(LIT("\xe2\x80\xae" "txt")), "\\u202etxt");
    assert_string_equal(esc(LIT("\xe2\x81\xa6\xe2\x81\xa9")), "\\u2066\\u2069");
    assert_string_equal(esc(LIT("\xe2\x80\xa9\xe2\x81\xb0")), "\xe2\x80\xa9\xe2\x81\xb0");
}

static void invalid_utf8_bytes_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(esc(LIT("\xff\xfe")), "\\xff\\xfe");
    assert_string_equal(esc(LIT("\x80")), "\\x80");                 /* stray continuation */
    assert_string_equal(esc(LIT("\xc0\xaf")), "\\xc0\\xaf");         /* overlong '/' */
    assert_string_equal(esc(LIT("\xe0\x80\xaf")), "\\xe0\\x80\\xaf"); /* overlong */
    assert_string_equal(esc(LIT("\xed\xa0\x80")), "\\xed\\xa0\\x80"); /* surrogate */
    assert_string_equal(esc(LIT("\xf4\x90\x80\x80")), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
    assert_string_equal(esc(LIT("\xc3")), "\\xc3");                  /* cut at the end */
    assert_string_equal(esc(LIT("\xe2\x80" "A")), "\\xe2\\x80A");    /* cut in the middle */
    assert_string_equal(esc(LIT("\xc2\x1b")), "\\xc2\\x1b");
}

static void output_is_bounded_and_never_cut_inside(void **state)
{
    (void)state;
    char out[8];
    int cut = 0;
    /* "ab\x1b" needs 2 + 4 + 1: the escape does not fit in 6 bytes and is left out whole */
    size_t k = text_esc(out, 6, LIT("ab\x1b"), 0, &cut);
    assert_int_equal(k, 2);
    assert_string_equal(out, "ab");
    assert_int_equal(cut, 1);
    k = text_esc(out, 7, LIT("ab\x1b"), 0, &cut);
    assert_string_equal(out, "ab\\x1b");
    assert_int_equal(cut, 0);
    /* a UTF-8 sequence is not split either */
    k = text_esc(out, 3, LIT("a\xc3\xa9"), 0, &cut);
    assert_string_equal(out, "a");
    assert_int_equal(cut, 1);
    k = text_esc(out, 1, LIT("abc"), 0, &cut);
    assert_int_equal(k, 0);
    assert_string_equal(out, "");
    /* the worst case fits TEXT_ESC_CAP */
    char in[64], big[TEXT_ESC_CAP(64)];
    memset(in, 0x1b, sizeof in);
    k = text_esc_json(big, sizeof big, in, sizeof in, &cut);
    assert_int_equal(cut, 0);
    assert_int_equal(k, 6 * sizeof in);
}

/* cJSON's output with hostile strings: after text_esc_json it is valid JSON, decodes to
 * the same strings where they were valid UTF-8, and holds no byte a terminal acts on. */
static void json_stays_valid_and_lossless(void **state)
{
    (void)state;
    static const char *const vals[] = {
        "\x1b]0;pwned\x07", "\x1b[2J", "del\x7f", ("csi\xc2\x9b" "2J"), "rlo\xe2\x80\xae",
        "bad\xff\xfe", "q\"b\\", "caf\xc3\xa9",
    };
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%zu", i);
        cJSON_AddStringToObject(o, k, vals[i]);
    }
    char *raw = cJSON_PrintUnformatted(o);
    assert_non_null(raw);
    const char *safe = esc_exact(raw, strlen(raw), 0, 1);
    for (const unsigned char *p = (const unsigned char *)safe; *p; p++) {
        assert_true(*p >= 0x20 && *p != 0x7f);
        if (*p == 0xc2)
            assert_true(p[1] >= 0xa0); /* no C1 in UTF-8 form */
    }
    assert_non_null(strstr(safe, "\"del\\u007f\""));
    assert_non_null(strstr(safe, "\"csi\\u009b2J\""));
    assert_non_null(strstr(safe, "\"bad\\\\xff\\\\xfe\""));
    cJSON *back = cJSON_Parse(safe);
    assert_non_null(back);
    assert_string_equal(cJSON_GetObjectItem(back, "k0")->valuestring, vals[0]);
    assert_string_equal(cJSON_GetObjectItem(back, "k2")->valuestring, vals[2]);
    assert_string_equal(cJSON_GetObjectItem(back, "k3")->valuestring, vals[3]);
    assert_string_equal(cJSON_GetObjectItem(back, "k4")->valuestring, vals[4]);
    assert_string_equal(cJSON_GetObjectItem(back, "k5")->valuestring, "bad\\xff\\xfe");
    assert_string_equal(cJSON_GetObjectItem(back, "k6")->valuestring, vals[6]);
    assert_string_equal(cJSON_GetObjectItem(back, "k7")->valuestring, vals[7]);
    cJSON_Delete(back);
    cJSON_free(raw);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_text_is_copied),
        cmocka_unit_test(terminal_sequences_are_escaped),
        cmocka_unit_test(keep_nl_keeps_only_newlines),
        cmocka_unit_test(c1_and_bidi_are_escaped),
        cmocka_unit_test(invalid_utf8_bytes_are_escaped),
        cmocka_unit_test(output_is_bounded_and_never_cut_inside),
        cmocka_unit_test(json_stays_valid_and_lossless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
