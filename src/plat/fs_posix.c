/* fs_posix.c - plat/fs.h for Linux and macOS. */
#define __STDC_WANT_LIB_EXT1__ 1 /* memset_s on macOS */
#include "plat/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *plat_fopen_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "r");
    if (!f)
        close(fd);
    return f;
}

int plat_file_size(FILE *f, uint64_t *size)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

FILE *plat_fopen_private_append(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    (void)fchmod(fd, 0600); /* an existing file may have been wider */
    FILE *f = fdopen(fd, "a");
    if (!f)
        close(fd);
    return f;
}

int plat_file_replace(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp); /* 0600, O_EXCL; close-on-exec is set just below */
    if (fd < 0)
        return -1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    const unsigned char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail;
        done += (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
fail:;
    int e = errno;
    close(fd);
    unlink(tmp);
    errno = e;
    return -1;
}

int plat_mkdir_private(const char *dir)
{
    return mkdir(dir, 0700);
}

void plat_wipe(void *p, size_t n)
{
#if defined(__APPLE__)
    memset_s(p, n, 0, n);
#else
    explicit_bzero(p, n);
#endif
}
