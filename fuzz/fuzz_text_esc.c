/* fuzz_text_esc.c - libFuzzer target for src/lib/text_esc.c: any bytes, both modes.
 * Checks: the output holds no byte a terminal acts on (C0 except a kept newline, DEL,
 * C1 in UTF-8 form) and is valid UTF-8 (escaping it again changes nothing); a smaller
 * buffer gives a prefix of the full output; the JSON form of a cJSON string made of
 * the input parses back. */
#include "lib/text_esc.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_safe(const char *s, size_t n, int keep_nl)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        assert(b >= 0x20 || (keep_nl && b == '\n'));
        assert(b != 0x7f);
        if (b == 0xc2 && i + 1 < n)
            assert((unsigned char)s[i + 1] >= 0xa0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *in = (const char *)data;
    unsigned flags = size && (data[0] & 1) ? TEXT_ESC_KEEP_NL : 0;
    size_t cap = TEXT_ESC_CAP(size);
    char *out = malloc(cap), *again = malloc(cap), *small = malloc(cap);
    assert(out && again && small);
    int cut = 1;
    size_t n = text_esc(out, cap, in, size, flags, &cut);
    assert(!cut && n == strlen(out) && n < cap);
    check_safe(out, n, flags != 0);
    assert(text_esc_needed(in, size, flags) == (n != size || memcmp(out, in, size) != 0));
    size_t n2 = text_esc(again, cap, out, n, flags, &cut);
    assert(!cut && n2 == n && !memcmp(again, out, n));
    assert(!text_esc_needed(out, n, flags));

    size_t scap = size ? 1 + data[size - 1] % (n + 1) : 1;
    size_t ns = text_esc(small, scap, in, size, flags, &cut);
    assert(ns < scap && !memcmp(small, out, ns) && (cut == (ns < n)));

    /* JSON: a string of these bytes, as cJSON prints it, then made safe */
    char *str = malloc(size + 1);
    assert(str);
    memcpy(str, data, size);
    str[size] = '\0';
    cJSON *s = cJSON_CreateString(str);
    char *raw = s ? cJSON_PrintUnformatted(s) : NULL;
    if (raw) {
        size_t rn = strlen(raw);
        char *js = malloc(TEXT_ESC_CAP(rn));
        assert(js);
        size_t jn = text_esc_json(js, TEXT_ESC_CAP(rn), raw, rn, &cut);
        assert(!cut);
        check_safe(js, jn, 0);
        cJSON *back = cJSON_Parse(js);
        assert(back && cJSON_IsString(back));
        cJSON_Delete(back);
        free(js);
        cJSON_free(raw);
    }
    cJSON_Delete(s);
    free(str);
    free(out);
    free(again);
    free(small);
    return 0;
}
