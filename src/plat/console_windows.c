/* console_windows.c - plat/console.h on the Windows console. */
#include "plat/console.h"

#include <io.h>
#include <windows.h>

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif

int plat_isatty(FILE *f)
{
    return _isatty(_fileno(f)) != 0;
}

int plat_console_prepare(FILE *f)
{
    if (!plat_isatty(f))
        return 0;
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    DWORD mode;
    if (h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &mode))
        return 0; /* e.g. a mintty pipe: plain text */
    SetConsoleOutputCP(CP_UTF8); /* our text is UTF-8 (names, the bars' glyphs) */
    if (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING)
        return 1;
    return SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}
