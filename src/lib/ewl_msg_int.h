/* ewl_msg_int.h - internals shared by ewl_msg.c (parsers) and ewl_msg_build.c. */
#ifndef SO_EWL_MSG_INT_H
#define SO_EWL_MSG_INT_H

#include <cJSON.h>
#include <stddef.h>

/* Zeroes n bytes in a way the compiler keeps even right before free(). */
void ewl_wipe(void *p, size_t n);
/* Zeroes the text of obj[key] when it is a string (the WiFi password, §1.2). */
void ewl_wipe_json_string(cJSON *obj, const char *key);

#endif
