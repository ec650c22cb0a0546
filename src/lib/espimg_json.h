/* espimg_json.h - a parsed ESP8266 image as a cJSON object (for --json outputs). Pure. */
#ifndef SO_ESPIMG_JSON_H
#define SO_ESPIMG_JSON_H

#include "lib/espimg.h"

#include <cjson/cJSON.h>

/* Everything espimg_parse found plus, under "fit", espimg_check's verdict for every use
 * ({"user1":{"ok":true}, "user2":{"ok":false,"code":12,"error":"...","reason":"..."}, ...}),
 * judged with info->len. Addresses and sizes are JSON numbers. NULL when out of memory. */
cJSON *espimg_to_json(const struct espimg_info *info);

/* "unknown", "segment", "entry" or "references". */
const char *espimg_slot_how_name(enum espimg_slot_how how);

#endif
