/* fwrules_win: Windows Defender Firewall profiles, inbound rules and network profiles
 * (fwcheck.h). The netsh texts are laid out as an English Windows 10/11 prints
 * `netsh advfirewall show allprofiles` and `netsh advfirewall firewall show rule
 * name=all dir=in verbose` (CRLF, key column padded to 38); the network lines are what
 * fw_win_networks_ps prints. */
#include "sonota/fwcheck.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int PORTS[] = {8080, 8443};
#define EXE "C:\\Users\\ana\\Downloads\\sonota\\sonota.exe"

#include "exact_copy.h"

static const char *profile(char *buf, size_t cap, const char *name, const char *state,
                           const char *policy)
{
    snprintf(buf, cap,
             "%s Profile Settings:\r\n"
             "----------------------------------------------------------------------\r\n"
             "State                                 %s\r\n"
             "Firewall Policy                       %s\r\n"
             "LocalFirewallRules                    N/A (GPO-store only)\r\n"
             "LocalConSecRules                      N/A (GPO-store only)\r\n"
             "InboundUserNotification               Enable\r\n"
             "RemoteManagement                      Disable\r\n"
             "UnicastResponseToMulticast            Enable\r\n"
             "\r\n"
             "Logging:\r\n"
             "LogAllowedConnections                 Disable\r\n"
             "LogDroppedConnections                 Disable\r\n"
             "FileName                              %%systemroot%%\\system32\\LogFiles\\"
             "Firewall\\pfirewall.log\r\n"
             "MaxFileSize                           4096\r\n"
             "\r\n", name, state, policy);
    return buf;
}

/* allprofiles with each profile's State and the first item of its Firewall Policy. */
static char *profiles(const char *dom, const char *priv, const char *pub)
{
    static char out[4096];
    char d[1024], pr[1024], pu[1024];
    char pol[3][64];
    const char *st[3] = {dom, priv, pub};
    for (int i = 0; i < 3; i++)
        snprintf(pol[i], sizeof pol[i], "%s,AllowOutbound",
                 !strcmp(st[i], "ON-ALWAYS") ? "BlockInboundAlways" : "BlockInbound");
    snprintf(out, sizeof out, "\r\n%s%s%sOk.\r\n\r\n",
             profile(d, sizeof d, "Domain", !strcmp(dom, "OFF") ? "OFF" : "ON", pol[0]),
             profile(pr, sizeof pr, "Private", !strcmp(priv, "OFF") ? "OFF" : "ON", pol[1]),
             profile(pu, sizeof pu, "Public", !strcmp(pub, "OFF") ? "OFF" : "ON", pol[2]));
    return out;
}

/* One rule as `show rule ... verbose` prints it. */
static void rule(char *out, size_t cap, const char *name, const char *profs,
                 const char *proto, const char *port, const char *remote,
                 const char *program, const char *action)
{
    size_t len = strlen(out);
    char ports[160] = "";
    if (port)
        snprintf(ports, sizeof ports,
                 "LocalPort:                            %s\r\n"
                 "RemotePort:                           Any\r\n", port);
    snprintf(out + len, cap - len,
             "\r\nRule Name:                            %s\r\n"
             "----------------------------------------------------------------------\r\n"
             "Enabled:                              Yes\r\n"
             "Direction:                            In\r\n"
             "Profiles:                             %s\r\n"
             "Grouping:                             \r\n"
             "LocalIP:                              Any\r\n"
             "RemoteIP:                             %s\r\n"
             "Protocol:                             %s\r\n"
             "%s"
             "Edge traversal:                       No\r\n"
             "Program:                              %s\r\n"
             "InterfaceTypes:                       Any\r\n"
             "Security:                             NotRequired\r\n"
             "Rule source:                          Local Setting\r\n"
             "Action:                               %s\r\n",
             name, profs, remote, proto, ports, program, action);
}

/* What Windows' first-run question leaves when "Private networks" was ticked: allow
 * rules (TCP and UDP) for the program on Private, and block rules for it on Public. */
static char *prompt_rules(char *out, size_t cap)
{
    out[0] = '\0';
    rule(out, cap, "Core Networking - Dynamic Host Configuration Protocol (DHCP-In)",
         "Domain,Private,Public", "UDP", "68", "Any",
         "%SystemRoot%\\system32\\svchost.exe", "Allow");
    rule(out, cap, "sonota.exe", "Private", "TCP", "Any", "Any", EXE, "Allow");
    rule(out, cap, "sonota.exe", "Private", "UDP", "Any", "Any", EXE, "Allow");
    rule(out, cap, "sonota.exe", "Public", "TCP", "Any", "Any", EXE, "Block");
    rule(out, cap, "sonota.exe", "Public", "UDP", "Any", "Any", EXE, "Block");
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "Ok.\r\n\r\n");
    return out;
}

static const char NETWORKS[] =
    "net\t12\tPublic\tWi-Fi\tFinalStage\r\n"
    "net\t7\tPrivate\tEthernet\tHomeNet 2\r\n"
    "ip\t12\t192.168.4.2\r\n"
    "ip\t7\t192.168.1.23\r\n"
    "ip\t1\t127.0.0.1\r\n";

static void scan(const char *prof, const char *rules, const char *nets, const char *ip,
                 const char *program, struct fw_report *rep)
{
    char *p = exact(prof), *r = exact(rules), *n = exact(nets);
    struct fw_win_text in = {.profiles = p, .rules = r, .networks = n, .local_ip = ip,
                             .program = program};
    fw_scan_windows(&in, PORTS, 2, rep);
    free(p);
    free(r);
    free(n);
}

static void public_finalstage_blocks_without_a_rule(void **state)
{
    (void)state;
    static char rules[16384];
    struct fw_report rep;
    scan(profiles("ON", "ON", "ON"), prompt_rules(rules, sizeof rules), NETWORKS,
         "192.168.4.2", "c:\\users\\ana\\downloads\\sonota\\SONOTA.EXE", &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_string_equal(rep.tool, "Windows Defender Firewall");
    /* The block rule that the question left for Public decides both ports. */
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.f[0].port_mask, 3u);
    assert_true(rep.f[0].advice);
    assert_false(rep.f[0].policy);
    assert_string_equal(rep.f[0].where, "Public network \"FinalStage\" (Wi-Fi)");
    assert_string_equal(rep.f[0].rule, "inbound rule \"sonota.exe\" blocks sonota");
    assert_non_null(strstr(rep.f[0].fix, "set this network to Private"));

    /* Without any rule for sonota the Public profile's default decides. */
    char only[4096] = "";
    rule(only, sizeof only, "Remote Desktop - User Mode (TCP-In)", "Domain,Private,Public",
         "TCP", "3389", "Any", "%SystemRoot%\\system32\\svchost.exe", "Allow");
    scan(profiles("ON", "ON", "ON"), only, NETWORKS, "192.168.4.2", EXE, &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.f[0].port_mask, 3u);
    assert_true(rep.f[0].policy);
    assert_string_equal(rep.f[0].rule, "no inbound rule allows sonota, and the Public "
                        "profile blocks incoming connections by default");
    assert_string_equal(rep.f[0].fix, "Windows blocks incoming connections on a Public "
                        "network: set this network to Private, or allow sonota in the "
                        "prompt for Private networks");
}

static void private_network_with_the_prompt_rules_is_open(void **state)
{
    (void)state;
    static char rules[16384];
    struct fw_report rep;
    scan(profiles("ON", "ON", "ON"), prompt_rules(rules, sizeof rules), NETWORKS,
         "192.168.1.23", EXE, &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_int_equal(rep.n, 0);
    /* Public off: FinalStage is open even with the block rule. */
    scan(profiles("ON", "ON", "OFF"), prompt_rules(rules, sizeof rules), NETWORKS,
         "192.168.4.2", EXE, &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_int_equal(rep.n, 0);
    /* Another program's rule allows nothing for us. */
    scan(profiles("ON", "ON", "ON"), prompt_rules(rules, sizeof rules), NETWORKS,
         "192.168.1.23", "C:\\tools\\other.exe", &rep);
    assert_int_equal(rep.n, 1);
    assert_string_equal(rep.f[0].where, "Private network \"HomeNet 2\" (Ethernet)");
    assert_true(rep.f[0].policy);
    assert_non_null(strstr(rep.f[0].fix, "Allow an app through firewall"));
}

static void block_rule_beats_allow_and_ports_are_read(void **state)
{
    (void)state;
    char rules[8192] = "";
    rule(rules, sizeof rules, "sonota", "Domain,Private,Public", "TCP", "Any", "Any", EXE,
         "Allow");
    rule(rules, sizeof rules, "Block web test", "Private", "TCP", "80,8000-8090", "Any",
         "Any", "Block");
    struct fw_report rep;
    scan(profiles("ON", "ON", "ON"), rules, NETWORKS, "192.168.1.23", EXE, &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.f[0].port_mask, 1u); /* 8080 only */
    assert_string_equal(rep.f[0].rule, "inbound rule \"Block web test\" blocks these ports");
    assert_non_null(strstr(rep.f[0].fix, "Inbound Rules"));

    /* Allow rules that do not count: a remote address range, UDP, disabled, IPsec. A
     * port rule for 8443 (Program Any) and LocalSubnet do count. */
    char more[8192] = "";
    rule(more, sizeof more, "from the office", "Private", "TCP", "8080", "10.0.0.0/8",
         "Any", "Allow");
    rule(more, sizeof more, "udp only", "Private", "UDP", "8080", "Any", "Any", "Allow");
    rule(more, sizeof more, "cloud port", "Private", "TCP", "8443", "LocalSubnet", "Any",
         "Allow");
    size_t len = strlen(more);
    snprintf(more + len, sizeof more - len,
             "\r\nRule Name:                            disabled one\r\n"
             "----------------------------------------------------------------------\r\n"
             "Enabled:                              No\r\nDirection:                    "
             "        In\r\nProfiles:                             Private\r\n"
             "Protocol:                             Any\r\nAction:                       "
             "        Allow\r\n"
             "\r\nRule Name:                            ipsec only\r\n"
             "----------------------------------------------------------------------\r\n"
             "Enabled:                              Yes\r\nDirection:                    "
             "        In\r\nProfiles:                             Private\r\n"
             "Protocol:                             Any\r\nSecurity:                     "
             "        Authenticate\r\nAction:                               Allow\r\n");
    scan(profiles("ON", "ON", "ON"), more, NETWORKS, "192.168.1.23", EXE, &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.f[0].port_mask, 1u);
    assert_true(rep.f[0].policy);
}

static void block_all_incoming_beats_every_allow(void **state)
{
    (void)state;
    static char rules[16384];
    struct fw_report rep;
    scan(profiles("ON", "ON-ALWAYS", "ON"), prompt_rules(rules, sizeof rules), NETWORKS,
         "192.168.1.23", EXE, &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.f[0].port_mask, 3u);
    assert_true(rep.f[0].policy);
    assert_string_equal(rep.f[0].rule, "the Private profile blocks all incoming "
                        "connections, even for allowed apps");
    assert_non_null(strstr(rep.f[0].fix, "Private network"));
    /* The rules are not needed then. */
    scan(profiles("ON", "ON-ALWAYS", "ON"), NULL, NETWORKS, "192.168.1.23", EXE, &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_int_equal(rep.n, 1);
}

static void unknown_network_checks_every_profile(void **state)
{
    (void)state;
    static char rules[16384];
    struct fw_report rep;
    /* PowerShell gave nothing: each profile is judged and named as a possibility. */
    scan(profiles("ON", "ON", "ON"), prompt_rules(rules, sizeof rules), NULL,
         "192.168.4.2", EXE, &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_int_equal(rep.n, 2);
    assert_string_equal(rep.f[0].where, "Domain profile (if this network has it)");
    assert_string_equal(rep.f[1].where, "Public profile (if this network has it)");
    /* An address on no listed interface: every connected network counts. */
    scan(profiles("ON", "ON", "ON"), prompt_rules(rules, sizeof rules), NETWORKS,
         "10.1.1.1", EXE, &rep);
    assert_int_equal(rep.n, 1);
    assert_string_equal(rep.f[0].where, "Public network \"FinalStage\" (Wi-Fi)");
    /* Two networks with the same profile are named together. */
    static const char two[] = "net\t12\tPublic\tWi-Fi\tFinalStage\r\n"
                              "net\t9\tPublic\tEthernet 3\tUnidentified network\r\n";
    scan(profiles("ON", "ON", "ON"), "No rules match the specified criteria.\r\n", two,
         NULL, EXE, &rep);
    assert_int_equal(rep.n, 1);
    assert_string_equal(rep.f[0].where, "Public network \"FinalStage\" (Wi-Fi), "
                        "\"Unidentified network\" (Ethernet 3)");
    assert_true(rep.f[0].policy);
}

/* A German Windows: the words differ, so the answer is "unknown", never "open". */
static void localized_output_is_unknown(void **state)
{
    (void)state;
    static const char de_profiles[] =
        "\r\nDomänenprofil Einstellungen:\r\n"
        "----------------------------------------------------------------------\r\n"
        "Status                                EIN\r\n"
        "Firewallrichtlinie                    BlockInbound,AllowOutbound\r\n"
        "\r\nPrivates Profil Einstellungen:\r\n"
        "Status                                EIN\r\n"
        "\r\nÖffentliches Profil Einstellungen:\r\n"
        "Status                                AUS\r\n"
        "OK.\r\n";
    static const char de_rules[] =
        "\r\nRegelname:                            sonota.exe\r\n"
        "----------------------------------------------------------------------\r\n"
        "Aktiviert:                            Ja\r\n"
        "Richtung:                             Eingehend\r\n"
        "Aktion:                               Zulassen\r\n"
        "OK.\r\n";
    struct fw_report rep;
    scan(de_profiles, de_rules, NETWORKS, "192.168.4.2", EXE, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
    assert_int_equal(rep.n, 0);
    assert_non_null(strstr(rep.note, "8080, 8443"));
    assert_non_null(strstr(rep.note, "set this network to Private"));
    assert_false(fw_win_needs_rules(de_profiles));
    /* English profiles, German rules. */
    scan(profiles("ON", "ON", "ON"), de_rules, NETWORKS, "192.168.4.2", EXE, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
    assert_non_null(strstr(rep.note, "inbound rules"));
    /* Rules that could not be read at all. */
    scan(profiles("ON", "ON", "ON"), NULL, NETWORKS, "192.168.4.2", EXE, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
    /* A profile missing (cut output). */
    scan("\r\nDomain Profile Settings:\r\nState                                 ON\r\n",
         NULL, NULL, NULL, EXE, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
    scan(NULL, NULL, NULL, NULL, EXE, &rep);
    assert_int_equal(rep.status, FW_UNREADABLE);
}

static void needs_rules_only_when_a_profile_is_on(void **state)
{
    (void)state;
    assert_true(fw_win_needs_rules(profiles("OFF", "ON", "OFF")));
    assert_false(fw_win_needs_rules(profiles("OFF", "OFF", "OFF")));
    assert_false(fw_win_needs_rules(profiles("ON-ALWAYS", "ON-ALWAYS", "OFF")));
    assert_false(fw_win_needs_rules(NULL));
    struct fw_report rep;
    scan(profiles("OFF", "OFF", "OFF"), NULL, NULL, NULL, EXE, &rep);
    assert_int_equal(rep.status, FW_CHECKED);
    assert_int_equal(rep.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(public_finalstage_blocks_without_a_rule),
        cmocka_unit_test(private_network_with_the_prompt_rules_is_open),
        cmocka_unit_test(block_rule_beats_allow_and_ports_are_read),
        cmocka_unit_test(block_all_incoming_beats_every_allow),
        cmocka_unit_test(unknown_network_checks_every_profile),
        cmocka_unit_test(localized_output_is_unknown),
        cmocka_unit_test(needs_rules_only_when_a_profile_is_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
