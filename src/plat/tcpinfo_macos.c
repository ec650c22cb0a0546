/* tcpinfo_macos.c - plat/tcpinfo.h with SO_NWRITE and TCP_CONNECTION_INFO. */
#include "plat/tcpinfo.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

long plat_tcp_unsent(int fd)
{
    int n = 0;
    socklen_t l = sizeof n;
    return getsockopt(fd, SOL_SOCKET, SO_NWRITE, &n, &l) == 0 && n >= 0 ? n : -1;
}

static int info(int fd, struct tcp_connection_info *ti)
{
    memset(ti, 0, sizeof *ti);
    socklen_t l = sizeof *ti;
    return getsockopt(fd, IPPROTO_TCP, TCP_CONNECTION_INFO, ti, &l);
}

long plat_tcp_rtt_ms(int fd)
{
    struct tcp_connection_info ti;
    return info(fd, &ti) == 0 ? (long)ti.tcpi_srtt : -1; /* already in ms */
}

int plat_tcp_bytes_acked(int fd, uint64_t *acked)
{
    struct tcp_connection_info ti;
    long unacked = plat_tcp_unsent(fd);
    if (info(fd, &ti) != 0 || unacked < 0 || (uint64_t)unacked > ti.tcpi_txbytes)
        return -1;
    *acked = ti.tcpi_txbytes - (uint64_t)unacked;
    return 0;
}
