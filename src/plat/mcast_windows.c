/* mcast_windows.c - plat/mcast.h on Winsock: IP_PKTINFO arrives through WSARecvMsg,
 * which is reached by its extension-function pointer. */
#include "plat/mcast.h"

#include <mswsock.h>
#include <string.h>

int plat_mcast_prepare(int fd, int ttl)
{
    /* SO_REUSEADDR alone shares the port on Windows (there is no SO_REUSEPORT) */
    DWORD one = 1, loop = 1;
    DWORD t = (DWORD)ttl;
    SOCKET s = (SOCKET)fd;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one) != 0 ||
        setsockopt(s, IPPROTO_IP, IP_PKTINFO, (const char *)&one, sizeof one) != 0 ||
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, (const char *)&t, sizeof t) != 0 ||
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, (const char *)&loop, sizeof loop) != 0) {
        plat_sock_errno();
        return -1;
    }
    return 0;
}

int plat_mcast_join(int fd, struct in_addr group, struct in_addr ifaddr, int ifindex)
{
    (void)ifindex;
    struct ip_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.imr_multiaddr = group;
    mr.imr_interface = ifaddr;
    if (setsockopt((SOCKET)fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, (const char *)&mr,
                   sizeof mr) != 0) {
        plat_sock_errno();
        return -1;
    }
    return 0;
}

int plat_mcast_set_if(int fd, struct in_addr ifaddr, int ifindex)
{
    (void)ifindex;
    if (setsockopt((SOCKET)fd, IPPROTO_IP, IP_MULTICAST_IF, (const char *)&ifaddr,
                   sizeof ifaddr) != 0) {
        plat_sock_errno();
        return -1;
    }
    return 0;
}

ssize_t plat_mcast_recv(int fd, void *buf, size_t cap, struct sockaddr_in *from, int *ifidx,
                        int *truncated)
{
    static LPFN_WSARECVMSG recv_msg; /* the same for every socket of the provider */
    SOCKET s = (SOCKET)fd;
    if (!recv_msg) {
        GUID id = WSAID_WSARECVMSG;
        DWORD got = 0;
        if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &recv_msg,
                     sizeof recv_msg, &got, NULL, NULL) != 0)
            return -1;
    }
    char ctl[WSA_CMSG_SPACE(sizeof(IN_PKTINFO))];
    WSABUF data = {(ULONG)(cap > 65536 ? 65536 : cap), buf};
    WSAMSG mh;
    memset(&mh, 0, sizeof mh);
    mh.name = (struct sockaddr *)from;
    mh.namelen = sizeof *from;
    mh.lpBuffers = &data;
    mh.dwBufferCount = 1;
    mh.Control.buf = ctl;
    mh.Control.len = sizeof ctl;
    DWORD n = 0;
    *truncated = 0;
    if (recv_msg(s, &mh, &n, NULL, NULL) != 0) {
        if (WSAGetLastError() != WSAEMSGSIZE)
            return -1;
        *truncated = 1;
    }
    *ifidx = 0;
    for (WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&mh); c; c = WSA_CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            IN_PKTINFO pi;
            memcpy(&pi, WSA_CMSG_DATA(c), sizeof pi);
            *ifidx = (int)pi.ipi_ifindex;
        }
    *truncated |= (mh.dwFlags & MSG_TRUNC) != 0;
    return (ssize_t)n;
}
