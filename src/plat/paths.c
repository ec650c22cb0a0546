/* paths.c - the state-directory rules of plat/paths.h (pure). */
#include "plat/paths.h"

#include <ctype.h>
#include <stdio.h>

static int fits(int n, size_t cap)
{
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int plat_state_dir_xdg(const char *xdg_state_home, const char *home, char *out, size_t cap)
{
    /* XDG: a relative $XDG_STATE_HOME is invalid and ignored */
    if (xdg_state_home && xdg_state_home[0] == '/')
        return fits(snprintf(out, cap, "%s/" PLAT_APP_DIR, xdg_state_home), cap);
    if (home && home[0] == '/')
        return fits(snprintf(out, cap, "%s/.local/state/" PLAT_APP_DIR, home), cap);
    return -1;
}

int plat_state_dir_macos(const char *home, char *out, size_t cap)
{
    if (!home || home[0] != '/')
        return -1;
    return fits(snprintf(out, cap, "%s/Library/Application Support/" PLAT_APP_DIR, home), cap);
}

int plat_state_dir_windows(const char *local_app_data, char *out, size_t cap)
{
    const char *b = local_app_data;
    /* absolute: a drive ("C:\...") or a share ("\\server\...") */
    int drive = b && isalpha((unsigned char)b[0]) && b[1] == ':' && (b[2] == '\\' || b[2] == '/');
    int share = b && b[0] == '\\' && b[1] == '\\';
    if (!drive && !share)
        return -1;
    return fits(snprintf(out, cap, "%s\\" PLAT_APP_DIR, b), cap);
}
