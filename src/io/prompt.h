/* prompt.h - questions on the controlling terminal (/dev/tty), so scripted runs that
 * redirect stdin/stdout are never blocked: callers check prompt_available() first and
 * otherwise ask for the matching command-line flag. */
#ifndef SO_PROMPT_H
#define SO_PROMPT_H

#include <stddef.h>

/* 1 when stdin is a terminal and /dev/tty can be opened. */
int prompt_available(void);

/* Prints question on the terminal and reads one line into buf (cap bytes incl. NUL),
 * without the newline. Returns 0, or -1 (no terminal, EOF, interrupted by a signal, or
 * the answer does not fit; buf is then wiped). */
int prompt_line(const char *question, char *buf, size_t cap);

/* Answers to the WiFi password question before giving up. */
#define PROMPT_PW_TRIES 3

/* Asks for the password of WiFi ssid without echo until the answer is one a device can
 * use (lib/wifi_pw.h), at most PROMPT_PW_TRIES answers. A refused answer gets the reason
 * on the terminal, never the answer; an empty one means an open network and must be
 * confirmed ("[y/N]"). Returns 0 (buf holds it, "" = open network), -1 (no terminal,
 * EOF or interrupted) or -2 (no usable answer); buf is wiped unless 0. */
int prompt_wifi_password(const char *ssid, char *buf, size_t cap);

#endif
