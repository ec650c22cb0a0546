/* fuzz_http_head.c - libFuzzer target for src/lib/http_head.c: the input as a request
 * head and as a response head, then every accessor on what parsed. Asserts the
 * parser's promises: views inside the input, limits, and that a complete head
 * parses identically from exactly head_len bytes but not from one byte less. */
#include "lib/http_head.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const char *buf, size_t len, struct so_str s)
{
    return s.p >= buf && s.p + s.n <= buf + len;
}

static void check_head(const char *buf, size_t size, int request)
{
    struct so_http_head h;
    enum so_err e = request ? so_http_parse_request(buf, size, &h)
                            : so_http_parse_response(buf, size, &h);
    if (e == SO_AGAIN)
        assert(size < SO_HTTP_HEAD_MAX);
    if (e != SO_OK) {
        assert(e == SO_AGAIN || e == SO_E_SYNTAX || e == SO_E_TOOBIG);
        return;
    }
    assert(h.head_len >= 2 && h.head_len <= size && h.head_len <= SO_HTTP_HEAD_MAX);
    assert(buf[h.head_len - 1] == '\n');
    assert(h.n_headers <= SO_HTTP_HEADERS_MAX);
    assert(h.version_minor == 0 || h.version_minor == 1);
    if (request) {
        assert(h.method.n > 0 && inside(buf, h.head_len, h.method));
        assert(h.target.n > 0 && inside(buf, h.head_len, h.target));
        struct so_str path = so_http_target_path(h.target);
        assert(path.p == h.target.p && path.n <= h.target.n);
        assert(memchr(path.p, '?', path.n) == NULL);
    } else {
        assert(h.status >= 100 && h.status <= 599);
        assert(inside(buf, h.head_len, h.reason));
    }
    for (size_t i = 0; i < h.n_headers; i++) {
        const struct so_http_header *hd = &h.headers[i];
        assert(hd->name.n > 0 && inside(buf, h.head_len, hd->name));
        assert(inside(buf, h.head_len, hd->value));
        assert(memchr(hd->name.p, ':', hd->name.n) == NULL);
        if (hd->value.n) {
            assert(hd->value.p[0] != ' ' && hd->value.p[0] != '\t');
            assert(hd->value.p[hd->value.n - 1] != ' ' && hd->value.p[hd->value.n - 1] != '\t');
        }
    }
    int has = 0;
    uint64_t len = 0;
    e = so_http_content_length(&h, &has, &len);
    assert(e == SO_OK || e == SO_E_HTTP_HEADER);
    if (e == SO_OK && has)
        assert(so_http_count(&h, "content-length") >= 1 &&
               so_http_find(&h, "Transfer-Encoding") == NULL);
    const struct so_http_header *host = so_http_find(&h, "Host");
    assert((host != NULL) == (so_http_count(&h, "HOST") > 0));

    /* The head alone parses the same; one byte less is still incomplete. */
    struct so_http_head h2;
    e = request ? so_http_parse_request(buf, h.head_len, &h2)
                : so_http_parse_response(buf, h.head_len, &h2);
    assert(e == SO_OK && h2.head_len == h.head_len && h2.n_headers == h.n_headers);
    e = request ? so_http_parse_request(buf, h.head_len - 1, &h2)
                : so_http_parse_response(buf, h.head_len - 1, &h2);
    assert(e == SO_AGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_head((const char *)data, size, 1);
    check_head((const char *)data, size, 0);
    return 0;
}
