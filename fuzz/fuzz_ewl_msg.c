/* fuzz_ewl_msg.c - libFuzzer target for src/lib/ewl_msg.c and ewl_msg_build.c.
 * Runs every parser on the input; whatever parses is rebuilt with the matching
 * builder and parsed again, and must come back unchanged. The text helpers get
 * the input too. */
#include "lib/ewl_msg.h"

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

static void fuzz_msg(const char *json, size_t n)
{
    struct ewl_msg m;
    enum so_err e = ewl_parse_msg(json, n, &m);
    assert(known(e));
    if (e != SO_OK)
        return;
    assert(m.n_bins >= 0 && m.n_bins <= 2);
    assert(strlen(m.sequence) < sizeof m.sequence);
    if (m.action == EWL_ACT_UPGRADE) {
        struct ewl_upgrade up;
        memset(&up, 0, sizeof up);
        memcpy(up.deviceid, m.deviceid, sizeof up.deviceid);
        memcpy(up.apikey, m.apikey, sizeof up.apikey);
        memcpy(up.sequence, m.sequence, sizeof up.sequence);
        memcpy(up.model, m.upgrade_model, sizeof up.model);
        memcpy(up.version, m.upgrade_version, sizeof up.version);
        up.auto_restart = m.auto_restart;
        up.n_bins = m.n_bins;
        memcpy(up.bins, m.bins, sizeof up.bins);
        char *s = ewl_build_upgrade(&up);
        assert(s);
        /* Raw control bytes in the input come back as 6-byte escapes, so the
         * rebuilt text may pass the 2 KiB limit: then it must be refused as such. */
        if (strlen(s) > EWL_JSON_MAX) {
            struct ewl_msg big;
            assert(ewl_parse_msg(s, strlen(s), &big) == SO_E_TOOBIG);
            free(s);
            return;
        }
        struct ewl_msg b;
        assert(ewl_parse_msg(s, strlen(s), &b) == SO_OK);
        assert(b.action == EWL_ACT_UPGRADE && b.n_bins == m.n_bins);
        for (int i = 0; i < m.n_bins; i++) {
            assert(strcmp(b.bins[i].url, m.bins[i].url) == 0);
            assert(strcmp(b.bins[i].digest, m.bins[i].digest) == 0);
            assert(strcmp(b.bins[i].name, m.bins[i].name) == 0);
        }
        assert(strcmp(b.deviceid, m.deviceid) == 0 && strcmp(b.apikey, m.apikey) == 0);
        assert(strcmp(b.sequence, m.sequence) == 0);
        assert(strcmp(b.upgrade_model, m.upgrade_model) == 0);
        assert(strcmp(b.upgrade_version, m.upgrade_version) == 0);
        assert(b.has_auto_restart && b.auto_restart == m.auto_restart);
        free(s);
    }
    if (m.has_config) {
        char *s = ewl_build_register_reply(m.deviceid, m.apikey, m.hb_interval);
        assert(s);
        struct ewl_msg b;
        assert(ewl_parse_msg(s, strlen(s), &b) == SO_OK);
        assert(strcmp(b.deviceid, m.deviceid) == 0 && strcmp(b.apikey, m.apikey) == 0);
        assert(b.has_config == (m.hb_interval > 0));
        if (b.has_config)
            assert(b.hb == 1 && b.hb_interval == m.hb_interval);
        free(s);
    }
    if (m.has_error) {
        char *s = ewl_build_ack(m.deviceid, m.apikey, m.sequence, m.error);
        assert(s);
        struct ewl_msg b;
        assert(ewl_parse_msg(s, strlen(s), &b) == SO_OK);
        assert(b.has_error && b.error == m.error && strcmp(b.sequence, m.sequence) == 0);
        free(s);
    }
    if (m.date[0]) {
        char *s = ewl_build_date_reply(m.deviceid, m.apikey, m.date);
        assert(s);
        struct ewl_msg b;
        assert(ewl_parse_msg(s, strlen(s), &b) == SO_OK);
        assert(strcmp(b.date, m.date) == 0);
        free(s);
    }
}

static void fuzz_others(const char *json, size_t n)
{
    struct ewl_device_info di, di2;
    if (ewl_parse_device_info(json, n, &di) == SO_OK) {
        char *s = ewl_build_device_info(&di);
        assert(s && ewl_parse_device_info(s, strlen(s), &di2) == SO_OK);
        assert(strcmp(di.deviceid, di2.deviceid) == 0 && strcmp(di.apikey, di2.apikey) == 0);
        free(s);
    }
    struct ewl_ap_config ap, ap2;
    enum so_err e = ewl_parse_ap_config(json, n, &ap);
    assert(known(e));
    if (e == SO_OK) {
        assert(ap.port >= 1 && ap.port <= 65535);
        char *s = ewl_build_ap_config(&ap);
        assert(s && ewl_parse_ap_config(s, strlen(s), &ap2) == SO_OK);
        assert(ap.version == ap2.version && ap.port == ap2.port);
        assert(strcmp(ap.ssid, ap2.ssid) == 0 && strcmp(ap.password, ap2.password) == 0);
        assert(strcmp(ap.server, ap2.server) == 0);
        free(s);
    } else {
        for (size_t i = 0; i < sizeof ap.password; i++)
            assert(ap.password[i] == 0);
    }
    int err = 0, err2 = 0;
    e = ewl_parse_error_reply(json, n, &err);
    assert(known(e));
    if (e == SO_OK) {
        char *s = ewl_build_error_reply(err);
        assert(s && ewl_parse_error_reply(s, strlen(s), &err2) == SO_OK && err == err2);
        free(s);
    }
    struct ewl_dispatch_req dq, dq2;
    e = ewl_parse_dispatch_req(json, n, &dq);
    assert(known(e));
    if (e == SO_OK) {
        char *s = ewl_build_dispatch_req(&dq);
        assert(s && ewl_parse_dispatch_req(s, strlen(s), &dq2) == SO_OK);
        assert(strcmp(dq.deviceid, dq2.deviceid) == 0 && strcmp(dq.apikey, dq2.apikey) == 0);
        assert(strcmp(dq.model, dq2.model) == 0 && strcmp(dq.rom_version, dq2.rom_version) == 0);
        assert(strcmp(dq.accept, dq2.accept) == 0);
        assert(dq.version == dq2.version && dq.ts == dq2.ts);
        free(s);
    }
    struct ewl_dispatch_reply dr, dr2;
    e = ewl_parse_dispatch_reply(json, n, &dr);
    assert(known(e));
    if (e == SO_OK && dr.error == 0) {
        char *s = ewl_build_dispatch_reply(&dr);
        assert(s && ewl_parse_dispatch_reply(s, strlen(s), &dr2) == SO_OK);
        assert(dr2.error == 0 && dr2.port == dr.port && strcmp(dr2.ip, dr.ip) == 0);
        free(s);
    }
}

static void fuzz_helpers(const uint8_t *data, size_t size)
{
    /* NUL-terminated copy for the string predicates. */
    char *z = malloc(size + 1);
    assert(z);
    memcpy(z, data, size);
    z[size] = '\0';
    if (ewl_is_digest(z))
        assert(strlen(z) == EWL_DIGEST_LEN);
    if (ewl_is_uuid(z))
        assert(strlen(z) == EWL_UUID_LEN);
    free(z);
    if (size >= 16) {
        char u[EWL_UUID_LEN + 1];
        ewl_format_uuid(data, u);
        assert(ewl_is_uuid(u) && u[14] == '4' && strchr("89ab", u[19]));
    }
    if (size >= 10) {
        int64_t t = 0;
        for (int i = 0; i < 8; i++)
            t = (int64_t)((uint64_t)t << 8 | data[i]);
        int ms = (int)((data[8] << 8 | data[9]) - 1000);
        char d[25];
        ewl_format_date(t, ms, d);
        assert(strlen(d) == 24 && d[4] == '-' && d[7] == '-' && d[10] == 'T' && d[13] == ':' &&
               d[16] == ':' && d[19] == '.' && d[23] == 'Z');
        int month = (d[5] - '0') * 10 + (d[6] - '0');
        int day = (d[8] - '0') * 10 + (d[9] - '0');
        assert(month >= 1 && month <= 12 && day >= 1 && day <= 31);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    fuzz_msg(json, size);
    fuzz_others(json, size);
    fuzz_helpers(data, size);
    return 0;
}
