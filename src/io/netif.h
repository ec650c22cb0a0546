/* netif.h - local IPv4 addresses, default-route interface first (PROTOCOL.md §10.1:
 * the flash stage is read from these). The portable part (ordering, filtering) is in
 * netif.c; reading the addresses and the default route is the OS's (plat/ifaddr.h). */
#ifndef SO_NETIF_H
#define SO_NETIF_H

#include "plat/ifaddr.h"

#include <stddef.h>
#include <stdint.h>

#define NETIF_NAME_MAX PLAT_IFNAME_MAX
#define NETIF_IP_MAX 16    /* "255.255.255.255" + NUL */
#define NETIF_MAX 32       /* addresses kept per scan; more are dropped */

struct netif_addr {
    char ifname[NETIF_NAME_MAX];
    char ip[NETIF_IP_MAX];      /* dotted quad */
    uint32_t addr;              /* host byte order */
    uint32_t netmask;           /* host byte order; 0 when unknown */
    int index;                  /* interface index; 0 when unknown */
    int loopback;
    int is_default;             /* the interface carries the IPv4 default route */
};

#define NETIF_WITH_LOOPBACK 1u  /* flag: keep loopback addresses */

/* Lists the IPv4 addresses of interfaces that are up: default-route interface first,
 * then the others in system order. Returns the count (≤ cap), or -1 with errno set. */
int netif_list(struct netif_addr *out, size_t cap, unsigned flags);

/* Test seam: replace the OS's address list and default-route lookup (plat_if_list,
 * plat_default_ifname; NULL members keep the system ones; NULL restores all). The
 * pointers stay borrowed. */
struct netif_hooks {
    int (*list)(struct plat_ifaddr *out, size_t cap);
    int (*default_ifname)(char *out, size_t cap);
};
void netif_set_hooks(const struct netif_hooks *hooks);

/* Dotted quad → host-order address; 0, or -1 when not a valid IPv4 literal. */
int netif_parse_ipv4(const char *s, uint32_t *out);

#endif
