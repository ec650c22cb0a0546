/* net_windows.c - plat/net.h on Winsock 2. */
#include "plat/net.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <stdio.h>

int plat_init(void)
{
    /* "\n" stays "\n" in what we write (--json lines, logs, files): the text mode's
     * CRLF would only differ from the other systems; consoles show LF alike. */
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    WSADATA wsa;
    return WSAStartup(MAKEWORD(2, 2), &wsa) == 0 ? 0 : -1;
}

int plat_socket(int domain, int type, unsigned flags)
{
    /* WSA_FLAG_NO_HANDLE_INHERIT: the close-on-exec of Windows */
    SOCKET s = WSASocketW(domain, type, 0, NULL, 0, WSA_FLAG_OVERLAPPED |
                          WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        plat_sock_errno();
        return -1;
    }
    if ((flags & PLAT_SOCK_NONBLOCK) && plat_sock_nonblock((int)s) != 0) {
        int e = plat_sock_errno();
        closesocket(s);
        errno = e;
        return -1;
    }
    return (int)s;
}

int plat_sock_close(int fd)
{
    return closesocket((SOCKET)fd) == 0 ? 0 : -1;
}

int plat_sock_dup(int fd)
{
    (void)fd; /* WSADuplicateSocket is for another process */
    return -1;
}

int plat_sock_nonblock(int fd)
{
    u_long on = 1;
    return ioctlsocket((SOCKET)fd, FIONBIO, &on) == 0 ? 0 : -1;
}

int plat_poll(struct pollfd *p, size_t n, int timeout_ms)
{
    if (n == 0) { /* WSAPoll refuses an empty set; a plain wait is what is meant */
        Sleep(timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
        return 0;
    }
    return WSAPoll(p, (ULONG)n, timeout_ms);
}

int plat_wait_sockets_max(void)
{
    return WSA_MAXIMUM_WAIT_EVENTS - 1;
}

int plat_sock_errno(void)
{
    int e;
    switch (WSAGetLastError()) {
    case WSAEWOULDBLOCK: e = EWOULDBLOCK; break;
    case WSAEINPROGRESS: e = EINPROGRESS; break;
    case WSAEALREADY: e = EALREADY; break;
    case WSAEINTR: e = EINTR; break;
    case WSAEINVAL: e = EINVAL; break;
    case WSAEACCES: e = EACCES; break;
    case WSAEMFILE: e = EMFILE; break;
    case WSAENOBUFS: e = ENOBUFS; break;
    case WSAEADDRINUSE: e = EADDRINUSE; break;
    case WSAEADDRNOTAVAIL: e = EADDRNOTAVAIL; break;
    case WSAENETDOWN: e = ENETDOWN; break;
    case WSAENETUNREACH: e = ENETUNREACH; break;
    case WSAEHOSTUNREACH: e = EHOSTUNREACH; break;
    case WSAECONNREFUSED: e = ECONNREFUSED; break;
    case WSAECONNRESET: e = ECONNRESET; break;
    case WSAECONNABORTED: e = ECONNABORTED; break;
    case WSAETIMEDOUT: e = ETIMEDOUT; break;
    case WSAENOTCONN: e = ENOTCONN; break;
    case WSAENOTSOCK: e = ENOTSOCK; break;
    case WSAEMSGSIZE: e = EMSGSIZE; break;
    case WSAEAFNOSUPPORT: e = EAFNOSUPPORT; break;
    default: e = EIO; break;
    }
    errno = e;
    return e;
}

int plat_sock_would_block(int e)
{
    return e == EWOULDBLOCK || e == EAGAIN;
}

int plat_sock_in_progress(int e)
{
    /* a non-blocking connect reports WSAEWOULDBLOCK, not WSAEINPROGRESS */
    return e == EINPROGRESS || e == EWOULDBLOCK;
}

int plat_setsockopt(int fd, int level, int name, const void *v, size_t len)
{
    return setsockopt((SOCKET)fd, level, name, v, (int)len) == 0 ? 0 : -1;
}

int plat_getsockopt(int fd, int level, int name, void *v, size_t *len)
{
    int l = *len > INT_MAX ? INT_MAX : (int)*len;
    int rc = getsockopt((SOCKET)fd, level, name, v, &l);
    *len = (size_t)l;
    return rc == 0 ? 0 : -1;
}

static int clamp(size_t n)
{
    return n > INT_MAX ? INT_MAX : (int)n;
}

ssize_t plat_send(int fd, const void *p, size_t n)
{
    return send((SOCKET)fd, p, clamp(n), 0);
}

ssize_t plat_send2(int fd, const void *a, size_t an, const void *b, size_t bn)
{
    WSABUF v[2] = {{(ULONG)clamp(an), (CHAR *)a}, {(ULONG)clamp(bn), (CHAR *)b}};
    DWORD sent = 0;
    if (WSASend((SOCKET)fd, v, 2, &sent, 0, NULL, NULL) != 0)
        return -1;
    return (ssize_t)sent;
}

ssize_t plat_sendto(int fd, const void *p, size_t n, const struct sockaddr *to, socklen_t tolen)
{
    return sendto((SOCKET)fd, p, clamp(n), 0, to, tolen);
}

ssize_t plat_recvfrom(int fd, void *p, size_t n, struct sockaddr *from, socklen_t *fromlen)
{
    return recvfrom((SOCKET)fd, p, clamp(n), 0, from, fromlen);
}
