/* plat_argv.h - the Windows command line for an argv (plat_run_windows.c). Windows
 * passes a process one string; the child's C runtime (and CommandLineToArgvW) splits it
 * again by the MSVC rules, so each argument is quoted such that it comes back exactly:
 * an argument with a space, tab, newline or '"' (or an empty one) is put in quotes, a
 * '"' becomes \" and the backslashes just before a '"' (or before the closing quote) are
 * doubled; other backslashes stay single. argv[0] is read by other rules (up to the
 * next quote, no escapes), so it is only quoted and may not contain '"'. Pure: UTF-8
 * in and out, no Windows headers, unit-tested on every system. */
#ifndef SO_PLAT_ARGV_H
#define SO_PLAT_ARGV_H

#define PLAT_CMDLINE_MAX 32767 /* CreateProcessW's limit with the NUL, in UTF-16 units
                                * (never more than the UTF-8 bytes) */

/* The command line (malloc'd), or NULL when argv is empty, argv[0] holds '"', the
 * result with its NUL would be over PLAT_CMDLINE_MAX bytes, or memory ran out. */
char *plat_win_cmdline(const char *const argv[]);

#endif
