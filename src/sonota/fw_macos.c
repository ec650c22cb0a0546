/* fw_macos.c - fw_check() on macOS: asks the application firewall's own tool
 * (socketfilterfw, read-only --get* queries that need no root) and hands the answers
 * to fwrules_mac.c. pf is not read: its rules need root (pfctl -sr), and on a desktop
 * Mac the application firewall is the one that is on. */
#include "sonota/fwcheck.h"

#include "sonota/fw_os.h"

#include <mach-o/dyld.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FW_TOOL_MS 3000
#define SOCKETFILTERFW "/usr/libexec/ApplicationFirewall/socketfilterfw"

/* This program's path with symlinks resolved: the firewall lists apps by that path. */
static void self_path(char *out, size_t cap)
{
    char raw[PATH_MAX];
    uint32_t size = sizeof raw;
    out[0] = '\0';
    if (_NSGetExecutablePath(raw, &size) != 0)
        return;
    char real[PATH_MAX];
    const char *p = realpath(raw, real) ? real : raw;
    if (strlen(p) < cap)
        memcpy(out, p, strlen(p) + 1);
}

static char *ask(const char *opt, const char *arg)
{
    const char *argv[] = {SOCKETFILTERFW, opt, arg, NULL};
    char *text = NULL;
    if (fw_run(argv, FW_TOOL_MS, &text) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

void fw_check(const char *local_ip, const int *ports, size_t nports, struct fw_report *out)
{
    (void)local_ip; /* the application firewall is the same on every interface */
    char self[PATH_MAX];
    self_path(self, sizeof self);
    struct fw_mac_text in = {.program = self};
    in.global = ask("--getglobalstate", NULL);
    if (in.global) {
        in.blockall = ask("--getblockall", NULL);
        in.stealth = ask("--getstealthmode", NULL);
        if (self[0])
            in.app = ask("--getappblocked", self);
    }
    fw_scan_macos(&in, ports, nports, out);
    free((char *)in.global);
    free((char *)in.blockall);
    free((char *)in.stealth);
    free((char *)in.app);
}
