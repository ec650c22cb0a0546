/* plat/tty.h - questions on the controlling terminal (the console on Windows), with
 * the answer's echo turned off for secrets. Used by io/prompt.c, which holds the
 * policy (retries, WiFi password rules); this is only the terminal. */
#ifndef SO_PLAT_TTY_H
#define SO_PLAT_TTY_H

#include <stddef.h>

/* 1 when standard input is a terminal that can be asked. */
int plat_tty_available(void);
/* Writes question, reads one line into buf (NUL-terminated, no line end) with echo off
 * when secret. 0; -1 on EOF, error or Ctrl-C; -2 when the line did not fit (it is read
 * to its end all the same). The echo is restored before returning, also at Ctrl-C. */
int plat_tty_ask(const char *question, char *buf, size_t cap, int secret);
/* Writes text to the terminal (not to stdout, which may be piped). */
void plat_tty_say(const char *text);

#endif
