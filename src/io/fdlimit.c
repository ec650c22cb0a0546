/* fdlimit.c - RLIMIT_NOFILE and the spare descriptor (POSIX); counting open
 * descriptors is platform code (fdlimit_linux.c, or the probe below). */
#include "io/fdlimit.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

long so_fd_limit_raise(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (want > 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want) {
        rlim_t to = (rlim_t)want;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < to)
            to = rl.rlim_max;
        if (to > rl.rlim_cur) {
            struct rlimit nl = {to, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
                rl.rlim_cur = to;
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1L << 20)
        return 1L << 20;
    return (long)rl.rlim_cur;
}

int so_fd_spare_open(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

#if !defined(__linux__)
int so_fd_open_count(void)
{
    long lim = so_fd_limit_raise(0);
    if (lim < 0 || lim > 65536)
        return -1;
    int n = 0;
    for (int fd = 0; fd < (int)lim; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}
#endif
