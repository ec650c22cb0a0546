/* mdns_sock.c - mDNS UDP socket: shared port 5353, group membership per interface,
 * IP_PKTINFO to know where a packet arrived (RFC 6762 §5, §11, §15); the OS details are
 * plat/mcast.h's. */
#include "io/mdns_sock.h"

#include "io/log.h"
#include "lib/mdns_wire.h"
#include "plat/mcast.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int add_if(struct mdns_sock *s, const struct netif_addr *a)
{
    if (s->n_ifs >= MDNS_SOCK_IFS_MAX)
        return -1;
    for (int i = 0; i < s->n_ifs; i++)
        if (!strcmp(s->ifs[i].name, a->ifname))
            return 0; /* one membership per interface */
    struct mdns_if *f = &s->ifs[s->n_ifs];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%.*s", (int)sizeof f->name - 1, a->ifname);
    snprintf(f->ip, sizeof f->ip, "%.*s", (int)sizeof f->ip - 1, a->ip);
    f->addr.s_addr = htonl(a->addr);
    f->index = a->index;
    if (f->index <= 0)
        return -1;
    struct in_addr group;
    inet_pton(AF_INET, MDNS_GROUP, &group);
    if (plat_mcast_join(s->fd, group, f->addr, f->index) != 0) {
        LOG_W("mdns: cannot join %s on %s: %s", MDNS_GROUP, f->name, strerror(errno));
        return -1;
    }
    LOG_D("mdns: joined %s on %s (%s)", MDNS_GROUP, f->name, f->ip);
    s->n_ifs++;
    return 0;
}

int mdns_sock_open(struct mdns_sock *s, const char *ifname, const char *ip, char *err,
                   size_t errcap)
{
    memset(s, 0, sizeof *s);
    s->fd = plat_socket(AF_INET, SOCK_DGRAM, PLAT_SOCK_NONBLOCK);
    if (s->fd < 0) {
        snprintf(err, errcap, "cannot create a UDP socket: %s", strerror(errno));
        return -1;
    }
    if (plat_mcast_prepare(s->fd, 255) != 0) {
        snprintf(err, errcap, "cannot set up the mDNS socket (shared port, arrival "
                 "interface): %s", strerror(errno));
        goto fail;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(MDNS_PORT);
    if (bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        plat_sock_errno();
        snprintf(err, errcap,
                 "cannot use UDP port %d for mDNS: %s; another mDNS program holds it "
                 "exclusively (stop it, or give the device's address with --device IP)",
                 MDNS_PORT, strerror(errno));
        goto fail;
    }
    struct netif_addr list[NETIF_MAX];
    int n = netif_list(list, NETIF_MAX, NETIF_WITH_LOOPBACK);
    if (n < 0) {
        snprintf(err, errcap, "cannot list network interfaces: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (ifname ? strcmp(list[i].ifname, ifname) != 0
                   : ip ? strcmp(list[i].ip, ip) != 0 : list[i].loopback)
            continue;
        add_if(s, &list[i]);
    }
    if (s->n_ifs == 0) {
        if (ifname)
            snprintf(err, errcap, "interface %s is not up, has no IPv4 address or does not "
                     "take multicast; check 'ip addr' and --interface", ifname);
        else if (ip)
            snprintf(err, errcap, "no interface holds the address %s; check --bind", ip);
        else
            snprintf(err, errcap, "no network interface with an IPv4 address is up (besides "
                     "loopback); join the WiFi the device is on");
        goto fail;
    }
    return 0;
fail:
    plat_sock_close(s->fd);
    s->fd = -1;
    return -1;
}

/* The joined interface with this index, or NULL. */
static const struct mdns_if *mdns_sock_if(const struct mdns_sock *s, int index)
{
    for (int i = 0; i < s->n_ifs; i++)
        if (s->ifs[i].index == index)
            return &s->ifs[i];
    return NULL;
}

ssize_t mdns_sock_recv(struct mdns_sock *s, uint8_t *buf, size_t cap, struct sockaddr_in *from,
                       int *ifidx)
{
    struct sockaddr_in src;
    memset(&src, 0, sizeof src);
    int idx = 0, truncated = 0;
    ssize_t n = plat_mcast_recv(s->fd, buf, cap, &src, &idx, &truncated);
    if (n < 0)
        return -1;
    if (from)
        *from = src;
    if (ifidx)
        *ifidx = idx;
    if (idx && !mdns_sock_if(s, idx))
        return 0; /* another interface: not ours to answer or list */
    if (truncated || mdns_wire_check(buf, (size_t)n) != SO_OK) {
        s->rejected++;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &src.sin_addr, ip, sizeof ip);
        LOG_D("mdns: dropped a malformed %lld-byte packet from %s", (long long)n, ip);
        return 0;
    }
    return n;
}

int mdns_sock_send(struct mdns_sock *s, const uint8_t *p, size_t n,
                   const struct sockaddr_in *to)
{
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof dst);
    dst.sin_family = AF_INET;
    dst.sin_port = htons(MDNS_PORT);
    inet_pton(AF_INET, MDNS_GROUP, &dst.sin_addr);
    int multicast = !to || to->sin_addr.s_addr == dst.sin_addr.s_addr;
    if (!multicast)
        return plat_sendto(s->fd, p, n, (const struct sockaddr *)to, sizeof *to) == (ssize_t)n
                   ? 1 : -1;
    int sent = 0;
    for (int i = 0; i < s->n_ifs; i++) {
        if (plat_mcast_set_if(s->fd, s->ifs[i].addr, s->ifs[i].index) != 0)
            continue;
        if (plat_sendto(s->fd, p, n, (const struct sockaddr *)&dst, sizeof dst) == (ssize_t)n)
            sent++;
        else
            LOG_D("mdns: send on %s failed: %s", s->ifs[i].name,
                  strerror(plat_sock_errno()));
    }
    return sent ? sent : -1;
}

void mdns_sock_close(struct mdns_sock *s)
{
    if (s->fd >= 0)
        plat_sock_close(s->fd);
    s->fd = -1;
    s->n_ifs = 0;
}
