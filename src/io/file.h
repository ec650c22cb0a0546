/* file.h - whole-file reads and writes with a size cap. */
#ifndef SO_FILE_H
#define SO_FILE_H

#include "lib/err.h"

#include <stddef.h>

/* Reads path into a malloc'd buffer (caller frees). Files larger than max are
 * refused with SO_E_TOOBIG; SO_E_IO with errno set on other failures. */
enum so_err so_read_file(const char *path, size_t max, unsigned char **data, size_t *len);
/* Replaces path with data (permission bits `mode` on POSIX): a temporary file, flushed to
 * disk, renamed over it (plat_file_replace). SO_E_IO with errno set on failure. */
enum so_err so_write_file(const char *path, const void *data, size_t len, int mode);

#endif
