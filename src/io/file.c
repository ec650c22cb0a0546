#include "io/file.h"

#include "plat/fs.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum so_err so_read_file(const char *path, size_t max, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = plat_fopen_read(path);
    if (!f)
        return SO_E_IO;
    uint64_t size = 0;
    if (plat_file_size(f, &size) != 0) {
        int e = errno;
        fclose(f);
        errno = e;
        return SO_E_IO;
    }
    if (size > max) {
        fclose(f);
        return SO_E_TOOBIG;
    }
    size_t n = (size_t)size;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return SO_E_NOMEM;
    }
    if (fread(buf, 1, n, f) != n) {
        int e = ferror(f) && errno ? errno : EIO; /* EOF early: the file shrank */
        free(buf);
        fclose(f);
        errno = e;
        return SO_E_IO;
    }
    fclose(f);
    *data = buf;
    *len = n;
    return SO_OK;
}

enum so_err so_write_file(const char *path, const void *data, size_t len, int mode)
{
    return plat_file_replace(path, data, len, mode) == 0 ? SO_OK : SO_E_IO;
}
