/* net_posix.c - plat/net.h for Linux and macOS. */
#include "plat/net.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

int plat_init(void)
{
    return 0;
}

int plat_socket(int domain, int type, unsigned flags)
{
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
    /* Linux: atomic, so a child started meanwhile cannot inherit the socket */
    return socket(domain, type | SOCK_CLOEXEC | (flags & PLAT_SOCK_NONBLOCK ? SOCK_NONBLOCK : 0),
                  0);
#else
    int fd = socket(domain, type, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        ((flags & PLAT_SOCK_NONBLOCK) && plat_sock_nonblock(fd) != 0)
#ifdef SO_NOSIGPIPE
        || setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) != 0
#endif
    ) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    (void)one;
    return fd;
#endif
}

int plat_sock_close(int fd)
{
    return close(fd);
}

int plat_sock_dup(int fd)
{
    return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int plat_sock_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ? -1 : 0;
}

int plat_poll(struct pollfd *p, size_t n, int timeout_ms)
{
    return poll(p, (nfds_t)n, timeout_ms);
}

int plat_wait_sockets_max(void)
{
    return 0; /* poll, epoll, kqueue: the open-file limit is the only one */
}

int plat_sock_errno(void)
{
    return errno;
}

int plat_sock_would_block(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

int plat_sock_in_progress(int e)
{
    return e == EINPROGRESS;
}

int plat_setsockopt(int fd, int level, int name, const void *v, size_t len)
{
    return setsockopt(fd, level, name, v, (socklen_t)len);
}

int plat_getsockopt(int fd, int level, int name, void *v, size_t *len)
{
    socklen_t l = (socklen_t)*len;
    int rc = getsockopt(fd, level, name, v, &l);
    *len = l;
    return rc;
}

#ifdef MSG_NOSIGNAL
#define NOSIG MSG_NOSIGNAL
#else
#define NOSIG 0 /* macOS: SO_NOSIGPIPE was set by plat_socket */
#endif

ssize_t plat_send(int fd, const void *p, size_t n)
{
    return send(fd, p, n, NOSIG);
}

ssize_t plat_send2(int fd, const void *a, size_t an, const void *b, size_t bn)
{
    struct iovec iov[2] = {{(void *)a, an}, {(void *)b, bn}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    return sendmsg(fd, &m, NOSIG);
}

ssize_t plat_sendto(int fd, const void *p, size_t n, const struct sockaddr *to, socklen_t tolen)
{
    return sendto(fd, p, n, NOSIG, to, tolen);
}

ssize_t plat_recvfrom(int fd, void *p, size_t n, struct sockaddr *from, socklen_t *fromlen)
{
    return recvfrom(fd, p, n, 0, from, fromlen);
}
