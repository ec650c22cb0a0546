/* netif.h - local IPv4 addresses, default-route interface first (PROTOCOL.md §10.1:
 * the flash stage is read from these). The portable part (getifaddrs walk, ordering,
 * filtering) is in netif.c; finding the default-route interface is OS-specific
 * (netif_linux.c reads /proc/net/route; a macOS port adds netif_darwin.c). */
#ifndef SO_NETIF_H
#define SO_NETIF_H

#include <stddef.h>
#include <stdint.h>

#define NETIF_NAME_MAX 16  /* IF_NAMESIZE on Linux and BSD */
#define NETIF_IP_MAX 16    /* "255.255.255.255" + NUL */
#define NETIF_MAX 32       /* addresses kept per scan; more are dropped */

struct netif_addr {
    char ifname[NETIF_NAME_MAX];
    char ip[NETIF_IP_MAX];      /* dotted quad */
    uint32_t addr;              /* host byte order */
    uint32_t netmask;           /* host byte order; 0 when unknown */
    int loopback;
    int is_default;             /* the interface carries the IPv4 default route */
};

#define NETIF_WITH_LOOPBACK 1u  /* flag: keep loopback addresses */

/* Lists the IPv4 addresses of interfaces that are up: default-route interface first,
 * then the others in system order. Returns the count (≤ cap), or -1 with errno set. */
int netif_list(struct netif_addr *out, size_t cap, unsigned flags);

/* OS-specific: name of the interface carrying the IPv4 default route (lowest metric).
 * Returns 0, or -1 when there is none or it cannot be read. */
int netif_default_ifname(char *out, size_t cap);

#ifdef __linux__
/* Pure: the default-route interface from /proc/net/route text. 0 or -1. */
int netif_parse_proc_route(const char *text, char *out, size_t cap);
#endif

/* Test seam: replace getifaddrs/freeifaddrs/default-route lookup (NULL members keep the
 * system ones; NULL restores all). The pointers stay borrowed. */
struct ifaddrs;
struct netif_hooks {
    int (*get)(struct ifaddrs **ifap);
    void (*release)(struct ifaddrs *ifa);
    int (*default_ifname)(char *out, size_t cap);
};
void netif_set_hooks(const struct netif_hooks *hooks);

/* Dotted quad → host-order address; 0, or -1 when not a valid IPv4 literal. */
int netif_parse_ipv4(const char *s, uint32_t *out);

#endif
