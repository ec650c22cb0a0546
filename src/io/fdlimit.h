/* fdlimit.h - the process's descriptor budget: the open-file limit (RLIMIT_NOFILE),
 * how many descriptors are open, and a spare one kept for emergencies (issue 13). */
#ifndef SO_FDLIMIT_H
#define SO_FDLIMIT_H

/* Raises the soft open-file limit towards want (never above the hard limit) and
 * returns the soft limit in force afterwards; -1 if it cannot be read. */
long so_fd_limit_raise(long want);
/* Descriptors open in this process now; -1 if unknown. (fdlimit_linux.c reads
 * /proc/self/fd; elsewhere every descriptor below the limit is probed.) */
int so_fd_open_count(void);
/* A descriptor held in reserve (on /dev/null): closing it frees one slot for the
 * accept-and-close of a server whose limit is exhausted (EMFILE). -1 on failure. */
int so_fd_spare_open(void);

#endif
