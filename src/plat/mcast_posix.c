/* mcast_posix.c - plat/mcast.h for Linux and macOS. Linux names the interface by
 * index too (struct ip_mreqn); macOS takes its address (struct ip_mreq). */
#include "plat/mcast.h"

#include <string.h>
#include <sys/uio.h>

int plat_mcast_prepare(int fd, int ttl)
{
    int one = 1;
    unsigned char loop = 1; /* u_char: what macOS insists on, Linux accepts */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
        return -1;
    return 0;
}

int plat_mcast_join(int fd, struct in_addr group, struct in_addr ifaddr, int ifindex)
{
#ifdef __linux__
    struct ip_mreqn mr;
    memset(&mr, 0, sizeof mr);
    mr.imr_multiaddr = group;
    mr.imr_address = ifaddr;
    mr.imr_ifindex = ifindex;
#else
    (void)ifindex;
    struct ip_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.imr_multiaddr = group;
    mr.imr_interface = ifaddr;
#endif
    return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr);
}

int plat_mcast_set_if(int fd, struct in_addr ifaddr, int ifindex)
{
#ifdef __linux__
    struct ip_mreqn mr;
    memset(&mr, 0, sizeof mr);
    mr.imr_address = ifaddr;
    mr.imr_ifindex = ifindex;
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr);
#else
    (void)ifindex;
    return setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr);
#endif
}

ssize_t plat_mcast_recv(int fd, void *buf, size_t cap, struct sockaddr_in *from, int *ifidx,
                        int *truncated)
{
    char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {.msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov,
                        .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0)
        return -1;
    *ifidx = 0;
    /* musl's CMSG_NXTHDR compares a size_t with a long: its warning, not ours */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            *ifidx = (int)pi.ipi_ifindex;
        }
#pragma GCC diagnostic pop
    *truncated = (mh.msg_flags & MSG_TRUNC) != 0;
    return n;
}
