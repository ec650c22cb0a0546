/* fw_linux.c - fw_check() on Linux: runs nft / iptables (read-only listing commands)
 * and hands their output to the parsers in fwrules.c. Each command is bounded to
 * FW_TOOL_MS; one that hangs is killed (plat_run). */
#include "sonota/fwcheck.h"

#include "io/log.h"
#include "sonota/fw_os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FW_TOOL_MS 3000

/* The first of the usual locations that is executable (sbin is often not in a user's
 * PATH); NULL when the tool is not installed. */
static const char *find_tool(const char *name, char *buf, size_t cap)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin",
                                       "/usr/local/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(buf, cap, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0)
            return buf;
    }
    return NULL;
}

void fw_check(const char *local_ip, const int *ports, size_t nports, struct fw_report *out)
{
    (void)local_ip; /* the INPUT chain is walked for every interface */
    memset(out, 0, sizeof *out);
    char path[64], list[64];
    fw_ports_text(ports, nports, ~0u, list, sizeof list);
    const char *nft = find_tool("nft", path, sizeof path);
    if (nft) {
        const char *argv[] = {nft, "list", "ruleset", NULL};
        char *text = NULL;
        int rc = fw_run(argv, FW_TOOL_MS, &text);
        if (rc == 0) {
            out->status = FW_CHECKED;
            out->tool = "nftables";
            out->n = fw_scan_nft(text, ports, nports, out->f, FW_FINDINGS_MAX);
            LOG_D("firewall: nft ruleset %zu bytes, %zu finding(s)", strlen(text), out->n);
            free(text);
            return;
        }
        free(text);
        out->status = FW_UNREADABLE;
        snprintf(out->note, sizeof out->note, "could not read the firewall rules (nft list "
                 "ruleset needs root); if the device cannot connect, check with `sudo nft "
                 "list ruleset` that incoming TCP %s is allowed", list);
    }
    char path2[64];
    const char *ipt = find_tool("iptables", path2, sizeof path2);
    if (ipt) {
        const char *argv[] = {ipt, "-S", "INPUT", NULL};
        char *text = NULL;
        int rc = fw_run(argv, FW_TOOL_MS, &text);
        if (rc == 0) {
            out->status = FW_CHECKED;
            out->tool = "iptables";
            out->n = fw_scan_iptables(text, ports, nports, out->f, FW_FINDINGS_MAX);
            free(text);
            return;
        }
        free(text);
        if (out->status != FW_UNREADABLE) {
            out->status = FW_UNREADABLE;
            snprintf(out->note, sizeof out->note, "could not read the firewall rules "
                     "(iptables -S needs root); if the device cannot connect, check with "
                     "`sudo iptables -S INPUT` that incoming TCP %s is allowed", list);
        }
        return;
    }
    if (out->status == FW_UNREADABLE)
        return;
    out->status = FW_NO_TOOL;
    snprintf(out->note, sizeof out->note, "neither nft nor iptables is installed, so the "
             "firewall was not checked; if the device cannot connect, check that incoming "
             "TCP %s is allowed (ufw status, firewall-cmd --list-all)", list);
}
