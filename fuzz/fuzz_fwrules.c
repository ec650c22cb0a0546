/* fuzz_fwrules.c - libFuzzer target for the firewall parsers (src/sonota/fwrules*.c):
 * nft, iptables, Windows (netsh profiles and rules, the PowerShell network list) and
 * macOS (socketfilterfw). The input is cut at 0x1e bytes into up to five texts, each
 * parser gets the ones it reads. Checks: findings stay within their capacity, every
 * string in the report is terminated, port masks name only the ports given. */
#include "sonota/fwcheck.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_finding(const struct fw_finding *f, unsigned all)
{
    assert(memchr(f->where, 0, sizeof f->where));
    assert(memchr(f->rule, 0, sizeof f->rule));
    assert(memchr(f->fix, 0, sizeof f->fix));
    assert((f->port_mask & ~all) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *part[5] = {buf, NULL, NULL, NULL, NULL};
    for (int i = 1; i < 5; i++) {
        char *sep = part[i - 1] ? strchr(part[i - 1], 0x1e) : NULL;
        if (sep) {
            *sep = '\0';
            part[i] = sep + 1;
        }
    }
    static const int ports[] = {8080, 8443, 443};
    const size_t np = sizeof ports / sizeof ports[0];
    const unsigned all = (1u << np) - 1;
    struct fw_finding f[FW_FINDINGS_MAX];
    size_t n = fw_scan_nft(part[0], ports, np, f, FW_FINDINGS_MAX);
    assert(n <= FW_FINDINGS_MAX);
    for (size_t i = 0; i < n; i++)
        check_finding(&f[i], all);
    n = fw_scan_iptables(part[0], ports, np, f, FW_FINDINGS_MAX);
    assert(n <= FW_FINDINGS_MAX);
    for (size_t i = 0; i < n; i++)
        check_finding(&f[i], all);

    struct fw_report r;
    struct fw_win_text w = {.profiles = part[0], .rules = part[1], .networks = part[2],
                            .local_ip = part[3], .program = "C:\\sonota\\sonota.exe"};
    fw_scan_windows(&w, ports, np, &r);
    assert(r.n <= FW_FINDINGS_MAX && memchr(r.note, 0, sizeof r.note));
    for (size_t i = 0; i < r.n; i++)
        check_finding(&r.f[i], all);
    struct fw_mac_text m = {.global = part[0], .blockall = part[1], .stealth = part[2],
                            .app = part[3], .program = part[4] ? part[4] : "/bin/sonota"};
    fw_scan_macos(&m, ports, np, &r);
    assert(r.n <= FW_FINDINGS_MAX && memchr(r.note, 0, sizeof r.note));
    for (size_t i = 0; i < r.n; i++)
        check_finding(&r.f[i], all);
    free(buf);
    return 0;
}
