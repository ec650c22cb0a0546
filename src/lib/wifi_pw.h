/* wifi_pw.h - is this a WiFi password a device can use? One rule for the flag, the
 * environment variable and the terminal prompt of `sonota flash` and `sonota configure`.
 * WPA2-PSK (IEEE 802.11i): a passphrase of 8 to 63 characters, or the raw 256-bit key
 * as 64 hex digits; an empty password means an open network. */
#ifndef SO_WIFI_PW_H
#define SO_WIFI_PW_H

#include <stddef.h>

#define WIFI_PW_MIN 8
#define WIFI_PW_PASSPHRASE_MAX 63
#define WIFI_PW_HEX_LEN 64

enum wifi_pw_verdict {
    WIFI_PW_OK,        /* a passphrase or a 64-hex-digit key */
    WIFI_PW_OPEN,      /* empty: an open network (callers confirm it when asking) */
    WIFI_PW_SHORT,     /* 1..7 characters */
    WIFI_PW_LONG,      /* 65 or more characters */
    WIFI_PW_NOT_HEX,   /* 64 characters that are not all hex digits */
    WIFI_PW_CONTROL,   /* a control character (a stray key or paste at the prompt) */
};

/* The verdict on pw (len bytes, need not be NUL-terminated). */
enum wifi_pw_verdict wifi_pw_check(const char *pw, size_t len);
/* 1 when a flag or variable may carry it: OK or OPEN. */
int wifi_pw_acceptable(enum wifi_pw_verdict v);
/* Why it was refused, as a sentence that never contains the password itself
 * ("" for OK and OPEN). */
const char *wifi_pw_reason(enum wifi_pw_verdict v);

#endif
