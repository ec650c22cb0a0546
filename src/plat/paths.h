/* plat/paths.h - where the tool keeps its state (the resume record of a flash run).
 *   Linux:   $XDG_STATE_HOME/sonota, else ~/.local/state/sonota (XDG Base Directory)
 *   macOS:   ~/Library/Application Support/sonota
 *   Windows: %LOCALAPPDATA%\sonota
 * The rules are pure functions (paths.c, compiled and unit-tested on every OS); the
 * per-OS files only read the environment. */
#ifndef SO_PLAT_PATHS_H
#define SO_PLAT_PATHS_H

#include <stddef.h>

#define PLAT_APP_DIR "sonota"

/* The state directory of this OS and user; 0, or -1 when the environment names none. */
int plat_state_dir(char *out, size_t cap);

/* The rules. Each returns 0, or -1 when no usable (absolute) base is given or out is
 * too small. */
int plat_state_dir_xdg(const char *xdg_state_home, const char *home, char *out, size_t cap);
int plat_state_dir_macos(const char *home, char *out, size_t cap);
int plat_state_dir_windows(const char *local_app_data, char *out, size_t cap);

#endif
