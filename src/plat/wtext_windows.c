/* wtext_windows.c - plat/wtext_windows.h with MultiByteToWideChar/WideCharToMultiByte. */
#include "plat/wtext_windows.h"

#include <errno.h>
#include <stdlib.h>
#include <windows.h>

int plat_utf8_from_wide(const wchar_t *w, char *out, size_t cap)
{
    if (WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)cap, NULL, NULL) > 0)
        return 0;
    if (cap)
        out[0] = '\0';
    return -1;
}

int plat_wide_from_utf8(const char *s, wchar_t *out, int cap)
{
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, cap) > 0)
        return 0;
    errno = GetLastError() == ERROR_INSUFFICIENT_BUFFER ? ENAMETOOLONG : EINVAL;
    return -1;
}

wchar_t *plat_wide_dup(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (w && plat_wide_from_utf8(s, w, n) != 0) {
        free(w);
        w = NULL;
    }
    return w;
}
