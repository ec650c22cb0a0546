/* http_head.h - HTTP/1.x request and response head parser (pure, bounded).
 * Used by sonoff-sim for every exchange and by tests; sonota's servers use lws. */
#ifndef SO_HTTP_HEAD_H
#define SO_HTTP_HEAD_H

#include "lib/err.h"
#include "lib/str.h"

#include <stddef.h>
#include <stdint.h>

/* Largest head accepted (request/status line + headers + blank line). The stock
 * firmware's whole reply buffer is 5 KB (PROTOCOL.md §1.5), so 4 KiB is plenty. */
#define SO_HTTP_HEAD_MAX 4096
#define SO_HTTP_HEADERS_MAX 32

struct so_http_header {
    struct so_str name;
    struct so_str value; /* leading/trailing blanks removed */
};

struct so_http_head {
    /* request */
    struct so_str method;
    struct so_str target;   /* path + query as sent */
    /* response */
    int status;             /* 100..599 */
    struct so_str reason;
    /* both */
    int version_minor;      /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
    size_t n_headers;
    struct so_http_header headers[SO_HTTP_HEADERS_MAX];
    size_t head_len;        /* bytes up to and including the blank line */
};

/* Parse a head at the start of buf. All views point into buf.
 * SO_OK: complete head, out->head_len bytes consumed.
 * SO_AGAIN: no blank line yet and len < SO_HTTP_HEAD_MAX.
 * SO_E_TOOBIG: head longer than SO_HTTP_HEAD_MAX or more than SO_HTTP_HEADERS_MAX headers.
 * SO_E_SYNTAX: anything malformed (bad start line, header without colon, bare CR,
 *   NUL or control bytes, whitespace before colon, obs-fold continuation lines).
 * Lines may end in CRLF or a bare LF. Complete lines are checked as they arrive, so
 * errors are reported before the blank line; never reads past len; *out is reset.
 * Start lines: "METHOD SP target SP HTTP/1.x" (method a token, target visible ASCII)
 * and "HTTP/1.x SP 3DIGIT [SP reason]"; only HTTP/1.0 and HTTP/1.1; no leading
 * empty line. Header values may hold obs-text (bytes >= 0x80). */
enum so_err so_http_parse_request(const char *buf, size_t len, struct so_http_head *out);
enum so_err so_http_parse_response(const char *buf, size_t len, struct so_http_head *out);

/* First header with this name (case-insensitive), or NULL. */
const struct so_http_header *so_http_find(const struct so_http_head *h, const char *name);
/* Number of headers with this name. */
size_t so_http_count(const struct so_http_head *h, const char *name);

/* Body framing of a message: Content-Length must appear at most once (or repeat
 * the same value), be plain digits; Transfer-Encoding together with Content-Length
 * is refused (request smuggling, RFC 9112 §6.3).
 * SO_OK with *has_length=1 and *length, or *has_length=0 when absent (also when
 * only Transfer-Encoding is present: the caller decides, we never send chunked);
 * SO_E_HTTP_HEADER when conflicting or malformed. */
enum so_err so_http_content_length(const struct so_http_head *h, int *has_length,
                                   uint64_t *length);

/* Splits target "path?query" into its path (views into target). */
struct so_str so_http_target_path(struct so_str target);

#endif
