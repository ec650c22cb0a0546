/* ifaddr_posix.c - plat_if_list with getifaddrs (Linux and macOS). */
#include "plat/ifaddr.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int plat_if_list(struct plat_ifaddr *out, size_t cap)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return -1;
    size_t n = 0;
    for (const struct ifaddrs *ifa = list; ifa && n < cap; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
            continue; /* IPv6, link layer, tunnels without an address */
        struct plat_ifaddr *d = &out[n++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", ifa->ifa_name ? ifa->ifa_name : "?");
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ifa->ifa_addr;
        d->addr = ntohl(sin->sin_addr.s_addr);
        if (ifa->ifa_netmask && ifa->ifa_netmask->sa_family == AF_INET) {
            const struct sockaddr_in *m =
                (const struct sockaddr_in *)(const void *)ifa->ifa_netmask;
            d->netmask = ntohl(m->sin_addr.s_addr);
        }
        d->index = ifa->ifa_name ? (int)if_nametoindex(ifa->ifa_name) : 0;
        d->up = (ifa->ifa_flags & IFF_UP) != 0;
        d->loopback = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
    }
    freeifaddrs(list);
    return (int)n;
}
