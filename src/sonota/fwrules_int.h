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
/* A new finding in words (advice) at where, for the ports in mask; NULL when mask is
 * empty or the report is full. */
struct fw_report;
struct fw_finding *fw_add_advice(struct fw_report *out, unsigned mask, const char *where);
/* An empty report from tool, with the ports (at most FW_PORTS_MAX) as text in list;
 * returns the number of ports kept. */
size_t fw_report_start(struct fw_report *out, const char *tool, const int *ports,
                       size_t nports, char *list, size_t cap);

#endif
