#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

enum so_err so_read_file(const char *path, size_t max, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SO_E_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (errno == 0 || S_ISDIR(st.st_mode))
            errno = EISDIR;
        close(fd);
        return SO_E_IO;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return SO_E_TOOBIG;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return SO_E_NOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            close(fd);
            if (r == 0)
                errno = EIO;
            return SO_E_IO;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return SO_OK;
}

enum so_err so_write_file(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return SO_E_IO;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return SO_E_IO;
    const unsigned char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            close(fd);
            unlink(tmp);
            return SO_E_IO;
        }
        done += (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return SO_E_IO;
    }
    return SO_OK;
}
