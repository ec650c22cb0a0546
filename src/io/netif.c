#include "io/netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

static void fill(struct netif_addr *d, const struct ifaddrs *ifa, const char *defif)
{
    memset(d, 0, sizeof *d);
    snprintf(d->ifname, sizeof d->ifname, "%s", ifa->ifa_name ? ifa->ifa_name : "?");
    const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ifa->ifa_addr;
    d->addr = ntohl(sin->sin_addr.s_addr);
    if (ifa->ifa_netmask && ifa->ifa_netmask->sa_family == AF_INET) {
        const struct sockaddr_in *m = (const struct sockaddr_in *)(const void *)ifa->ifa_netmask;
        d->netmask = ntohl(m->sin_addr.s_addr);
    }
    inet_ntop(AF_INET, &sin->sin_addr, d->ip, sizeof d->ip);
    d->loopback = (ifa->ifa_flags & IFF_LOOPBACK) || (d->addr >> 24) == 127;
    d->is_default = defif[0] && ifa->ifa_name && !strcmp(ifa->ifa_name, defif);
}

int netif_list(struct netif_addr *out, size_t cap, unsigned flags)
{
    int (*get)(struct ifaddrs **) = g_hooks.get ? g_hooks.get : getifaddrs;
    void (*release)(struct ifaddrs *) = g_hooks.release ? g_hooks.release : freeifaddrs;
    int (*defname)(char *, size_t) =
        g_hooks.default_ifname ? g_hooks.default_ifname : netif_default_ifname;

    struct ifaddrs *list = NULL;
    if (get(&list) != 0)
        return -1;
    char defif[NETIF_NAME_MAX] = "";
    if (defname(defif, sizeof defif) != 0)
        defif[0] = '\0';

    size_t n = 0;
    /* Two passes keep system order within each group: default-route interface first. */
    for (int pass = 0; pass < 2; pass++) {
        for (const struct ifaddrs *ifa = list; ifa && n < cap; ifa = ifa->ifa_next) {
            if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
                continue;
            if (!(ifa->ifa_flags & IFF_UP))
                continue;
            struct netif_addr a;
            fill(&a, ifa, defif);
            if (a.loopback && !(flags & NETIF_WITH_LOOPBACK))
                continue;
            if (a.is_default != (pass == 0))
                continue;
            out[n++] = a;
        }
    }
    release(list);
    return (int)n;
}
