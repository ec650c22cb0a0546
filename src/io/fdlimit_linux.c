/* fdlimit_linux.c - Linux part of fdlimit: open descriptors from /proc/self/fd. */
#include "io/fdlimit.h"

#include <dirent.h>
#include <stddef.h>

int so_fd_open_count(void)
{
    DIR *d = opendir("/proc/self/fd");
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
