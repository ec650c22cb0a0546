/* fwrules_mac: the macOS application firewall from socketfilterfw's answers
 * (fwcheck.h), in the wording of macOS 14 and later and of the releases before. */
#include "sonota/fwcheck.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static const int PORTS[] = {8080, 8443};
#define SELF "/Users/ana/bin/sonota"

#include "exact_copy.h"

static void scan(const char *global, const char *blockall, const char *stealth,
                 const char *app, struct fw_report *rep)
{
    struct fw_mac_text in = {exact(global), exact(blockall), exact(stealth), exact(app),
                             SELF};
    fw_scan_macos(&in, PORTS, 2, rep);
    free((char *)in.global);
    free((char *)in.blockall);
    free((char *)in.stealth);
    free((char *)in.app);
}

static void off_means_nothing_blocks(void **state)
{
    (void)state;
    struct fw_report rep;
    scan("Firewall is disabled. (State = 0)\n", NULL, NULL, NULL, &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_string_equal(rep.tool, "macOS application firewall");
    assert_int_equal(rep.n, 0);
}

static void block_all_in_both_wordings_and_state_2(void **state)
{
    (void)state;
    static const char *const on[] = {
        "Firewall has block all state set to enabled.\n", /* macOS 14 and later */
        "Block all ENABLED! \n",                          /* before */
    };
    struct fw_report rep;
    for (size_t i = 0; i < 2; i++) {
        scan("Firewall is enabled. (State = 1)\n", on[i], "Firewall stealth mode is off\n",
             "The application " SELF " is permitted to receive incoming connections\n",
             &rep);
        assert_int_equal(rep.status, FW_CHECKED);
        assert_int_equal(rep.n, 1);
        assert_int_equal(rep.f[0].port_mask, 3u);
        assert_true(rep.f[0].policy);
        assert_true(rep.f[0].advice);
        assert_string_equal(rep.f[0].rule, "\"Block all incoming connections\" is on");
        assert_non_null(strstr(rep.f[0].fix, "System Settings > Network > Firewall"));
    }
    scan("Firewall is blocking all non-essential incoming connections. (State = 2)\n",
         "Block all DISABLED! \n", "Stealth mode enabled\n", NULL, &rep);
    assert_int_equal(rep.n, 1);
    assert_true(rep.f[0].policy);
    assert_non_null(strstr(rep.f[0].rule, "stealth mode is on"));
}

static void app_blocked_permitted_or_unlisted(void **state)
{
    (void)state;
    struct fw_report rep;
    const char *on = "Firewall is enabled. (State = 1)\n";
    const char *no_all = "Firewall has block all state set to disabled.\n";
    scan(on, no_all, "Firewall stealth mode is off\n",
         "The application " SELF " is blocked from receiving incoming connections.\n", &rep);
    assert_int_equal(rep.n, 1);
    assert_false(rep.f[0].policy);
    assert_string_equal(rep.f[0].where, SELF);
    assert_string_equal(rep.f[0].rule, "the firewall blocks incoming connections for sonota");
    assert_non_null(strstr(rep.f[0].fix, "\"Allow incoming connections\""));

    scan(on, no_all, "Firewall stealth mode is off\n",
         "The application " SELF " is permitted to receive incoming connections\n", &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_int_equal(rep.n, 0);

    scan(on, no_all, "Firewall stealth mode is on\n",
         "The application is not part of the firewall\n", &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.f[0].port_mask, 3u);
    assert_non_null(strstr(rep.f[0].rule, "not in its list yet"));
    assert_non_null(strstr(rep.f[0].rule, "stealth mode is on"));
    assert_string_equal(rep.f[0].fix, "allow incoming connections for sonota when macOS "
                        "asks, or in System Settings > Network > Firewall > Options");

    /* --getappblocked did not run or said something else: "may", never "open". */
    scan(on, no_all, NULL, NULL, &rep);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.f[0].rule, "did not say"));
}

static void unreadable_state_is_unknown(void **state)
{
    (void)state;
    struct fw_report rep;
    scan(NULL, NULL, NULL, NULL, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
    assert_non_null(strstr(rep.note, "8080, 8443"));
    scan("socketfilterfw: permission denied\n", NULL, NULL, NULL, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
    assert_int_equal(rep.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_means_nothing_blocks),
        cmocka_unit_test(block_all_in_both_wordings_and_state_2),
        cmocka_unit_test(app_blocked_permitted_or_unlisted),
        cmocka_unit_test(unreadable_state_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
