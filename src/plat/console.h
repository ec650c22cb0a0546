/* plat/console.h - is a stream a terminal, and may it get ANSI colours. */
#ifndef SO_PLAT_CONSOLE_H
#define SO_PLAT_CONSOLE_H

#include <stdio.h>

/* 1 when f is a terminal (a console on Windows). */
int plat_isatty(FILE *f);
/* Prepares the terminal behind f for UTF-8 text and ANSI colour sequences; 1 when
 * colours may be used. POSIX terminals take them as they are; Windows needs
 * ENABLE_VIRTUAL_TERMINAL_PROCESSING (Windows 10 1511 and later) and the UTF-8 code
 * page: where VT cannot be enabled the caller falls back to plain text. */
int plat_console_prepare(FILE *f);

#endif
