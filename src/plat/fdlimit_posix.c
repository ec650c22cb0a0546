/* fdlimit_posix.c - RLIMIT_NOFILE, the open-descriptor count and the spare descriptor
 * (Linux and macOS; each names its directory of descriptors in fdlimit_<os>.c). */
#include "plat/fdlimit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

long plat_fd_limit_raise(long want)
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

int plat_fd_spare_open(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void plat_fd_spare_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

int plat_fd_open_count(void)
{
    DIR *d = opendir(plat_fd_dir);
    if (!d)
        return -1;
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}
