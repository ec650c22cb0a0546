/* Unit tests for src/lib/ewl_msg.c and ewl_msg_build.c: the real messages of
 * PROTOCOL.md §1.2-§1.5 (VP capture, S issues) as fixtures, every type and size
 * rejection, builders checked against literal JSON and round-tripped through the
 * parsers. Inputs are malloc'd to their exact length so ASan reports over-reads. */
#include "lib/ewl_msg.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FACTORY "94676db5-88f3-4dc0-8573-5e6615eaacc4"
#define OWNER "2b4d7f1a-0c3e-4f5a-9b8c-7d6e5f4a3b2c"
#define DIG1 "5b1e2c4bd0a0c3f7e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6"
#define DIG2 "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define URL1 "http://192.168.1.6:8080/ota/image_user1-0x01000.bin"
#define URL2 "http://192.168.1.6:8080/ota/image_user2-0x81000.bin"

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static enum so_err msg(const char *json, struct ewl_msg *m)
{
    size_t n = strlen(json);
    char *p = dup_exact(json, n);
    enum so_err e = ewl_parse_msg(p, n, m);
    free(p);
    return e;
}

static enum so_err msg_n(const char *json, size_t n, struct ewl_msg *m)
{
    char *p = dup_exact(json, n);
    enum so_err e = ewl_parse_msg(p, n, m);
    free(p);
    return e;
}

/* ---- device → server fixtures (§1.4 table; VP, S#32) ---- */

static const char fx_register[] =
    "{\"userAgent\":\"device\",\"apikey\":\"" FACTORY "\",\"deviceid\":\"100006af71\","
    "\"action\":\"register\",\"version\":2,\"romVersion\":\"2.0.1\",\"model\":\"PSA-BHA-GL\","
    "\"ts\":733}";
static const char fx_date[] = "{\"userAgent\":\"device\",\"apikey\":\"" OWNER
                              "\",\"deviceid\":\"100006af71\",\"action\":\"date\"}";
static const char fx_update[] =
    "{\"userAgent\":\"device\",\"apikey\":\"" OWNER "\",\"deviceid\":\"100006af71\","
    "\"action\":\"update\",\"params\":{\"switch\":\"off\",\"fwVersion\":\"1.5.5\",\"rssi\":-31,"
    "\"staMac\":\"5C:CF:7F:A6:FD:F6\",\"startup\":\"off\"}}";
static const char fx_query[] = "{\"userAgent\":\"device\",\"apikey\":\"" OWNER
                               "\",\"deviceid\":\"100006af71\",\"action\":\"query\","
                               "\"params\":[\"timers\"]}";
static const char fx_query2[] = "{\"userAgent\":\"device\",\"apikey\":\"" OWNER
                                "\",\"deviceid\":\"100006af71\",\"action\":\"query\","
                                "\"params\":[\"timers\",\"timeZone\"]}";
static const char fx_ack[] = "{\"error\":0,\"userAgent\":\"device\",\"apikey\":\"" OWNER
                             "\",\"deviceid\":\"100006af71\",\"sequence\":\"1505608036953\"}";
static const char fx_ack404[] = "{\"error\":404,\"userAgent\":\"device\",\"apikey\":\"" OWNER
                                "\",\"deviceid\":\"10000bad11\",\"sequence\":\"1510349895170\"}";
static const char fx_upgrade_state[] =
    "{\"userAgent\":\"device\",\"apikey\":\"" OWNER "\",\"deviceid\":\"100006af71\","
    "\"action\":\"update\",\"params\":{\"upgradeState\":0}}";

/* ---- server → device fixtures ---- */

static const char fx_register_reply[] = "{\"error\":0,\"deviceid\":\"100006af71\",\"apikey\":\"" OWNER
                                        "\",\"config\":{\"hb\":1,\"hbInterval\":145}}";
static const char fx_date_reply[] = "{\"error\":0,\"deviceid\":\"100006af71\",\"apikey\":\"" OWNER
                                    "\",\"date\":\"2017-09-17T00:24:54.955Z\"}";
static const char fx_update_reply[] =
    "{\"error\":0,\"deviceid\":\"100006af71\",\"apikey\":\"" OWNER "\"}";
static const char fx_query_reply[] =
    "{\"error\":0,\"deviceid\":\"100006af71\",\"apikey\":\"" OWNER "\",\"params\":0}";
static const char fx_upgrade[] = /* §1.5, with the version we send */
    "{\"action\":\"upgrade\",\"deviceid\":\"10000bad11\",\"apikey\":\"" OWNER "\","
    "\"userAgent\":\"app\",\"sequence\":\"1510349895170\",\"ts\":0,"
    "\"params\":{\"binList\":["
    "{\"downloadUrl\":\"" URL1 "\",\"digest\":\"" DIG1 "\",\"name\":\"user1.bin\"},"
    "{\"downloadUrl\":\"" URL2 "\",\"digest\":\"" DIG2 "\",\"name\":\"user2.bin\"}],"
    "\"model\":\"ITA-GZ1-GL\",\"version\":\"99.99.99\",\"autoRestart\":1}}";
static const char fx_upgrade_vp[] = /* the real cloud's (VP), no autoRestart, pretty-printed */
    "{\n  \"action\": \"upgrade\",\n  \"deviceid\": \"100008db11\",\n  \"apikey\": \"" OWNER "\",\n"
    "  \"userAgent\": \"app\",\n  \"sequence\": \"1505631588362\",\n  \"ts\": 0,\n"
    "  \"params\": {\n    \"binList\": [\n"
    "      {\"downloadUrl\": \"http://52.28.103.75:8088/ota/rom/0123456789abcdef0123456789abcdef/"
    "user1.1024.new.2.bin\", \"digest\": \"" DIG1 "\", \"name\": \"user1.bin\"},\n"
    "      {\"downloadUrl\": \"http://52.28.103.75:8088/ota/rom/0123456789abcdef0123456789abcdef/"
    "user2.1024.new.2.bin\", \"digest\": \"" DIG2 "\", \"name\": \"user2.bin\"}\n    ],\n"
    "    \"model\": \"ITA-GZ1-GL\",\n    \"version\": \"1.5.5\"\n  }\n}\n";
static const char fx_switch[] =
    "{\"action\":\"update\",\"deviceid\":\"100006af71\",\"apikey\":\"" OWNER "\","
    "\"userAgent\":\"app\",\"sequence\":\"1505608036953\",\"ts\":0,"
    "\"params\":{\"switch\":\"on\"},\"from\":\"app\"}";

/* ---- AP mode and dispatch fixtures (§1.2, §1.3) ---- */

static const char fx_device_info[] =
    "{\"deviceid\":\"100016aa70\",\"apikey\":\"" FACTORY "\",\"accept\":\"post\"}";
static const char fx_ap[] = "{\"version\":4,\"ssid\":\"HomeNet\",\"password\":\"s3cret \\\"pw\\\"\","
                            "\"serverName\":\"192.168.1.6\",\"port\":8443}";
static const char fx_dispatch_req[] =
    "{\"accept\":\"ws;2\",\"version\":2,\"ts\":933,\"deviceid\":\"100008db11\","
    "\"apikey\":\"" FACTORY "\",\"model\":\"ITA-GZ1-GL\",\"romVersion\":\"1.5.5\"}";
static const char fx_dispatch_reply_cloud[] =
    "{\"error\":0,\"reason\":\"ok\",\"IP\":\"35.157.208.224\",\"port\":443}";

/* ================= parsing the real messages ================= */

static void parse_device_messages(void **state)
{
    (void)state;
    struct ewl_msg m;
    assert_int_equal(msg(fx_register, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_REGISTER);
    assert_string_equal(m.action_name, "register");
    assert_string_equal(m.deviceid, "100006af71");
    assert_string_equal(m.apikey, FACTORY);
    assert_string_equal(m.user_agent, "device");
    assert_string_equal(m.model, "PSA-BHA-GL");
    assert_string_equal(m.rom_version, "2.0.1");
    assert_false(m.has_error || m.has_params || m.has_config);
    assert_string_equal(m.sequence, "");

    assert_int_equal(msg(fx_date, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_DATE);
    assert_string_equal(m.apikey, OWNER);

    assert_int_equal(msg(fx_update, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_UPDATE);
    assert_true(m.has_params);
    assert_string_equal(m.fw_version, "1.5.5");
    assert_false(m.has_upgrade_state);

    assert_int_equal(msg(fx_query, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_QUERY);
    assert_true(m.has_params);
    assert_int_equal(msg(fx_query2, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_QUERY);

    assert_int_equal(msg(fx_ack, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_NONE);
    assert_string_equal(m.action_name, "");
    assert_true(m.has_error);
    assert_int_equal(m.error, 0);
    assert_string_equal(m.sequence, "1505608036953");

    assert_int_equal(msg(fx_ack404, &m), SO_OK);
    assert_int_equal(m.error, 404);
    assert_string_equal(m.deviceid, "10000bad11");

    assert_int_equal(msg(fx_upgrade_state, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_UPDATE);
    assert_true(m.has_upgrade_state);
    assert_int_equal(m.upgrade_state, 0);
    assert_string_equal(m.fw_version, "");
}

static void parse_server_messages(void **state)
{
    (void)state;
    struct ewl_msg m;
    assert_int_equal(msg(fx_register_reply, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_NONE);
    assert_true(m.has_error && m.error == 0);
    assert_true(m.has_config);
    assert_int_equal(m.hb, 1);
    assert_int_equal(m.hb_interval, 145);
    assert_false(m.has_params);
    assert_string_equal(m.apikey, OWNER);

    assert_int_equal(msg(fx_date_reply, &m), SO_OK);
    assert_string_equal(m.date, "2017-09-17T00:24:54.955Z");
    assert_false(m.has_params || m.has_config);

    assert_int_equal(msg(fx_update_reply, &m), SO_OK);
    assert_true(m.has_error && !m.has_params && m.date[0] == '\0');

    assert_int_equal(msg(fx_query_reply, &m), SO_OK);
    assert_true(m.has_params);

    assert_int_equal(msg(fx_upgrade, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_UPGRADE);
    assert_string_equal(m.user_agent, "app");
    assert_string_equal(m.sequence, "1510349895170");
    assert_int_equal(m.n_bins, 2);
    assert_string_equal(m.bins[0].url, URL1);
    assert_string_equal(m.bins[0].digest, DIG1);
    assert_string_equal(m.bins[0].name, "user1.bin");
    assert_string_equal(m.bins[1].url, URL2);
    assert_string_equal(m.bins[1].digest, DIG2);
    assert_string_equal(m.bins[1].name, "user2.bin");
    assert_string_equal(m.upgrade_model, "ITA-GZ1-GL");
    assert_string_equal(m.upgrade_version, "99.99.99");
    assert_true(m.has_auto_restart && m.auto_restart == 1);
    assert_string_equal(m.model, ""); /* params.model is not the top-level model */

    assert_int_equal(msg(fx_upgrade_vp, &m), SO_OK);
    assert_int_equal(m.n_bins, 2);
    assert_string_equal(m.bins[1].url, "http://52.28.103.75:8088/ota/rom/"
                                       "0123456789abcdef0123456789abcdef/user2.1024.new.2.bin");
    assert_string_equal(m.upgrade_version, "1.5.5");
    assert_false(m.has_auto_restart);

    assert_int_equal(msg(fx_switch, &m), SO_OK);
    assert_int_equal(m.action, EWL_ACT_UPDATE);
    assert_string_equal(m.sequence, "1505608036953");
    assert_true(m.has_params);

    const struct {
        const char *json;
        enum ewl_action act;
        const char *name;
    } acts[] = {
        {"{\"action\":\"restart\",\"sequence\":\"1\"}", EWL_ACT_RESTART, "restart"},
        {"{\"action\":\"redirect\",\"IP\":\"1.2.3.4\",\"port\":443}", EWL_ACT_REDIRECT, "redirect"},
        {"{\"action\":\"notify\",\"cmd\":\"config\",\"hb\":1,\"hbInterval\":60}", EWL_ACT_NOTIFY,
         "notify"},
        {"{\"action\":\"upgrade\"}", EWL_ACT_UPGRADE, "upgrade"},
        {"{\"action\":\"timers\"}", EWL_ACT_UNKNOWN, "timers"},
        {"{\"action\":\"Register\"}", EWL_ACT_UNKNOWN, "Register"},
        {"{\"action\":\"\"}", EWL_ACT_UNKNOWN, ""},
        {"{\"action\":\"123456789012345\"}", EWL_ACT_UNKNOWN, "123456789012345"},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        assert_int_equal(msg(acts[i].json, &m), SO_OK);
        assert_int_equal(m.action, acts[i].act);
        assert_string_equal(m.action_name, acts[i].name);
    }
}

static void parse_sequence_forms(void **state)
{
    (void)state;
    struct ewl_msg m;
    const struct {
        const char *json;
        enum so_err want;
        const char *seq;
    } cases[] = {
        {"{\"sequence\":\"1505608036953\"}", SO_OK, "1505608036953"},
        {"{\"sequence\":1505608036953}", SO_OK, "1505608036953"},
        {"{\"sequence\":0}", SO_OK, "0"},
        {"{\"sequence\":-42}", SO_OK, "-42"},
        {"{\"sequence\":9007199254740992}", SO_OK, "9007199254740992"},
        {"{\"sequence\":-9007199254740992}", SO_OK, "-9007199254740992"},
        {"{\"sequence\":1.5e3}", SO_OK, "1500"},
        {"{\"sequence\":\"\"}", SO_OK, ""},
        {"{\"sequence\":\"12345678901234567890123\"}", SO_OK, "12345678901234567890123"},
        {"{\"sequence\":\"123456789012345678901234\"}", SO_E_TOOBIG, ""},
        {"{\"sequence\":9007199254740994}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":1e300}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":1e999}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":1.5}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":true}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":null}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":[\"1\"]}", SO_E_MSG_FIELD, ""},
        {"{\"sequence\":{}}", SO_E_MSG_FIELD, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum so_err e = msg(cases[i].json, &m);
        if (e != cases[i].want)
            fail_msg("case %zu %s: got %d want %d", i, cases[i].json, e, cases[i].want);
        if (e == SO_OK)
            assert_string_equal(m.sequence, cases[i].seq);
    }
}

/* Every typed field: wrong type → SO_E_MSG_FIELD, too long → SO_E_TOOBIG. */
static void parse_msg_rejections(void **state)
{
    (void)state;
    struct ewl_msg m;
    const struct {
        const char *json;
        enum so_err want;
    } cases[] = {
        {"{\"action\":1}", SO_E_MSG_FIELD},
        {"{\"action\":null}", SO_E_MSG_FIELD},
        {"{\"action\":[\"date\"]}", SO_E_MSG_FIELD},
        {"{\"action\":\"1234567890123456\"}", SO_E_TOOBIG},
        {"{\"deviceid\":100006}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"12345678901234567890123\"}", SO_OK},
        {"{\"deviceid\":\"123456789012345678901234\"}", SO_E_TOOBIG},
        {"{\"apikey\":\"" FACTORY "\"}", SO_OK},
        {"{\"apikey\":\"" FACTORY "0\"}", SO_E_TOOBIG},
        {"{\"apikey\":false}", SO_E_MSG_FIELD},
        {"{\"userAgent\":\"123456789012345\"}", SO_OK},
        {"{\"userAgent\":\"1234567890123456\"}", SO_E_TOOBIG},
        {"{\"userAgent\":{}}", SO_E_MSG_FIELD},
        {"{\"error\":\"0\"}", SO_E_MSG_FIELD},
        {"{\"error\":0.5}", SO_E_MSG_FIELD},
        {"{\"error\":1e10}", SO_E_MSG_FIELD},
        {"{\"error\":-2147483648}", SO_OK},
        {"{\"error\":2147483648}", SO_E_MSG_FIELD},
        {"{\"error\":null}", SO_E_MSG_FIELD},
        {"{\"model\":7}", SO_E_MSG_FIELD},
        {"{\"model\":\"1234567890123456789012345678901\"}", SO_OK},
        {"{\"model\":\"12345678901234567890123456789012\"}", SO_E_TOOBIG},
        {"{\"romVersion\":1.5}", SO_E_MSG_FIELD},
        {"{\"romVersion\":\"1234567890123456\"}", SO_E_TOOBIG},
        {"{\"date\":1505607894}", SO_E_MSG_FIELD},
        {"{\"date\":\"2017-09-17T00:24:54.955Z-------\"}", SO_OK},   /* 31 chars */
        {"{\"date\":\"2017-09-17T00:24:54.955Z--------\"}", SO_E_TOOBIG},
        {"{\"config\":1}", SO_E_MSG_FIELD},
        {"{\"config\":[]}", SO_E_MSG_FIELD},
        {"{\"config\":{\"hb\":\"1\"}}", SO_E_MSG_FIELD},
        {"{\"config\":{\"hbInterval\":\"145\"}}", SO_E_MSG_FIELD},
        {"{\"config\":{\"hbInterval\":14.5}}", SO_E_MSG_FIELD},
        {"{\"action\":\"update\",\"params\":{\"fwVersion\":155}}", SO_E_MSG_FIELD},
        {"{\"action\":\"update\",\"params\":{\"fwVersion\":\"1234567890123456\"}}", SO_E_TOOBIG},
        {"{\"action\":\"update\",\"params\":{\"upgradeState\":\"0\"}}", SO_E_MSG_FIELD},
        {"{\"action\":\"update\",\"params\":\"x\"}", SO_OK},
        /* upgrade params */
        {"{\"action\":\"upgrade\",\"params\":0}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":[]}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{}}", SO_OK},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[]}}", SO_OK},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":{}}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":\"x\"}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[1]}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{},{},{}]}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"u\",\"digest\":\"d\","
         "\"name\":\"n\"},{\"downloadUrl\":\"u\",\"digest\":\"d\",\"name\":\"n\"},"
         "{\"downloadUrl\":\"u\",\"digest\":\"d\",\"name\":\"n\"}]}}",
         SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"digest\":\"d\",\"name\":\"n\"}]}}",
         SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"u\",\"name\":\"n\"}]}}",
         SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"u\",\"digest\":\"d\"}]}}",
         SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":1,\"digest\":\"d\","
         "\"name\":\"n\"}]}}",
         SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"u\",\"digest\":null,"
         "\"name\":\"n\"}]}}",
         SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"u\",\"digest\":\"d\","
         "\"name\":\"user1.bin.too.long\"}]}}",
         SO_E_TOOBIG},
        {"{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"u\",\"digest\":\"" DIG1
         "0\",\"name\":\"n\"}]}}",
         SO_E_TOOBIG},
        {"{\"action\":\"upgrade\",\"params\":{\"model\":1}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"model\":\"12345678901234567890123456789012\"}}",
         SO_E_TOOBIG},
        {"{\"action\":\"upgrade\",\"params\":{\"version\":99}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"version\":\"99.99.99.99.99.99\"}}", SO_E_TOOBIG},
        {"{\"action\":\"upgrade\",\"params\":{\"autoRestart\":\"1\"}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"autoRestart\":true}}", SO_E_MSG_FIELD},
        {"{\"action\":\"upgrade\",\"params\":{\"autoRestart\":0.5}}", SO_E_MSG_FIELD},
        /* params of other actions are not read */
        {"{\"action\":\"query\",\"params\":{\"binList\":5,\"fwVersion\":1}}", SO_OK},
        {"{\"params\":{\"autoRestart\":\"x\",\"upgradeState\":\"y\"}}", SO_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum so_err e = msg(cases[i].json, &m);
        if (e != cases[i].want)
            fail_msg("case %zu %s: got %d want %d", i, cases[i].json, e, cases[i].want);
    }
    /* the url limit: 159 chars fit, 160 do not */
    for (size_t len = EWL_URL_MAX - 1; len <= EWL_URL_MAX; len++) {
        char json[400];
        char url[EWL_URL_MAX + 1];
        memset(url, 'u', len);
        url[len] = '\0';
        snprintf(json, sizeof json,
                 "{\"action\":\"upgrade\",\"params\":{\"binList\":[{\"downloadUrl\":\"%s\","
                 "\"digest\":\"d\",\"name\":\"n\"}]}}",
                 url);
        assert_int_equal(msg(json, &m), len < EWL_URL_MAX ? SO_OK : SO_E_TOOBIG);
    }
}

/* After a bad field the identity and sequence are still there for the ack (IG: 400). */
static void partial_fill_for_ack(void **state)
{
    (void)state;
    struct ewl_msg m;
    const char *json = "{\"action\":\"upgrade\",\"deviceid\":\"10000bad11\",\"apikey\":\"" OWNER
                       "\",\"userAgent\":\"app\",\"sequence\":\"1510349895170\",\"ts\":0,"
                       "\"params\":{\"binList\":[],\"model\":\"ITA-GZ1-GL\",\"autoRestart\":\"yes\"}}";
    assert_int_equal(msg(json, &m), SO_E_MSG_FIELD);
    assert_int_equal(m.action, EWL_ACT_UPGRADE);
    assert_string_equal(m.deviceid, "10000bad11");
    assert_string_equal(m.apikey, OWNER);
    assert_string_equal(m.sequence, "1510349895170");
}

static void whole_input_rules(void **state)
{
    (void)state;
    struct ewl_msg m;
    const struct {
        const char *json;
        size_t n;
        enum so_err want;
    } cases[] = {
        {"", 0, SO_E_JSON},
        {" ", 1, SO_E_JSON},
        {"{", 1, SO_E_JSON},
        {"{\"a\":", 5, SO_E_JSON},
        {"{\"a\":1", 6, SO_E_JSON},
        {"[1]", 3, SO_E_JSON},
        {"\"x\"", 3, SO_E_JSON},
        {"1", 1, SO_E_JSON},
        {"null", 4, SO_E_JSON},
        {"true", 4, SO_E_JSON},
        {"{'a':1}", 7, SO_E_JSON},
        {"{a:1}", 5, SO_E_JSON},
        {"{\"a\":1}x", 8, SO_E_JSON},
        {"{\"a\":1}{}", 9, SO_E_JSON},
        {"{\"a\":1},", 8, SO_E_JSON},
        {"{\"a\":1}\0", 8, SO_E_JSON},
        {"{\"a\":1} \r\n\t", 11, SO_OK},
        {" \n{\"a\":1}", 9, SO_OK},
        {"{}", 2, SO_OK},
        /* n is the length: a valid prefix is parsed, the rest of the buffer ignored */
        {"{}garbage", 2, SO_OK},
        {"{\"sequence\":\"1\"}", 12, SO_E_JSON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum so_err e = msg_n(cases[i].json, cases[i].n, &m);
        if (e != cases[i].want)
            fail_msg("case %zu: got %d want %d", i, e, cases[i].want);
    }
    /* size limit: EWL_JSON_MAX bytes parse, one more is refused before parsing */
    char *big = malloc(EWL_JSON_MAX + 1);
    assert_non_null(big);
    memset(big, ' ', EWL_JSON_MAX + 1);
    memcpy(big, "{\"pad\":\"", 8);
    big[EWL_JSON_MAX - 2] = '"';
    big[EWL_JSON_MAX - 1] = '}';
    memset(big + 8, 'p', EWL_JSON_MAX - 10);
    assert_int_equal(ewl_parse_msg(big, EWL_JSON_MAX, &m), SO_OK);
    assert_int_equal(ewl_parse_msg(big, EWL_JSON_MAX + 1, &m), SO_E_TOOBIG);
    struct ewl_device_info di;
    struct ewl_ap_config ap;
    struct ewl_dispatch_req dq;
    struct ewl_dispatch_reply dr;
    int err;
    assert_int_equal(ewl_parse_device_info(big, EWL_JSON_MAX + 1, &di), SO_E_TOOBIG);
    assert_int_equal(ewl_parse_ap_config(big, EWL_JSON_MAX + 1, &ap), SO_E_TOOBIG);
    assert_int_equal(ewl_parse_dispatch_req(big, EWL_JSON_MAX + 1, &dq), SO_E_TOOBIG);
    assert_int_equal(ewl_parse_dispatch_reply(big, EWL_JSON_MAX + 1, &dr), SO_E_TOOBIG);
    assert_int_equal(ewl_parse_error_reply(big, EWL_JSON_MAX + 1, &err), SO_E_TOOBIG);
    free(big);
    /* deep nesting inside the limit is just an unknown key */
    char deep[EWL_JSON_MAX];
    size_t d = 0;
    deep[d++] = '{';
    memcpy(deep + d, "\"x\":", 4);
    d += 4;
    size_t depth = (EWL_JSON_MAX - 8) / 2;
    memset(deep + d, '[', depth);
    d += depth;
    memset(deep + d, ']', depth);
    d += depth;
    deep[d++] = '}';
    /* cJSON's nesting limit (1000) refuses it as JSON; either way no crash. */
    enum so_err e = msg_n(deep, d, &m);
    assert_true(e == SO_OK || e == SO_E_JSON);

    assert_int_equal(ewl_parse_msg(NULL, 0, &m), SO_E_ARG);
    assert_int_equal(ewl_parse_msg("{}", 2, NULL), SO_E_ARG);
}

static void parse_ap_mode(void **state)
{
    (void)state;
    struct ewl_device_info di;
    size_t n = strlen(fx_device_info);
    char *p = dup_exact(fx_device_info, n);
    assert_int_equal(ewl_parse_device_info(p, n, &di), SO_OK);
    assert_string_equal(di.deviceid, "100016aa70");
    assert_string_equal(di.apikey, FACTORY);
    free(p);

    const struct {
        const char *json;
        enum so_err want;
    } dcases[] = {
        {"{\"accept\":\"post\",\"apikey\":\"" FACTORY "\",\"deviceid\":\"100016aa70\"}", SO_OK},
        {"{\"deviceid\":\"100016aa70\"}", SO_E_MSG_FIELD},
        {"{\"apikey\":\"" FACTORY "\"}", SO_E_MSG_FIELD},
        {"{\"deviceid\":100016,\"apikey\":\"" FACTORY "\"}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"100016aa70\",\"apikey\":\"" FACTORY "x\"}", SO_E_TOOBIG},
        {"[]", SO_E_JSON},
    };
    for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++) {
        n = strlen(dcases[i].json);
        p = dup_exact(dcases[i].json, n);
        assert_int_equal(ewl_parse_device_info(p, n, &di), dcases[i].want);
        free(p);
    }

    struct ewl_ap_config ap;
    n = strlen(fx_ap);
    p = dup_exact(fx_ap, n);
    assert_int_equal(ewl_parse_ap_config(p, n, &ap), SO_OK);
    assert_int_equal(ap.version, 4);
    assert_string_equal(ap.ssid, "HomeNet");
    assert_string_equal(ap.password, "s3cret \"pw\"");
    assert_string_equal(ap.server, "192.168.1.6");
    assert_int_equal(ap.port, 8443);
    free(p);

#define SSID32 "12345678901234567890123456789012"
#define PW64 "1234567890123456789012345678901234567890123456789012345678901234"
    const struct {
        const char *json;
        enum so_err want;
    } acases[] = {
        {"{\"version\":4,\"ssid\":\"" SSID32 "\",\"password\":\"" PW64
         "\",\"serverName\":\"eu-disp.coolkit.cc\",\"port\":443}",
         SO_OK},
        {"{\"version\":4,\"ssid\":\"" SSID32 "x\",\"password\":\"p\",\"serverName\":\"s\",\"port\":1}",
         SO_E_TOOBIG},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"" PW64 "x\",\"serverName\":\"s\",\"port\":1}",
         SO_E_TOOBIG},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":65535}",
         SO_OK},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":65536}",
         SO_E_MSG_FIELD},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":0}",
         SO_E_MSG_FIELD},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":\"8443\"}",
         SO_E_MSG_FIELD},
        {"{\"version\":\"4\",\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":1}",
         SO_E_MSG_FIELD},
        {"{\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":1}", SO_E_MSG_FIELD},
        {"{\"version\":4,\"SSID\":\"s\",\"password\":\"p\",\"serverName\":\"s\",\"port\":1}",
         SO_E_MSG_FIELD},
        {"{\"version\":4,\"ssid\":\"s\",\"serverName\":\"s\",\"port\":1}", SO_E_MSG_FIELD},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":1,\"serverName\":\"s\",\"port\":1}",
         SO_E_MSG_FIELD},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"p\",\"port\":1}", SO_E_MSG_FIELD},
        {"{\"version\":4,\"ssid\":\"s\",\"password\":\"p\",\"serverName\":\"s\"}", SO_E_MSG_FIELD},
    };
    for (size_t i = 0; i < sizeof acases / sizeof acases[0]; i++) {
        n = strlen(acases[i].json);
        p = dup_exact(acases[i].json, n);
        enum so_err e = ewl_parse_ap_config(p, n, &ap);
        if (e != acases[i].want)
            fail_msg("ap case %zu: got %d want %d", i, e, acases[i].want);
        if (e != SO_OK) {
            /* the password never stays behind in a failed result */
            static const char zero[EWL_PASSWORD_MAX + 1];
            assert_memory_equal(ap.password, zero, sizeof zero);
        }
        free(p);
    }

    int err = -1;
    const struct {
        const char *json;
        enum so_err want;
        int error;
    } ecases[] = {
        {"{\"error\":0}", SO_OK, 0},
        {"{\"error\":400}", SO_OK, 400},
        {"{\"error\":\"0\"}", SO_E_MSG_FIELD, 0},
        {"{}", SO_E_MSG_FIELD, 0},
        {"0", SO_E_JSON, 0},
    };
    for (size_t i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
        n = strlen(ecases[i].json);
        p = dup_exact(ecases[i].json, n);
        assert_int_equal(ewl_parse_error_reply(p, n, &err), ecases[i].want);
        if (ecases[i].want == SO_OK)
            assert_int_equal(err, ecases[i].error);
        free(p);
    }
}

static void parse_dispatch(void **state)
{
    (void)state;
    struct ewl_dispatch_req q;
    size_t n = strlen(fx_dispatch_req);
    char *p = dup_exact(fx_dispatch_req, n);
    assert_int_equal(ewl_parse_dispatch_req(p, n, &q), SO_OK);
    assert_string_equal(q.accept, "ws;2");
    assert_int_equal(q.version, 2);
    assert_int_equal(q.ts, 933);
    assert_string_equal(q.deviceid, "100008db11");
    assert_string_equal(q.apikey, FACTORY);
    assert_string_equal(q.model, "ITA-GZ1-GL");
    assert_string_equal(q.rom_version, "1.5.5");
    free(p);

    const struct {
        const char *json;
        enum so_err want;
    } qcases[] = {
        {"{\"deviceid\":\"1\",\"apikey\":\"k\"}", SO_OK},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"ts\":4294967295}", SO_OK},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"ts\":4294967296}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"ts\":-1}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"ts\":\"933\"}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"version\":\"2\"}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"model\":5}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"romVersion\":155}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\",\"apikey\":\"k\",\"accept\":\"ws;2ws;2ws;2ws;2\"}", SO_E_TOOBIG},
        {"{\"apikey\":\"k\"}", SO_E_MSG_FIELD},
        {"{\"deviceid\":\"1\"}", SO_E_MSG_FIELD},
    };
    for (size_t i = 0; i < sizeof qcases / sizeof qcases[0]; i++) {
        n = strlen(qcases[i].json);
        p = dup_exact(qcases[i].json, n);
        enum so_err e = ewl_parse_dispatch_req(p, n, &q);
        if (e != qcases[i].want)
            fail_msg("req case %zu: got %d want %d", i, e, qcases[i].want);
        free(p);
    }

    struct ewl_dispatch_reply r;
    n = strlen(fx_dispatch_reply_cloud);
    p = dup_exact(fx_dispatch_reply_cloud, n);
    assert_int_equal(ewl_parse_dispatch_reply(p, n, &r), SO_OK);
    assert_int_equal(r.error, 0);
    assert_string_equal(r.ip, "35.157.208.224");
    assert_int_equal(r.port, 443);
    free(p);

    const struct {
        const char *json;
        enum so_err want;
    } rcases[] = {
        {"{\"error\":\"0\",\"IP\":\"1.2.3.4\",\"port\":443}", SO_E_MSG_FIELD},
        {"{\"IP\":\"1.2.3.4\",\"port\":443}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"IP\":16909060,\"port\":443}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"IP\":\"1.2.3.4\",\"port\":\"443\"}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"IP\":\"1.2.3.4\"}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"port\":443}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"ip\":\"1.2.3.4\",\"port\":443}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"IP\":\"1.2.3.4\",\"port\":0}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"IP\":\"1.2.3.4\",\"port\":70000}", SO_E_MSG_FIELD},
        {"{\"error\":0,\"IP\":\"1234567890123456789012345678901234567890123456789012345678901234\","
         "\"port\":1}",
         SO_E_TOOBIG},
        {"{\"error\":404,\"reason\":\"not found\"}", SO_OK},
        {"{\"error\":404,\"IP\":5}", SO_E_MSG_FIELD},
    };
    for (size_t i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
        n = strlen(rcases[i].json);
        p = dup_exact(rcases[i].json, n);
        enum so_err e = ewl_parse_dispatch_reply(p, n, &r);
        if (e != rcases[i].want)
            fail_msg("reply case %zu: got %d want %d", i, e, rcases[i].want);
        free(p);
    }
}

/* ================= builders ================= */

static void expect_json(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void build_literals(void **state)
{
    (void)state;
    /* §1.5 upgrade, exactly as the device expects it */
    struct ewl_upgrade up = {
        .deviceid = "10000bad11", .apikey = OWNER, .sequence = "1510349895170",
        .model = "ITA-GZ1-GL", .version = "99.99.99", .auto_restart = 1, .n_bins = 2,
        .bins = {{URL1, DIG1, "user1.bin"}, {URL2, DIG2, "user2.bin"}},
    };
    expect_json(ewl_build_upgrade(&up), fx_upgrade);
    /* register reply with the heartbeat config (§1.4 rule a) */
    expect_json(ewl_build_register_reply("100006af71", OWNER, 145), fx_register_reply);
    expect_json(ewl_build_register_reply("100006af71", OWNER, 0),
                "{\"error\":0,\"deviceid\":\"100006af71\",\"apikey\":\"" OWNER "\"}");
    /* dispatch reply (§1.3, S) */
    struct ewl_dispatch_reply dr = {0, "192.168.1.6", 8443};
    expect_json(ewl_build_dispatch_reply(&dr),
                "{\"error\":0,\"reason\":\"ok\",\"IP\":\"192.168.1.6\",\"port\":8443}");
    struct ewl_dispatch_reply cloud = {0, "35.157.208.224", 443};
    expect_json(ewl_build_dispatch_reply(&cloud), fx_dispatch_reply_cloud);

    /* the rest: byte-identical to the captures */
    expect_json(ewl_build_register("100006af71", FACTORY, "PSA-BHA-GL", "2.0.1", 733),
                fx_register);
    expect_json(ewl_build_dev_simple("date", "100006af71", OWNER), fx_date);
    expect_json(ewl_build_dev_simple("query", "100006af71", OWNER), fx_query);
    expect_json(ewl_build_dev_update("100006af71", OWNER, "1.5.5", "5C:CF:7F:A6:FD:F6", -31, 0),
                fx_update);
    expect_json(ewl_build_dev_upgrade_state("100006af71", OWNER, 0), fx_upgrade_state);
    expect_json(ewl_build_ack("100006af71", OWNER, "1505608036953", 0), fx_ack);
    expect_json(ewl_build_ack("10000bad11", OWNER, "1510349895170", 404), fx_ack404);
    expect_json(ewl_build_date_reply("100006af71", OWNER, "2017-09-17T00:24:54.955Z"),
                fx_date_reply);
    expect_json(ewl_build_update_reply("100006af71", OWNER), fx_update_reply);
    expect_json(ewl_build_query_reply("100006af71", OWNER), fx_query_reply);
    expect_json(ewl_build_switch("100006af71", OWNER, "1505608036953", 1), fx_switch);
    struct ewl_device_info di = {"100016aa70", FACTORY};
    expect_json(ewl_build_device_info(&di), fx_device_info);
    struct ewl_ap_config ap = {4, "HomeNet", "s3cret \"pw\"", "192.168.1.6", 8443};
    expect_json(ewl_build_ap_config(&ap), fx_ap);
    expect_json(ewl_build_error_reply(0), "{\"error\":0}");
    struct ewl_dispatch_req dq = {"100008db11", FACTORY, "ITA-GZ1-GL", "1.5.5", "ws;2", 2, 933};
    expect_json(ewl_build_dispatch_req(&dq), fx_dispatch_req);
    /* escaping */
    expect_json(ewl_build_dev_simple("date", "a\"b\\c\n", "k"),
                "{\"userAgent\":\"device\",\"apikey\":\"k\",\"deviceid\":\"a\\\"b\\\\c\\n\","
                "\"action\":\"date\"}");
}

static void build_refusals(void **state)
{
    (void)state;
    assert_null(ewl_build_register(NULL, FACTORY, "m", "v", 1));
    assert_null(ewl_build_register("d", FACTORY, NULL, "v", 1));
    assert_null(ewl_build_dev_simple(NULL, "d", "k"));
    assert_null(ewl_build_dev_simple("query", "d", NULL));
    assert_null(ewl_build_dev_update("d", "k", NULL, "mac", 0, 1));
    assert_null(ewl_build_dev_upgrade_state(NULL, "k", 0));
    assert_null(ewl_build_ack("d", "k", NULL, 0));
    assert_null(ewl_build_register_reply("d", NULL, 145));
    assert_null(ewl_build_date_reply("d", "k", NULL));
    assert_null(ewl_build_update_reply(NULL, "k"));
    assert_null(ewl_build_query_reply("d", NULL));
    assert_null(ewl_build_switch("d", "k", NULL, 0));
    assert_null(ewl_build_upgrade(NULL));
    assert_null(ewl_build_device_info(NULL));
    assert_null(ewl_build_ap_config(NULL));
    assert_null(ewl_build_dispatch_req(NULL));
    assert_null(ewl_build_dispatch_reply(NULL));
    struct ewl_upgrade up = {.n_bins = 3};
    assert_null(ewl_build_upgrade(&up));
    up.n_bins = -1;
    assert_null(ewl_build_upgrade(&up));
}

static void parse_built(char *json, struct ewl_msg *m)
{
    assert_non_null(json);
    assert_int_equal(msg(json, m), SO_OK);
    free(json);
}

/* Every builder's output read back by the parser the other side uses. */
static void build_round_trips(void **state)
{
    (void)state;
    struct ewl_msg m;
    parse_built(ewl_build_register("100006af71", FACTORY, "PSA-BHA-GL", "2.0.1", 4294967295u), &m);
    assert_int_equal(m.action, EWL_ACT_REGISTER);
    assert_string_equal(m.deviceid, "100006af71");
    assert_string_equal(m.apikey, FACTORY);
    assert_string_equal(m.model, "PSA-BHA-GL");
    assert_string_equal(m.rom_version, "2.0.1");

    parse_built(ewl_build_register_reply("100006af71", OWNER, 60), &m);
    assert_true(m.has_config && m.hb == 1 && m.hb_interval == 60);
    assert_true(m.has_error && m.error == 0 && !m.has_params);
    assert_string_equal(m.apikey, OWNER);

    char date[25];
    ewl_format_date(1505607894, 955, date);
    parse_built(ewl_build_date_reply("100006af71", OWNER, date), &m);
    assert_string_equal(m.date, "2017-09-17T00:24:54.955Z");

    parse_built(ewl_build_dev_update("100006af71", OWNER, "1.5.5", "5C:CF:7F:A6:FD:F6", -60, 1),
                &m);
    assert_int_equal(m.action, EWL_ACT_UPDATE);
    assert_string_equal(m.fw_version, "1.5.5");

    parse_built(ewl_build_dev_upgrade_state("100006af71", OWNER, 409), &m);
    assert_true(m.has_upgrade_state && m.upgrade_state == 409);

    parse_built(ewl_build_ack("100006af71", OWNER, "1510349895170", 406), &m);
    assert_true(m.has_error && m.error == 406);
    assert_string_equal(m.sequence, "1510349895170");
    assert_int_equal(m.action, EWL_ACT_NONE);

    parse_built(ewl_build_query_reply("100006af71", OWNER), &m);
    assert_true(m.has_params && !m.has_config);
    parse_built(ewl_build_update_reply("100006af71", OWNER), &m);
    assert_true(!m.has_params && m.date[0] == '\0' && m.has_error);
    parse_built(ewl_build_dev_simple("query", "100006af71", OWNER), &m);
    assert_true(m.action == EWL_ACT_QUERY && m.has_params);
    parse_built(ewl_build_switch("100006af71", OWNER, "7", 0), &m);
    assert_true(m.action == EWL_ACT_UPDATE && m.has_params && strcmp(m.sequence, "7") == 0);

    struct ewl_upgrade up = {
        .deviceid = "10000bad11", .apikey = OWNER, .sequence = "1510349895170",
        .model = "PSC-B01-GL", .version = "99.99.99", .auto_restart = 1, .n_bins = 2,
        .bins = {{URL1, DIG1, "user1.bin"}, {URL2, DIG2, "user2.bin"}},
    };
    for (int nb = 0; nb <= 2; nb++) {
        up.n_bins = nb;
        parse_built(ewl_build_upgrade(&up), &m);
        assert_int_equal(m.action, EWL_ACT_UPGRADE);
        assert_int_equal(m.n_bins, nb);
        for (int i = 0; i < nb; i++) {
            assert_string_equal(m.bins[i].url, up.bins[i].url);
            assert_string_equal(m.bins[i].digest, up.bins[i].digest);
            assert_string_equal(m.bins[i].name, up.bins[i].name);
            assert_true(ewl_is_digest(m.bins[i].digest));
        }
        assert_string_equal(m.upgrade_model, "PSC-B01-GL");
        assert_string_equal(m.upgrade_version, "99.99.99");
        assert_true(m.has_auto_restart && m.auto_restart == 1);
        assert_string_equal(m.sequence, "1510349895170");
        assert_string_equal(m.user_agent, "app");
    }

    struct ewl_device_info di = {"100016aa70", FACTORY}, di2;
    char *s = ewl_build_device_info(&di);
    assert_non_null(s);
    assert_int_equal(ewl_parse_device_info(s, strlen(s), &di2), SO_OK);
    assert_memory_equal(&di, &di2, sizeof di);
    free(s);

    struct ewl_ap_config ap = {4, "My \"net\" \xc3\xa9", "p\\w\td", "sonota.local", 8443}, ap2;
    s = ewl_build_ap_config(&ap);
    assert_non_null(s);
    assert_int_equal(ewl_parse_ap_config(s, strlen(s), &ap2), SO_OK);
    assert_int_equal(ap2.version, ap.version);
    assert_string_equal(ap2.ssid, ap.ssid);
    assert_string_equal(ap2.password, ap.password);
    assert_string_equal(ap2.server, ap.server);
    assert_int_equal(ap2.port, ap.port);
    free(s);

    int err = -1;
    s = ewl_build_error_reply(403);
    assert_int_equal(ewl_parse_error_reply(s, strlen(s), &err), SO_OK);
    assert_int_equal(err, 403);
    free(s);

    struct ewl_dispatch_req dq = {"100008db11", FACTORY, "ITA-GZ1-GL", "1.5.5", "ws;2", 2,
                                  4294967295u},
                            dq2;
    s = ewl_build_dispatch_req(&dq);
    assert_int_equal(ewl_parse_dispatch_req(s, strlen(s), &dq2), SO_OK);
    assert_string_equal(dq2.deviceid, dq.deviceid);
    assert_string_equal(dq2.apikey, dq.apikey);
    assert_string_equal(dq2.model, dq.model);
    assert_string_equal(dq2.rom_version, dq.rom_version);
    assert_string_equal(dq2.accept, dq.accept);
    assert_int_equal(dq2.version, dq.version);
    assert_true(dq2.ts == dq.ts);
    free(s);

    struct ewl_dispatch_reply dr = {0, "10.0.0.5", 65535}, dr2;
    s = ewl_build_dispatch_reply(&dr);
    assert_int_equal(ewl_parse_dispatch_reply(s, strlen(s), &dr2), SO_OK);
    assert_int_equal(dr2.error, dr.error);
    assert_string_equal(dr2.ip, dr.ip);
    assert_int_equal(dr2.port, dr.port);
    free(s);
}

/* ================= helpers ================= */

static void uuid(void **state)
{
    (void)state;
    char out[EWL_UUID_LEN + 1];
    uint8_t b[16];
    memset(b, 0, 16);
    ewl_format_uuid(b, out);
    assert_string_equal(out, "00000000-0000-4000-8000-000000000000");
    memset(b, 0xff, 16);
    ewl_format_uuid(b, out);
    assert_string_equal(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    for (int i = 0; i < 16; i++)
        b[i] = (uint8_t)(i * 17);
    ewl_format_uuid(b, out);
    assert_string_equal(out, "00112233-4455-4677-8899-aabbccddeeff");
    assert_true(ewl_is_uuid(out));
    for (int i = 0; i < 16; i++)
        b[i] = (uint8_t)(0xa5 ^ (i * 29));
    ewl_format_uuid(b, out);
    assert_true(ewl_is_uuid(out));
    assert_int_equal(out[14], '4');
    assert_true(strchr("89ab", out[19]) != NULL);

    assert_true(ewl_is_uuid(FACTORY));
    assert_true(ewl_is_uuid("94676DB5-88F3-4DC0-8573-5E6615EAACC4"));
    assert_false(ewl_is_uuid("94676db5-88f3-4dc0-8573-5e6615eaacc"));
    assert_false(ewl_is_uuid("94676db5-88f3-4dc0-8573-5e6615eaacc40"));
    assert_false(ewl_is_uuid("94676db5088f3-4dc0-8573-5e6615eaacc4"));
    assert_false(ewl_is_uuid("94676db5-88f3-4dc0-8573-5e6615eaacg4"));
    assert_false(ewl_is_uuid("94676db5-88f3-4dc0-85735-e6615eaacc4"));
    assert_false(ewl_is_uuid(""));
    assert_false(ewl_is_uuid(NULL));
}

static void digest(void **state)
{
    (void)state;
    assert_true(ewl_is_digest(DIG1));
    assert_true(ewl_is_digest("0000000000000000000000000000000000000000000000000000000000000000"));
    assert_false(ewl_is_digest("5B1E2C4BD0A0C3F7E9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B9C8D7E6"));
    assert_false(ewl_is_digest("5b1e2c4bd0a0c3f7e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e"));
    assert_false(ewl_is_digest(DIG1 "0"));
    assert_false(ewl_is_digest("5b1e2c4bd0a0c3f7e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7eg"));
    assert_false(ewl_is_digest(" 5b1e2c4bd0a0c3f7e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e"));
    assert_false(ewl_is_digest(""));
    assert_false(ewl_is_digest(NULL));
}

static void date_format(void **state)
{
    (void)state;
    char out[25];
    const struct {
        int64_t s;
        int ms;
        const char *want;
    } cases[] = {
        {0, 0, "1970-01-01T00:00:00.000Z"},
        {1505607894, 955, "2017-09-17T00:24:54.955Z"}, /* VP's date reply */
        {-1, 999, "1969-12-31T23:59:59.999Z"},
        {951782400, 7, "2000-02-29T00:00:00.007Z"},
        {4107542400, 50, "2100-03-01T00:00:00.050Z"},
        {2147483647, 0, "2038-01-19T03:14:07.000Z"},
        {4294967295, 0, "2106-02-07T06:28:15.000Z"},
        {-62167219200, 0, "0000-01-01T00:00:00.000Z"},
        {253402300799, 999, "9999-12-31T23:59:59.999Z"},
        {INT64_MAX, 0, "9999-12-31T23:59:59.000Z"},
        {INT64_MIN, 0, "0000-01-01T00:00:00.000Z"},
        {0, -5, "1970-01-01T00:00:00.000Z"},
        {0, 1500, "1970-01-01T00:00:00.999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 'x', sizeof out);
        ewl_format_date(cases[i].s, cases[i].ms, out);
        assert_string_equal(out, cases[i].want);
    }
    /* Against the C library over 1900..2200, a step that is not a divisor of a day. */
    for (int64_t t = -2208988800LL; t < 7258118400LL; t += 86400 * 3 + 3607) {
        time_t tt = (time_t)t;
        struct tm tm;
        assert_non_null(gmtime_r(&tt, &tm));
        char want[32];
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.123Z", &tm);
        ewl_format_date(t, 123, out);
        assert_string_equal(out, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_device_messages), cmocka_unit_test(parse_server_messages),
        cmocka_unit_test(parse_sequence_forms),  cmocka_unit_test(parse_msg_rejections),
        cmocka_unit_test(partial_fill_for_ack),  cmocka_unit_test(whole_input_rules),
        cmocka_unit_test(parse_ap_mode),         cmocka_unit_test(parse_dispatch),
        cmocka_unit_test(build_literals),        cmocka_unit_test(build_refusals),
        cmocka_unit_test(build_round_trips),     cmocka_unit_test(uuid),
        cmocka_unit_test(digest),                cmocka_unit_test(date_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
