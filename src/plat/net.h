/* plat/net.h - sockets on every OS. The one header the tool includes for struct
 * sockaddr_in, inet_pton/ntop and struct pollfd (winsock2.h + ws2tcpip.h on Windows,
 * the BSD headers elsewhere), plus the calls whose spelling or semantics differ.
 * Sockets are ints on every OS: a Windows SOCKET is a kernel handle, small in practice,
 * and lws hands us ints already; INVALID_SOCKET becomes -1. */
#ifndef SO_PLAT_NET_H
#define SO_PLAT_NET_H

#include <stddef.h>
#include <sys/types.h> /* ssize_t (mingw-w64 has it too) */

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#define PLAT_SHUT_WR SD_SEND
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#define PLAT_SHUT_WR SHUT_WR
#endif

/* Start-up: WSAStartup on Windows (no socket call works before it); nothing on POSIX,
 * where SIGPIPE is avoided per call and per socket instead. 0, or -1. */
int plat_init(void);

#define PLAT_SOCK_NONBLOCK 1u  /* flag of plat_socket */

/* A socket that is close-on-exec (not inherited by a child process) and never raises
 * SIGPIPE; non-blocking with PLAT_SOCK_NONBLOCK. Linux sets the flags atomically
 * (SOCK_CLOEXEC, SOCK_NONBLOCK), macOS afterwards with fcntl and SO_NOSIGPIPE, Windows
 * clears HANDLE_FLAG_INHERIT. -1 with errno set on failure. */
int plat_socket(int domain, int type, unsigned flags);
int plat_sock_close(int fd);
int plat_sock_nonblock(int fd);
/* A second descriptor for the same socket (close-on-exec), so another poll set can
 * watch it and close its own copy; -1 where sockets cannot be copied (Windows: a
 * SOCKET has no dup within a process). */
int plat_sock_dup(int fd);
/* poll(2); WSAPoll on Windows, which takes the same struct pollfd. */
int plat_poll(struct pollfd *p, size_t n, int timeout_ms);
/* How many sockets one libwebsockets loop may hold (listeners included); 0: no limit of
 * the platform's. Windows: 63. lws waits there with WSAWaitForMultipleEvents, which
 * takes 64 event objects, one of them lws's cancel event; a 64th socket would be tied
 * to an event past the end of lws's array. */
int plat_wait_sockets_max(void);

/* The errno-style code (EWOULDBLOCK, EADDRINUSE, ...) of the calling thread's last
 * failed socket call, also stored in errno so strerror(errno) describes it: Winsock
 * reports through WSAGetLastError, not errno. */
int plat_sock_errno(void);
/* e (from plat_sock_errno) means "try again later" / "connect under way". */
int plat_sock_would_block(int e);
int plat_sock_in_progress(int e);

/* setsockopt/getsockopt taking void pointers (Winsock wants char *). */
int plat_setsockopt(int fd, int level, int name, const void *v, size_t len);
int plat_getsockopt(int fd, int level, int name, void *v, size_t *len);
/* send/sendto/recvfrom without SIGPIPE (MSG_NOSIGNAL on Linux; the socket option on
 * macOS; Windows has no such signal). */
ssize_t plat_send(int fd, const void *p, size_t n);
/* One gathered send of a then b (either may be empty), so a reply's head and a body
 * slice still in the caller's memory leave in one call without being copied
 * together. Bytes taken (possibly fewer than an + bn), or -1. */
ssize_t plat_send2(int fd, const void *a, size_t an, const void *b, size_t bn);
ssize_t plat_sendto(int fd, const void *p, size_t n, const struct sockaddr *to,
                    socklen_t tolen);
ssize_t plat_recvfrom(int fd, void *p, size_t n, struct sockaddr *from, socklen_t *fromlen);

#endif
