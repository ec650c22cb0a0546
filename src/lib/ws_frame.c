/* ws_frame.c - RFC 6455 §5.2 frame header decode/encode.
 * Checks run in header order as bytes become available, so a bad or oversized
 * frame is refused before its payload arrives (PROTOCOL.md §1.4: 2 KiB device RX). */
#include "lib/ws_frame.h"

#include <string.h>

static int is_known_opcode(unsigned op)
{
    return op == SO_WS_CONT || op == SO_WS_TEXT || op == SO_WS_BINARY || op == SO_WS_CLOSE ||
           op == SO_WS_PING || op == SO_WS_PONG;
}

static int is_control(unsigned op)
{
    return (op & 0x8) != 0;
}

enum so_err so_ws_decode(const uint8_t *buf, size_t len, size_t max_payload,
                         struct so_ws_frame *out)
{
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return SO_E_ARG;
    if (len < 1)
        return SO_AGAIN;

    unsigned op = buf[0] & 0x0f;
    out->fin = (buf[0] & 0x80) != 0;
    out->rsv = (buf[0] >> 4) & 0x7;
    out->opcode = (enum so_ws_opcode)op;
    if (!is_known_opcode(op))
        return SO_E_WS_FRAME;
    /* No extension is negotiated, so RSV1..3 must be 0 (§5.2). */
    if (out->rsv)
        return SO_E_WS_FRAME;
    if (is_control(op) && !out->fin)
        return SO_E_WS_FRAME;
    if (len < 2)
        return SO_AGAIN;

    out->masked = (buf[1] & 0x80) != 0;
    uint64_t plen = buf[1] & 0x7f;
    size_t hl = 2;
    /* Control frames carry at most 125 bytes, in the 7-bit length (§5.5). */
    if (is_control(op) && plen > 125)
        return SO_E_WS_FRAME;
    if (plen == 126) {
        if (len < 4)
            return SO_AGAIN;
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        hl = 4;
        if (plen < 126) /* minimal encoding (§5.2) */
            return SO_E_WS_FRAME;
    } else if (plen == 127) {
        if (len < 10)
            return SO_AGAIN;
        if (buf[2] & 0x80)
            return SO_E_WS_FRAME;
        plen = 0;
        for (int i = 2; i < 10; i++)
            plen = (plen << 8) | buf[i];
        hl = 10;
        if (plen < 65536)
            return SO_E_WS_FRAME;
    }
    out->payload_len = plen;
    if (plen > max_payload)
        return SO_E_TOOBIG;
    if (out->masked) {
        if (len < hl + 4)
            return SO_AGAIN;
        memcpy(out->mask, buf + hl, 4);
        hl += 4;
    }
    out->header_len = hl;
    /* plen <= max_payload, a size_t, so the sum below cannot wrap past len. */
    if (len - hl < plen)
        return SO_AGAIN;
    out->payload = buf + hl;
    return SO_OK;
}

void so_ws_unmask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                  size_t offset)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] ^ mask[(offset + i) & 3];
}

size_t so_ws_encode(uint8_t *out, size_t cap, enum so_ws_opcode op, const uint8_t *payload,
                    size_t n, const uint8_t *mask)
{
    unsigned o = (unsigned)op;
    if (!out || (n && !payload) || n > 65535 || o > 0xf || !is_known_opcode(o))
        return 0;
    if (is_control(o) && n > 125)
        return 0;
    size_t hl = 2 + (n > 125 ? 2 : 0) + (mask ? 4 : 0);
    if (cap < hl || cap - hl < n)
        return 0;
    out[0] = (uint8_t)(0x80 | o);
    size_t i = 1;
    if (n > 125) {
        out[i++] = (uint8_t)((mask ? 0x80 : 0) | 126);
        out[i++] = (uint8_t)(n >> 8);
        out[i++] = (uint8_t)(n & 0xff);
    } else {
        out[i++] = (uint8_t)((mask ? 0x80 : 0) | n);
    }
    if (mask) {
        memcpy(out + i, mask, 4);
        i += 4;
        so_ws_unmask(out + i, payload, n, mask, 0);
    } else if (n) {
        memcpy(out + i, payload, n);
    }
    return i + n;
}

int so_ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}
