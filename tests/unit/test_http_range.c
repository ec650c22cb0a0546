/* Unit tests for src/lib/http_range.c (PROTOCOL.md §1.5 4 KiB Range loop, §6 "bytes=" form).
 * Values are malloc'd to their exact length so ASan reports over-reads. */
#include "lib/http_range.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIT(s) s, sizeof(s) - 1
#define IMG 239220u /* SonOTA's user images (§1.6) */

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static enum so_err range_exact(const char *s, size_t n, uint64_t size, struct so_range *r)
{
    char *p = dup_exact(s, n);
    enum so_err e = so_range_parse(p, n, size, r);
    free(p);
    return e;
}

static enum so_err content_range_exact(const char *s, size_t n, struct so_range *r,
                                       uint64_t *total)
{
    char *p = dup_exact(s, n);
    enum so_err e = so_content_range_parse(p, n, r, total);
    free(p);
    return e;
}

struct range_case {
    const char *s;
    size_t n;
    uint64_t size;
    enum so_err want;
    uint64_t first, last;
};

static void range_parse(void **state)
{
    (void)state;
    const struct range_case cases[] = {
        /* the device's requests (§1.5) */
        {LIT("bytes=0-4095"), IMG, SO_OK, 0, 4095},
        {LIT("bytes=4096-8191"), IMG, SO_OK, 4096, 8191},
        {LIT("bytes=237568-239219"), IMG, SO_OK, 237568, 239219},
        /* clipped to the end */
        {LIT("bytes=237568-241663"), IMG, SO_OK, 237568, IMG - 1},
        {LIT("bytes=0-18446744073709551615"), 10, SO_OK, 0, 9},
        {LIT("bytes=0-"), 100, SO_OK, 0, 99},
        {LIT("bytes=99-"), 100, SO_OK, 99, 99},
        {LIT("bytes=-100"), IMG, SO_OK, IMG - 100, IMG - 1},
        {LIT("bytes=-500"), 100, SO_OK, 0, 99},
        {LIT("bytes=-100"), 100, SO_OK, 0, 99},
        {LIT("bytes=0-0"), 1, SO_OK, 0, 0},
        /* blanks around tokens, unit case */
        {LIT(" bytes = 10 - 20 "), 100, SO_OK, 10, 20},
        {LIT("bytes=\t1-2\t"), 100, SO_OK, 1, 2},
        {LIT("bytes= - 5"), 100, SO_OK, 95, 99},
        {LIT("Bytes=0-1"), 100, SO_OK, 0, 1},
        {LIT("BYTES=0-1"), 100, SO_OK, 0, 1},
        /* unsatisfiable → 416 */
        {LIT("bytes=0-4095"), 0, SO_E_RANGE, 0, 0},
        {LIT("bytes=100-200"), 100, SO_E_RANGE, 0, 0},
        {LIT("bytes=100-"), 100, SO_E_RANGE, 0, 0},
        {LIT("bytes=239220-243315"), IMG, SO_E_RANGE, 0, 0},
        {LIT("bytes=-0"), 100, SO_E_RANGE, 0, 0},
        {LIT("bytes=-5"), 0, SO_E_RANGE, 0, 0},
        {LIT("bytes=18446744073709551615-"), UINT64_MAX, SO_E_RANGE, 0, 0},
        /* malformed: syntax is judged before satisfiability */
        {LIT("bytes=5-4"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=5-4"), 0, SO_E_SYNTAX, 0, 0},
        {LIT(""), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("byte=0-1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("items=0-1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes0-1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes 0-1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-1/100"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes="), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=-"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=--1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=1--2"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=a-b"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=+1-2"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=1-+2"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0x1-2"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=1 2-3"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-1 x"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-1\0"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=18446744073709551616-"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-18446744073709551616"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=-18446744073709551616"), 100, SO_E_SYNTAX, 0, 0},
        /* several ranges: never multipart */
        {LIT("bytes=0-1,2-3"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-1, 2-3"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-1,"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=0-,"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=,0-1"), 100, SO_E_SYNTAX, 0, 0},
        {LIT("bytes=-1,-2"), 100, SO_E_SYNTAX, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct so_range r = {7, 7};
        enum so_err e = range_exact(cases[i].s, cases[i].n, cases[i].size, &r);
        if (e != cases[i].want)
            fail_msg("case %zu (%s): got %d want %d", i, cases[i].s, e, cases[i].want);
        if (e == SO_OK) {
            assert_true(r.first == cases[i].first);
            assert_true(r.last == cases[i].last);
        } else {
            assert_true(r.first == 7 && r.last == 7); /* untouched */
        }
    }
    struct so_range r;
    assert_int_equal(so_range_parse(NULL, 0, 10, &r), SO_E_ARG);
    assert_int_equal(so_range_parse("bytes=0-1", 9, 10, NULL), SO_E_ARG);
}

static void content_range_format(void **state)
{
    (void)state;
    char buf[96];
    struct so_range r = {0, 4095};
    assert_int_equal(so_content_range_format(buf, sizeof buf, r, IMG, 0), 19);
    assert_string_equal(buf, "bytes 0-4095/239220");
    assert_int_equal(so_content_range_format(buf, sizeof buf, r, IMG, 1), 19);
    assert_string_equal(buf, "bytes=0-4095/239220");
    r = (struct so_range){237568, 239219};
    so_content_range_format(buf, sizeof buf, r, IMG, 0);
    assert_string_equal(buf, "bytes 237568-239219/239220");
    r = (struct so_range){UINT64_MAX - 1, UINT64_MAX - 1};
    assert_int_equal(so_content_range_format(buf, sizeof buf, r, UINT64_MAX, 0), 68);
    assert_string_equal(buf, "bytes 18446744073709551614-18446744073709551614/"
                             "18446744073709551615");
    /* cap: exactly enough, one short */
    r = (struct so_range){0, 0};
    assert_int_equal(so_content_range_format(buf, 12, r, 1, 0), 11); /* "bytes 0-0/1" */
    assert_string_equal(buf, "bytes 0-0/1");
    assert_int_equal(so_content_range_format(buf, 11, r, 1, 0), 0);
    assert_string_equal(buf, "");
    assert_int_equal(so_content_range_format(buf, 0, r, 1, 0), 0);
    assert_int_equal(so_content_range_format(NULL, 10, r, 1, 0), 0);
    /* not a range of the resource */
    assert_int_equal(so_content_range_format(buf, sizeof buf, (struct so_range){5, 4}, 10, 0),
                     0);
    assert_int_equal(so_content_range_format(buf, sizeof buf, (struct so_range){0, 10}, 10, 0),
                     0);
    assert_int_equal(so_content_range_format(buf, sizeof buf, (struct so_range){0, 0}, 0, 0), 0);

    assert_int_equal(so_content_range_format_unsatisfied(buf, sizeof buf, IMG), 14);
    assert_string_equal(buf, "bytes */239220");
    assert_int_equal(so_content_range_format_unsatisfied(buf, 15, IMG), 14);
    assert_int_equal(so_content_range_format_unsatisfied(buf, 14, IMG), 0);
    assert_string_equal(buf, "");
}

struct cr_case {
    const char *s;
    size_t n;
    enum so_err want;
    uint64_t first, last, total;
};

static void content_range_parse(void **state)
{
    (void)state;
    const struct cr_case cases[] = {
        {LIT("bytes 0-4095/239220"), SO_OK, 0, 4095, IMG},
        {LIT("bytes=0-4095/239220"), SO_OK, 0, 4095, IMG}, /* ITEAD's server (§6) */
        {LIT("bytes 237568-239219/239220"), SO_OK, 237568, 239219, IMG},
        {LIT(" bytes  0 - 4095 / 239220 "), SO_OK, 0, 4095, IMG},
        {LIT("bytes = 1-1/2"), SO_OK, 1, 1, 2},
        {LIT("BYTES 0-0/1"), SO_OK, 0, 0, 1},
        {LIT("bytes */239220"), SO_E_RANGE, 0, 0, 0},
        {LIT("bytes 0-4095/*"), SO_E_RANGE, 0, 0, 0},
        {LIT("bytes 5-4/10"), SO_E_RANGE, 0, 0, 0},
        {LIT("bytes 0-10/10"), SO_E_RANGE, 0, 0, 0},
        {LIT("bytes 0-0/0"), SO_E_RANGE, 0, 0, 0},
        {LIT(""), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes0-1/2"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bits 0-1/2"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1/"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-/2"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes -1/2"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1/2x"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1/2,"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1/2\0"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1/-2"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes ==0-1/2"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes */"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 0-1/99999999999999999999"), SO_E_SYNTAX, 0, 0, 0},
        {LIT("bytes 99999999999999999999-1/2"), SO_E_SYNTAX, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct so_range r = {7, 7};
        uint64_t total = 7;
        enum so_err e = content_range_exact(cases[i].s, cases[i].n, &r, &total);
        if (e != cases[i].want)
            fail_msg("case %zu (%s): got %d want %d", i, cases[i].s, e, cases[i].want);
        if (e == SO_OK) {
            assert_true(r.first == cases[i].first && r.last == cases[i].last);
            assert_true(total == cases[i].total);
        }
    }
    struct so_range r;
    uint64_t t;
    assert_int_equal(so_content_range_parse(NULL, 0, &r, &t), SO_E_ARG);
    assert_int_equal(so_content_range_parse("bytes 0-0/1", 11, &r, NULL), SO_E_ARG);
}

/* The device's whole download of a file: every chunk requested as "bytes=a-b",
 * answered with both Content-Range forms, read back; chunks tile the file. */
static void chunk_loop_round_trip(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 4095, 4096, 4097, 8192, IMG, 471040, 482432};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t size = sizes[s], next = 0, k = 0;
        struct so_range c;
        for (; so_range_chunk(k, size, &c) == 0; k++) {
            assert_true(c.first == next);
            assert_true(c.last >= c.first && c.last - c.first < SO_RANGE_CHUNK);
            assert_true(c.last < size);
            if (c.last != size - 1)
                assert_true(c.last - c.first == SO_RANGE_CHUNK - 1);
            next = c.last + 1;

            char req[64];
            int n = snprintf(req, sizeof req, "bytes=%llu-%llu",
                             (unsigned long long)(k * SO_RANGE_CHUNK),
                             (unsigned long long)(k * SO_RANGE_CHUNK + SO_RANGE_CHUNK - 1));
            struct so_range got;
            assert_int_equal(range_exact(req, (size_t)n, size, &got), SO_OK);
            assert_true(got.first == c.first && got.last == c.last);

            for (int eq = 0; eq <= 1; eq++) {
                char hdr[80];
                size_t hn = so_content_range_format(hdr, sizeof hdr, got, size, eq);
                assert_true(hn > 0 && hn == strlen(hdr));
                struct so_range back;
                uint64_t total;
                assert_int_equal(content_range_exact(hdr, hn, &back, &total), SO_OK);
                assert_true(back.first == got.first && back.last == got.last);
                assert_true(total == size);
            }
        }
        assert_true(next == size);
        assert_true(k == (size + SO_RANGE_CHUNK - 1) / SO_RANGE_CHUNK);
    }
    struct so_range c;
    assert_int_equal(so_range_chunk(0, 0, &c), -1);
    assert_int_equal(so_range_chunk(58, IMG, &c), 0);
    assert_true(c.first == 237568 && c.last == IMG - 1);
    assert_int_equal(so_range_chunk(59, IMG, &c), -1);
    assert_int_equal(so_range_chunk(UINT64_MAX, UINT64_MAX, &c), -1);
    assert_int_equal(so_range_chunk(UINT64_MAX / SO_RANGE_CHUNK, UINT64_MAX, &c), 0);
    assert_true(c.last == UINT64_MAX - 1);
    assert_int_equal(so_range_chunk(UINT64_MAX / SO_RANGE_CHUNK + 1, UINT64_MAX, &c), -1);
    assert_int_equal(so_range_chunk(0, 10, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(range_parse),
        cmocka_unit_test(content_range_format),
        cmocka_unit_test(content_range_parse),
        cmocka_unit_test(chunk_loop_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
