/* fwcheck.h - does a local firewall drop the device's connections? (PROTOCOL.md §8: a
 * host firewall is the most common reason a device never reaches FinalStage's file
 * server or the fake cloud.) Read-only: the check only lists settings and rules, with
 * fixed argv and no shell (plat/plat_run.h), and never changes them. One file per
 * system runs the tools (fw_linux.c, fw_windows.c, fw_macos.c); their
 * parsers are pure and unit-tested on every system (fwrules.c, fwrules_win.c,
 * fwrules_mac.c).
 * - Linux: the INPUT rules from `nft list ruleset` (which also shows iptables-nft, ufw
 *   and firewalld rules) or, without nft, `iptables -S INPUT`, walked the way the kernel
 *   would for a new TCP connection to each of our ports: the first accept/drop/reject
 *   that applies decides, else the chain policy.
 * - Windows: Windows Defender Firewall's profiles (`netsh advfirewall show allprofiles`),
 *   the profile (Public, Private, Domain) of the network that faces the device
 *   (Get-NetConnectionProfile) and the inbound rules (`netsh advfirewall firewall show
 *   rule`): a block rule that matches wins, else an allow rule for this program or the
 *   ports, else the profile's default.
 * - macOS: the application firewall (socketfilterfw): on/off, "block all", and whether
 *   this program is blocked or not listed yet (macOS then asks the user).
 * Conservative on purpose: a block with extra conditions (interface, source) counts, an
 * allow with such conditions does not, so a warning says "may"; text a parser does not
 * recognise (a localized Windows prints other words) makes the answer "unknown", never
 * "nothing blocks". */
#ifndef SONOTA_FWCHECK_H
#define SONOTA_FWCHECK_H

#include <stddef.h>

#define FW_PORTS_MAX 4
#define FW_FINDINGS_MAX 8
#define FW_TEXT_MAX 320
#define FW_WHERE_MAX 160
#define FW_OUTPUT_MAX (1u << 20) /* a listing bigger than 1 MiB is cut (and still read) */

struct fw_finding {
    unsigned port_mask;        /* bit i: ports[i] is blocked here */
    int policy;                /* 1: the default (chain policy, profile) blocks; no rule
                                * decides first */
    int advice;                /* 1: rule and fix are words for a person (Windows, macOS);
                                * 0: a rule as listed and a command that accepts the ports
                                * ahead of it (Linux) */
    char where[FW_WHERE_MAX];  /* "inet filter input", "INPUT", "Public network \"x\"" */
    char rule[FW_TEXT_MAX];    /* the rule as listed ("policy drop"), or what blocks */
    char fix[FW_TEXT_MAX];     /* a command, or (advice) what to do */
};

/* `nft -a list ruleset` text. Returns the number of findings written (≤ cap). */
size_t fw_scan_nft(const char *text, const int *ports, size_t nports,
                   struct fw_finding *out, size_t cap);
/* `iptables -S INPUT` (or -S) text: only the INPUT chain is read. */
size_t fw_scan_iptables(const char *text, const int *ports, size_t nports,
                        struct fw_finding *out, size_t cap);

enum fw_status {
    FW_CHECKED,      /* rules were read; findings (maybe none) */
    FW_UNREADABLE,   /* the tool refused (not root) or printed what we cannot read */
    FW_NO_TOOL,      /* neither nft nor iptables */
    FW_UNSUPPORTED,  /* a system (or Wine) whose firewall is not checked */
};

struct fw_report {
    enum fw_status status;
    const char *tool;          /* "nftables", "Windows Defender Firewall", ... / NULL */
    size_t n;
    struct fw_finding f[FW_FINDINGS_MAX];
    char note[FW_TEXT_MAX];    /* for the other statuses: what the user can check */
};

/* Reads the firewall (each tool bounded in time) and scans it for ports[0..n).
 * local_ip: this computer's address that faces the device (NULL or "" when unknown);
 * on Windows it selects the network whose profile applies. */
void fw_check(const char *local_ip, const int *ports, size_t nports, struct fw_report *out);
/* "8080, 8443" for the ports in mask (all when mask is ~0u). */
void fw_ports_text(const int *ports, size_t nports, unsigned mask, char *out, size_t cap);

/* ---- Windows Defender Firewall (fwrules_win.c) ---- */

/* The PowerShell command whose output fw_scan_windows reads as `networks`: one line per
 * connected network ("net", interface index, category, interface name, network name)
 * and per IPv4 address ("ip", interface index, address), tab-separated. The category is
 * an enum name (Public, Private, DomainAuthenticated), the same in every language. */
extern const char fw_win_networks_ps[];

struct fw_win_text {
    const char *profiles;  /* `netsh advfirewall show allprofiles` */
    const char *rules;     /* `netsh advfirewall firewall show rule name=all dir=in
                            * verbose`; NULL: could not be read */
    const char *networks;  /* fw_win_networks_ps's output; NULL: could not be read */
    const char *local_ip;  /* see fw_check; NULL: unknown */
    const char *program;   /* this program's full path */
};

/* 1 when the rules must be read too (a profile that applies is on); 0 when the
 * profiles alone answer (all off, or unreadable). */
int fw_win_needs_rules(const char *profiles);
/* Fills out (status FW_CHECKED or FW_UNREADABLE, tool, findings or note). */
void fw_scan_windows(const struct fw_win_text *in, const int *ports, size_t nports,
                     struct fw_report *out);

/* ---- macOS application firewall (fwrules_mac.c) ---- */

struct fw_mac_text {       /* socketfilterfw's answers; NULL: that one did not run */
    const char *global;    /* --getglobalstate */
    const char *blockall;  /* --getblockall */
    const char *stealth;   /* --getstealthmode */
    const char *app;       /* --getappblocked PROGRAM */
    const char *program;   /* this program's full path */
};

void fw_scan_macos(const struct fw_mac_text *in, const int *ports, size_t nports,
                   struct fw_report *out);

#endif
