#include "lib/err.h"
#include "lib/str.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void every_code_has_a_sentence(void **state)
{
    (void)state;
    for (int e = 0; e < SO_E__COUNT; e++) {
        const char *s = so_strerror((enum so_err)e);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
    }
    assert_string_equal(so_strerror(SO_E__COUNT), "unknown error");
}

static void str_helpers(void **state)
{
    (void)state;
    struct so_str s = {"Content-Length", 14};
    assert_true(so_str_ieq(s, "content-length"));
    assert_false(so_str_eq(s, "content-length"));
    uint64_t v = 0;
    assert_int_equal(so_str_to_u64((struct so_str){"18446744073709551615", 20}, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(so_str_to_u64((struct so_str){"18446744073709551616", 20}, &v), -1);
    assert_int_equal(so_str_to_u64((struct so_str){"-1", 2}, &v), -1);
    assert_int_equal(so_str_to_u64((struct so_str){"", 0}, &v), -1);
    struct so_str t = so_str_trim((struct so_str){" \t42 ", 5});
    assert_true(so_str_eq(t, "42"));
    char small[3];
    assert_int_equal(so_str_copy((struct so_str){"abc", 3}, small, sizeof small), -1);
    assert_int_equal(so_str_copy((struct so_str){"ab", 2}, small, sizeof small), 0);
    assert_string_equal(small, "ab");
    assert_true(so_str_icontains("<title>Tasmota</title>", "tasmota"));
    assert_true(so_str_icontains("TASMOTA", "tasmota"));
    assert_false(so_str_icontains("tasmot", "tasmota"));
    assert_false(so_str_icontains("", "x"));
    /* FNV-1a 32-bit reference values; chaining equals hashing the whole */
    assert_int_equal(so_fnv1a(SO_FNV1A_INIT, "", 0), 0x811c9dc5u);
    assert_int_equal(so_fnv1a(SO_FNV1A_INIT, "a", 1), 0xe40c292cu);
    assert_int_equal(so_fnv1a(SO_FNV1A_INIT, "foobar", 6), 0xbf9cf968u);
    assert_int_equal(so_fnv1a(so_fnv1a(SO_FNV1A_INIT, "foo", 3), "bar", 3), 0xbf9cf968u);
    assert_true(so_str_icontains("abc", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_sentence),
        cmocka_unit_test(str_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
