/* plat/tcpinfo.h - what the kernel knows about one TCP connection: bytes sent but not
 * yet acknowledged, the smoothed round trip, and the bytes the peer acknowledged. The
 * file server uses them to tell a finished download from one still in the network
 * (DESIGN.md "Platform layer"). Each returns -1 where the OS cannot tell; callers then
 * fall back as their comments say. */
#ifndef SO_PLAT_TCPINFO_H
#define SO_PLAT_TCPINFO_H

#include <stdint.h>

/* Bytes queued or in flight, not acknowledged by the peer (Linux SIOCOUTQ; macOS
 * SO_NWRITE; Windows SIO_TCP_INFO BytesInFlight). */
long plat_tcp_unsent(int fd);
/* Smoothed round-trip time in ms (Linux tcpi_rtt; macOS tcpi_srtt; Windows RttUs). */
long plat_tcp_rtt_ms(int fd);
/* Bytes of payload the peer acknowledged since the connection opened (Linux
 * tcpi_bytes_acked, RFC 4898; macOS tcpi_txbytes minus SO_NWRITE's unacknowledged
 * bytes; Windows BytesOut minus BytesInFlight). 0 on success, -1 when unknown. */
int plat_tcp_bytes_acked(int fd, uint64_t *acked);

#endif
