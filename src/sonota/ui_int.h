/* ui_int.h - private to the ui*.c files: the JSON event and text line helpers. */
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
/* Prints it as one line on stdout and frees it. */
void ui_ev_emit(struct ui *u, cJSON *o);
/* A human line: stdout (bold or plain) or stderr (yellow, for warnings). */
void ui_line(struct ui *u, int to_err, int bold, const char *text);
/* One or more lines to f, coloured as a whole (color NULL: plain) when colour is on. */
void ui_say(struct ui *u, FILE *f, const char *color, const char *text);

#endif
