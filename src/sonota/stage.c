#include "sonota/stage.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int in_net(uint32_t addr, uint32_t net)
{
    return (addr & STAGE_NET24_MASK) == net;
}

void stage_scan(const struct netif_addr *a, size_t n, const char *serving_ip,
                struct stage_seen *out)
{
    memset(out, 0, sizeof *out);
    uint32_t serving = 0;
    int have_serving = serving_ip && netif_parse_ipv4(serving_ip, &serving) == 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].loopback && !(have_serving && a[i].addr == serving))
            continue;
        if (have_serving && a[i].addr == serving) {
            /* The serving IP counts as home, even when it clashes with a device net. */
            out->serving = 1;
            continue;
        }
        if (a[i].addr == STAGE_FINAL_HOST) {
            out->final = 1;
            snprintf(out->final_if, sizeof out->final_if, "%s", a[i].ifname);
        } else if (in_net(a[i].addr, STAGE_FINAL_NET)) {
            if (!out->final_other) {
                out->final_other = 1;
                snprintf(out->final_other_ip, sizeof out->final_other_ip, "%s", a[i].ip);
            }
        } else if (in_net(a[i].addr, STAGE_AP_NET)) {
            if (!out->ap) {
                out->ap = 1;
                snprintf(out->ap_ip, sizeof out->ap_ip, "%s", a[i].ip);
                snprintf(out->ap_if, sizeof out->ap_if, "%s", a[i].ifname);
            }
        } else if (a[i].is_default && (a[i].addr & 0xFFFF0000u) != 0xA9FE0000u &&
                   !out->home_other) {
            /* On the default-route interface (not docker0 and the like), not link-local. */
            out->home_other = 1;
            snprintf(out->home_other_ip, sizeof out->home_other_ip, "%s", a[i].ip);
            snprintf(out->home_other_if, sizeof out->home_other_if, "%s", a[i].ifname);
        }
    }
}

enum flash_stage stage_guess(const struct stage_seen *s)
{
    if (s->final)
        return STAGE_FINAL;
    if (s->ap)
        return STAGE_PROVISION;
    if (s->serving)
        return STAGE_CLOUD;
    return STAGE_NONE;
}

const char *stage_name(enum flash_stage st)
{
    switch (st) {
    case STAGE_NONE: return "none";
    case STAGE_WAIT_AP: return "wait-ap";
    case STAGE_PROVISION: return "provision";
    case STAGE_POST_AP: return "post-ap";
    case STAGE_PROVISIONED: return "provisioned";
    case STAGE_CLOUD: return "cloud";
    case STAGE_FINAL: return "final";
    case STAGE_DONE: return "done";
    case STAGE_FAILED: return "failed";
    }
    return "none";
}

enum flash_stage stage_plan(const struct stage_seen *s, enum flash_stage reached, int *recheck)
{
    int provisioned = reached >= STAGE_PROVISIONED && reached < STAGE_FINAL;
    *recheck = 0;
    if (s->final)
        return STAGE_FINAL;
    if (s->ap) { /* the pairing AP is up: a device in pairing mode, whatever was recorded */
        *recheck = provisioned;
        return STAGE_PROVISION;
    }
    if (reached >= STAGE_FINAL)
        return STAGE_FINAL; /* E2A waits on FinalStage until this computer joins (§4) */
    if (provisioned)
        return s->serving ? STAGE_CLOUD : STAGE_PROVISIONED;
    return STAGE_WAIT_AP;
}

const char *stage_start_name(enum flash_stage plan, int recheck)
{
    switch (plan) {
    case STAGE_NONE:
    case STAGE_WAIT_AP: return "wait-ap";
    case STAGE_PROVISION:
    case STAGE_POST_AP: return recheck ? "recheck" : "provision";
    case STAGE_PROVISIONED: return "wait-home";
    case STAGE_CLOUD: return "cloud";
    case STAGE_FINAL:
    case STAGE_DONE:
    case STAGE_FAILED: return "final";
    }
    return "wait-ap";
}

unsigned stage_serving_clash(const char *serving_ip)
{
    uint32_t a;
    if (netif_parse_ipv4(serving_ip, &a) != 0)
        return 0;
    unsigned c = 0;
    if (in_net(a, STAGE_AP_NET))
        c |= STAGE_CLASH_AP;
    if (in_net(a, STAGE_FINAL_NET))
        c |= STAGE_CLASH_FINAL;
    return c;
}

size_t stage_serving_candidates(const struct netif_addr *a, size_t n, size_t *idx, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        if (a[i].loopback || in_net(a[i].addr, STAGE_AP_NET))
            continue;
        if ((a[i].addr & 0xFFFF0000u) == 0xA9FE0000u) /* 169.254/16 */
            continue;
        idx[k++] = i;
    }
    return k;
}

/* Next numeric component; *s advances past it and one '.'. -1 at the end. */
static long next_part(const char **s)
{
    const char *p = *s;
    if (!isdigit((unsigned char)*p))
        return -1;
    long v = 0;
    while (isdigit((unsigned char)*p)) {
        if (v < 100000000)
            v = v * 10 + (*p - '0');
        p++;
    }
    if (*p == '.')
        p++;
    else
        while (*p)
            p++; /* trailing text ("1.5.5-beta") ends the version */
    *s = p;
    return v;
}

int stage_version_cmp(const char *a, const char *b)
{
    const char *pa = a ? a : "", *pb = b ? b : "";
    for (int i = 0; i < 8; i++) {
        long x = next_part(&pa), y = next_part(&pb);
        if (x < 0 && y < 0)
            return 0;
        if (x < 0)
            x = 0;
        if (y < 0)
            y = 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

enum rom_verdict stage_rom_verdict(const char *rom)
{
    if (!rom || !isdigit((unsigned char)rom[0]))
        return ROM_UNKNOWN;
    if (stage_version_cmp(rom, "3") >= 0)
        return ROM_DIY;
    if (stage_version_cmp(rom, "2.6") >= 0)
        return ROM_PINNED;
    if (stage_version_cmp(rom, "2") >= 0)
        return ROM_OK;
    if (stage_version_cmp(rom, "1.6") >= 0)
        return ROM_PINNED;
    return ROM_OK;
}
