/* fdlimit_macos.c - open descriptors from /dev/fd (fdescfs lists the caller's own). */
#include "plat/fdlimit.h"

#include <dirent.h>
#include <stddef.h>

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
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

int plat_fd_open_count(void)
{
    return count_dir("/dev/fd");
}
