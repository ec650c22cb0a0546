/* fs.c - the OS-independent part of plat/fs.h. */
#include "plat/fs.h"

#include <errno.h>
#include <string.h>

int plat_mkdir_parents(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, path, n + 1);
    /* the last separator ends the directory part; the first character is never cut
     * (a root "/" or, on Windows, "C:\" and "\\server" keep their leading separators) */
    char *last = NULL;
    for (char *p = dir + 1; *p; p++)
        if (strchr(PLAT_PATH_SEPS, *p))
            last = p;
    if (!last)
        return 0;
    *last = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (!strchr(PLAT_PATH_SEPS, *p) || p[-1] == ':' || strchr(PLAT_PATH_SEPS, p[-1]))
            continue; /* "C:\" is a drive, "\\" a share prefix: not made */
        char c = *p;
        *p = '\0';
        int rc = plat_mkdir_private(dir);
        *p = c;
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (plat_mkdir_private(dir) != 0 && errno != EEXIST)
        return -1;
    return 0;
}
