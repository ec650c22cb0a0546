/* sys/socket.h - Windows stand-in: Winsock declares the same names (see ../README). */
#ifndef SO_W32_SYS_SOCKET_H
#define SO_W32_SYS_SOCKET_H
#include <winsock2.h>
#include <ws2tcpip.h>
/* Only libmdnsd's mdnsd_step() passes it, and sonota drives the engine itself
 * (mdnsd_in/mdnsd_out on its own non-blocking socket, src/io/mdns_sock.c). */
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0
#endif
#endif
