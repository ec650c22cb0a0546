/* fuzz_diy_txt.c - libFuzzer target for src/lib/diy_txt.c: TXT rdata parse; a record
 * that parses with an id and readable data is rebuilt and must parse to the same
 * fields; the first bytes also drive the builder directly. */
#include "lib/diy_txt.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diy_txt t, t2;
    enum so_err e = diy_txt_parse(data, size, &t);
    assert(e == SO_OK || e == SO_E_SYNTAX || e == SO_E_TOOBIG);
    char line[96];
    if (e == SO_OK) {
        assert(t.data_len <= DIY_TXT_DATA_MAX && t.n_parts <= DIY_TXT_DATA_PARTS);
        assert(strlen(t.data) <= t.data_len);
        size_t k = diy_txt_summary(&t, line, sizeof line);
        assert(k < sizeof line && strlen(line) == k);
        if (!(t.missing & DIY_TXT_K_ID) && !t.missing && t.data_err != SO_E_SYNTAX &&
            strlen(t.data) == t.data_len) {
            uint8_t rd[DIY_TXT_MAX];
            size_t n;
            struct diy_txt_rec rec = {.id = t.id, .type = t.type, .apivers = t.apivers,
                                      .seq = t.seq, .encrypt = t.encrypt,
                                      .iv = t.iv[0] ? t.iv : NULL, .data = t.data};
            if (diy_txt_build(&rec, rd, sizeof rd, &n) == SO_OK) {
                assert(diy_txt_parse(rd, n, &t2) == SO_OK);
                assert(!strcmp(t.id, t2.id) && !strcmp(t.type, t2.type));
                assert(t.seq == t2.seq && t.encrypt == t2.encrypt);
                assert(t.data_len == t2.data_len && !memcmp(t.data, t2.data, t.data_len));
                assert(t.data_err == t2.data_err);
            }
        }
    }
    /* builder on raw text */
    char text[DIY_TXT_DATA_MAX + 8];
    size_t m = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, m);
    text[m] = '\0';
    uint8_t out[DIY_TXT_MAX];
    size_t n;
    struct diy_txt_rec rec = {.id = "1000abcdef", .seq = 1, .encrypt = -1, .data = text};
    e = diy_txt_build(&rec, out, sizeof out, &n);
    assert(e == SO_OK || e == SO_E_TOOBIG);
    if (e == SO_OK) {
        assert(n <= DIY_TXT_MAX);
        assert(diy_txt_parse(out, n, &t2) == SO_OK);
        assert(t2.data_len == strlen(text) && !memcmp(t2.data, text, t2.data_len));
    }
    return 0;
}
