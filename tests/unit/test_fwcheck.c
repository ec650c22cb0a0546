/* fwrules: nftables / iptables INPUT rules walked for a new TCP connection to each port
 * (fwcheck.h). Texts as `nft list ruleset` and `iptables -S` print them. */
#include "sonota/fwcheck.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static const int PORTS[] = {8080, 8443};

/* The text in a buffer of exactly its length, so ASan sees any over-read. */
static char *exact(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

static size_t nft(const char *text, struct fw_finding *f)
{
    char *t = exact(text);
    size_t n = fw_scan_nft(t, PORTS, 2, f, FW_FINDINGS_MAX);
    free(t);
    return n;
}

static size_t ipt(const char *text, struct fw_finding *f)
{
    char *t = exact(text);
    size_t n = fw_scan_iptables(t, PORTS, 2, f, FW_FINDINGS_MAX);
    free(t);
    return n;
}

static void nft_drop_rule_for_one_port(void **state)
{
    (void)state;
    struct fw_finding f[FW_FINDINGS_MAX];
    size_t n = nft("table inet lapfw { # handle 7\n"
                   "\tchain input { # handle 1\n"
                   "\t\ttype filter hook input priority filter; policy accept;\n"
                   "\t\tct state established,related accept # handle 2\n"
                   "\t\tct state invalid drop\n"
                   "\t\ttcp dport 8443 drop # handle 3\n"
                   "\t}\n"
                   "}\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 2u);
    assert_false(f[0].policy);
    assert_string_equal(f[0].where, "inet lapfw input");
    assert_string_equal(f[0].rule, "tcp dport 8443 drop");
    assert_string_equal(f[0].fix, "sudo nft insert rule inet lapfw input tcp dport 8443 accept");
}

static void nft_accept_first_wins_and_sets(void **state)
{
    (void)state;
    struct fw_finding f[FW_FINDINGS_MAX];
    /* An accept for 8080 before a reject of both: only 8443 is blocked. */
    size_t n = nft("table ip filter {\n"
                   "\tchain INPUT {\n"
                   "\t\ttype filter hook input priority filter; policy accept;\n"
                   "\t\tmeta l4proto tcp tcp dport 8080 counter packets 0 bytes 0 accept\n"
                   "\t\ttcp dport { 8000-8100, 8443 } reject with icmp port-unreachable\n"
                   "\t}\n"
                   "}\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 2u);
    /* A set of both ports and a range. */
    n = nft("table inet t {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n"
            "\t\ttcp dport { 8080, 8443 } drop\n\t}\n}\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 3u);
    assert_string_equal(f[0].fix,
                        "sudo nft insert rule inet t c tcp dport { 8080, 8443 } accept");
    n = nft("table inet t {\n\tchain c {\n\t\ttype filter hook input priority 0;\n"
            "\t\ttcp dport 8000-9000 drop\n\t}\n}\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 3u);
}

static void nft_policy_drop_and_qualified_accepts(void **state)
{
    (void)state;
    struct fw_finding f[FW_FINDINGS_MAX];
    /* iif lo accept and an accept from one source do not open the ports for the device;
     * an accept for 8443 does. */
    size_t n = nft("table inet filter {\n"
                   "\tchain input {\n"
                   "\t\ttype filter hook input priority filter; policy drop;\n"
                   "\t\tiif \"lo\" accept\n"
                   "\t\tip saddr 10.0.0.0/8 accept\n"
                   "\t\ttcp dport 8443 accept\n"
                   "\t\tudp dport 8080 drop\n"
                   "\t}\n"
                   "\tchain forward {\n"
                   "\t\ttype filter hook forward priority filter; policy drop;\n"
                   "\t}\n"
                   "}\n", f);
    assert_int_equal(n, 1);
    assert_true(f[0].policy);
    assert_int_equal(f[0].port_mask, 1u);
    assert_string_equal(f[0].rule, "policy drop");
    assert_string_equal(f[0].fix, "sudo nft insert rule inet filter input tcp dport 8080 accept");
}

static void nft_ignores_other_hooks_families_and_sets(void **state)
{
    (void)state;
    struct fw_finding f[FW_FINDINGS_MAX];
    size_t n = nft("table ip6 f6 {\n\tchain input {\n"
                   "\t\ttype filter hook input priority 0; policy drop;\n\t}\n}\n"
                   "table inet t {\n"
                   "\tset blocked {\n\t\ttype inet_service\n\t\telements = { 8080, 8443 }\n\t}\n"
                   "\tchain out {\n\t\ttype filter hook output priority 0; policy drop;\n"
                   "\t\ttcp dport 8443 drop\n\t}\n"
                   "\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n"
                   "\t\tip6 nexthdr tcp drop\n"
                   "\t\ttcp dport != 22 ct state new accept\n"
                   "\t\ttcp dport 8443 drop\n"
                   "\t}\n"
                   "}\n", f);
    assert_int_equal(n, 0);
    /* An unknown named set on a drop: conservatively counted. Negation: != 22 drops us. */
    n = nft("table inet t {\n\tchain input {\n\t\ttype filter hook input priority 0;\n"
            "\t\ttcp dport @blocked drop\n\t}\n}\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 3u);
    n = nft("table inet t {\n\tchain input {\n\t\ttype filter hook input priority 0;\n"
            "\t\ttcp dport != 22 drop comment \"accept everything\"\n\t}\n}\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 3u);
    assert_int_equal(nft("", f), 0);
    assert_int_equal(nft("garbage {{{ }\n}}}} chain x {\n", f), 0);
}

static void iptables_rules_and_policy(void **state)
{
    (void)state;
    struct fw_finding f[FW_FINDINGS_MAX];
    size_t n = ipt("-P INPUT ACCEPT\n"
                   "-P FORWARD DROP\n"
                   "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
                   "-A INPUT -p udp -m udp --dport 8080 -j DROP\n"
                   "-A INPUT -p tcp -m tcp --dport 8443 -j DROP\n"
                   "-A FORWARD -p tcp --dport 8080 -j DROP\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 2u);
    assert_string_equal(f[0].where, "INPUT");
    assert_string_equal(f[0].rule, "-A INPUT -p tcp -m tcp --dport 8443 -j DROP");
    assert_string_equal(f[0].fix, "sudo iptables -I INPUT -p tcp -m multiport --dports 8443 -j ACCEPT");
    n = ipt("-P INPUT DROP\n"
            "-A INPUT -i lo -j ACCEPT\n"
            "-A INPUT -p tcp -m multiport --dports 80,8000:8100 -j ACCEPT\n", f);
    assert_int_equal(n, 1);
    assert_true(f[0].policy);
    assert_int_equal(f[0].port_mask, 2u);
    n = ipt("-A INPUT -p tcp -m multiport --dports 8080,8443 -j REJECT --reject-with "
            "icmp-port-unreachable\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 3u);
    assert_string_equal(f[0].fix,
                        "sudo iptables -I INPUT -p tcp -m multiport --dports 8080,8443 -j ACCEPT");
    /* ! --dport 22 DROP blocks ours; ! -p tcp does not. */
    n = ipt("-A INPUT ! -p tcp -j DROP\n-A INPUT -p tcp ! --dport 22 -j DROP\n", f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].port_mask, 3u);
    assert_int_equal(ipt("", f), 0);
}

static void ports_text(void **state)
{
    (void)state;
    char t[64];
    fw_ports_text(PORTS, 2, ~0u, t, sizeof t);
    assert_string_equal(t, "8080, 8443");
    fw_ports_text(PORTS, 2, 2u, t, sizeof t);
    assert_string_equal(t, "8443");
    fw_ports_text(PORTS, 2, 0u, t, sizeof t);
    assert_string_equal(t, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nft_drop_rule_for_one_port),
        cmocka_unit_test(nft_accept_first_wins_and_sets),
        cmocka_unit_test(nft_policy_drop_and_qualified_accepts),
        cmocka_unit_test(nft_ignores_other_hooks_families_and_sets),
        cmocka_unit_test(iptables_rules_and_policy),
        cmocka_unit_test(ports_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
