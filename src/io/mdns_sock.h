/* mdns_sock.h - the UDP socket of mDNS (RFC 6762): port 5353 shared with other
 * responders (SO_REUSEADDR/SO_REUSEPORT), group 224.0.0.251 joined on chosen IPv4
 * interfaces, packets sent to the group out of each of them with TTL 255. Received
 * packets pass the mdns_wire_check bounds check before anyone parses them. Raw bytes
 * only: the DNS logic is libmdnsd's (mdns_browse.c in the tool, mdns_resp.c in the sim).
 * Works the same inside a network namespace (what the end-to-end tests use). */
#ifndef SO_MDNS_SOCK_H
#define SO_MDNS_SOCK_H

#include "io/netif.h"
#include "plat/net.h"

#include <stddef.h>
#include <stdint.h>

#define MDNS_SOCK_IFS_MAX 8

struct mdns_if {
    char name[NETIF_NAME_MAX];
    char ip[NETIF_IP_MAX];
    struct in_addr addr;      /* network order */
    int index;
};

struct mdns_sock {
    int fd;
    int n_ifs;
    struct mdns_if ifs[MDNS_SOCK_IFS_MAX];
    unsigned long rejected;   /* packets dropped by the bounds check */
};

/* Opens the socket and joins the group. Interface choice: ifname (exact name), else
 * the interface that holds the IPv4 address ip, else every interface that is up, has
 * an IPv4 address and is not loopback. Returns 0, or -1 with a sentence in err (what
 * failed and what to try). */
int mdns_sock_open(struct mdns_sock *s, const char *ifname, const char *ip, char *err,
                   size_t errcap);

/* Reads one waiting packet (non-blocking). Returns its length, 0 when a packet was
 * dropped (from an interface we did not join, or rejected by the bounds check: see
 * s->rejected), -1 when nothing is waiting or on error. from may be NULL; *ifidx (may
 * be NULL) gets the arrival interface index. */
ssize_t mdns_sock_recv(struct mdns_sock *s, uint8_t *buf, size_t cap, struct sockaddr_in *from,
                       int *ifidx);

/* Sends p to the group out of every joined interface (to = NULL or the group), or to
 * one unicast address. Returns the number of interfaces it went out of, -1 if none. */
int mdns_sock_send(struct mdns_sock *s, const uint8_t *p, size_t n,
                   const struct sockaddr_in *to);


void mdns_sock_close(struct mdns_sock *s);

#endif
