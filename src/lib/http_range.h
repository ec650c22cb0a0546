/* http_range.h - Range request header and Content-Range reply header (pure). */
#ifndef SO_HTTP_RANGE_H
#define SO_HTTP_RANGE_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* The stock firmware asks 4 KiB at a time (PROTOCOL.md §1.5, §6). */
#define SO_RANGE_CHUNK 4096

struct so_range {
    uint64_t first; /* inclusive */
    uint64_t last;  /* inclusive, already clipped to size - 1 */
};

/* Parses a Range header value against a resource of `size` bytes.
 * Accepts one "bytes=a-b", "bytes=a-" or "bytes=-n" (suffix); spaces around
 * tokens are tolerated. A list of several ranges is answered with the first one
 * only if it is the only one; more than one range → SO_E_SYNTAX (we never send
 * multipart; the caller then answers 200 with the whole body or 416).
 * SO_OK: *out set. SO_E_RANGE: syntactically fine but unsatisfiable (first >= size,
 * suffix "-0", or size == 0) → answer 416 with "Content-Range: bytes * /size".
 * SO_E_SYNTAX: malformed (unit not bytes, a > b, non-digits, overflow, any ','),
 * checked before satisfiability. The unit is matched case-insensitively. */
enum so_err so_range_parse(const char *value, size_t n, uint64_t size, struct so_range *out);

/* Formats the value "bytes a-b/size" into buf (NUL-terminated). With equals_form,
 * "bytes=a-b/size" (the non-standard form ITEAD's own server sends, §6).
 * Returns the length, or 0 (buf set to "") if cap is too small or r is not a
 * range of the resource (needs first <= last < size). */
size_t so_content_range_format(char *buf, size_t cap, struct so_range r, uint64_t size,
                               int equals_form);
/* Formats the 416 reply's value "bytes * /size" (RFC 9110 §14.4; no blank between
 * '*' and '/' in the output, the blank only keeps this comment open).
 * Returns the length, or 0 if cap is too small. */
size_t so_content_range_format_unsatisfied(char *buf, size_t cap, uint64_t size);

/* Parses a Content-Range value "bytes a-b/total" or "bytes=a-b/total" (devices
 * accept both, §6). total must be digits ('*' → SO_E_RANGE); a <= b < total.
 * SO_OK; SO_E_SYNTAX for junk, non-digits or overflow; SO_E_RANGE for a
 * well-formed value that gives no usable range: "bytes * /t" (416 form), total '*',
 * a > b or b >= total. Blanks around tokens are tolerated. */
enum so_err so_content_range_parse(const char *value, size_t n, struct so_range *out,
                                   uint64_t *total);

/* The k-th 4 KiB request a stock device makes for a file of `size` bytes
 * (last chunk clipped). Returns 0, or -1 when k is past the end. */
int so_range_chunk(uint64_t k, uint64_t size, struct so_range *out);

#endif
