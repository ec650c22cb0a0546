/* console_posix.c - plat/console.h for Linux and macOS. */
#include "plat/console.h"

#include <unistd.h>

int plat_isatty(FILE *f)
{
    return isatty(fileno(f));
}

int plat_console_prepare(FILE *f)
{
    return plat_isatty(f);
}
