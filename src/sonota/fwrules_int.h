/* fwrules_int.h - helpers shared by the pure firewall parsers (fwrules*.c). */
#ifndef SONOTA_FWRULES_INT_H
#define SONOTA_FWRULES_INT_H

#include <stddef.h>

/* Copies the line at *p into buf (cut to cap - 1 bytes; '\r' and trailing blanks
 * removed) and moves *p past it. Returns 0 at the end of the text. */
int fw_next_line(const char **p, char *buf, size_t cap);
/* s without leading blanks. */
const char *fw_skip_blanks(const char *s);
/* ASCII case-insensitive: does s contain word? */
int fw_has_word(const char *s, const char *word);

#endif
