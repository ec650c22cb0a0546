/* ui_int.h - the JSON event and text line helpers under ui.h: for the ui*.c files and for
 * the commands that build their own events or lines (configure, diy, image). */
#ifndef SONOTA_UI_INT_H
#define SONOTA_UI_INT_H

#include "sonota/ui.h"

#include <cjson/cJSON.h>

#define UI_LINE_MAX 1024
#define UI_TEXT_MAX 1024

#define C_BOLD "\033[1m"
#define C_CYAN "\033[1;36m"
#define C_YELLOW "\033[1;33m"
#define C_RED "\033[1;31m"
#define C_GREEN "\033[1;32m"
#define C_OFF "\033[0m"

/* A new event object with "event" and "t" (NULL when out of memory; the add functions
 * of cJSON accept NULL). */
cJSON *ui_ev_new(struct ui *u, const char *name);
/* Members; v NULL gives a JSON null. */
void ui_add_str(cJSON *o, const char *k, const char *v);
void ui_add_num(cJSON *o, const char *k, double v);
void ui_add_bool(cJSON *o, const char *k, int v);
/* Prints it as one line on stdout and frees it. Strings in it may come from the
 * network: DEL, C1, bidi characters and invalid UTF-8 are escaped on the way out
 * (lib/text_esc.h), so the line is valid JSON and safe on a terminal. */
void ui_ev_emit(struct ui *u, cJSON *o);
/* A human line: stdout (bold or plain) or stderr (yellow, for warnings). */
void ui_line(struct ui *u, int to_err, int bold, const char *text);
/* One or more lines to f, coloured as a whole (color NULL: plain) when colour is on.
 * Control characters, ESC and invalid UTF-8 in text are escaped (lib/text_esc.h);
 * newlines are kept, so a string from the network in a multi-line text goes through
 * ui_esc first. */
void ui_say(struct ui *u, FILE *f, const char *color, const char *text);
/* The same for exactly one line: a newline in text is escaped too. */
void ui_say_line(struct ui *u, FILE *f, const char *color, const char *text);
/* s escaped for a human line (newlines too) into buf, "?" for NULL; returns buf. */
const char *ui_esc(char *buf, size_t cap, const char *s);
/* Terminal lines a peer can cause are rate-limited per peer address and kind (any
 * stable pointer, e.g. the format string), with the log sink's limiter (io/log.h).
 * 1: write it. */
int ui_admit(const void *kind, const char *label);

#endif
