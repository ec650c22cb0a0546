/* fuzz_http_range.c - libFuzzer target for src/lib/http_range.c.
 * Input: 8 bytes of resource size (little endian), 8 bytes of chunk index, then a
 * header value parsed both as Range and as Content-Range. Every success must
 * format and parse back to the same range. */
#include "lib/http_range.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* format → parse must give back r and total, in both Content-Range forms. */
static void round_trip(struct so_range r, uint64_t total)
{
    for (int eq = 0; eq <= 1; eq++) {
        char buf[80];
        size_t n = so_content_range_format(buf, sizeof buf, r, total, eq);
        assert(n > 0 && n == strlen(buf));
        struct so_range back;
        uint64_t t = 0;
        assert(so_content_range_parse(buf, n, &back, &t) == SO_OK);
        assert(back.first == r.first && back.last == r.last && t == total);
        /* one byte short of the room needed: refused, not truncated */
        assert(so_content_range_format(buf, n, r, total, eq) == 0 && buf[0] == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    uint64_t res = le64(data);
    uint64_t k = le64(data + 8);
    const char *value = (const char *)data + 16;
    size_t n = size - 16;

    struct so_range r;
    enum so_err e = so_range_parse(value, n, res, &r);
    assert(e == SO_OK || e == SO_E_RANGE || e == SO_E_SYNTAX);
    if (e == SO_OK) {
        assert(res > 0 && r.first <= r.last && r.last < res);
        round_trip(r, res);
    }
    /* Syntax does not depend on the size. */
    struct so_range r2;
    enum so_err e2 = so_range_parse(value, n, UINT64_MAX, &r2);
    assert((e == SO_E_SYNTAX) == (e2 == SO_E_SYNTAX));

    uint64_t total = 0;
    e = so_content_range_parse(value, n, &r, &total);
    assert(e == SO_OK || e == SO_E_RANGE || e == SO_E_SYNTAX);
    if (e == SO_OK) {
        assert(r.first <= r.last && r.last < total);
        round_trip(r, total);
    }

    char unsat[40];
    size_t un = so_content_range_format_unsatisfied(unsat, sizeof unsat, res);
    assert(un > 0);
    assert(so_content_range_parse(unsat, un, &r, &total) == SO_E_RANGE);

    if (so_range_chunk(k, res, &r) == 0) {
        assert(r.first == k * SO_RANGE_CHUNK && r.first <= r.last && r.last < res);
        assert(r.last - r.first < SO_RANGE_CHUNK);
        round_trip(r, res);
    } else {
        assert(k > UINT64_MAX / SO_RANGE_CHUNK || k * SO_RANGE_CHUNK >= res);
    }
    return 0;
}
