/* tcpinfo_linux.c - plat/tcpinfo.h with SIOCOUTQ and TCP_INFO. */
#include "plat/tcpinfo.h"

#include <linux/sockios.h>   /* SIOCOUTQ */
#include <linux/tcp.h>       /* struct tcp_info with tcpi_bytes_acked */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

long plat_tcp_unsent(int fd)
{
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) == 0 && n >= 0 ? n : -1;
}

static int info(int fd, struct tcp_info *ti, socklen_t *len)
{
    memset(ti, 0, sizeof *ti);
    *len = sizeof *ti;
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, len);
}

long plat_tcp_rtt_ms(int fd)
{
    struct tcp_info ti;
    socklen_t tl;
    return info(fd, &ti, &tl) == 0 ? (long)(ti.tcpi_rtt / 1000) : -1;
}

int plat_tcp_bytes_acked(int fd, uint64_t *acked)
{
    struct tcp_info ti;
    socklen_t tl;
    /* kernels before 4.2 return a shorter struct without the counter */
    if (info(fd, &ti, &tl) != 0 ||
        tl < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
        return -1;
    *acked = ti.tcpi_bytes_acked;
    return 0;
}
