/* fw_os.h - shared by the per-system halves of fwcheck.h (fw_linux.c, fw_windows.c,
 * fw_macos.c); fwcheck.c holds what they share. */
#ifndef SONOTA_FW_OS_H
#define SONOTA_FW_OS_H

/* Runs one read-only listing tool (plat_run: fixed argv, no shell) with its output cut
 * at FW_OUTPUT_MAX, and logs (debug) what came back. Returns its exit status with *out
 * set (the caller frees it), or -1 with *out = NULL. */
int fw_run(const char *const argv[], unsigned timeout_ms, char **out);

#endif
