/* fuzz_diy_msg.c - libFuzzer target for src/lib/diy_msg.c and diy_msg_build.c.
 * The input is parsed as a reply, as device information and as a request for every
 * command; whatever parses is rebuilt and parsed again and must come back unchanged.
 * The version helpers get the input as text too. */
#include "lib/diy_msg.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int known(enum so_err e)
{
    return e == SO_OK || e == SO_E_JSON || e == SO_E_TOOBIG || e == SO_E_MSG_FIELD;
}

static void same_state(const struct diy_state *a, const struct diy_state *b, unsigned f)
{
    if (f & DIY_F_SWITCH)
        assert(!strcmp(a->sw, b->sw));
    if (f & DIY_F_SSID)
        assert(!strcmp(a->ssid, b->ssid));
    if (f & DIY_F_OTA_UNLOCK)
        assert(a->ota_unlock == b->ota_unlock);
    if (f & DIY_F_FW_VERSION)
        assert(!strcmp(a->fw_version, b->fw_version));
    if (f & DIY_F_PULSE_WIDTH) {
        assert(a->has_pulse_width == b->has_pulse_width);
        assert(!a->has_pulse_width || a->pulse_width == b->pulse_width);
    }
    if (f & DIY_F_SIGNAL) {
        assert(a->has_signal == b->has_signal);
        assert(!a->has_signal || a->signal == b->signal);
    }
}

static void fuzz_reply(const char *json, size_t n)
{
    struct diy_reply r, r2;
    enum so_err e = diy_parse_reply(json, n, &r);
    assert(known(e));
    if (e != SO_OK)
        return;
    const unsigned all = 0x7ffu;
    for (int form = DIY_DATA_NONE; form <= DIY_DATA_STRING; form++) {
        char *s = diy_build_reply(r.seq, r.error, &r.st, all, (enum diy_data_form)form);
        assert(s);
        /* escapes may push the rebuilt text past the size limit */
        e = diy_parse_reply(s, strlen(s), &r2);
        if (strlen(s) > DIY_BODY_MAX) {
            assert(e == SO_E_JSON);
        } else {
            assert(e == SO_OK);
            assert(r2.error == r.error && r2.seq == r.seq);
            if (form != DIY_DATA_NONE)
                same_state(&r.st, &r2.st, all);
        }
        free(s);
    }
}

static void fuzz_requests(const char *json, size_t n)
{
    for (int c = 0; c < DIY_CMD__COUNT; c++) {
        struct diy_request q, q2;
        enum so_err e = diy_parse_request(json, n, (enum diy_cmd)c, &q);
        assert(known(e));
        if (e != SO_OK) {
            for (size_t i = 0; i < sizeof q.password; i++)
                assert(q.password[i] == 0);
            continue;
        }
        assert(q.has_data);
        char *s = diy_build_request(&q);
        assert(s);
        e = diy_parse_request(s, strlen(s), (enum diy_cmd)c, &q2);
        if (strlen(s) > DIY_BODY_MAX) {
            assert(e == SO_E_JSON);
        } else {
            assert(e == SO_OK);
            assert(!strcmp(q.deviceid, q2.deviceid) && !strcmp(q.sequence, q2.sequence));
            assert(q.encrypt == q2.encrypt);
            assert(!strcmp(q.download_url, q2.download_url) && !strcmp(q.sha256, q2.sha256));
            assert(!strcmp(q.sw, q2.sw) && !strcmp(q.startup, q2.startup));
            assert(!strcmp(q.pulse, q2.pulse) && q.pulse_width == q2.pulse_width);
            assert(!strcmp(q.ssid, q2.ssid) && !strcmp(q.password, q2.password));
        }
        free(s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    fuzz_reply(json, size);
    fuzz_requests(json, size);
    struct diy_state st;
    diy_state_init(&st);
    assert(known(diy_state_parse(json, size, &st)));
    enum diy_cmd c;
    if (diy_cmd_from_path(json, size, &c) == 0)
        assert(strlen(diy_cmd_path(c)) == size);
    char *z = malloc(size + 1);
    assert(z);
    memcpy(z, data, size);
    z[size] = '\0';
    int a = diy_fw_cmp(z, "3.7.6"), b = diy_fw_cmp("3.7.6", z);
    assert((a < 0 && b > 0) || (a > 0 && b < 0) || (a == 0 && b == 0));
    assert(diy_fw_cmp(z, z) == 0);
    if (diy_is_sha256_lower(z))
        assert(strlen(z) == DIY_SHA256_LEN);
    assert(diy_error_text(atoi(z)) != NULL);
    free(z);
    return 0;
}
