/* fw_other.c - fw_check() on systems whose firewall sonota does not read (the BSDs):
 * one line that says what to allow by hand. */
#include "sonota/fwcheck.h"

#include <stdio.h>
#include <string.h>

void fw_check(const char *local_ip, const int *ports, size_t nports, struct fw_report *out)
{
    (void)local_ip;
    memset(out, 0, sizeof *out);
    char list[64];
    fw_ports_text(ports, nports, ~0u, list, sizeof list);
    out->status = FW_UNSUPPORTED;
    snprintf(out->note, sizeof out->note, "the firewall is not checked on this system: allow "
             "incoming TCP %s for sonota (BSD: pfctl -sr)", list);
}
