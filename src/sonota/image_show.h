/* image_show.h - an image described for people: format, headers, segments, checksums,
 * the slot it is linked for with the evidence, and its fitness for every use (the text of
 * `sonota image info`; --json is lib/espimg_json.h). Printed through the ui (ui.h). */
#ifndef SONOTA_IMAGE_SHOW_H
#define SONOTA_IMAGE_SHOW_H

#include "lib/espimg.h"

#include <stddef.h>

struct ui;

/* The block for the image at path (len bytes, SHA-256 hex sha, parsed into in). */
void image_show(struct ui *u, const char *path, size_t len, const char *sha,
                const struct espimg_info *in);

#endif
