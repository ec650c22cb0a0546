/* ws_frame.h - WebSocket frame codec (RFC 6455) with the stock firmware's limits. */
#ifndef SO_WS_FRAME_H
#define SO_WS_FRAME_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* Device receive buffer is 2048 B (PROTOCOL.md §1.4): larger frames are refused. */
#define SO_WS_PAYLOAD_MAX 2048
/* The firmware's fixed handshake key (§1.4); its accept value is computed where needed. */
#define SO_WS_DEVICE_KEY "ITEADTmobiM0x1DabcEsnw=="

enum so_ws_opcode {
    SO_WS_CONT = 0x0,
    SO_WS_TEXT = 0x1,
    SO_WS_BINARY = 0x2,
    SO_WS_CLOSE = 0x8,
    SO_WS_PING = 0x9,
    SO_WS_PONG = 0xA,
};

struct so_ws_frame {
    int fin;
    int rsv;                /* RSV1..3 bits as sent (must be 0 for us) */
    enum so_ws_opcode opcode;
    int masked;
    uint8_t mask[4];
    uint64_t payload_len;
    size_t header_len;
    const uint8_t *payload; /* into the input buffer, still masked if masked */
};

/* Decodes one frame at the start of buf.
 * SO_OK: header_len + payload_len bytes form the frame (all present in buf).
 * SO_AGAIN: need more bytes (checks below run as soon as their bytes are present).
 * SO_E_TOOBIG: payload_len > max_payload (checked as soon as the length is known).
 * SO_E_WS_FRAME: reserved opcode, RSV bits set, control frame > 125 B or not FIN,
 *   non-minimal length encoding, 64-bit length with the top bit set. */
enum so_err so_ws_decode(const uint8_t *buf, size_t len, size_t max_payload,
                         struct so_ws_frame *out);

/* XORs n bytes with the mask, starting at payload offset `offset`. dst may equal src. */
void so_ws_unmask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                  size_t offset);

/* Encodes a FIN frame with opcode and payload into out. With mask != NULL the
 * frame is masked with that key (the device always uses 00 00 00 00); else unmasked.
 * Uses 7-bit or 16-bit lengths only (the device reads no 64-bit lengths); payloads
 * over 65535 are refused. Returns the frame length, or 0 if cap is too small,
 * n > 65535, op is not one of the opcodes above, or a control frame (close, ping,
 * pong) would carry more than 125 bytes (RFC 6455 §5.5). payload must not overlap out. */
size_t so_ws_encode(uint8_t *out, size_t cap, enum so_ws_opcode op, const uint8_t *payload,
                    size_t n, const uint8_t *mask);

/* 1 when a peer may send this status code in a close frame (RFC 6455 §7.4 and the
 * IANA registry): 1000-1003, 1007-1014 and 3000-4999. 1004-1006 and 1015 are
 * reserved or must never be sent, the rest of 0-2999 is unassigned; an endpoint
 * receiving one fails the connection (1002), it does not echo it. */
int so_ws_close_code_valid(unsigned code);

#endif
