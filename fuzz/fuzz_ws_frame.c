/* fuzz_ws_frame.c - libFuzzer target for src/lib/ws_frame.c.
 * Decodes frames back to back as a connection would, unmasks each payload and
 * re-encodes it: the decoder only accepts minimal lengths, so a FIN frame must
 * come back byte for byte. Prefixes of a frame must ask for more bytes. */
#include "lib/ws_frame.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_loop(const uint8_t *data, size_t size, size_t max)
{
    size_t off = 0;
    while (off < size) {
        struct so_ws_frame f;
        enum so_err e = so_ws_decode(data + off, size - off, max, &f);
        if (e != SO_OK) {
            assert(e == SO_AGAIN || e == SO_E_WS_FRAME || e == SO_E_TOOBIG);
            if (e == SO_E_TOOBIG)
                assert(f.payload_len > max);
            return;
        }
        assert(f.payload_len <= max && f.rsv == 0);
        assert(f.header_len >= 2 && f.header_len <= 14);
        assert(f.payload == data + off + f.header_len);
        size_t n = (size_t)f.payload_len;
        size_t flen = f.header_len + n;
        assert(flen <= size - off);
        if (f.opcode & 0x8)
            assert(f.fin && n <= 125);

        /* Every strict prefix of the frame is incomplete. */
        struct so_ws_frame g;
        assert(so_ws_decode(data + off, flen - 1, max, &g) == SO_AGAIN);

        uint8_t *plain = malloc(n ? n : 1);
        assert(plain);
        so_ws_unmask(plain, f.payload, n, f.mask, 0);
        if (f.masked && n > 1) {
            /* in two pieces, as a reader with a short buffer would */
            uint8_t *twice = malloc(n);
            assert(twice);
            size_t cut = n / 3;
            so_ws_unmask(twice, f.payload, cut, f.mask, 0);
            so_ws_unmask(twice + cut, f.payload + cut, n - cut, f.mask, cut);
            assert(memcmp(twice, plain, n) == 0);
            free(twice);
        }
        if (f.opcode == SO_WS_CLOSE && n >= 2) {
            unsigned code = (unsigned)plain[0] << 8 | plain[1];
            int v = so_ws_close_code_valid(code);
            assert(v == ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                         (code >= 3000 && code <= 4999)));
        }
        if (f.fin && n <= 65535) {
            size_t cap = n + 8;
            uint8_t *out = malloc(cap);
            assert(out);
            size_t got = so_ws_encode(out, cap, f.opcode, plain, n, f.masked ? f.mask : NULL);
            assert(got == flen);
            assert(memcmp(out, data + off, flen) == 0);
            assert(so_ws_encode(out, got - 1, f.opcode, plain, n, f.masked ? f.mask : NULL) == 0);
            free(out);
        }
        free(plain);
        off += flen;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_loop(data, size, SO_WS_PAYLOAD_MAX);
    decode_loop(data, size, SIZE_MAX);
    return 0;
}
