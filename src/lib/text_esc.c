#include "lib/text_esc.h"

#include <stdint.h>
#include <string.h>

enum esc_mode { MODE_TEXT, MODE_JSON };

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char b = p[0];
    size_t need;
    uint32_t c, min;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2, c = b & 0x1Fu, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3, c = b & 0x0Fu, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4, c = b & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return need;
}

/* Code points that change how a terminal shows what follows. */
static int cp_unsafe(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) ||      /* C1 controls */
           (c >= 0x202A && c <= 0x202E) ||  /* bidi embeddings and overrides */
           (c >= 0x2066 && c <= 0x2069);    /* bidi isolates */
}

/* What one input unit at p becomes: its escape in esc (NUL-terminated, returns its
 * length) or, returning 0, a plain copy of *used bytes. */
static size_t one_unit(const unsigned char *p, size_t n, enum esc_mode mode, unsigned flags,
                       char esc[8], size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b = p[0];
    *used = 1;
    if (b < 0x80) {
        if (b >= 0x20 && b != 0x7F)
            return 0;
        if (mode == MODE_JSON) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[b >> 4], esc[5] = hex[b & 15], esc[6] = '\0';
            return 6;
        }
        if (b == '\n' && (flags & TEXT_ESC_KEEP_NL))
            return 0;
        if (b == '\n' || b == '\r' || b == '\t') {
            esc[0] = '\\', esc[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't', esc[2] = '\0';
            return 2;
        }
        memcpy(esc, "\\x", 2);
        esc[2] = hex[b >> 4], esc[3] = hex[b & 15], esc[4] = '\0';
        return 4;
    }
    uint32_t c;
    size_t k = utf8_seq(p, n, &c);
    if (k) {
        *used = k;
        if (!cp_unsafe(c))
            return 0;
        memcpy(esc, "\\u", 2);
        for (int i = 0; i < 4; i++)
            esc[2 + i] = hex[(c >> (12 - 4 * i)) & 15];
        esc[6] = '\0';
        return 6;
    }
    /* Not UTF-8: the byte itself, as text (JSON: an escaped backslash, then xNN). */
    size_t o = 0;
    esc[o++] = '\\';
    if (mode == MODE_JSON)
        esc[o++] = '\\';
    esc[o++] = 'x', esc[o++] = hex[b >> 4], esc[o++] = hex[b & 15], esc[o] = '\0';
    return o;
}

static size_t run(char *out, size_t cap, const char *in, size_t len, enum esc_mode mode,
                  unsigned flags, int *cut)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, i = 0;
    if (cut)
        *cut = 0;
    if (!cap)
        return 0;
    while (i < len) {
        char esc[8];
        size_t used;
        size_t k = one_unit(p + i, len - i, mode, flags, esc, &used);
        const char *src = k ? esc : (const char *)p + i;
        size_t m = k ? k : used;
        if (o + m + 1 > cap) {
            if (cut)
                *cut = 1;
            break;
        }
        memcpy(out + o, src, m);
        o += m;
        i += used;
    }
    out[o] = '\0';
    return o;
}

size_t text_esc(char *out, size_t cap, const char *in, size_t len, unsigned flags, int *cut)
{
    return run(out, cap, in, len, MODE_TEXT, flags, cut);
}

size_t text_esc_json(char *out, size_t cap, const char *in, size_t len, int *cut)
{
    return run(out, cap, in, len, MODE_JSON, 0, cut);
}

int text_esc_needed(const char *in, size_t len, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < len;) {
        char esc[8];
        size_t used;
        if (one_unit(p + i, len - i, MODE_TEXT, flags, esc, &used))
            return 1;
        i += used;
    }
    return 0;
}
