/* ifaddr_macos.c - plat_default_ifname from the kernel routing table (sysctl
 * NET_RT_FLAGS with RTF_GATEWAY: the routes through a gateway), not by running route. */
#include "plat/ifaddr.h"

#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysctl.h>

/* sockaddrs in a routing message are padded to 4 bytes; an empty one takes 4 */
static size_t sa_step(const struct sockaddr *sa)
{
    size_t l = sa->sa_len ? sa->sa_len : sizeof(uint32_t);
    return (l + sizeof(uint32_t) - 1) & ~(sizeof(uint32_t) - 1);
}

/* 1 when the message is an IPv4 route to 0.0.0.0/0. */
static int is_default(const struct rt_msghdr *rtm, const char *end)
{
    const char *p = (const char *)(rtm + 1);
    const struct sockaddr *dst = NULL, *mask = NULL;
    for (int bit = 0; bit < RTAX_MAX && p < end; bit++) {
        if (!(rtm->rtm_addrs & (1 << bit)))
            continue;
        const struct sockaddr *sa = (const struct sockaddr *)(const void *)p;
        if (bit == RTAX_DST)
            dst = sa;
        else if (bit == RTAX_NETMASK)
            mask = sa;
        p += sa_step(sa);
    }
    if (!dst || dst->sa_family != AF_INET || dst->sa_len < sizeof(struct sockaddr_in))
        return 0;
    const struct sockaddr_in *d = (const struct sockaddr_in *)(const void *)dst;
    if (d->sin_addr.s_addr != 0)
        return 0;
    /* a mask shorter than its address field is zero there (the kernel trims zeros) */
    if (mask && mask->sa_len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *m = (const struct sockaddr_in *)(const void *)mask;
        return m->sin_addr.s_addr == 0;
    }
    return 1;
}

int plat_default_ifname(char *out, size_t cap)
{
    int mib[6] = {CTL_NET, PF_ROUTE, 0, AF_INET, NET_RT_FLAGS, RTF_GATEWAY};
    size_t len = 0;
    if (sysctl(mib, 6, NULL, &len, NULL, 0) != 0 || len == 0)
        return -1;
    len += len / 8; /* room for routes added meanwhile */
    char *buf = malloc(len);
    if (!buf)
        return -1;
    if (sysctl(mib, 6, buf, &len, NULL, 0) != 0) {
        free(buf);
        return -1;
    }
    /* the unscoped default route is the one the system uses; a route scoped to one
     * interface (RTF_IFSCOPE) only when there is no other */
    int found = -1, scoped_found = 0;
    char name[IF_NAMESIZE];
    for (const char *p = buf; p + sizeof(struct rt_msghdr) <= buf + len;) {
        const struct rt_msghdr *rtm = (const struct rt_msghdr *)(const void *)p;
        if (rtm->rtm_msglen == 0)
            break;
        const char *end = p + rtm->rtm_msglen;
        p = end;
        if (end > buf + len || !(rtm->rtm_flags & RTF_UP) || !is_default(rtm, end) ||
            !if_indextoname(rtm->rtm_index, name) || strlen(name) >= cap)
            continue;
        int scoped = (rtm->rtm_flags & RTF_IFSCOPE) != 0;
        if (found == 0 && (scoped || !scoped_found))
            continue;
        memcpy(out, name, strlen(name) + 1);
        found = 0;
        scoped_found = scoped;
    }
    free(buf);
    return found;
}
