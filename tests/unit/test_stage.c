/* stage: detection over hand-made address lists (PROTOCOL.md §10.1). */
#include "sonota/stage.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static struct netif_addr mk(const char *ifname, const char *ip, int loopback)
{
    struct netif_addr a;
    memset(&a, 0, sizeof a);
    snprintf(a.ifname, sizeof a.ifname, "%s", ifname);
    snprintf(a.ip, sizeof a.ip, "%s", ip);
    assert_int_equal(netif_parse_ipv4(ip, &a.addr), 0);
    a.netmask = 0xFFFFFF00u;
    a.loopback = loopback;
    return a;
}

static void provision_when_on_pairing_ap(void **state)
{
    (void)state;
    struct netif_addr a[] = {mk("wlan0", "10.10.7.2", 0)};
    struct stage_seen s;
    stage_scan(a, 1, "192.168.1.20", &s);
    assert_true(s.ap);
    assert_string_equal(s.ap_ip, "10.10.7.2");
    assert_string_equal(s.ap_if, "wlan0");
    assert_false(s.serving);
    assert_false(s.final);
    assert_int_equal(stage_guess(&s), STAGE_PROVISION);
    assert_string_equal(stage_name(stage_guess(&s)), "provision");
}

static void cloud_when_serving_ip_present(void **state)
{
    (void)state;
    struct netif_addr a[] = {mk("eth0", "192.168.1.20", 0), mk("docker0", "172.17.0.1", 0)};
    struct stage_seen s;
    stage_scan(a, 2, "192.168.1.20", &s);
    assert_true(s.serving);
    assert_false(s.ap || s.final || s.final_other);
    assert_int_equal(stage_guess(&s), STAGE_CLOUD);
    /* Another address only: nothing. */
    stage_scan(a + 1, 1, "192.168.1.20", &s);
    assert_int_equal(stage_guess(&s), STAGE_NONE);
    /* No serving IP known yet (stage 1 before the choice). */
    stage_scan(a, 2, NULL, &s);
    assert_int_equal(stage_guess(&s), STAGE_NONE);
}

static void final_stage_and_clash_warning(void **state)
{
    (void)state;
    struct netif_addr a[] = {mk("wlan0", "192.168.4.2", 0)};
    struct stage_seen s;
    stage_scan(a, 1, "192.168.1.20", &s);
    assert_true(s.final);
    assert_false(s.final_other);
    assert_string_equal(s.final_if, "wlan0");
    assert_int_equal(stage_guess(&s), STAGE_FINAL);

    /* A phone took .2: the computer got .3 and E2A will never reach us. */
    struct netif_addr b[] = {mk("wlan0", "192.168.4.3", 0)};
    stage_scan(b, 1, "192.168.1.20", &s);
    assert_false(s.final);
    assert_true(s.final_other);
    assert_string_equal(s.final_other_ip, "192.168.4.3");
    assert_int_equal(stage_guess(&s), STAGE_NONE);

    /* FinalStage wins when both wired LAN and FinalStage are up. */
    struct netif_addr c[] = {mk("eth0", "192.168.1.20", 0), mk("wlan0", "192.168.4.2", 0),
                             mk("wlan1", "10.10.7.2", 0)};
    stage_scan(c, 3, "192.168.1.20", &s);
    assert_true(s.serving && s.final && s.ap);
    assert_int_equal(stage_guess(&s), STAGE_FINAL);
}

static void serving_ip_inside_device_networks(void **state)
{
    (void)state;
    assert_int_equal(stage_serving_clash("10.10.7.50"), STAGE_CLASH_AP);
    assert_int_equal(stage_serving_clash("192.168.4.10"), STAGE_CLASH_FINAL);
    assert_int_equal(stage_serving_clash("192.168.4.2"), STAGE_CLASH_FINAL);
    assert_int_equal(stage_serving_clash("192.168.1.20"), 0);
    assert_int_equal(stage_serving_clash("10.10.8.1"), 0);
    assert_int_equal(stage_serving_clash("not-an-ip"), 0);

    /* A home LAN in 10.10.7.0/24: the serving IP itself is home, not the pairing AP. */
    struct netif_addr a[] = {mk("eth0", "10.10.7.50", 0)};
    struct stage_seen s;
    stage_scan(a, 1, "10.10.7.50", &s);
    assert_true(s.serving);
    assert_false(s.ap);
    assert_int_equal(stage_guess(&s), STAGE_CLOUD);
    /* Same for a home LAN in 192.168.4.0/24 (and the serving IP being .2 itself). */
    struct netif_addr b[] = {mk("eth0", "192.168.4.2", 0)};
    stage_scan(b, 1, "192.168.4.2", &s);
    assert_true(s.serving);
    assert_false(s.final || s.final_other);
}

static void loopback_only_counts_as_serving(void **state)
{
    (void)state;
    struct netif_addr a[] = {mk("lo", "127.0.0.1", 1)};
    struct stage_seen s;
    stage_scan(a, 1, "127.0.0.1", &s);
    assert_true(s.serving);
    stage_scan(a, 1, "192.168.1.1", &s);
    assert_int_equal(stage_guess(&s), STAGE_NONE);
}

static void candidates_exclude_ap_loopback_linklocal(void **state)
{
    (void)state;
    struct netif_addr a[] = {mk("wlan0", "10.10.7.2", 0), mk("lo", "127.0.0.1", 1),
                             mk("eth0", "192.168.1.20", 0), mk("eth1", "169.254.3.4", 0),
                             mk("docker0", "172.17.0.1", 0)};
    size_t idx[8];
    size_t k = stage_serving_candidates(a, 5, idx, 8);
    assert_int_equal(k, 2);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 4);
    assert_int_equal(stage_serving_candidates(a, 5, idx, 1), 1);
    assert_int_equal(stage_serving_candidates(a, 2, idx, 8), 0);
}

/* Where a run starts: addresses now plus how far an earlier run got (stage_plan). */
static void plan_from_addresses_and_record(void **state)
{
    (void)state;
    struct stage_seen none, ap, home, fin, ap_home;
    struct netif_addr h[] = {mk("wlan0", "192.168.1.23", 0)};
    struct netif_addr p[] = {mk("wlan0", "10.10.7.2", 0)};
    struct netif_addr f[] = {mk("wlan0", "192.168.4.2", 0)};
    struct netif_addr two[] = {mk("eth0", "192.168.1.23", 0), mk("wlan0", "10.10.7.2", 0)};
    stage_scan(NULL, 0, "192.168.1.23", &none);
    stage_scan(p, 1, "192.168.1.23", &ap);
    stage_scan(h, 1, "192.168.1.23", &home);
    stage_scan(f, 1, "192.168.1.23", &fin);
    stage_scan(two, 2, "192.168.1.23", &ap_home);
    /* plan(seen, reached) -> stage, recheck */
    const struct { const struct stage_seen *s; enum flash_stage reached, plan; int recheck;
                   const char *name; } t[] = {
        /* Nothing recorded: stage 1 (wait or provision), or FinalStage by its address. */
        {&none, STAGE_NONE, STAGE_WAIT_AP, 0, "wait-ap"},
        {&home, STAGE_NONE, STAGE_WAIT_AP, 0, "wait-ap"},
        {&ap, STAGE_NONE, STAGE_PROVISION, 0, "provision"},
        {&fin, STAGE_NONE, STAGE_FINAL, 0, "final"},
        /* Provisioned earlier (the record says "provisioned" or "cloud"): stage 2 at
         * home, waiting elsewhere, recheck on a pairing AP. */
        {&home, STAGE_CLOUD, STAGE_CLOUD, 0, "cloud"},
        {&home, STAGE_PROVISIONED, STAGE_CLOUD, 0, "cloud"},
        {&none, STAGE_CLOUD, STAGE_PROVISIONED, 0, "wait-home"},
        {&none, STAGE_PROVISIONED, STAGE_PROVISIONED, 0, "wait-home"},
        {&ap, STAGE_CLOUD, STAGE_PROVISION, 1, "recheck"},
        {&ap_home, STAGE_PROVISIONED, STAGE_PROVISION, 1, "recheck"},
        {&fin, STAGE_CLOUD, STAGE_FINAL, 0, "final"},
        /* The intermediate firmware was delivered: stage 3 wherever the computer is,
         * except on a pairing AP (that is a device in pairing mode: provision it). */
        {&home, STAGE_FINAL, STAGE_FINAL, 0, "final"},
        {&none, STAGE_FINAL, STAGE_FINAL, 0, "final"},
        {&ap, STAGE_FINAL, STAGE_PROVISION, 0, "provision"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int recheck = -1;
        enum flash_stage plan = stage_plan(t[i].s, t[i].reached, &recheck);
        assert_int_equal(plan, t[i].plan);
        assert_int_equal(recheck, t[i].recheck);
        assert_string_equal(stage_start_name(plan, recheck), t[i].name);
    }
    /* One enum, one name each (the record and the fleet table use them). */
    assert_string_equal(stage_name(STAGE_PROVISIONED), "provisioned");
    assert_string_equal(stage_name(STAGE_FAILED), "failed");
}

/* Another address on the default-route interface: a home network without the serving IP
 * (a new DHCP lease); docker0 and the like do not count. */
static void home_other_address(void **state)
{
    (void)state;
    struct netif_addr a[] = {mk("wlan0", "192.168.1.24", 0), mk("docker0", "172.17.0.1", 0),
                             mk("lo", "127.0.0.1", 1)};
    a[0].is_default = 1;
    struct stage_seen s;
    stage_scan(a, 3, "192.168.1.23", &s);
    assert_false(s.serving);
    assert_true(s.home_other);
    assert_string_equal(s.home_other_ip, "192.168.1.24");
    assert_string_equal(s.home_other_if, "wlan0");
    stage_scan(a + 1, 2, "192.168.1.23", &s);
    assert_false(s.home_other);
    a[0].is_default = 0;
    stage_scan(a, 3, "192.168.1.23", &s);
    assert_false(s.home_other);
    /* The pairing AP and FinalStage are never "home". */
    struct netif_addr b[] = {mk("wlan0", "10.10.7.2", 0), mk("wlan1", "192.168.4.3", 0)};
    b[0].is_default = b[1].is_default = 1;
    stage_scan(b, 2, "192.168.1.23", &s);
    assert_false(s.home_other);
}

static void version_compare_is_numeric(void **state)
{
    (void)state;
    assert_true(stage_version_cmp("1.5.5", "1.6") < 0);
    assert_true(stage_version_cmp("1.10.0", "1.9.9") > 0); /* strcmp would say < */
    assert_true(stage_version_cmp("1.6", "1.6.0") == 0);
    assert_true(stage_version_cmp("2.0.1", "1.6") > 0);
    assert_true(stage_version_cmp("23.42.5", "3.7.0") > 0);
    assert_true(stage_version_cmp("1.5.5-beta", "1.5.5") == 0);
    assert_true(stage_version_cmp("", "0") == 0);
    assert_true(stage_version_cmp(NULL, "1") < 0);
}

static void rom_verdicts_follow_the_compatibility_table(void **state)
{
    (void)state;
    assert_int_equal(stage_rom_verdict("1.2.0"), ROM_OK);
    assert_int_equal(stage_rom_verdict("1.5.5"), ROM_OK);
    assert_int_equal(stage_rom_verdict("1.6.0"), ROM_PINNED);
    assert_int_equal(stage_rom_verdict("1.8"), ROM_PINNED);
    assert_int_equal(stage_rom_verdict("1.10.1"), ROM_PINNED);
    assert_int_equal(stage_rom_verdict("2.0.1"), ROM_OK);
    assert_int_equal(stage_rom_verdict("2.0.4"), ROM_OK);
    assert_int_equal(stage_rom_verdict("2.6.0"), ROM_PINNED);
    assert_int_equal(stage_rom_verdict("2.7.0"), ROM_PINNED);
    assert_int_equal(stage_rom_verdict("3.0.0"), ROM_DIY);
    assert_int_equal(stage_rom_verdict("3.7.6"), ROM_DIY);
    assert_int_equal(stage_rom_verdict(""), ROM_UNKNOWN);
    assert_int_equal(stage_rom_verdict("v1"), ROM_UNKNOWN);
    assert_int_equal(stage_rom_verdict(NULL), ROM_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(provision_when_on_pairing_ap),
        cmocka_unit_test(cloud_when_serving_ip_present),
        cmocka_unit_test(final_stage_and_clash_warning),
        cmocka_unit_test(serving_ip_inside_device_networks),
        cmocka_unit_test(loopback_only_counts_as_serving),
        cmocka_unit_test(candidates_exclude_ap_loopback_linklocal),
        cmocka_unit_test(plan_from_addresses_and_record),
        cmocka_unit_test(home_other_address),
        cmocka_unit_test(version_compare_is_numeric),
        cmocka_unit_test(rom_verdicts_follow_the_compatibility_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
