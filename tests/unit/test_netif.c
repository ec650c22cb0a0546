/* netif: the OS's address list and default-route lookup are replaced through
 * netif_set_hooks. */
#include "io/netif.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX 8

static struct plat_ifaddr g_fake[FAKE_MAX];
static size_t g_nfake;
static int g_fail;
static const char *g_default_if;

static void fake_reset(void)
{
    memset(g_fake, 0, sizeof g_fake);
    g_nfake = 0;
    g_fail = 0;
    g_default_if = NULL;
}

static uint32_t quad(const char *s)
{
    uint32_t v = 0;
    assert_int_equal(netif_parse_ipv4(s, &v), 0);
    return v;
}

#define UP 1
#define LOOP 2

static void fake_add(const char *name, const char *ip, const char *mask, unsigned flags)
{
    struct plat_ifaddr *f = &g_fake[g_nfake++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->addr = quad(ip);
    f->netmask = mask ? quad(mask) : 0;
    f->index = (int)g_nfake;
    f->up = (flags & UP) != 0;
    f->loopback = (flags & LOOP) != 0;
}

static int fake_list(struct plat_ifaddr *out, size_t cap)
{
    if (g_fail) {
        errno = EACCES;
        return -1;
    }
    size_t n = g_nfake < cap ? g_nfake : cap;
    memcpy(out, g_fake, n * sizeof *out);
    return (int)n;
}

static int fake_default(char *out, size_t cap)
{
    if (!g_default_if)
        return -1;
    snprintf(out, cap, "%s", g_default_if);
    return 0;
}

static const struct netif_hooks hooks = {fake_list, fake_default};

static int setup(void **state)
{
    (void)state;
    fake_reset();
    netif_set_hooks(&hooks);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    netif_set_hooks(NULL);
    return 0;
}

static void loopback_skipped_unless_asked(void **state)
{
    (void)state;
    fake_add("lo", "127.0.0.1", "255.0.0.0", UP | LOOP);
    fake_add("eth0", "192.168.1.20", "255.255.255.0", UP);
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, 0);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].ifname, "eth0");
    assert_string_equal(a[0].ip, "192.168.1.20");
    assert_true(a[0].addr == 0xC0A80114u);
    assert_true(a[0].netmask == 0xFFFFFF00u);
    assert_false(a[0].loopback);
    assert_int_equal(a[0].index, 2);

    n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].ip, "127.0.0.1");
    assert_true(a[0].loopback);
}

static void default_route_first(void **state)
{
    (void)state;
    fake_add("docker0", "172.17.0.1", "255.255.0.0", UP);
    fake_add("wlan0", "10.10.7.2", "255.255.255.0", UP);
    fake_add("eth0", "192.168.1.20", "255.255.255.0", UP);
    fake_add("wlan0", "10.10.7.3", "255.255.255.0", UP);
    g_default_if = "wlan0";
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, 0);
    assert_int_equal(n, 4);
    assert_string_equal(a[0].ip, "10.10.7.2");
    assert_true(a[0].is_default);
    assert_string_equal(a[1].ip, "10.10.7.3");
    assert_true(a[1].is_default);
    assert_string_equal(a[2].ip, "172.17.0.1");
    assert_false(a[2].is_default);
    assert_string_equal(a[3].ip, "192.168.1.20");
}

static void no_default_route_keeps_order(void **state)
{
    (void)state;
    fake_add("eth1", "192.168.4.2", "255.255.255.0", UP);
    fake_add("eth0", "192.168.1.20", NULL, UP);
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, 0);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].ip, "192.168.4.2");
    assert_string_equal(a[1].ip, "192.168.1.20");
    assert_true(a[1].netmask == 0);
    assert_false(a[0].is_default || a[1].is_default);
}

static void down_skipped_and_127_is_loopback(void **state)
{
    (void)state;
    fake_add("eth1", "192.168.9.9", "255.255.255.0", 0); /* not up */
    fake_add("eth2", "192.168.1.20", "255.255.255.0", UP);
    fake_add("lo1", "127.0.0.2", NULL, UP); /* no loopback flag, but 127/8 */
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, 0);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].ifname, "eth2");
    n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
    assert_int_equal(n, 2);
    assert_true(a[1].loopback);
    assert_string_equal(a[1].ip, "127.0.0.2");
}

static void capacity_respected_and_failure_reported(void **state)
{
    (void)state;
    fake_add("a", "192.168.1.1", NULL, UP);
    fake_add("b", "192.168.1.2", NULL, UP);
    fake_add("c", "192.168.1.3", NULL, UP);
    struct netif_addr a[2];
    assert_int_equal(netif_list(a, 2, 0), 2);
    assert_string_equal(a[1].ip, "192.168.1.2");
    g_fail = 1;
    errno = 0;
    assert_int_equal(netif_list(a, 2, 0), -1);
    assert_int_equal(errno, EACCES);
}

static void proc_route_parsing(void **state)
{
    (void)state;
    static const char text[] =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth9\t00000000\t0101A8C0\t0002\t0\t0\t1\t00000000\t0\t0\t0\n" /* not up */
        "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
    char name[NETIF_NAME_MAX];
    assert_int_equal(plat_parse_proc_route(text, name, sizeof name), 0);
    assert_string_equal(name, "eth0");

    static const char none[] =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
    assert_int_equal(plat_parse_proc_route(none, name, sizeof name), -1);
    assert_int_equal(plat_parse_proc_route("", name, sizeof name), -1);
    /* The header line alone is never taken for a route, even if it looked like one. */
    assert_int_equal(plat_parse_proc_route("x 0 0 1 0 0 0 0\n", name, sizeof name), -1);
    char tiny[3];
    assert_int_equal(plat_parse_proc_route(text, tiny, sizeof tiny), -1);
}

static void ipv4_literals(void **state)
{
    (void)state;
    uint32_t v = 0;
    assert_int_equal(netif_parse_ipv4("10.10.7.1", &v), 0);
    assert_true(v == 0x0A0A0701u);
    assert_int_equal(netif_parse_ipv4("10.10.7", &v), -1);
    assert_int_equal(netif_parse_ipv4("256.1.1.1", &v), -1);
    assert_int_equal(netif_parse_ipv4("host.lan", &v), -1);
    assert_int_equal(netif_parse_ipv4(NULL, &v), -1);
}

static void real_system_lists_loopback(void **state)
{
    (void)state;
    netif_set_hooks(NULL);
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
    assert_true(n >= 1);
    int lo = 0;
    for (int i = 0; i < n; i++)
        lo |= a[i].loopback && !strcmp(a[i].ip, "127.0.0.1");
    assert_true(lo);
    n = netif_list(a, NETIF_MAX, 0);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++)
        assert_false(a[i].loopback);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loopback_skipped_unless_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(default_route_first, setup, teardown),
        cmocka_unit_test_setup_teardown(no_default_route_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(down_skipped_and_127_is_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(capacity_respected_and_failure_reported, setup, teardown),
        cmocka_unit_test(proc_route_parsing),
        cmocka_unit_test(ipv4_literals),
        cmocka_unit_test_setup_teardown(real_system_lists_loopback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
