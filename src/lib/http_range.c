/* http_range.c - Range (RFC 9110 §14.2) and Content-Range (§14.4), single range only.
 * Devices ask `bytes=a-b` 4 KiB at a time and read TOTAL after the '/' of the
 * reply's Content-Range (PROTOCOL.md §1.5, §6). */
#include "lib/http_range.h"

#include <string.h>

struct cursor {
    const char *p;
    size_t n;
    size_t i;
};

static void skip_blanks(struct cursor *c)
{
    while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t'))
        c->i++;
}

static int at_end(const struct cursor *c)
{
    return c->i >= c->n;
}

static int peek(const struct cursor *c)
{
    return c->i < c->n ? (unsigned char)c->p[c->i] : -1;
}

/* Decimal digits, no sign; -1 when there are none or on overflow. */
static int read_u64(struct cursor *c, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = c->i;
    while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9') {
        uint64_t d = (uint64_t)(c->p[c->i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        c->i++;
    }
    if (c->i == start)
        return -1;
    *out = v;
    return 0;
}

/* The range unit, case-insensitive (RFC 9110 §14.1). */
static int read_bytes_unit(struct cursor *c)
{
    static const char unit[] = "bytes";
    if (c->n - c->i < 5)
        return -1;
    for (size_t k = 0; k < 5; k++) {
        char ch = c->p[c->i + k];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != unit[k])
            return -1;
    }
    c->i += 5;
    return 0;
}

enum so_err so_range_parse(const char *value, size_t n, uint64_t size, struct so_range *out)
{
    if (!value || !out)
        return SO_E_ARG;
    struct cursor c = {value, n, 0};
    skip_blanks(&c);
    if (read_bytes_unit(&c) != 0)
        return SO_E_SYNTAX;
    skip_blanks(&c);
    if (peek(&c) != '=')
        return SO_E_SYNTAX;
    c.i++;
    skip_blanks(&c);

    int suffix = 0;
    uint64_t a = 0, b = 0;
    int has_b = 0;
    if (peek(&c) == '-') {
        suffix = 1;
        c.i++;
        skip_blanks(&c);
        if (read_u64(&c, &b) != 0)
            return SO_E_SYNTAX;
    } else {
        if (read_u64(&c, &a) != 0)
            return SO_E_SYNTAX;
        skip_blanks(&c);
        if (peek(&c) != '-')
            return SO_E_SYNTAX;
        c.i++;
        skip_blanks(&c);
        if (!at_end(&c) && peek(&c) != ',') {
            if (read_u64(&c, &b) != 0)
                return SO_E_SYNTAX;
            has_b = 1;
            if (a > b)
                return SO_E_SYNTAX;
        }
    }
    skip_blanks(&c);
    /* Anything left, a ',' included, means a second range or junk: we never
     * answer multipart, the caller sends the whole body (200) instead. */
    if (!at_end(&c))
        return SO_E_SYNTAX;

    if (size == 0)
        return SO_E_RANGE;
    if (suffix) {
        /* "-0" selects nothing (RFC 9110 §14.1.3). */
        if (b == 0)
            return SO_E_RANGE;
        out->first = b >= size ? 0 : size - b;
        out->last = size - 1;
        return SO_OK;
    }
    if (a >= size)
        return SO_E_RANGE;
    out->first = a;
    out->last = (!has_b || b >= size) ? size - 1 : b;
    return SO_OK;
}

/* Writes v in decimal at buf[*pos]; returns -1 when it would not fit in cap-1. */
static int put_u64(char *buf, size_t cap, size_t *pos, uint64_t v)
{
    char tmp[20];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (*pos + k >= cap)
        return -1;
    while (k)
        buf[(*pos)++] = tmp[--k];
    return 0;
}

static int put_str(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t k = strlen(s);
    if (*pos + k >= cap)
        return -1;
    memcpy(buf + *pos, s, k);
    *pos += k;
    return 0;
}

size_t so_content_range_format(char *buf, size_t cap, struct so_range r, uint64_t size,
                               int equals_form)
{
    if (!buf || cap == 0)
        return 0;
    buf[0] = '\0';
    if (r.first > r.last || r.last >= size)
        return 0;
    size_t pos = 0;
    if (put_str(buf, cap, &pos, equals_form ? "bytes=" : "bytes ") != 0 ||
        put_u64(buf, cap, &pos, r.first) != 0 || put_str(buf, cap, &pos, "-") != 0 ||
        put_u64(buf, cap, &pos, r.last) != 0 || put_str(buf, cap, &pos, "/") != 0 ||
        put_u64(buf, cap, &pos, size) != 0) {
        buf[0] = '\0';
        return 0;
    }
    buf[pos] = '\0';
    return pos;
}

size_t so_content_range_format_unsatisfied(char *buf, size_t cap, uint64_t size)
{
    if (!buf || cap == 0)
        return 0;
    size_t pos = 0;
    if (put_str(buf, cap, &pos, "bytes */") != 0 || put_u64(buf, cap, &pos, size) != 0) {
        buf[0] = '\0';
        return 0;
    }
    buf[pos] = '\0';
    return pos;
}

enum so_err so_content_range_parse(const char *value, size_t n, struct so_range *out,
                                   uint64_t *total)
{
    if (!value || !out || !total)
        return SO_E_ARG;
    struct cursor c = {value, n, 0};
    skip_blanks(&c);
    if (read_bytes_unit(&c) != 0)
        return SO_E_SYNTAX;
    /* "bytes a-b/t" (RFC) or "bytes=a-b/t" (ITEAD's server, §6). */
    size_t before = c.i;
    skip_blanks(&c);
    if (peek(&c) == '=') {
        c.i++;
        skip_blanks(&c);
    } else if (c.i == before) {
        return SO_E_SYNTAX;
    }
    int unsatisfied = 0;
    uint64_t a = 0, b = 0, t = 0;
    if (peek(&c) == '*') {
        /* "bytes *" then "/total": the 416 form, no range to use. */
        unsatisfied = 1;
        c.i++;
    } else {
        if (read_u64(&c, &a) != 0)
            return SO_E_SYNTAX;
        skip_blanks(&c);
        if (peek(&c) != '-')
            return SO_E_SYNTAX;
        c.i++;
        skip_blanks(&c);
        if (read_u64(&c, &b) != 0)
            return SO_E_SYNTAX;
    }
    skip_blanks(&c);
    if (peek(&c) != '/')
        return SO_E_SYNTAX;
    c.i++;
    skip_blanks(&c);
    int unknown_total = 0;
    if (peek(&c) == '*') {
        unknown_total = 1;
        c.i++;
    } else if (read_u64(&c, &t) != 0) {
        return SO_E_SYNTAX;
    }
    skip_blanks(&c);
    if (!at_end(&c))
        return SO_E_SYNTAX;
    if (unsatisfied || unknown_total || a > b || b >= t)
        return SO_E_RANGE;
    out->first = a;
    out->last = b;
    *total = t;
    return SO_OK;
}

int so_range_chunk(uint64_t k, uint64_t size, struct so_range *out)
{
    if (!out || k > UINT64_MAX / SO_RANGE_CHUNK)
        return -1;
    uint64_t first = k * SO_RANGE_CHUNK;
    if (first >= size)
        return -1;
    out->first = first;
    out->last = (size - first > SO_RANGE_CHUNK) ? first + SO_RANGE_CHUNK - 1 : size - 1;
    return 0;
}
