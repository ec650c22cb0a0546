/* prompt.h - questions on the controlling terminal (/dev/tty), so scripted runs that
 * redirect stdin/stdout are never blocked: callers check prompt_available() first and
 * otherwise ask for the matching command-line flag. */
#ifndef SO_PROMPT_H
#define SO_PROMPT_H

#include <stddef.h>

/* 1 when stdin is a terminal and /dev/tty can be opened. */
int prompt_available(void);

/* Prints question on the terminal and reads one line into buf (cap bytes incl. NUL),
 * without the newline. prompt_secret turns echo off while reading (termios) and
 * restores it whatever happens. Returns 0, or -1 (no terminal, EOF, interrupted by a
 * signal, or the answer does not fit; buf is then wiped). */
int prompt_line(const char *question, char *buf, size_t cap);
int prompt_secret(const char *question, char *buf, size_t cap);

#endif
