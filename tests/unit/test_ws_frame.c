/* Unit tests for src/lib/ws_frame.c: the device's frames (PROTOCOL.md §1.4: ping
 * 89 80 00 00 00 00, pong 8A 00, zero-masked text with 16-bit length), every
 * rejection in the header's order, limits, round trips. Inputs are malloc'd to
 * their exact length so ASan reports over-reads. */
#include "lib/ws_frame.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static uint8_t *dup_exact(const uint8_t *s, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static enum so_err decode_exact(const uint8_t *s, size_t n, size_t max, struct so_ws_frame *f)
{
    uint8_t *p = dup_exact(s, n);
    enum so_err e = so_ws_decode(p, n, max, f);
    if (e == SO_OK) {
        assert_true(f->payload == p + f->header_len);
        f->payload = s + f->header_len; /* keep the view valid after free */
    }
    free(p);
    return e;
}

/* The register message a 2.x device sends (§1.4 table, S#32). */
static const char reg_json[] =
    "{\"userAgent\":\"device\",\"apikey\":\"94676db5-88f3-4dc0-8573-5e6615eaacc4\","
    "\"deviceid\":\"100006af71\",\"action\":\"register\",\"version\":2,\"romVersion\":\"2.0.1\","
    "\"model\":\"PSA-BHA-GL\",\"ts\":733}";

/* The device's frame: FIN+text, MASK with key 00 00 00 00, 16-bit length. */
static size_t device_text_frame(uint8_t *out, const char *json)
{
    size_t n = strlen(json);
    assert_true(n > 125 && n < 65536);
    out[0] = 0x81;
    out[1] = 0x80 | 126;
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    memset(out + 4, 0, 4);
    memcpy(out + 8, json, n);
    return n + 8;
}

static void device_frames(void **state)
{
    (void)state;
    struct so_ws_frame f;
    /* ping */
    assert_int_equal(decode_exact(BYTES(0x89, 0x80, 0, 0, 0, 0), SO_WS_PAYLOAD_MAX, &f), SO_OK);
    assert_int_equal(f.opcode, SO_WS_PING);
    assert_true(f.fin && f.masked && f.rsv == 0);
    assert_int_equal(f.payload_len, 0);
    assert_int_equal(f.header_len, 6);
    assert_memory_equal(f.mask, ((uint8_t[]){0, 0, 0, 0}), 4);
    /* pong */
    assert_int_equal(decode_exact(BYTES(0x8A, 0x00), SO_WS_PAYLOAD_MAX, &f), SO_OK);
    assert_int_equal(f.opcode, SO_WS_PONG);
    assert_true(f.fin && !f.masked);
    assert_int_equal(f.header_len, 2);
    assert_int_equal(f.payload_len, 0);
    /* register: zero-masked text, 16-bit length */
    uint8_t buf[512];
    size_t n = device_text_frame(buf, reg_json);
    assert_int_equal(decode_exact(buf, n, SO_WS_PAYLOAD_MAX, &f), SO_OK);
    assert_int_equal(f.opcode, SO_WS_TEXT);
    assert_true(f.fin && f.masked);
    assert_int_equal(f.header_len, 8);
    assert_int_equal(f.payload_len, strlen(reg_json));
    assert_memory_equal(f.payload, reg_json, strlen(reg_json));
    /* a server reply: unmasked, 7-bit length */
    static const char reply[] = "{\"error\":0,\"deviceid\":\"100006af71\","
                                "\"apikey\":\"2b4d7f1a-0c3e-4f5a-9b8c-7d6e5f4a3b2c\"}";
    uint8_t rbuf[128];
    rbuf[0] = 0x81;
    rbuf[1] = sizeof reply - 1;
    memcpy(rbuf + 2, reply, sizeof reply - 1);
    assert_int_equal(decode_exact(rbuf, sizeof reply + 1, SO_WS_PAYLOAD_MAX, &f), SO_OK);
    assert_true(!f.masked && f.payload_len == sizeof reply - 1 && f.header_len == 2);
}

struct bad_case {
    const uint8_t *b;
    size_t n;
    size_t max;
    enum so_err want;
};

static void rejections(void **state)
{
    (void)state;
    const size_t M = SO_WS_PAYLOAD_MAX;
    const struct bad_case cases[] = {
        /* reserved opcodes, seen from the first byte */
        {BYTES(0x83), M, SO_E_WS_FRAME},
        {BYTES(0x84, 0x00), M, SO_E_WS_FRAME},
        {BYTES(0x85), M, SO_E_WS_FRAME},
        {BYTES(0x86), M, SO_E_WS_FRAME},
        {BYTES(0x87), M, SO_E_WS_FRAME},
        {BYTES(0x8B), M, SO_E_WS_FRAME},
        {BYTES(0x8C), M, SO_E_WS_FRAME},
        {BYTES(0x8D), M, SO_E_WS_FRAME},
        {BYTES(0x8E), M, SO_E_WS_FRAME},
        {BYTES(0x8F, 0x00), M, SO_E_WS_FRAME},
        /* RSV bits (no extension negotiated) */
        {BYTES(0xC1, 0x00), M, SO_E_WS_FRAME},
        {BYTES(0xA1), M, SO_E_WS_FRAME},
        {BYTES(0x91), M, SO_E_WS_FRAME},
        {BYTES(0xF1, 0x00), M, SO_E_WS_FRAME},
        {BYTES(0xC3), M, SO_E_WS_FRAME},
        /* control frames: not FIN, or > 125 bytes */
        {BYTES(0x09), M, SO_E_WS_FRAME},
        {BYTES(0x08, 0x00), M, SO_E_WS_FRAME},
        {BYTES(0x0A, 0x00), M, SO_E_WS_FRAME},
        {BYTES(0x89, 0x7E), M, SO_E_WS_FRAME},
        {BYTES(0x89, 0xFE, 0x00, 0x7E), M, SO_E_WS_FRAME},
        {BYTES(0x88, 0x7F), M, SO_E_WS_FRAME},
        {BYTES(0x8A, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0), M, SO_E_WS_FRAME},
        /* non-minimal lengths */
        {BYTES(0x81, 0x7E, 0x00, 0x00), M, SO_E_WS_FRAME},
        {BYTES(0x81, 0x7E, 0x00, 0x7D), M, SO_E_WS_FRAME},
        {BYTES(0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7D), SIZE_MAX, SO_E_WS_FRAME},
        {BYTES(0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF), SIZE_MAX, SO_E_WS_FRAME},
        /* 64-bit length with the top bit set */
        {BYTES(0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0), SIZE_MAX, SO_E_WS_FRAME},
        {BYTES(0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), SIZE_MAX,
         SO_E_WS_FRAME},
        /* too big: refused as soon as the length is known, without the payload */
        {BYTES(0x81, 0x7E, 0x08, 0x01), M, SO_E_TOOBIG},
        {BYTES(0x81, 0xFE, 0xFF, 0xFF), M, SO_E_TOOBIG},
        {BYTES(0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0), M, SO_E_TOOBIG},
        {BYTES(0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), SIZE_MAX / 4,
         SO_E_TOOBIG},
        {BYTES(0x81, 0x65), 100, SO_E_TOOBIG},
        {BYTES(0x81, 0x01), 0, SO_E_TOOBIG},
        /* incomplete */
        {BYTES(0x81), M, SO_AGAIN},
        {BYTES(0x81, 0x7E), M, SO_AGAIN},
        {BYTES(0x81, 0x7E, 0x08), M, SO_AGAIN},
        {BYTES(0x81, 0x7E, 0x08, 0x00), M, SO_AGAIN},
        {BYTES(0x81, 0x7F, 0, 0, 0, 0, 0, 0, 0), M, SO_AGAIN},
        {BYTES(0x81, 0x85, 1, 2, 3), M, SO_AGAIN},
        {BYTES(0x81, 0x85, 1, 2, 3, 4, 'a'), M, SO_AGAIN},
        {BYTES(0x89, 0x80, 0, 0, 0), M, SO_AGAIN},
        /* accepted edge cases */
        {BYTES(0x00, 0x00), M, SO_OK},                 /* continuation, not FIN */
        {BYTES(0x01, 0x01, 'x'), M, SO_OK},            /* first fragment */
        {BYTES(0x82, 0x00), 0, SO_OK},                 /* empty binary, max 0 */
        {BYTES(0x88, 0x02, 0x03, 0xE8), M, SO_OK},     /* close 1000 */
        {BYTES(0x89, 0x7D), 0, SO_E_TOOBIG},           /* 125 is fine for control, not for max */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct so_ws_frame f;
        enum so_err e = decode_exact(cases[i].b, cases[i].n, cases[i].max, &f);
        if (e != cases[i].want)
            fail_msg("case %zu: got %d want %d", i, e, cases[i].want);
    }
    struct so_ws_frame f;
    assert_int_equal(so_ws_decode(NULL, 0, 10, &f), SO_AGAIN);
    assert_int_equal(so_ws_decode(NULL, 2, 10, &f), SO_E_ARG);
    assert_int_equal(so_ws_decode((const uint8_t *)"\x8a", 2, 10, NULL), SO_E_ARG);
}

/* Payload exactly at the device limit, then one byte over. */
static void payload_limit(void **state)
{
    (void)state;
    size_t sizes[] = {SO_WS_PAYLOAD_MAX, SO_WS_PAYLOAD_MAX + 1};
    for (size_t i = 0; i < 2; i++) {
        size_t n = sizes[i];
        uint8_t *payload = malloc(n);
        assert_non_null(payload);
        memset(payload, 'p', n);
        size_t cap = n + 8;
        uint8_t *frame = malloc(cap);
        assert_non_null(frame);
        size_t fl = so_ws_encode(frame, cap, SO_WS_TEXT, payload, n, (const uint8_t[4]){0});
        assert_int_equal(fl, n + 8);
        struct so_ws_frame f;
        enum so_err e = decode_exact(frame, fl, SO_WS_PAYLOAD_MAX, &f);
        assert_int_equal(e, n <= SO_WS_PAYLOAD_MAX ? SO_OK : SO_E_TOOBIG);
        free(frame);
        free(payload);
    }
    /* a valid 64-bit-length frame when the caller allows it */
    size_t n = 65536;
    uint8_t *frame = calloc(1, n + 10);
    assert_non_null(frame);
    frame[0] = 0x82;
    frame[1] = 0x7F;
    frame[7] = 0x01; /* 0x0000000000010000 */
    struct so_ws_frame f;
    assert_int_equal(decode_exact(frame, n + 10, SIZE_MAX, &f), SO_OK);
    assert_int_equal(f.header_len, 10);
    assert_true(f.payload_len == n);
    assert_int_equal(decode_exact(frame, n + 9, SIZE_MAX, &f), SO_AGAIN);
    assert_int_equal(decode_exact(frame, n + 10, SO_WS_PAYLOAD_MAX, &f), SO_E_TOOBIG);
    free(frame);
}

static void byte_by_byte(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t reg = device_text_frame(buf, reg_json);
    const struct {
        const uint8_t *b;
        size_t n;
    } frames[] = {
        {BYTES(0x89, 0x80, 0, 0, 0, 0)},
        {BYTES(0x8A, 0x00)},
        {buf, reg},
        {BYTES(0x81, 0x83, 0x11, 0x22, 0x33, 0x44, 'a' ^ 0x11, 'b' ^ 0x22, 'c' ^ 0x33)},
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        struct so_ws_frame f;
        for (size_t k = 0; k < frames[i].n; k++)
            assert_int_equal(decode_exact(frames[i].b, k, SO_WS_PAYLOAD_MAX, &f), SO_AGAIN);
        assert_int_equal(decode_exact(frames[i].b, frames[i].n, SO_WS_PAYLOAD_MAX, &f), SO_OK);
        assert_int_equal(f.header_len + f.payload_len, frames[i].n);
    }
}

/* Several frames back to back, as one TCP read may carry them. */
static void decode_stream(void **state)
{
    (void)state;
    uint8_t stream[600];
    size_t n = 0;
    n += device_text_frame(stream, reg_json);
    memcpy(stream + n, (uint8_t[]){0x89, 0x80, 0, 0, 0, 0, 0x8A, 0x00}, 8);
    n += 8;
    uint8_t *p = dup_exact(stream, n);
    const enum so_ws_opcode want[] = {SO_WS_TEXT, SO_WS_PING, SO_WS_PONG};
    size_t off = 0, count = 0;
    while (off < n) {
        struct so_ws_frame f;
        assert_int_equal(so_ws_decode(p + off, n - off, SO_WS_PAYLOAD_MAX, &f), SO_OK);
        assert_int_equal(f.opcode, want[count]);
        off += f.header_len + (size_t)f.payload_len;
        count++;
    }
    assert_int_equal(count, 3);
    assert_int_equal(off, n);
    free(p);
}

static void unmask(void **state)
{
    (void)state;
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    /* RFC 6455 §5.7: masked "Hello" */
    const uint8_t masked[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    uint8_t out[5];
    so_ws_unmask(out, masked, 5, mask, 0);
    assert_memory_equal(out, "Hello", 5);
    /* in place, in two pieces with offsets */
    uint8_t inplace[5];
    memcpy(inplace, masked, 5);
    so_ws_unmask(inplace, inplace, 3, mask, 0);
    so_ws_unmask(inplace + 3, inplace + 3, 2, mask, 3);
    assert_memory_equal(inplace, "Hello", 5);
    /* a zero mask changes nothing (the device's frames) */
    so_ws_unmask(out, (const uint8_t *)"abc", 3, (const uint8_t[4]){0}, 1);
    assert_memory_equal(out, "abc", 3);
    struct so_ws_frame f;
    assert_int_equal(decode_exact(BYTES(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d,
                                        0x51, 0x58),
                                  SO_WS_PAYLOAD_MAX, &f),
                     SO_OK);
    assert_memory_equal(f.mask, mask, 4);
}

static void encode(void **state)
{
    (void)state;
    uint8_t out[70000];
    /* pong must be exactly 8A 00 (§1.4) */
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_PONG, NULL, 0, NULL), 2);
    assert_memory_equal(out, ((uint8_t[]){0x8A, 0x00}), 2);
    /* the device's ping */
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_PING, NULL, 0, (const uint8_t[4]){0}),
                     6);
    assert_memory_equal(out, ((uint8_t[]){0x89, 0x80, 0, 0, 0, 0}), 6);
    /* 7-bit / 16-bit boundary */
    uint8_t payload[65536];
    memset(payload, 'x', sizeof payload);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_TEXT, payload, 125, NULL), 127);
    assert_memory_equal(out, ((uint8_t[]){0x81, 125}), 2);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_TEXT, payload, 126, NULL), 130);
    assert_memory_equal(out, ((uint8_t[]){0x81, 126, 0x00, 126}), 4);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_TEXT, payload, 65535, NULL), 65539);
    assert_memory_equal(out, ((uint8_t[]){0x81, 126, 0xff, 0xff}), 4);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_TEXT, payload, 65536, NULL), 0);
    /* the register frame as the device sends it */
    uint8_t dev[512];
    size_t dn = device_text_frame(dev, reg_json);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_TEXT, (const uint8_t *)reg_json,
                                  strlen(reg_json), (const uint8_t[4]){0}),
                     dn);
    assert_memory_equal(out, dev, dn);
    /* cap: exact fits, one short fails */
    assert_int_equal(so_ws_encode(out, 7, SO_WS_TEXT, payload, 5, NULL), 7);
    assert_int_equal(so_ws_encode(out, 6, SO_WS_TEXT, payload, 5, NULL), 0);
    assert_int_equal(so_ws_encode(out, 11, SO_WS_TEXT, payload, 5, (const uint8_t[4]){1}), 11);
    assert_int_equal(so_ws_encode(out, 10, SO_WS_TEXT, payload, 5, (const uint8_t[4]){1}), 0);
    assert_int_equal(so_ws_encode(out, 1, SO_WS_PONG, NULL, 0, NULL), 0);
    /* invalid requests */
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_PING, payload, 126, NULL), 0);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_CLOSE, payload, 125, NULL), 127);
    assert_int_equal(so_ws_encode(out, sizeof out, (enum so_ws_opcode)3, payload, 1, NULL), 0);
    assert_int_equal(so_ws_encode(out, sizeof out, (enum so_ws_opcode)0x11, payload, 1, NULL), 0);
    assert_int_equal(so_ws_encode(out, sizeof out, SO_WS_TEXT, NULL, 1, NULL), 0);
    assert_int_equal(so_ws_encode(NULL, 10, SO_WS_TEXT, payload, 1, NULL), 0);
}

static void round_trip(void **state)
{
    (void)state;
    const size_t lens[] = {0, 1, 4, 125, 126, 127, 1000, 2048, 65535};
    const enum so_ws_opcode ops[] = {SO_WS_TEXT, SO_WS_BINARY, SO_WS_CONT, SO_WS_PING,
                                     SO_WS_PONG, SO_WS_CLOSE};
    const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
    static uint8_t payload[65535], frame[65535 + 8], plain[65535];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31 + 7);
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            for (int m = 0; m < 2; m++) {
                size_t n = lens[l];
                size_t fl = so_ws_encode(frame, sizeof frame, ops[o], payload, n, m ? key : NULL);
                if ((ops[o] & 0x8) && n > 125) {
                    assert_int_equal(fl, 0);
                    continue;
                }
                assert_true(fl > 0);
                struct so_ws_frame f;
                assert_int_equal(decode_exact(frame, fl, 65535, &f), SO_OK);
                assert_int_equal(f.opcode, ops[o]);
                assert_true(f.fin);
                assert_int_equal(f.masked, m);
                assert_true(f.payload_len == n);
                assert_int_equal(f.header_len + n, fl);
                so_ws_unmask(plain, frame + f.header_len, n, m ? key : (const uint8_t[4]){0}, 0);
                assert_memory_equal(plain, payload, n);
            }
        }
    }
}

/* RFC 6455 §7.4: which received close codes are legal (a table of every edge). */
static void close_codes(void **state)
{
    (void)state;
    static const struct {
        unsigned code;
        int valid;
    } t[] = {
        {0, 0},     {999, 0},   {1000, 1},  {1001, 1},  {1002, 1},  {1003, 1},
        {1004, 0},  {1005, 0},  {1006, 0},  {1007, 1},  {1008, 1},  {1009, 1},
        {1010, 1},  {1011, 1},  {1012, 1},  {1013, 1},  {1014, 1},  {1015, 0},
        {1016, 0},  {2999, 0},  {3000, 1},  {3999, 1},  {4000, 1},  {4999, 1},
        {5000, 0},  {65535, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (so_ws_close_code_valid(t[i].code) != t[i].valid)
            fail_msg("close code %u: expected %s", t[i].code, t[i].valid ? "valid" : "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_frames), cmocka_unit_test(rejections),
        cmocka_unit_test(payload_limit), cmocka_unit_test(byte_by_byte),
        cmocka_unit_test(decode_stream), cmocka_unit_test(unmask),
        cmocka_unit_test(encode),        cmocka_unit_test(round_trip),
        cmocka_unit_test(close_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
