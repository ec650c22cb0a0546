/* plat/mcast.h - the IPv4 multicast details of the mDNS socket (io/mdns_sock.c):
 * sharing port 5353 with the OS's own responder, group membership and the outgoing
 * interface, and learning which interface a packet arrived on (IP_PKTINFO on all three:
 * recvmsg on Linux and macOS, WSARecvMsg on Windows). */
#ifndef SO_PLAT_MCAST_H
#define SO_PLAT_MCAST_H

#include "plat/net.h"

/* Before bind: share the port (Linux SO_REUSEADDR + SO_REUSEPORT; macOS the same, as
 * mDNSResponder holds 5353; Windows SO_REUSEADDR), ask for the arrival interface, send
 * multicast with this TTL and loop it back to ourselves. 0, or -1 with errno set. */
int plat_mcast_prepare(int fd, int ttl);
/* Joins group on the interface (its address and index; Linux uses both, the others
 * the address). 0, or -1 with errno set. */
int plat_mcast_join(int fd, struct in_addr group, struct in_addr ifaddr, int ifindex);
/* Sends the next multicast packets out of this interface. */
int plat_mcast_set_if(int fd, struct in_addr ifaddr, int ifindex);
/* Reads one waiting datagram (without blocking: on Windows the socket must be
 * non-blocking): its length, or -1 (nothing waiting or
 * error). *ifidx gets the arrival interface index (0 when the OS did not say),
 * *truncated 1 when the datagram did not fit. */
ssize_t plat_mcast_recv(int fd, void *buf, size_t cap, struct sockaddr_in *from, int *ifidx,
                        int *truncated);

#endif
