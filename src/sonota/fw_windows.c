/* fw_windows.c - fw_check() on Windows: reads Windows Defender Firewall with netsh
 * (profiles, then the inbound rules when a profile is on) and the network profiles
 * with PowerShell, all read-only listings, and hands the text to fwrules_win.c. The
 * tools are run by their full path in the system directory, never looked up in PATH.
 * Under Wine there is no Windows firewall at all: the Linux host's firewall decides,
 * and the note says so instead of reading Wine's netsh. */
#include "sonota/fwcheck.h"

#include "sonota/fw_os.h"
#include "plat/wtext_windows.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NETSH_MS 5000
#define POWERSHELL_MS 8000 /* a cold PowerShell start alone can take seconds */
#define PATH_UTF8_MAX 1024

/* Console tools write to a pipe in the OEM code page; the parsers read UTF-8. Returns
 * the converted text (s is freed), or NULL. */
static char *oem_to_utf8(char *s)
{
    if (!s)
        return NULL;
    char *res = NULL;
    int n = MultiByteToWideChar(CP_OEMCP, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_OEMCP, 0, s, -1, w, n) == n) {
        int m = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
        res = m > 0 ? malloc((size_t)m) : NULL;
        if (res && WideCharToMultiByte(CP_UTF8, 0, w, -1, res, m, NULL, NULL) != m) {
            free(res);
            res = NULL;
        }
    }
    free(w);
    free(s);
    return res;
}

static char *run(const char *const argv[], unsigned ms)
{
    char *text = NULL;
    if (fw_run(argv, ms, &text) != 0) {
        free(text);
        return NULL;
    }
    return oem_to_utf8(text);
}

static int under_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

void fw_check(const char *local_ip, const int *ports, size_t nports, struct fw_report *out)
{
    memset(out, 0, sizeof *out);
    char list[64];
    fw_ports_text(ports, nports, ~0u, list, sizeof list);
    if (under_wine()) {
        out->status = FW_UNSUPPORTED;
        snprintf(out->note, sizeof out->note, "running under Wine: there is no Windows "
                 "firewall here, the host's own firewall decides; if the device cannot "
                 "connect, check on the host that incoming TCP %s is allowed (Linux: sudo "
                 "nft list ruleset)", list);
        return;
    }
    wchar_t wsys[MAX_PATH], wself[PATH_UTF8_MAX];
    char sys[PATH_UTF8_MAX], self[PATH_UTF8_MAX] = "";
    UINT sn = GetSystemDirectoryW(wsys, MAX_PATH);
    plat_utf8_from_wide(sn && sn < MAX_PATH ? wsys : L"C:\\Windows\\System32", sys, sizeof sys);
    DWORD pn = GetModuleFileNameW(NULL, wself, sizeof wself / sizeof wself[0]);
    if (pn && pn < sizeof wself / sizeof wself[0])
        plat_utf8_from_wide(wself, self, sizeof self);
    char netsh[PATH_UTF8_MAX + 16], ps[PATH_UTF8_MAX + 48];
    snprintf(netsh, sizeof netsh, "%s\\netsh.exe", sys);
    snprintf(ps, sizeof ps, "%s\\WindowsPowerShell\\v1.0\\powershell.exe", sys);

    const char *prof_argv[] = {netsh, "advfirewall", "show", "allprofiles", NULL};
    struct fw_win_text in = {.local_ip = local_ip, .program = self};
    in.profiles = run(prof_argv, NETSH_MS);
    if (in.profiles) {
        const char *net_argv[] = {ps, "-NoProfile", "-NonInteractive", "-Command",
                                  fw_win_networks_ps, NULL};
        in.networks = run(net_argv, POWERSHELL_MS);
        if (fw_win_needs_rules(in.profiles)) {
            const char *rule_argv[] = {netsh, "advfirewall", "firewall", "show", "rule",
                                       "name=all", "dir=in", "verbose", NULL};
            in.rules = run(rule_argv, NETSH_MS);
        }
    }
    fw_scan_windows(&in, ports, nports, out);
    free((char *)in.profiles);
    free((char *)in.networks);
    free((char *)in.rules);
}
