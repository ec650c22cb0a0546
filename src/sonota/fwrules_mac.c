/* fwrules_mac.c - pure part of fwcheck.h for the macOS application firewall, from the
 * answers of /usr/libexec/ApplicationFirewall/socketfilterfw. It filters by program,
 * not by port: an app it blocks, "Block all incoming connections" (or global state 2,
 * "essential services only") stops every one of our ports; an app it does not list
 * yet makes macOS ask the user the first time it listens, and until someone clicks
 * Allow its connections are refused. Wording differs between releases (before macOS
 * 14: "Block all ENABLED!", "Stealth mode enabled"; since: "Firewall has block all
 * state set to enabled.", "Firewall stealth mode is on"); both are read, anything else
 * is "unknown". Not seen here: pf rules (pfctl needs root) and, on releases where
 * --getappblocked says "permitted" for an app it has never listed, whether macOS will
 * still ask. */
#include "sonota/fwcheck.h"

#include "sonota/fwrules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ADVICE = "allow incoming connections for sonota when macOS asks, "
                                   "or in System Settings > Network > Firewall > Options";

enum app { APP_UNKNOWN, APP_UNLISTED, APP_PERMITTED, APP_BLOCKED };

/* "Firewall is enabled. (State = 1)": 0 off, 1 on, 2 essential services only; -1. */
static int global_state(const char *s)
{
    if (!s)
        return -1;
    const char *st = strstr(s, "State = ");
    if (st && st[8] >= '0' && st[8] <= '2')
        return st[8] - '0';
    if (fw_has_word(s, "is disabled"))
        return 0;
    if (fw_has_word(s, "non-essential"))
        return 2;
    return fw_has_word(s, "is enabled") ? 1 : -1;
}

/* 1 on, 0 off, -1 unknown: "... ENABLED!" / "... set to enabled." / "... is on". */
static int on_off(const char *s)
{
    if (!s)
        return -1;
    if (fw_has_word(s, "disabled") || fw_has_word(s, " is off"))
        return 0;
    return fw_has_word(s, "enabled") || fw_has_word(s, " is on") ? 1 : -1;
}

static enum app app_state(const char *s)
{
    if (!s)
        return APP_UNKNOWN;
    if (fw_has_word(s, "is blocked"))
        return APP_BLOCKED;
    if (fw_has_word(s, "not part of the firewall"))
        return APP_UNLISTED;
    return fw_has_word(s, "permitted") ? APP_PERMITTED : APP_UNKNOWN;
}

void fw_scan_macos(const struct fw_mac_text *in, const int *ports, size_t nports,
                   struct fw_report *out)
{
    char list[64];
    nports = fw_report_start(out, "macOS application firewall", ports, nports, list,
                             sizeof list);
    int state = global_state(in->global);
    if (state < 0) {
        out->status = FW_UNREADABLE;
        snprintf(out->note, sizeof out->note, "could not read whether the macOS firewall is "
                 "on; if the device cannot connect to TCP %s: %s", list, ADVICE);
        return;
    }
    out->status = FW_CHECKED;
    if (state == 0)
        return;
    unsigned all = nports ? (1u << nports) - 1 : 0;
    /* Stealth mode drops refused connections without an answer: the device then only
     * times out, which is worth knowing when reading its log. */
    const char *stealth = on_off(in->stealth) == 1 ? "; stealth mode is on, so the device "
                                                     "gets no answer, only timeouts" : "";
    const char *prog = in->program && *in->program ? in->program : "sonota";
    struct fw_finding *f;
    if (state == 2 || on_off(in->blockall) == 1) {
        if (!(f = fw_add_advice(out, all, "Firewall > Options")))
            return;
        f->policy = 1;
        snprintf(f->rule, sizeof f->rule, "\"Block all incoming connections\" is on%s",
                 stealth);
        snprintf(f->fix, sizeof f->fix, "turn off \"Block all incoming connections\" in "
                 "System Settings > Network > Firewall > Options");
        return;
    }
    enum app a = app_state(in->app);
    if (a == APP_PERMITTED)
        return;
    if (!(f = fw_add_advice(out, all, prog)))
        return;
    snprintf(f->rule, sizeof f->rule, "%s%s",
             a == APP_BLOCKED ? "the firewall blocks incoming connections for sonota"
             : a == APP_UNLISTED ? "the firewall is on and sonota is not in its list yet "
                                   "(macOS asks when sonota starts listening)"
                                 : "the firewall is on and did not say whether sonota may "
                                   "accept connections",
             stealth);
    if (a == APP_BLOCKED)
        snprintf(f->fix, sizeof f->fix, "set sonota to \"Allow incoming connections\" in "
                 "System Settings > Network > Firewall > Options");
    else
        snprintf(f->fix, sizeof f->fix, "%s", ADVICE);
}
