/* console_windows.c - plat/console.h on the Windows console. */
#include "plat/console.h"

#include <io.h>
#include <windows.h>

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif

/* _isatty is true for any character device, the NUL device too (`sonota < NUL`, or
 * /dev/null under Wine): only a handle the console API accepts is a terminal. */
int plat_isatty(FILE *f)
{
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    DWORD mode;
    return h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode) != 0;
}

int plat_console_prepare(FILE *f)
{
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    DWORD mode;
    if (h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &mode))
        return 0; /* a file, a pipe (mintty), NUL: plain text */
    SetConsoleOutputCP(CP_UTF8); /* our text is UTF-8 (names, the bars' glyphs) */
    if (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING)
        return 1;
    return SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}
