/* Unit tests for src/lib/http_head.c: real heads from PROTOCOL.md §1.3-§1.5, §4, §6,
 * every rejection and limit. Inputs are malloc'd to their exact length so ASan
 * reports any read past len. */
#include "lib/http_head.h"
#include "lib/ws_frame.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* A literal with its exact length (embedded NULs included). */
#define LIT(s) s, sizeof(s) - 1

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static enum so_err parse_exact(int request, const char *s, size_t n, struct so_http_head *h)
{
    char *p = dup_exact(s, n);
    enum so_err e = request ? so_http_parse_request(p, n, h) : so_http_parse_response(p, n, h);
    /* Views must point into the input, so check them before freeing it. */
    if (e == SO_OK) {
        assert_true(h->head_len <= n && h->head_len <= SO_HTTP_HEAD_MAX);
        for (size_t i = 0; i < h->n_headers; i++) {
            assert_true(h->headers[i].name.p >= p && h->headers[i].name.p < p + n);
            assert_true(h->headers[i].value.p >= p && h->headers[i].value.p <= p + n);
        }
    }
    free(p);
    return e;
}

/* ---- fixtures (PROTOCOL.md) ---- */

static const char ws_handshake[] = /* §1.4, the device's fixed key */
    "GET /api/ws HTTP/1.1\r\n"
    "Host: iotgo.iteadstudio.com\r\n"
    "Connection: upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Key: ITEADTmobiM0x1DabcEsnw==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

static const char dispatch_req[] = /* §1.3, VP capture, head + body */
    "POST /dispatch/device HTTP/1.1\r\n"
    "Host: 192.168.1.6\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 152\r\n"
    "\r\n"
    "{\"accept\":\"ws;2\",\"version\":2,\"ts\":933,\"deviceid\":\"100008db11\","
    "\"apikey\":\"94676db5-88f3-4dc0-8573-5e6615eaacc4\",\"model\":\"ITA-GZ1-GL\","
    "\"romVersion\":\"1.5.5\"}";

static const char range_get[] = /* §1.5 style A */
    "GET /ota/image_user1-0x01000.bin?deviceid=100008db11&ts=1191391529&sign=ab12 HTTP/1.1\r\n"
    "Host: dl.itead.cn\r\n"
    "Range: bytes=0-4095\r\n"
    "User-Agent: itead-device\r\n"
    "\r\n";

static const char e2a_get[] = /* §4: Arduino HTTPClient, HTTP/1.0 */
    "GET /ota/image_arduino.bin HTTP/1.0\r\n"
    "Host: 192.168.4.2:8080\r\n"
    "User-Agent: ESP8266HTTPClient\r\n"
    "Connection: close\r\n"
    "\r\n";

static const char dispatch_reply[] = /* §1.3, VP: cloud reply */
    "HTTP/1.1 200 OK\r\n"
    "Server: openresty\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 58\r\n"
    "\r\n"
    "{\"error\":0,\"reason\":\"ok\",\"IP\":\"35.157.208.224\",\"port\":443}";

static const char ws_101[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: q1/L5gx6qdQ7y3UWgO/Tah/zXBA=\r\n"
    "\r\n";

static const char partial_206[] = /* §1.5, §6 */
    "HTTP/1.1 206 Partial Content\r\n"
    "Content-Range: bytes=0-4095/239220\r\n"
    "Content-Length: 4096\r\n"
    "\r\n";

/* ---- accepted heads ---- */

struct ok_case {
    int request;
    const char *s;
    size_t n;
    const char *method;  /* or NULL for responses */
    const char *target;
    int status;
    const char *reason;
    int minor;
    size_t n_headers;
    size_t head_len;     /* 0: whole input */
};

static void accepts_real_heads(void **state)
{
    (void)state;
    const struct ok_case cases[] = {
        {1, LIT(ws_handshake), "GET", "/api/ws", 0, NULL, 1, 5, 0},
        {1, LIT(dispatch_req), "POST", "/dispatch/device", 0, NULL, 1, 3,
         sizeof dispatch_req - 1 - 152},
        {1, LIT(range_get), "GET",
         "/ota/image_user1-0x01000.bin?deviceid=100008db11&ts=1191391529&sign=ab12", 0, NULL,
         1, 3, 0},
        {1, LIT(e2a_get), "GET", "/ota/image_arduino.bin", 0, NULL, 0, 3, 0},
        /* bare LF line ends */
        {1, LIT("GET / HTTP/1.1\nHost: x\n\n"), "GET", "/", 0, NULL, 1, 1, 0},
        /* mixed endings, empty value, obs-text in a value, HTAB around a value */
        {1, LIT("OPTIONS * HTTP/1.1\r\nX-Empty:\r\nX-Utf8: \xc3\xa9t\xc3\xa9\nX-Tab:\t v \t\r\n\r\n"),
         "OPTIONS", "*", 0, NULL, 1, 3, 0},
        /* every tchar is a valid method character */
        {1, LIT("!#$%&'*+-.^_`|~0aZ / HTTP/1.0\r\n\r\n"), "!#$%&'*+-.^_`|~0aZ", "/", 0, NULL,
         0, 0, 0},
        {0, LIT(dispatch_reply), NULL, NULL, 200, "OK", 1, 3, sizeof dispatch_reply - 1 - 58},
        {0, LIT(ws_101), NULL, NULL, 101, "Switching Protocols", 1, 3, 0},
        {0, LIT(partial_206), NULL, NULL, 206, "Partial Content", 1, 2, 0},
        {0, LIT("HTTP/1.0 404 Not Found\r\n\r\n"), NULL, NULL, 404, "Not Found", 0, 0, 0},
        {0, LIT("HTTP/1.1 204\r\n\r\n"), NULL, NULL, 204, "", 1, 0, 0},
        {0, LIT("HTTP/1.1 599 \r\n\r\n"), NULL, NULL, 599, "", 1, 0, 0},
        {0, LIT("HTTP/1.1 100 Continue\r\n\r\n"), NULL, NULL, 100, "Continue", 1, 0, 0},
        {0, LIT("HTTP/1.1 200 OK \xe2\x9c\x93\tdone\r\n\r\n"), NULL, NULL, 200,
         "OK \xe2\x9c\x93\tdone", 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct ok_case *c = &cases[i];
        struct so_http_head h;
        char *p = dup_exact(c->s, c->n);
        enum so_err e =
            c->request ? so_http_parse_request(p, c->n, &h) : so_http_parse_response(p, c->n, &h);
        assert_int_equal(e, SO_OK);
        assert_int_equal(h.head_len, c->head_len ? c->head_len : c->n);
        assert_int_equal(h.version_minor, c->minor);
        assert_int_equal(h.n_headers, c->n_headers);
        if (c->request) {
            assert_true(so_str_eq(h.method, c->method));
            assert_true(so_str_eq(h.target, c->target));
            assert_int_equal(h.status, 0);
            assert_null(h.reason.p);
        } else {
            assert_int_equal(h.status, c->status);
            assert_true(so_str_eq(h.reason, c->reason));
            assert_null(h.method.p);
        }
        free(p);
    }
}

static void header_views(void **state)
{
    (void)state;
    struct so_http_head h;
    char *p = dup_exact(LIT(ws_handshake));
    assert_int_equal(so_http_parse_request(p, sizeof ws_handshake - 1, &h), SO_OK);
    const struct so_http_header *k = so_http_find(&h, "sec-websocket-key");
    assert_non_null(k);
    assert_true(so_str_eq(k->value, SO_WS_DEVICE_KEY));
    assert_true(so_str_eq(k->name, "Sec-WebSocket-Key"));
    assert_true(so_str_eq(so_http_find(&h, "UPGRADE")->value, "websocket"));
    assert_true(so_str_eq(so_http_find(&h, "Host")->value, "iotgo.iteadstudio.com"));
    assert_null(so_http_find(&h, "Content-Length"));
    assert_null(so_http_find(&h, "Sec-WebSocket-Ke"));
    assert_int_equal(so_http_count(&h, "connection"), 1);
    assert_int_equal(so_http_count(&h, "Range"), 0);
    assert_null(so_http_find(NULL, "Host"));
    assert_null(so_http_find(&h, NULL));
    free(p);

    /* Values are trimmed of blanks on both sides; duplicates counted. */
    static const char dup[] = "GET / HTTP/1.1\r\nX-A:  one \t\r\nx-a:two\r\nX-B: \r\n\r\n";
    p = dup_exact(LIT(dup));
    assert_int_equal(so_http_parse_request(p, sizeof dup - 1, &h), SO_OK);
    assert_true(so_str_eq(so_http_find(&h, "x-A")->value, "one"));
    assert_int_equal(so_http_count(&h, "X-A"), 2);
    assert_true(so_str_eq(h.headers[1].value, "two"));
    assert_int_equal(h.headers[2].value.n, 0);
    free(p);
}

/* ---- rejections ---- */

struct bad_case {
    int request;
    const char *s;
    size_t n;
    enum so_err want;
};

static void rejects_malformed(void **state)
{
    (void)state;
    const struct bad_case cases[] = {
        /* versions */
        {1, LIT("GET / HTTP/1.2\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/2.0\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.10\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / http/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET /\r\n\r\n"), SO_E_SYNTAX},                 /* HTTP/0.9 */
        {1, LIT("GET / HTTP/1.1 \r\n\r\n"), SO_E_SYNTAX},
        /* request line shape */
        {1, LIT("GET  / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET /  HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT(" GET / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET\t/ HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("G(T / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},        /* not a token */
        {1, LIT("GE\"T / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("G\xc3\x89T / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT(" / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},           /* empty method */
        {1, LIT("GET HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET /a b HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET /\xff HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET /\x7f HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("\r\nGET / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},    /* leading empty line */
        {1, LIT("\n\n"), SO_E_SYNTAX},
        {1, LIT("HTTP/1.1 200 OK\r\n\r\n"), SO_E_SYNTAX},       /* a response as request */
        /* control bytes and CR */
        {1, LIT("GET /\0 HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\rHost: x\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: a\x1b[0m\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\n\r\r\n"), SO_E_SYNTAX},
        /* header lines */
        {1, LIT("GET / HTTP/1.1\r\nHost\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nHo st: x\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\n: x\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nH(st: x\r\n\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), SO_E_SYNTAX},   /* obs-fold */
        {1, LIT("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), SO_E_SYNTAX},  /* obs-fold */
        {1, LIT("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), SO_E_SYNTAX},
        /* status lines */
        {0, LIT("HTTP/1.1 099 Low\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 600 High\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 000 Zero\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 1000 X\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 20 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 2x0 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 -20 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 200OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1  200 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1\t200 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 200 O\x01K\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 200 O\rK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/2 200 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.2 200 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("ICY 200 OK\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("GET / HTTP/1.1\r\n\r\n"), SO_E_SYNTAX},        /* a request as response */
        {0, LIT("HTTP/1.1 200 OK\r\nServer : x\r\n\r\n"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 200 OK\r\nX: 1\r\n  folded\r\n\r\n"), SO_E_SYNTAX},
        /* found before the blank line arrives */
        {1, LIT("GET / HTTP/1.1\r\nBad Header\r\n"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/3.0\r\n"), SO_E_SYNTAX},
        {1, LIT("GET /\0"), SO_E_SYNTAX},
        {1, LIT("GET / HTTP/1.1\r\nX: \x02"), SO_E_SYNTAX},
        {1, LIT("GET / HT\rTP"), SO_E_SYNTAX},
        {0, LIT("HTTP/1.1 700 X\n"), SO_E_SYNTAX},
        /* incomplete: still waiting */
        {1, LIT(""), SO_AGAIN},
        {1, LIT("GET / HTTP/1.1\r"), SO_AGAIN},
        {1, LIT("GET / HTTP/1.1\r\nHost: x\r\n"), SO_AGAIN},
        {1, LIT("GET / HTTP/1.1\r\nHost: x\r\n\r"), SO_AGAIN},
        {0, LIT("HTTP/1.1 200 OK\r\n"), SO_AGAIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct so_http_head h;
        enum so_err e = parse_exact(cases[i].request, cases[i].s, cases[i].n, &h);
        if (e != cases[i].want)
            fail_msg("case %zu: got %d want %d", i, e, cases[i].want);
    }
}

static void null_arguments(void **state)
{
    (void)state;
    struct so_http_head h;
    assert_int_equal(so_http_parse_request("GET", 3, NULL), SO_E_ARG);
    assert_int_equal(so_http_parse_request(NULL, 3, &h), SO_E_ARG);
    assert_int_equal(so_http_parse_response(NULL, 0, &h), SO_AGAIN);
}

/* ---- limits ---- */

/* "GET / HTTP/1.1\r\n" + headers "X-Pad: aaa..\r\n" sized to make the head total bytes. */
static char *head_of_size(size_t total, size_t *n)
{
    static const char start[] = "GET / HTTP/1.1\r\nX-Pad: ";
    size_t fixed = sizeof start - 1 + 4; /* value's CRLF + blank line */
    assert_true(total > fixed);
    char *p = malloc(total);
    assert_non_null(p);
    memcpy(p, start, sizeof start - 1);
    memset(p + sizeof start - 1, 'a', total - fixed);
    memcpy(p + total - 4, "\r\n\r\n", 4);
    *n = total;
    return p;
}

static void head_size_limit(void **state)
{
    (void)state;
    struct so_http_head h;
    size_t n;
    char *p = head_of_size(SO_HTTP_HEAD_MAX, &n);
    assert_int_equal(so_http_parse_request(p, n, &h), SO_OK);
    assert_int_equal(h.head_len, SO_HTTP_HEAD_MAX);
    /* Still fine with body bytes after it. */
    free(p);

    p = head_of_size(SO_HTTP_HEAD_MAX + 1, &n);
    assert_int_equal(so_http_parse_request(p, n, &h), SO_E_TOOBIG);
    /* Without the blank line: waiting below the limit, refused at it. */
    assert_int_equal(so_http_parse_request(p, SO_HTTP_HEAD_MAX - 1, &h), SO_AGAIN);
    assert_int_equal(so_http_parse_request(p, SO_HTTP_HEAD_MAX, &h), SO_E_TOOBIG);
    free(p);

    /* A head that fits, followed by more data than the limit. */
    size_t big = SO_HTTP_HEAD_MAX * 2;
    p = malloc(big);
    assert_non_null(p);
    memset(p, 'b', big);
    memcpy(p, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_int_equal(so_http_parse_request(p, big, &h), SO_OK);
    assert_int_equal(h.head_len, 18);
    free(p);
}

static void header_count_limit(void **state)
{
    (void)state;
    for (size_t count = SO_HTTP_HEADERS_MAX; count <= SO_HTTP_HEADERS_MAX + 1; count++) {
        char buf[SO_HTTP_HEAD_MAX];
        size_t n = 0;
        memcpy(buf, "HTTP/1.1 200 OK\r\n", 17);
        n = 17;
        for (size_t i = 0; i < count; i++) {
            memcpy(buf + n, "X-H: v\r\n", 8);
            buf[n + 2] = (char)('A' + i % 26);
            n += 8;
        }
        memcpy(buf + n, "\r\n", 2);
        n += 2;
        struct so_http_head h;
        enum so_err e = parse_exact(0, buf, n, &h);
        if (count <= SO_HTTP_HEADERS_MAX) {
            assert_int_equal(e, SO_OK);
            assert_int_equal(h.n_headers, count);
        } else {
            assert_int_equal(e, SO_E_TOOBIG);
            /* also without waiting for the blank line */
            assert_int_equal(parse_exact(0, buf, n - 2, &h), SO_E_TOOBIG);
        }
    }
}

/* ---- incremental: byte by byte ---- */

static void byte_by_byte(void **state)
{
    (void)state;
    const struct {
        int request;
        const char *s;
        size_t n;
    } heads[] = {
        {1, LIT(ws_handshake)}, {1, LIT(dispatch_req)}, {1, LIT(range_get)},
        {1, LIT(e2a_get)},      {0, LIT(dispatch_reply)}, {0, LIT(ws_101)},
        {0, LIT(partial_206)},  {1, LIT("GET / HTTP/1.1\nA: b\n\n")},
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        struct so_http_head full;
        assert_int_equal(parse_exact(heads[i].request, heads[i].s, heads[i].n, &full), SO_OK);
        for (size_t k = 0; k <= heads[i].n; k++) {
            struct so_http_head h;
            enum so_err e = parse_exact(heads[i].request, heads[i].s, k, &h);
            if (k < full.head_len) {
                if (e != SO_AGAIN)
                    fail_msg("head %zu prefix %zu: got %d", i, k, e);
            } else {
                assert_int_equal(e, SO_OK);
                assert_int_equal(h.head_len, full.head_len);
                assert_int_equal(h.n_headers, full.n_headers);
            }
        }
    }
}

/* ---- Content-Length ---- */

struct cl_case {
    const char *s;
    size_t n;
    enum so_err want;
    int has;
    uint64_t len;
};

static void content_length(void **state)
{
    (void)state;
    const struct cl_case cases[] = {
        {LIT(dispatch_reply), SO_OK, 1, 58},
        {LIT(ws_101), SO_OK, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), SO_OK, 1, 0},
        {LIT("HTTP/1.1 200 OK\r\ncontent-length:   239220  \r\n\r\n"), SO_OK, 1, 239220},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), SO_OK, 1, 5},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n"), SO_OK, 1,
         UINT64_MAX},
        {LIT("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), SO_OK, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
         SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 05\r\n\r\n"), SO_OK, 1,
         5},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 5,5\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n"),
         SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
         SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
         SO_E_HTTP_HEADER, 0, 0},
        {LIT("HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\nContent-Length: 5\r\n\r\n"),
         SO_E_HTTP_HEADER, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = dup_exact(cases[i].s, cases[i].n);
        struct so_http_head h;
        assert_int_equal(so_http_parse_response(p, cases[i].n, &h), SO_OK);
        int has = -1;
        uint64_t len = 12345;
        enum so_err e = so_http_content_length(&h, &has, &len);
        if (e != cases[i].want)
            fail_msg("case %zu: got %d want %d", i, e, cases[i].want);
        assert_int_equal(has, cases[i].has);
        assert_true(len == cases[i].len);
        free(p);
    }
    int has;
    uint64_t len;
    assert_int_equal(so_http_content_length(NULL, &has, &len), SO_E_ARG);
}

static void target_path(void **state)
{
    (void)state;
    const struct {
        const char *target;
        const char *path;
    } cases[] = {
        {"/ota/image_user1-0x01000.bin?deviceid=100008db11&ts=553475508&sign=00",
         "/ota/image_user1-0x01000.bin"},
        {"/ota/image_arduino.bin", "/ota/image_arduino.bin"},
        {"/?", "/"},
        {"?x=1", ""},
        {"/a?b?c", "/a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].target);
        char *p = dup_exact(cases[i].target, n);
        struct so_str path = so_http_target_path((struct so_str){p, n});
        assert_true(path.p == p);
        assert_true(so_str_eq(path, cases[i].path));
        free(p);
    }
    struct so_str none = so_http_target_path(SO_STR_NULL);
    assert_null(none.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_real_heads), cmocka_unit_test(header_views),
        cmocka_unit_test(rejects_malformed),  cmocka_unit_test(null_arguments),
        cmocka_unit_test(head_size_limit),    cmocka_unit_test(header_count_limit),
        cmocka_unit_test(byte_by_byte),       cmocka_unit_test(content_length),
        cmocka_unit_test(target_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
