/* paths_windows.c - plat_state_dir on Windows: %LOCALAPPDATA% read as UTF-16 and turned
 * into UTF-8 (getenv would give the ANSI code page, which loses non-Latin user names). */
#include "plat/paths.h"
#include "plat/wtext_windows.h"

#include <windows.h>

int plat_state_dir(char *out, size_t cap)
{
    wchar_t w[1024];
    char base[3 * 1024];
    DWORD n = GetEnvironmentVariableW(L"LOCALAPPDATA", w, sizeof w / sizeof w[0]);
    if (n == 0 || n >= sizeof w / sizeof w[0])
        return -1;
    if (plat_utf8_from_wide(w, base, sizeof base) != 0)
        return -1;
    return plat_state_dir_windows(base, out, cap);
}
