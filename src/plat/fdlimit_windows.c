/* fdlimit_windows.c - Windows has no open-file limit for sockets to raise: they are
 * kernel handles (about 16 million per process) and the CRT's own table grows on
 * demand; so the server's EMFILE reserve has nothing to do here. */
#include "plat/fdlimit.h"

long plat_fd_limit_raise(long want)
{
    (void)want;
    return -1;
}

int plat_fd_open_count(void)
{
    return -1;
}

int plat_fd_spare_open(void)
{
    return -1;
}

void plat_fd_spare_close(int fd)
{
    (void)fd;
}
