/* file.h - whole-file reads and writes with a size cap. */
#ifndef SO_FILE_H
#define SO_FILE_H

#include "lib/err.h"

#include <stddef.h>

/* Reads path into a malloc'd buffer (caller frees). Files larger than max are
 * refused with SO_E_TOOBIG; SO_E_IO with errno set on other failures. */
enum so_err so_read_file(const char *path, size_t max, unsigned char **data, size_t *len);
/* Writes data to path (created with `mode`, truncated), via a temporary file and rename. */
enum so_err so_write_file(const char *path, const void *data, size_t len, int mode);

#endif
