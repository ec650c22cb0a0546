/* fwcheck.h - does a local firewall drop the device's connections? (PROTOCOL.md §8: a
 * host firewall is the most common reason a device never reaches FinalStage's file
 * server or the fake cloud.) On Linux the INPUT rules are read from `nft -a list
 * ruleset` (which also shows iptables-nft, ufw and firewalld rules) or, without nft,
 * `iptables -S INPUT`, and walked the way the kernel would for a new TCP connection to
 * each of our ports: the first accept/drop/reject that applies decides, else the chain
 * policy. The rule parsers are pure (fwrules.c); fwcheck.c runs the tools.
 * Conservative on purpose: a drop with extra conditions (interface, source) counts, an
 * accept with such conditions does not, so a warning says "may". */
#ifndef SONOTA_FWCHECK_H
#define SONOTA_FWCHECK_H

#include <stddef.h>

#define FW_PORTS_MAX 4
#define FW_FINDINGS_MAX 8
#define FW_TEXT_MAX 320
#define FW_OUTPUT_MAX (1u << 20) /* a ruleset bigger than 1 MiB is cut (and still read) */

struct fw_finding {
    unsigned port_mask;        /* bit i: ports[i] is blocked here */
    int policy;                /* 1: the chain's policy drops; no rule decides first */
    char where[96];            /* "inet filter input", or "INPUT" */
    char rule[FW_TEXT_MAX];    /* the rule as listed ("policy drop" for a policy) */
    char fix[FW_TEXT_MAX];     /* a command that accepts the ports ahead of it */
};

/* `nft -a list ruleset` text. Returns the number of findings written (≤ cap). */
size_t fw_scan_nft(const char *text, const int *ports, size_t nports,
                   struct fw_finding *out, size_t cap);
/* `iptables -S INPUT` (or -S) text: only the INPUT chain is read. */
size_t fw_scan_iptables(const char *text, const int *ports, size_t nports,
                        struct fw_finding *out, size_t cap);

enum fw_status {
    FW_CHECKED,      /* rules were read; findings (maybe none) */
    FW_UNREADABLE,   /* the tool exists but refused (not root) */
    FW_NO_TOOL,      /* neither nft nor iptables */
    FW_UNSUPPORTED,  /* not Linux */
};

struct fw_report {
    enum fw_status status;
    const char *tool;          /* "nftables" / "iptables" / NULL */
    size_t n;
    struct fw_finding f[FW_FINDINGS_MAX];
    char note[FW_TEXT_MAX];    /* for the other statuses: what the user can check */
};

/* Reads the rules (each tool bounded to 3 s) and scans them for ports[0..n). */
void fw_check(const int *ports, size_t nports, struct fw_report *out);
/* "8080, 8443" for the ports in mask (all when mask is ~0u). */
void fw_ports_text(const int *ports, size_t nports, unsigned mask, char *out, size_t cap);

#endif
