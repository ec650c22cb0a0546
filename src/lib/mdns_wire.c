/* mdns_wire.c - strict bounds check of DNS messages for libmdnsd (RFC 1035 §4.1). */
#include "lib/mdns_wire.h"

#include <string.h>

/* Checks the name at off. *end = offset just past it in the message (after the zero
 * byte or the first pointer). Pointers must go strictly backwards, each below the
 * previous target, so following them always ends. 0 or -1. */
static int check_name(const uint8_t *p, size_t n, size_t off, size_t *end)
{
    size_t pos = off, limit = off, total = 0;
    int jumped = 0;
    for (;;) {
        if (pos >= n)
            return -1;
        uint8_t c = p[pos];
        if (c == 0) {
            if (!jumped)
                *end = pos + 1;
            return total + 1 <= MDNS_NAME_MAX ? 0 : -1;
        }
        if ((c & 0xC0) == 0xC0) {
            if (pos + 1 >= n)
                return -1;
            size_t target = (size_t)(c & 0x3F) << 8 | p[pos + 1];
            if (target >= limit || target < 12)
                return -1;
            if (!jumped)
                *end = pos + 2;
            jumped = 1;
            limit = target;
            pos = target;
            continue;
        }
        if (c & 0xC0)
            return -1; /* 0x40 / 0x80 label types are not used */
        if (c > n - pos - 1)
            return -1;
        total += (size_t)c + 1;
        if (total + 1 > MDNS_NAME_MAX)
            return -1;
        pos += (size_t)c + 1;
    }
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* One resource record at *off; advances *off. */
static int check_rr(const uint8_t *p, size_t n, size_t *off)
{
    size_t pos;
    if (check_name(p, n, *off, &pos) || n - pos < 10)
        return -1;
    unsigned type = get16(p + pos);
    size_t rdlen = get16(p + pos + 8);
    pos += 10;
    if (rdlen > n - pos)
        return -1;
    size_t rd_end = pos + rdlen, name_end;
    switch (type) {
    case MDNS_TYPE_A:
        if (rdlen != 4)
            return -1;
        break;
    case 2: /* NS */
    case 5: /* CNAME */
    case MDNS_TYPE_PTR:
        if (check_name(p, rd_end, pos, &name_end) || name_end != rd_end)
            return -1;
        break;
    case MDNS_TYPE_SRV:
        if (rdlen < 7 || check_name(p, rd_end, pos + 6, &name_end) || name_end != rd_end)
            return -1;
        break;
    default:
        break;
    }
    *off = rd_end;
    return 0;
}

size_t mdns_wire_questions_only(uint8_t *p, size_t n)
{
    if (!p || n < 12 || n > MDNS_PACKET_MAX || (p[2] & 0x80))
        return 0;
    unsigned qd = get16(p + 4);
    if (qd > MDNS_RECORDS_MAX)
        return 0;
    size_t off = 12;
    for (unsigned i = 0; i < qd; i++) {
        size_t end;
        if (check_name(p, n, off, &end) || n - end < 4)
            return 0;
        off = end + 4;
    }
    memset(p + 6, 0, 6);
    return off;
}

enum so_err mdns_wire_check(const uint8_t *p, size_t n)
{
    if (!p || n < 12)
        return SO_E_SYNTAX;
    if (n > MDNS_PACKET_MAX)
        return SO_E_TOOBIG;
    unsigned qd = get16(p + 4), an = get16(p + 6), ns = get16(p + 8), ar = get16(p + 10);
    if ((unsigned long)qd + an + ns + ar > MDNS_RECORDS_MAX)
        return SO_E_TOOBIG;
    size_t off = 12;
    for (unsigned i = 0; i < qd; i++) {
        size_t end;
        if (check_name(p, n, off, &end) || n - end < 4)
            return SO_E_SYNTAX;
        off = end + 4;
    }
    for (unsigned i = 0; i < an + ns + ar; i++)
        if (check_rr(p, n, &off))
            return SO_E_SYNTAX;
    return SO_OK;
}
