/* arpa/inet.h - Windows stand-in: Winsock declares the same names (see ../README). */
#ifndef SO_W32_ARPA_INET_H
#define SO_W32_ARPA_INET_H
#include <winsock2.h>
#include <ws2tcpip.h>
#endif
