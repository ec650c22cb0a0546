/* http_head.c - HTTP/1.x head parser (RFC 9112 §2-§5), strict and bounded.
 *
 * The parser is stateless: it re-scans the buffer from the start on every call,
 * which is cheap because a head is at most SO_HTTP_HEAD_MAX bytes. Complete
 * lines are validated as soon as they are present, so garbage is refused
 * without waiting for the blank line; the result for a prefix never changes
 * from an error into SO_AGAIN or SO_OK when more bytes arrive. */
#include "lib/http_head.h"

#include <string.h>

/* RFC 9110 §5.6.2 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values and reason phrases: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5). */
static int is_text(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* "HTTP/1.0" or "HTTP/1.1" exactly (case-sensitive, RFC 9112 §2.3). */
static int parse_version(const char *p, size_t n, int *minor)
{
    if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0)
        return -1;
    if (p[7] != '0' && p[7] != '1')
        return -1;
    *minor = p[7] - '0';
    return 0;
}

/* request-line = method SP request-target SP HTTP-version */
static enum so_err parse_request_line(const char *p, size_t n, struct so_http_head *out)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return SO_E_SYNTAX;
    out->method = (struct so_str){p, i};
    size_t t = ++i;
    /* The target is visible ASCII only (RFC 9112 §3.2); no raw spaces. */
    while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == t || i >= n || p[i] != ' ')
        return SO_E_SYNTAX;
    out->target = (struct so_str){p + t, i - t};
    i++;
    if (parse_version(p + i, n - i, &out->version_minor) != 0)
        return SO_E_SYNTAX;
    return SO_OK;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * A missing SP after the code is tolerated (seen in the wild, RFC 9112 §4). */
static enum so_err parse_status_line(const char *p, size_t n, struct so_http_head *out)
{
    if (n < 12 || parse_version(p, 8, &out->version_minor) != 0 || p[8] != ' ')
        return SO_E_SYNTAX;
    if (!is_digit((unsigned char)p[9]) || !is_digit((unsigned char)p[10]) ||
        !is_digit((unsigned char)p[11]))
        return SO_E_SYNTAX;
    int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (status < 100 || status > 599)
        return SO_E_SYNTAX;
    out->status = status;
    if (n == 12) {
        out->reason = (struct so_str){p + 12, 0};
        return SO_OK;
    }
    if (p[12] != ' ')
        return SO_E_SYNTAX;
    for (size_t i = 13; i < n; i++)
        if (!is_text((unsigned char)p[i]))
            return SO_E_SYNTAX;
    out->reason = (struct so_str){p + 13, n - 13};
    return SO_OK;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 §5) */
static enum so_err parse_header_line(const char *p, size_t n, struct so_http_head *out)
{
    /* A line starting with a blank continues the previous one (obs-fold): refused,
     * as RFC 9112 §5.2 allows; it is a classic smuggling vector. */
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    /* Covers empty names, blanks before the colon and a missing colon. */
    if (i == 0 || i >= n || p[i] != ':')
        return SO_E_SYNTAX;
    for (size_t k = i + 1; k < n; k++)
        if (!is_text((unsigned char)p[k]))
            return SO_E_SYNTAX;
    if (out->n_headers >= SO_HTTP_HEADERS_MAX)
        return SO_E_TOOBIG;
    struct so_http_header *h = &out->headers[out->n_headers++];
    h->name = (struct so_str){p, i};
    h->value = so_str_trim((struct so_str){p + i + 1, n - i - 1});
    return SO_OK;
}

static enum so_err parse_head(const char *buf, size_t len, struct so_http_head *out,
                              int request)
{
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    if (!buf)
        return len ? SO_E_ARG : SO_AGAIN;
    size_t limit = len < SO_HTTP_HEAD_MAX ? len : SO_HTTP_HEAD_MAX;
    size_t pos = 0;
    for (int line_no = 0;; line_no++) {
        const char *nl = memchr(buf + pos, '\n', limit - pos);
        if (!nl) {
            /* Control bytes in the unfinished line are refused right away; a CR
             * is judged once we know whether an LF follows it. */
            for (size_t k = pos; k < limit; k++) {
                unsigned char c = (unsigned char)buf[k];
                if (c == '\r' && k + 1 < limit)
                    return SO_E_SYNTAX;
                if (c != '\r' && c != '\t' && (c < 0x20 || c == 0x7f))
                    return SO_E_SYNTAX;
            }
            return len >= SO_HTTP_HEAD_MAX ? SO_E_TOOBIG : SO_AGAIN;
        }
        size_t end = (size_t)(nl - buf);
        size_t next = end + 1;
        if (end > pos && buf[end - 1] == '\r')
            end--;
        const char *p = buf + pos;
        size_t n = end - pos;
        /* Bare CR, NUL and other controls anywhere in the line (HTAB allowed). */
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)p[k];
            if (c != '\t' && (c < 0x20 || c == 0x7f))
                return SO_E_SYNTAX;
        }
        enum so_err e;
        if (line_no == 0) {
            /* No leading empty lines: our peers never send them. */
            if (n == 0)
                return SO_E_SYNTAX;
            e = request ? parse_request_line(p, n, out) : parse_status_line(p, n, out);
        } else if (n == 0) {
            out->head_len = next;
            return SO_OK;
        } else {
            e = parse_header_line(p, n, out);
        }
        if (e != SO_OK)
            return e;
        pos = next;
    }
}

enum so_err so_http_parse_request(const char *buf, size_t len, struct so_http_head *out)
{
    return parse_head(buf, len, out, 1);
}

enum so_err so_http_parse_response(const char *buf, size_t len, struct so_http_head *out)
{
    return parse_head(buf, len, out, 0);
}

const struct so_http_header *so_http_find(const struct so_http_head *h, const char *name)
{
    if (!h || !name)
        return NULL;
    for (size_t i = 0; i < h->n_headers && i < SO_HTTP_HEADERS_MAX; i++)
        if (so_str_ieq(h->headers[i].name, name))
            return &h->headers[i];
    return NULL;
}

size_t so_http_count(const struct so_http_head *h, const char *name)
{
    size_t c = 0;
    if (!h || !name)
        return 0;
    for (size_t i = 0; i < h->n_headers && i < SO_HTTP_HEADERS_MAX; i++)
        if (so_str_ieq(h->headers[i].name, name))
            c++;
    return c;
}

enum so_err so_http_content_length(const struct so_http_head *h, int *has_length,
                                   uint64_t *length)
{
    if (!h || !has_length || !length)
        return SO_E_ARG;
    *has_length = 0;
    *length = 0;
    int seen = 0;
    uint64_t v = 0;
    for (size_t i = 0; i < h->n_headers && i < SO_HTTP_HEADERS_MAX; i++) {
        if (!so_str_ieq(h->headers[i].name, "Content-Length"))
            continue;
        uint64_t x;
        /* Digits only: no sign, no list "5, 5", no blanks inside (RFC 9110 §8.6). */
        if (so_str_to_u64(h->headers[i].value, &x) != 0)
            return SO_E_HTTP_HEADER;
        if (seen && x != v)
            return SO_E_HTTP_HEADER;
        seen = 1;
        v = x;
    }
    if (seen && so_http_find(h, "Transfer-Encoding"))
        return SO_E_HTTP_HEADER;
    *has_length = seen;
    *length = v;
    return SO_OK;
}

struct so_str so_http_target_path(struct so_str target)
{
    if (!target.p)
        return target;
    const char *q = memchr(target.p, '?', target.n);
    if (q)
        target.n = (size_t)(q - target.p);
    return target;
}
