/* wifi_pw: the WPA2 rule shared by the flag, the variable and the prompt. Inputs are
 * exact-length copies so ASan catches a read past the end. */
#include "lib/wifi_pw.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static enum wifi_pw_verdict check(const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    enum wifi_pw_verdict v = wifi_pw_check(copy, n);
    free(copy);
    return v;
}

static void verdicts(void **state)
{
    (void)state;
    static const struct {
        const char *pw;
        enum wifi_pw_verdict v;
    } cases[] = {
        {"", WIFI_PW_OPEN},
        {"short", WIFI_PW_SHORT},
        {"1234567", WIFI_PW_SHORT},
        {"12345678", WIFI_PW_OK},
        {"correct horse battery staple", WIFI_PW_OK},
        {"ÄÖÜ-päss", WIFI_PW_OK}, /* UTF-8: counted in bytes, as the device does */
        {"123456789012345678901234567890123456789012345678901234567890123", WIFI_PW_OK},
        {"0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef", WIFI_PW_OK},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", WIFI_PW_NOT_HEX},
        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", WIFI_PW_LONG},
        {"tab\there-ok?", WIFI_PW_CONTROL},
        {"arrow\x1b[Akey", WIFI_PW_CONTROL},
        {"del\x7f" "1234567", WIFI_PW_CONTROL},
        {"\x01", WIFI_PW_CONTROL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum wifi_pw_verdict v = check(cases[i].pw);
        if (v != cases[i].v)
            fail_msg("case %zu: verdict %d, want %d", i, (int)v, (int)cases[i].v);
        assert_int_equal(wifi_pw_acceptable(v), v == WIFI_PW_OK || v == WIFI_PW_OPEN);
    }
}

static void reasons_never_quote_the_password(void **state)
{
    (void)state;
    for (int v = WIFI_PW_OK; v <= WIFI_PW_CONTROL; v++) {
        const char *r = wifi_pw_reason((enum wifi_pw_verdict)v);
        assert_non_null(r);
        if (wifi_pw_acceptable((enum wifi_pw_verdict)v))
            assert_string_equal(r, "");
        else
            assert_true(strlen(r) > 10 && !strchr(r, '%'));
    }
    assert_non_null(strstr(wifi_pw_reason(WIFI_PW_SHORT), "8 to 63"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts),
        cmocka_unit_test(reasons_never_quote_the_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
