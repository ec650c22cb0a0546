/* ui_int.h - private to ui.c and ui_net.c: the JSON event and text line helpers. */
#ifndef SONOTA_UI_INT_H
#define SONOTA_UI_INT_H

#include "sonota/ui.h"

#include <cjson/cJSON.h>

#define UI_LINE_MAX 1024

/* A new event object with "event" and "t" (NULL when out of memory; the add functions
 * of cJSON accept NULL). */
cJSON *ui_ev_new(struct ui *u, const char *name);
/* Prints it as one line on stdout and frees it. */
void ui_ev_emit(struct ui *u, cJSON *o);
/* A human line: stdout (bold or plain) or stderr (yellow, for warnings). */
void ui_line(struct ui *u, int to_err, int bold, const char *text);

#endif
