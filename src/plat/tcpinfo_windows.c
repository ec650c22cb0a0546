/* tcpinfo_windows.c - plat/tcpinfo.h with SIO_TCP_INFO (Windows 10 1703 and later). */
#include "plat/tcpinfo.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>

/* mingw-w64 headers before 2021 lack these (Microsoft's mstcpip.h has them). */
#ifndef SIO_TCP_INFO
#define SIO_TCP_INFO _WSAIORW(IOC_VENDOR, 39)
#endif
struct plat_tcp_info_v0 { /* TCP_INFO_v0, field for field */
    int State;
    ULONG Mss;
    ULONG64 ConnectionTimeMs;
    BOOLEAN TimestampsEnabled;
    ULONG RttUs;
    ULONG MinRttUs;
    ULONG BytesInFlight;
    ULONG Cwnd;
    ULONG SndWnd;
    ULONG RcvWnd;
    ULONG RcvBuf;
    ULONG64 BytesOut;
    ULONG64 BytesIn;
    ULONG BytesReordered;
    ULONG BytesRetrans;
    ULONG FastRetrans;
    ULONG DupAcksIn;
    ULONG TimeoutEpisodes;
    UCHAR SynRetrans;
};

static int info(int fd, struct plat_tcp_info_v0 *ti)
{
    DWORD version = 0, got = 0;
    return WSAIoctl((SOCKET)fd, SIO_TCP_INFO, &version, sizeof version, ti, sizeof *ti, &got,
                    NULL, NULL) == 0 && got >= sizeof *ti ? 0 : -1;
}

long plat_tcp_unsent(int fd)
{
    struct plat_tcp_info_v0 ti;
    return info(fd, &ti) == 0 ? (long)ti.BytesInFlight : -1;
}

long plat_tcp_rtt_ms(int fd)
{
    struct plat_tcp_info_v0 ti;
    return info(fd, &ti) == 0 ? (long)(ti.RttUs / 1000) : -1;
}

int plat_tcp_bytes_acked(int fd, uint64_t *acked)
{
    struct plat_tcp_info_v0 ti;
    if (info(fd, &ti) != 0 || ti.BytesInFlight > ti.BytesOut)
        return -1;
    *acked = ti.BytesOut - ti.BytesInFlight;
    return 0;
}
