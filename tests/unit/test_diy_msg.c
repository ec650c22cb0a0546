/* Unit tests for src/lib/diy_msg.c and diy_msg_build.c (PROTOCOL.md §6: DIY REST API,
 * v1.4 data-as-string and v2.0 data-as-object replies, error codes, version rules).
 * Inputs are malloc'd to their exact length so ASan reports over-reads. */
#include "lib/diy_msg.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static enum so_err reply_exact(const char *s, struct diy_reply *r)
{
    size_t n = strlen(s);
    char *p = dup_exact(s, n);
    enum so_err e = diy_parse_reply(p, n, r);
    free(p);
    return e;
}

static enum so_err request_exact(const char *s, enum diy_cmd cmd, struct diy_request *r)
{
    size_t n = strlen(s);
    char *p = dup_exact(s, n);
    enum so_err e = diy_parse_request(p, n, cmd, r);
    free(p);
    return e;
}

static void paths(void **state)
{
    (void)state;
    enum diy_cmd c;
    for (int i = 0; i < DIY_CMD__COUNT; i++) {
        const char *p = diy_cmd_path((enum diy_cmd)i);
        assert_non_null(p);
        assert_int_equal(diy_cmd_from_path(p, strlen(p), &c), 0);
        assert_int_equal(c, i);
    }
    assert_string_equal(diy_cmd_path(DIY_CMD_FLASH), "/zeroconf/ota_flash");
    assert_string_equal(diy_cmd_path(DIY_CMD_UNLOCK), "/zeroconf/ota_unlock");
    assert_string_equal(diy_cmd_path(DIY_CMD_SIGNAL), "/zeroconf/signal_strength");
    assert_int_equal(diy_cmd_from_path("/zeroconf/inf", 13, &c), -1);
    assert_int_equal(diy_cmd_from_path("/zeroconf/info?x", 16, &c), -1);
    assert_int_equal(diy_cmd_from_path("/ZEROCONF/info", 14, &c), -1);
    assert_null(diy_cmd_path(DIY_CMD__COUNT));
}

/* v2.0 info reply as printed in NJH's README (fw 3.5.0). */
static void reply_v20_object(void **state)
{
    (void)state;
    struct diy_reply r;
    assert_int_equal(reply_exact("{\"seq\":2,\"error\":0,\"data\":{\"switch\":\"off\",\"startup\":"
        "\"off\",\"pulse\":\"off\",\"pulseWidth\":500,\"ssid\":\"test\",\"otaUnlock\":false,"
        "\"fwVersion\":\"3.5.0\",\"deviceid\":\"1000e4c17c\",\"bssid\":\"b4:fb:de:ad:be:ef\","
        "\"signalStrength\":-52}}", &r), SO_OK);
    assert_int_equal(r.error, 0);
    assert_true(r.has_seq);
    assert_int_equal(r.seq, 2);
    assert_int_equal(r.form, DIY_DATA_OBJECT);
    assert_string_equal(r.st.sw, "off");
    assert_string_equal(r.st.startup, "off");
    assert_string_equal(r.st.pulse, "off");
    assert_true(r.st.has_pulse_width);
    assert_int_equal(r.st.pulse_width, 500);
    assert_string_equal(r.st.ssid, "test");
    assert_int_equal(r.st.ota_unlock, 0);
    assert_string_equal(r.st.fw_version, "3.5.0");
    assert_string_equal(r.st.deviceid, "1000e4c17c");
    assert_string_equal(r.st.bssid, "b4:fb:de:ad:be:ef");
    assert_true(r.st.has_signal);
    assert_int_equal(r.st.signal, -52);
}

/* fw 3.3 (v1.4) sends data as a JSON string (ID#10). */
static void reply_v14_string(void **state)
{
    (void)state;
    struct diy_reply r;
    assert_int_equal(reply_exact("{\"seq\":1,\"error\":0,\"data\":\"{\\\"switch\\\":\\\"on\\\","
        "\\\"startup\\\":\\\"stay\\\",\\\"pulse\\\":\\\"on\\\",\\\"pulseWidth\\\":2000,"
        "\\\"ssid\\\":\\\"sonoffDiy\\\",\\\"otaUnlock\\\":true}\"}", &r), SO_OK);
    assert_int_equal(r.form, DIY_DATA_STRING);
    assert_string_equal(r.st.sw, "on");
    assert_string_equal(r.st.startup, "stay");
    assert_int_equal(r.st.pulse_width, 2000);
    assert_string_equal(r.st.ssid, "sonoffDiy");
    assert_int_equal(r.st.ota_unlock, 1);
    assert_string_equal(r.st.fw_version, "");
    assert_false(r.st.has_signal);
}

static void reply_errors_and_forms(void **state)
{
    (void)state;
    struct diy_reply r;
    /* unlock/flash replies: no data */
    assert_int_equal(reply_exact("{\"seq\":3,\"error\":0}", &r), SO_OK);
    assert_int_equal(r.form, DIY_DATA_NONE);
    assert_int_equal(reply_exact(" {\"error\":403} \r\n", &r), SO_OK);
    assert_int_equal(r.error, 403);
    assert_false(r.has_seq);
    assert_int_equal(reply_exact("{\"error\":0,\"data\":null}", &r), SO_OK);
    assert_int_equal(r.form, DIY_DATA_NONE);
    /* otaUnlock as a string */
    assert_int_equal(reply_exact("{\"error\":0,\"data\":{\"otaUnlock\":\"true\"}}", &r), SO_OK);
    assert_int_equal(r.st.ota_unlock, 1);
    const char *bad_json[] = {
        "", "{", "[]", "{\"error\":0}x", "\"str\"", "{\"error\":0}{}",
        "{\"error\":0,\"data\":\"not json\"}", "{\"error\":0,\"data\":\"[1]\"}",
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++)
        assert_int_equal(reply_exact(bad_json[i], &r), SO_E_JSON);
    const char *bad_field[] = {
        "{}", "{\"seq\":1}", "{\"error\":\"0\"}", "{\"error\":0.5}", "{\"error\":0,\"seq\":\"x\"}",
        "{\"error\":0,\"data\":5}", "{\"error\":0,\"data\":[]}",
        "{\"error\":0,\"data\":{\"switch\":1}}", "{\"error\":0,\"data\":{\"otaUnlock\":1}}",
        "{\"error\":0,\"data\":{\"pulseWidth\":\"500\"}}",
        "{\"error\":0,\"data\":{\"signalStrength\":-1.5}}",
        "{\"error\":0,\"data\":\"{\\\"otaUnlock\\\":\\\"yes\\\"}\"}",
    };
    for (size_t i = 0; i < sizeof bad_field / sizeof *bad_field; i++)
        assert_int_equal(reply_exact(bad_field[i], &r), SO_E_MSG_FIELD);
    assert_int_equal(reply_exact("{\"error\":0,\"data\":{\"ssid\":\"0123456789012345678901234567890123\"}}",
                                 &r), SO_E_TOOBIG);
    /* size limit */
    char big[DIY_BODY_MAX + 40];
    memset(big, ' ', sizeof big);
    memcpy(big, "{\"error\":0}", 11);
    big[sizeof big - 1] = '\0';
    assert_int_equal(reply_exact(big, &r), SO_E_JSON);
}

static void build_reply_roundtrip(void **state)
{
    (void)state;
    struct diy_state st;
    diy_state_init(&st);
    strcpy(st.sw, "on");
    strcpy(st.startup, "stay");
    strcpy(st.pulse, "off");
    st.has_pulse_width = 1;
    st.pulse_width = 500;
    strcpy(st.ssid, "home \"wifi\"");
    st.ota_unlock = 1;
    strcpy(st.fw_version, "3.6.0");
    strcpy(st.deviceid, "1000abcdef");
    strcpy(st.bssid, "aa:bb:cc:dd:ee:ff");
    st.has_signal = 1;
    st.signal = -61;
    char *s = diy_build_reply(7, 0, &st, DIY_F_INFO_2_0, DIY_DATA_OBJECT);
    assert_non_null(s);
    assert_string_equal(s, "{\"seq\":7,\"error\":0,\"data\":{\"switch\":\"on\",\"startup\":\"stay\","
        "\"pulse\":\"off\",\"pulseWidth\":500,\"ssid\":\"home \\\"wifi\\\"\",\"otaUnlock\":true,"
        "\"fwVersion\":\"3.6.0\",\"deviceid\":\"1000abcdef\",\"bssid\":\"aa:bb:cc:dd:ee:ff\","
        "\"signalStrength\":-61}}");
    struct diy_reply r;
    assert_int_equal(reply_exact(s, &r), SO_OK);
    assert_int_equal(r.form, DIY_DATA_OBJECT);
    assert_memory_equal(&r.st, &st, sizeof st);
    free(s);
    /* v1.4: the same object inside a string, without the v2.0 members */
    s = diy_build_reply(1, 0, &st, DIY_F_INFO_1_4, DIY_DATA_STRING);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"data\":\"{\\\"switch\\\":\\\"on\\\""));
    assert_null(strstr(s, "fwVersion"));
    assert_int_equal(reply_exact(s, &r), SO_OK);
    assert_int_equal(r.form, DIY_DATA_STRING);
    assert_string_equal(r.st.ssid, "home \"wifi\"");
    assert_string_equal(r.st.fw_version, "");
    assert_int_equal(r.st.ota_unlock, 1);
    free(s);
    s = diy_build_reply(4, 503, NULL, 0, DIY_DATA_NONE);
    assert_string_equal(s, "{\"seq\":4,\"error\":503}");
    free(s);
    s = diy_build_state(&st, DIY_F_SWITCH | DIY_F_RSSI);
    assert_string_equal(s, "{\"switch\":\"on\"}");
    free(s);
}

static void build_requests(void **state)
{
    (void)state;
    struct diy_request q;
    diy_request_init(&q, DIY_CMD_INFO);
    char *s = diy_build_request(&q);
    assert_string_equal(s, "{\"deviceid\":\"\",\"data\":{}}");
    free(s);
    diy_request_init(&q, DIY_CMD_FLASH);
    strcpy(q.deviceid, "1000abcdef");
    strcpy(q.sequence, "1700000000");
    q.encrypt = 0;
    strcpy(q.download_url, "http://192.168.1.2:8080/ota/image.bin");
    strcpy(q.sha256, "3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec9644667");
    s = diy_build_request(&q);
    assert_string_equal(s, "{\"deviceid\":\"1000abcdef\",\"sequence\":\"1700000000\","
        "\"encrypt\":false,\"data\":{\"downloadUrl\":\"http://192.168.1.2:8080/ota/image.bin\","
        "\"sha256sum\":\"3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec9644667\"}}");
    struct diy_request p;
    assert_int_equal(request_exact(s, DIY_CMD_FLASH, &p), SO_OK);
    assert_string_equal(p.deviceid, "1000abcdef");
    assert_string_equal(p.download_url, q.download_url);
    assert_string_equal(p.sha256, q.sha256);
    assert_string_equal(p.sequence, "1700000000");
    assert_int_equal(p.encrypt, 0);
    free(s);
    /* each command's data round-trips */
    diy_request_init(&q, DIY_CMD_PULSE);
    strcpy(q.pulse, "on");
    q.has_pulse_width = 1;
    q.pulse_width = 2000;
    s = diy_build_request(&q);
    assert_string_equal(s, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"on\",\"pulseWidth\":2000}}");
    assert_int_equal(request_exact(s, DIY_CMD_PULSE, &p), SO_OK);
    assert_int_equal(p.pulse_width, 2000);
    free(s);
    diy_request_init(&q, DIY_CMD_WIFI);
    strcpy(q.ssid, "eWeLink");
    strcpy(q.password, "WeLoveIoT");
    s = diy_build_request(&q);
    assert_string_equal(s, "{\"deviceid\":\"\",\"data\":{\"ssid\":\"eWeLink\",\"password\":\"WeLoveIoT\"}}");
    assert_int_equal(request_exact(s, DIY_CMD_WIFI, &p), SO_OK);
    assert_string_equal(p.password, "WeLoveIoT");
    free(s);
    q.cmd = DIY_CMD__COUNT;
    assert_null(diy_build_request(&q));
}

struct req_case {
    enum diy_cmd cmd;
    const char *body;
    enum so_err want;
};

static void parse_requests(void **state)
{
    (void)state;
    const struct req_case cases[] = {
        /* NJH's bodies */
        {DIY_CMD_INFO, "{\"deviceid\":\"\",\"data\":{}}", SO_OK},
        {DIY_CMD_UNLOCK, "{\"deviceid\":\"\",\"data\":{}}", SO_OK},
        /* the ITEAD tool's sequence string; numbers accepted too */
        {DIY_CMD_SWITCH, "{\"sequence\":\"1577725767\",\"deviceid\":\"1000806ace\","
                         "\"data\":{\"switch\":\"on\"}}", SO_OK},
        {DIY_CMD_SWITCH, "{\"sequence\":15,\"deviceid\":\"\",\"data\":{\"switch\":\"off\"}}", SO_OK},
        {DIY_CMD_SWITCH, "{\"deviceid\":\"\",\"data\":{\"switch\":\"toggle\"}}", SO_E_MSG_FIELD},
        {DIY_CMD_SWITCH, "{\"deviceid\":\"\",\"data\":{}}", SO_E_MSG_FIELD},
        {DIY_CMD_STARTUP, "{\"deviceid\":\"\",\"data\":{\"startup\":\"stay\"}}", SO_OK},
        {DIY_CMD_STARTUP, "{\"deviceid\":\"\",\"data\":{\"startup\":\"keep\"}}", SO_E_MSG_FIELD},
        {DIY_CMD_PULSE, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"on\",\"pulseWidth\":1500}}", SO_OK},
        {DIY_CMD_PULSE, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"off\"}}", SO_OK},
        {DIY_CMD_PULSE, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"on\"}}", SO_E_MSG_FIELD},
        {DIY_CMD_PULSE, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"on\",\"pulseWidth\":700}}", SO_E_MSG_FIELD},
        {DIY_CMD_PULSE, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"on\",\"pulseWidth\":0}}", SO_E_MSG_FIELD},
        {DIY_CMD_PULSE, "{\"deviceid\":\"\",\"data\":{\"pulse\":\"on\",\"pulseWidth\":36000500}}", SO_E_MSG_FIELD},
        {DIY_CMD_WIFI, "{\"deviceid\":\"\",\"data\":{\"ssid\":\"\",\"password\":\"x\"}}", SO_E_MSG_FIELD},
        {DIY_CMD_WIFI, "{\"deviceid\":\"\",\"data\":{\"ssid\":\"a\"}}", SO_E_MSG_FIELD},
        {DIY_CMD_FLASH, "{\"deviceid\":\"\",\"data\":{\"downloadUrl\":\"https://x/a.bin\","
                        "\"sha256sum\":\"3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec9644667\"}}",
         SO_E_MSG_FIELD},
        {DIY_CMD_FLASH, "{\"deviceid\":\"\",\"data\":{\"downloadUrl\":\"http://\","
                        "\"sha256sum\":\"3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec9644667\"}}",
         SO_E_MSG_FIELD},
        {DIY_CMD_FLASH, "{\"deviceid\":\"\",\"data\":{\"downloadUrl\":\"http://a/b\","
                        "\"sha256sum\":\"3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec964466\"}}",
         SO_E_MSG_FIELD},
        /* uppercase parses: the device compares text and fails later with 471 (ID#102) */
        {DIY_CMD_FLASH, "{\"deviceid\":\"\",\"data\":{\"downloadUrl\":\"http://a/b\","
                        "\"sha256sum\":\"3213B2C34CECBB3BB817030C7F025396B658634C0CF9C4435FC0B52EC9644667\"}}",
         SO_OK},
        {DIY_CMD_FLASH, "{\"deviceid\":\"\",\"data\":{\"downloadUrl\":\"http://a/b\"}}", SO_E_MSG_FIELD},
        {DIY_CMD_INFO, "{\"deviceid\":\"\"}", SO_E_MSG_FIELD},
        {DIY_CMD_INFO, "{\"deviceid\":\"\",\"data\":\"{}\"}", SO_E_MSG_FIELD},
        {DIY_CMD_INFO, "{\"deviceid\":5,\"data\":{}}", SO_E_MSG_FIELD},
        {DIY_CMD_INFO, "{\"deviceid\":\"\",\"encrypt\":\"no\",\"data\":{}}", SO_E_MSG_FIELD},
        {DIY_CMD_INFO, "{\"deviceid\":\"\",\"sequence\":1.5,\"data\":{}}", SO_E_MSG_FIELD},
        {DIY_CMD_INFO, "{\"deviceid\":\"0123456789012345678901234\",\"data\":{}}", SO_E_TOOBIG},
        {DIY_CMD_INFO, "{\"deviceid\":\"\",\"data\":{}", SO_E_JSON},
        {DIY_CMD_INFO, "deviceid=x", SO_E_JSON},
        {DIY_CMD_INFO, "", SO_E_JSON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct diy_request r;
        enum so_err e = request_exact(cases[i].body, cases[i].cmd, &r);
        if (e != cases[i].want)
            fail_msg("case %zu (%s): got %d want %d", i, cases[i].body, e, cases[i].want);
    }
    struct diy_request r;
    assert_int_equal(request_exact("{\"data\":{}}", DIY_CMD_INFO, &r), SO_OK);
    assert_false(r.has_deviceid);
    assert_int_equal(request_exact("{\"sequence\":-15,\"deviceid\":\"\",\"data\":{}}",
                                   DIY_CMD_INFO, &r), SO_OK);
    assert_string_equal(r.sequence, "-15");
    /* a refused wifi request leaves no password behind */
    assert_int_equal(request_exact("{\"deviceid\":5,\"data\":{\"ssid\":\"a\",\"password\":\"secret\"}}",
                                   DIY_CMD_WIFI, &r), SO_E_MSG_FIELD);
    for (size_t i = 0; i < sizeof r.password; i++)
        assert_int_equal(r.password[i], 0);
}

static void error_sentences(void **state)
{
    (void)state;
    const int codes[] = {400, 401, 403, 404, 408, 413, 422, 424, 471, 500, 503};
    const char *unknown = diy_error_text(999);
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        const char *t = diy_error_text(codes[i]);
        assert_non_null(t);
        assert_true(strlen(t) > 40);
        assert_ptr_not_equal(t, unknown);
        assert_string_not_equal(diy_error_name(codes[i]), "unknown");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, diy_error_text(codes[j]));
    }
    assert_non_null(strstr(diy_error_text(403), "unlock"));
    assert_non_null(strstr(diy_error_text(404), "--deviceid"));
    assert_non_null(strstr(diy_error_text(413), "520192"));
    assert_non_null(strstr(diy_error_text(424), "Range"));
    assert_non_null(strstr(diy_error_text(471), "brick"));
    assert_non_null(strstr(diy_error_text(503), "Internet"));
    assert_string_equal(diy_error_name(12345), "unknown");
}

static void versions(void **state)
{
    (void)state;
    assert_true(diy_fw_cmp("3.7.6", "3.7.6") == 0);
    assert_true(diy_fw_cmp("3.7.5", "3.7.6") < 0);
    assert_true(diy_fw_cmp("3.10.0", "3.7.6") > 0);
    assert_true(diy_fw_cmp("3.7", "3.7.0") == 0);
    assert_true(diy_fw_cmp("3.7", "3.7.1") < 0);
    assert_true(diy_fw_cmp("4", "3.99.99") > 0);
    assert_true(diy_fw_cmp("3.7.6-beta", "3.7.6") == 0);
    assert_true(diy_fw_cmp("", "0") == 0);
    assert_true(diy_fw_cmp(NULL, "1") < 0);
    assert_false(diy_fw_needs_deviceid("3.6.0"));
    assert_false(diy_fw_needs_deviceid("3.3.0"));
    assert_true(diy_fw_needs_deviceid("3.7.6"));
    assert_true(diy_fw_needs_deviceid("3.8.0"));
    assert_true(diy_fw_needs_deviceid(""));
    assert_int_equal(diy_proto_for_fw("3.3.0"), DIY_PROTO_1_4);
    assert_int_equal(diy_proto_for_fw("3.4.0"), DIY_PROTO_1_4);
    assert_int_equal(diy_proto_for_fw("3.5.0"), DIY_PROTO_2_0);
    assert_int_equal(diy_proto_for_fw(""), DIY_PROTO_UNKNOWN);
    assert_string_equal(diy_proto_name(DIY_PROTO_1_4), "1.4");
    assert_true(diy_is_sha256_lower("3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec9644667"));
    assert_false(diy_is_sha256_lower("3213B2C34CECBB3BB817030C7F025396B658634C0CF9C4435FC0B52EC9644667"));
    assert_false(diy_is_sha256_lower("3213b2c34cecbb3bb817030c7f025396b658634c0cf9c4435fc0b52ec964466"));
    assert_false(diy_is_sha256_lower(NULL));
    assert_true(diy_is_deviceid("1000e4c17c"));
    assert_false(diy_is_deviceid("1000E4C17C"));
    assert_false(diy_is_deviceid("1000e4c17"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(reply_v20_object),
        cmocka_unit_test(reply_v14_string),
        cmocka_unit_test(reply_errors_and_forms),
        cmocka_unit_test(build_reply_roundtrip),
        cmocka_unit_test(build_requests),
        cmocka_unit_test(parse_requests),
        cmocka_unit_test(error_sentences),
        cmocka_unit_test(versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
