/* plat/ifaddr.h - the IPv4 addresses of this machine's interfaces and the interface of
 * the IPv4 default route, as the OS reports them. Ordering and filtering are the
 * portable io/netif.c's; this is only the reading.
 *   Linux:   getifaddrs, /proc/net/route
 *   macOS:   getifaddrs, the routing table by sysctl (NET_RT_FLAGS, RTF_GATEWAY)
 *   Windows: GetAdaptersAddresses, GetIpForwardTable2 (iphlpapi) */
#ifndef SO_PLAT_IFADDR_H
#define SO_PLAT_IFADDR_H

#include <stddef.h>
#include <stdint.h>

/* Interface names: IF_NAMESIZE on Linux and BSD; Windows names interfaces by their
 * friendly alias ("Wi-Fi 2", "vEthernet (Default Switch)"), UTF-8 here. */
#ifdef _WIN32
#define PLAT_IFNAME_MAX 64
#else
#define PLAT_IFNAME_MAX 16
#endif

struct plat_ifaddr {
    char name[PLAT_IFNAME_MAX];
    uint32_t addr;      /* host byte order */
    uint32_t netmask;   /* host byte order; 0 when unknown */
    int index;          /* interface index; 0 when unknown */
    int up;
    int loopback;
};

/* Every IPv4 address of every interface, in system order. Returns the count (≤ cap;
 * more are dropped), or -1 with errno set. */
int plat_if_list(struct plat_ifaddr *out, size_t cap);
/* Name of the interface carrying the IPv4 default route (lowest metric). 0, or -1 when
 * there is none or it cannot be read. */
int plat_default_ifname(char *out, size_t cap);

/* Pure (Linux's source, compiled everywhere for its tests): the default-route
 * interface from /proc/net/route text. 0 or -1. */
int plat_parse_proc_route(const char *text, char *out, size_t cap);

#endif
