/* plat_run.h - runs a helper program and reads what it prints (the firewall check's
 * listing tools: nft, netsh, socketfilterfw). No shell: argv is passed as it is and
 * argv[0] must be an absolute path (nothing is looked up in PATH, so a directory a
 * user can write to cannot stand in for the tool). stdin and stderr are the null
 * device; stdout is kept up to cap bytes and the rest is read and dropped, so a chatty
 * child never blocks on a full pipe. One file per system: plat_run_posix.c
 * (posix_spawn), plat_run_windows.c (CreateProcessW). */
#ifndef SO_PLAT_RUN_H
#define SO_PLAT_RUN_H

#include <stddef.h>

/* Runs argv (NULL-terminated) for at most timeout_ms; a child still running then is
 * killed (our own child, by its handle or pid). Returns its exit status (0..INT_MAX) with
 * *out = what it printed (malloc'd, NUL-terminated, at most cap bytes; the caller frees
 * it), or -1 with *out = NULL when it could not start, was killed, died of a signal or
 * memory ran out. */
int plat_run(const char *const argv[], unsigned timeout_ms, size_t cap, char **out);

#endif
