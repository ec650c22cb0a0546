/* plat/fs.h - files: opening in binary mode and not inherited by child processes,
 * private (0600) files and directories (0700), the atomic replace of a file, and
 * wiping secrets from memory. Paths are UTF-8 on every OS (turned into UTF-16 for the
 * Windows calls). */
#ifndef SO_PLAT_FS_H
#define SO_PLAT_FS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef _WIN32
#define PLAT_PATH_SEPS "\\/"
#else
#define PLAT_PATH_SEPS "/"
#endif

/* Opens path for reading in binary mode; NULL with errno set. */
FILE *plat_fopen_read(const char *path);
/* Size of an open file; -1 with errno EISDIR (or another) when it is not a regular file. */
int plat_file_size(FILE *f, uint64_t *size);
/* Opens path for appending, creating it readable by its owner only; an existing file is
 * narrowed to that too (a log may hold device keys). NULL with errno set. */
FILE *plat_fopen_private_append(const char *path);
/* Replaces path with data atomically: a temporary file beside it is written, flushed to
 * disk and renamed over it (rename(2); MoveFileExW with MOVEFILE_REPLACE_EXISTING |
 * MOVEFILE_WRITE_THROUGH), so a crash leaves the old or the new content, never half.
 * mode: permission bits on POSIX (Windows files inherit the folder's ACL). 0, or -1
 * with errno set. */
int plat_file_replace(const char *path, const void *data, size_t len, int mode);
/* Creates the directories leading to path's last component, new ones private (0700).
 * 0, or -1 with errno set. */
int plat_mkdir_parents(const char *path);
/* Creates one directory, private; -1 with errno (EEXIST too) on failure. */
int plat_mkdir_private(const char *dir);
/* Zeroes memory in a way the compiler may not drop (explicit_bzero, memset_s,
 * SecureZeroMemory). */
void plat_wipe(void *p, size_t n);

#endif
