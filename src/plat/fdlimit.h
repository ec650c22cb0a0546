/* plat/fdlimit.h - the process's descriptor budget: the open-file limit (RLIMIT_NOFILE),
 * how many descriptors are open, and a spare one kept for emergencies (issue 13).
 * Windows has no such limit for sockets (they are kernel handles, bounded only by
 * memory), so there is nothing to raise or to keep in reserve there. */
#ifndef SO_PLAT_FDLIMIT_H
#define SO_PLAT_FDLIMIT_H

/* Raises the soft open-file limit towards want (never above the hard limit) and
 * returns the soft limit in force afterwards; -1 if there is none (Windows) or it
 * cannot be read. */
long plat_fd_limit_raise(long want);
/* Descriptors open in this process now; -1 if unknown. (Linux reads /proc/self/fd,
 * macOS /dev/fd; Windows: unknown.) */
int plat_fd_open_count(void);
/* A descriptor held in reserve (on /dev/null): closing it frees one slot for the
 * accept-and-close of a server whose limit is exhausted (EMFILE). -1 on failure and
 * on Windows. */
int plat_fd_spare_open(void);
void plat_fd_spare_close(int fd);
/* POSIX systems: the directory whose entries are this process's open descriptors. */
extern const char plat_fd_dir[];

#endif
