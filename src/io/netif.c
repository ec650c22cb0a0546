#include "io/netif.h"

#include "plat/net.h"

#include <stdio.h>
#include <string.h>

static struct netif_hooks g_hooks;

void netif_set_hooks(const struct netif_hooks *hooks)
{
    if (hooks)
        g_hooks = *hooks;
    else
        memset(&g_hooks, 0, sizeof g_hooks);
}

int netif_parse_ipv4(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

static void fill(struct netif_addr *d, const struct plat_ifaddr *p, const char *defif)
{
    memset(d, 0, sizeof *d);
    snprintf(d->ifname, sizeof d->ifname, "%.*s", (int)sizeof d->ifname - 1, p->name);
    d->addr = p->addr;
    d->netmask = p->netmask;
    d->index = p->index;
    snprintf(d->ip, sizeof d->ip, "%u.%u.%u.%u", (unsigned)(p->addr >> 24),
             (unsigned)(p->addr >> 16) & 255u, (unsigned)(p->addr >> 8) & 255u,
             (unsigned)p->addr & 255u);
    d->loopback = p->loopback || (d->addr >> 24) == 127;
    d->is_default = defif[0] && !strcmp(p->name, defif);
}

int netif_list(struct netif_addr *out, size_t cap, unsigned flags)
{
    int (*list)(struct plat_ifaddr *, size_t) = g_hooks.list ? g_hooks.list : plat_if_list;
    int (*defname)(char *, size_t) =
        g_hooks.default_ifname ? g_hooks.default_ifname : plat_default_ifname;

    struct plat_ifaddr raw[NETIF_MAX * 2]; /* down and loopback ones are read too */
    int nraw = list(raw, sizeof raw / sizeof raw[0]);
    if (nraw < 0)
        return -1;
    char defif[NETIF_NAME_MAX] = "";
    if (defname(defif, sizeof defif) != 0)
        defif[0] = '\0';

    size_t n = 0;
    /* Two passes keep system order within each group: default-route interface first. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nraw && n < cap; i++) {
            if (!raw[i].up)
                continue;
            struct netif_addr a;
            fill(&a, &raw[i], defif);
            if (a.loopback && !(flags & NETIF_WITH_LOOPBACK))
                continue;
            if (a.is_default != (pass == 0))
                continue;
            out[n++] = a;
        }
    }
    return (int)n;
}
