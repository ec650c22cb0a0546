/* test_sim_stock.c - the simulator's stock eWeLink client (src/sim/stock.c) against the rules
 * of PROTOCOL.md §1.4-§1.5: register → date → update → query in that order, replies told
 * apart by their fields, the owner-apikey rule (a new 36-char UUID, not the factory key, on
 * every later server message), command handling (update, restart, others ignored), and the upgrade
 * checks with their ack codes (400 fields, 406 model, 410 version) for the IG variant and for
 * older firmware. Server messages are built with lib/ewl_msg's builders (edited with cJSON
 * where a field must go missing) and handed over in exact-length buffers without a NUL, as
 * the WebSocket layer does, so ASan catches any read past the end. */
#include "sim/stock.h"

#include "lib/ewl_msg.h"

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVID "100008db11"
#define FACTORY "94676db5-88f3-4dc0-8573-5e6615eaacc4"
#define OWNER "0b2ac6a3-6d2e-4c3a-9a51-2b8e8c1f7d42"
#define OTHER_UUID "11111111-2222-4333-8444-555555555555"
#define MODEL "ITA-GZ1-GL"
#define ROM "1.5.5"
#define MAC "5C:CF:7F:A6:FD:F6"
#define DATE "2017-09-17T00:24:54.955Z"
#define SEQ "1510349895170"
#define URL1 "http://192.168.1.6:8080/ota/image_user1-0x01000.bin"
#define URL2 "http://192.168.1.6:8080/ota/image_user2-0x81000.bin"
#define DIG1 "1111111111111111111111111111111111111111111111111111111111111111"
#define DIG2 "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdef0123"

static struct stock_cfg cfg_of(int ig, int slot, int refuse)
{
    struct stock_cfg c = {DEVID, FACTORY, MODEL, ROM, MAC, ig, slot, refuse};
    return c;
}

/* Hands `json` (malloc'd, freed here) to the FSM from an exact-length copy without a NUL. */
static void feed_n(struct stock_fsm *f, char *json, size_t n, struct stock_out *out)
{
    assert_non_null(json);
    char *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    memcpy(buf, json, n);
    free(json);
    stock_on_text(f, buf, n, out);
    free(buf);
}

static void feed(struct stock_fsm *f, char *json, struct stock_out *out)
{
    assert_non_null(json);
    feed_n(f, json, strlen(json), out);
}

static char *dup(const char *s)
{
    char *p = strdup(s);
    assert_non_null(p);
    return p;
}

/* Parses what the device sent and checks it is addressed as the device must (its deviceid,
 * userAgent device, the given apikey). */
static void sent(const char *msg, const char *apikey, struct ewl_msg *m)
{
    assert_non_null(msg);
    assert_int_equal(ewl_parse_msg(msg, strlen(msg), m), SO_OK);
    assert_string_equal(m->deviceid, DEVID);
    assert_string_equal(m->apikey, apikey);
    assert_string_equal(m->user_agent, "device");
}

/* Nothing happened: no message, no flags, a reason for the log. */
static void assert_ignored(const struct stock_out *out)
{
    assert_int_equal(out->n, 0);
    assert_false(out->fail);
    assert_false(out->registered || out->upgrade || out->upgrade_acked || out->restart);
    assert_true(strncmp(out->why, "ignored: ", 9) == 0);
}

static void assert_failed(struct stock_out *out)
{
    assert_int_equal(out->n, 0);
    assert_true(out->fail);
    assert_true(out->why[0] != '\0');
}

/* Starts a session and checks the register message (§1.4: factory apikey, model, romVersion). */
static void start(struct stock_fsm *f, const struct stock_cfg *c)
{
    stock_init(f, c);
    char *reg = stock_start(f, 733);
    struct ewl_msg m;
    sent(reg, FACTORY, &m);
    assert_int_equal(m.action, EWL_ACT_REGISTER);
    assert_string_equal(m.model, MODEL);
    assert_string_equal(m.rom_version, ROM);
    free(reg);
    assert_int_equal(f->st, STK_REGISTER);
}

/* start, then the server's register reply: the device goes on to ask for the date. */
static void start_registered(struct stock_fsm *f, const struct stock_cfg *c)
{
    struct stock_out out;
    start(f, c);
    feed(f, ewl_build_register_reply(DEVID, OWNER, 145), &out);
    stock_out_free(&out);
}

/* register reply → date, date reply → update, update reply → query, query reply → ready. */
static void to_ready(struct stock_fsm *f, const struct stock_cfg *c)
{
    struct stock_out out;
    struct ewl_msg m;
    start(f, c);
    feed(f, ewl_build_register_reply(DEVID, OWNER, 145), &out);
    assert_true(out.registered);
    assert_int_equal(out.n, 1);
    sent(out.msg[0], OWNER, &m);
    assert_int_equal(m.action, EWL_ACT_DATE);
    stock_out_free(&out);
    feed(f, ewl_build_date_reply(DEVID, OWNER, DATE), &out);
    assert_int_equal(out.n, 1);
    sent(out.msg[0], OWNER, &m);
    assert_int_equal(m.action, EWL_ACT_UPDATE);
    assert_string_equal(m.fw_version, ROM);
    stock_out_free(&out);
    feed(f, ewl_build_update_reply(DEVID, OWNER), &out);
    assert_int_equal(out.n, 1);
    sent(out.msg[0], OWNER, &m);
    assert_int_equal(m.action, EWL_ACT_QUERY);
    stock_out_free(&out);
    feed(f, ewl_build_query_reply(DEVID, OWNER), &out);
    assert_int_equal(out.n, 0);
    assert_false(out.fail);
    assert_int_equal(f->st, STK_READY);
}

/* ---- §1.4 the message order ---- */

static void vp_order(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    to_ready(&f, &c);
    assert_string_equal(f.owner, OWNER);
    assert_int_equal(f.hb, 1);
    assert_int_equal(f.hb_interval, 145);
    assert_int_equal(f.n_ignored, 0);
}

/* The cloud's reply also has config.devConfig; config and hb are optional (§1.4 rule a). */
static void register_reply_variants(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    start(&f, &c);
    feed(&f, ewl_build_register_reply(DEVID, OWNER, 0), &out);
    assert_true(out.registered);
    assert_int_equal(f.hb_interval, 0);
    assert_int_equal(f.st, STK_DATE);
    stock_out_free(&out);

    start(&f, &c);
    feed(&f, dup("{\"error\":0,\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
                 "\"config\":{\"hb\":1,\"hbInterval\":145,\"devConfig\":{\"a\":1}}}"), &out);
    assert_true(out.registered);
    assert_int_equal(f.hb_interval, 145);
    stock_out_free(&out);
}

/* Every register reply the firmware refuses ends the session (the firmware reconnects). */
static void register_reply_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* 404 + regInterval: registration refused */
        "{\"error\":404,\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\",\"regInterval\":60}",
        "{\"error\":500,\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\"}",
        /* no error field */
        "{\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\"}",
        /* rule (a): the factory apikey back */
        "{\"error\":0,\"deviceid\":\"" DEVID "\",\"apikey\":\"" FACTORY "\"}",
        /* rule (a): not a 36-char UUID */
        "{\"error\":0,\"deviceid\":\"" DEVID "\","
        "\"apikey\":\"0b2ac6a3-6d2e-4c3a-9a51-2b8e8c1f7d4\"}",
        "{\"error\":0,\"deviceid\":\"" DEVID "\","
        "\"apikey\":\"0b2ac6a3x6d2e-4c3a-9a51-2b8e8c1f7d42\"}",
        "{\"error\":0,\"deviceid\":\"" DEVID "\","
        "\"apikey\":\"0b2ac6a3-6d2e-4c3a-9a51-2b8e8c1f7dz2\"}",
        "{\"error\":0,\"deviceid\":\"" DEVID "\"}",
        /* must not contain params */
        "{\"error\":0,\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\",\"params\":0}",
        /* another device's reply */
        "{\"error\":0,\"deviceid\":\"100008db12\",\"apikey\":\"" OWNER "\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct stock_fsm f;
        struct stock_cfg c = cfg_of(1, 1, 0);
        struct stock_out out;
        start(&f, &c);
        feed(&f, dup(bad[i]), &out);
        if (!out.fail)
            print_error("register reply %zu accepted: %s\n", i, bad[i]);
        assert_failed(&out);
        assert_false(out.registered);
        assert_string_equal(f.owner, "");
    }
}

/* Before the register reply, commands and garbage are ignored; the register is still due. */
static void before_register(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    start(&f, &c);
    feed(&f, ewl_build_switch(DEVID, OWNER, SEQ, 1), &out);
    assert_ignored(&out);
    feed(&f, dup("{\"error\":0,"), &out);
    assert_ignored(&out);
    feed(&f, dup("[1,2]"), &out);
    assert_ignored(&out);
    feed_n(&f, dup("x"), 0, &out); /* empty text frame */
    assert_ignored(&out);
    assert_int_equal(f.st, STK_REGISTER);
    assert_int_equal(f.n_ignored, 4);
    feed(&f, ewl_build_register_reply(DEVID, OWNER, 145), &out);
    assert_true(out.registered);
    stock_out_free(&out);
}

/* Rules (b)-(d): a reply is classified by its fields; one of the wrong kind for the stage is
 * ignored and the device keeps waiting (sequence violations). */
static void replies_out_of_order(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    start_registered(&f, &c);
    /* waiting for date: update and query replies are ignored */
    feed(&f, ewl_build_update_reply(DEVID, OWNER), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_query_reply(DEVID, OWNER), &out);
    assert_ignored(&out);
    /* a second register reply has no date: an update reply by its fields */
    feed(&f, ewl_build_register_reply(DEVID, OWNER, 145), &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_DATE);
    feed(&f, ewl_build_date_reply(DEVID, OWNER, DATE), &out);
    assert_int_equal(out.n, 1);
    stock_out_free(&out);
    /* waiting for update: date and query replies ignored */
    feed(&f, ewl_build_date_reply(DEVID, OWNER, DATE), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_query_reply(DEVID, OWNER), &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_UPDATE);
    feed(&f, ewl_build_update_reply(DEVID, OWNER), &out);
    assert_int_equal(out.n, 1);
    stock_out_free(&out);
    /* waiting for query: an update reply (no params) is not one */
    feed(&f, ewl_build_update_reply(DEVID, OWNER), &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_QUERY);
    feed(&f, ewl_build_query_reply(DEVID, OWNER), &out);
    assert_int_equal(f.st, STK_READY);
    /* ready: every reply is unexpected */
    feed(&f, ewl_build_query_reply(DEVID, OWNER), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_date_reply(DEVID, OWNER, DATE), &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_READY);
    assert_int_equal(f.n_ignored, 8);
}

/* Rule (b): the date must be ISO-8601 with milliseconds and Z, at most 24 chars. */
static void date_reply_format(void **state)
{
    (void)state;
    static const struct {
        const char *date;
        int ok;
    } t[] = {
        {DATE, 1},
        {"2026-12-06T15:25:00.000Z", 1},
        {"2017-09-17T00:24:54Z", 0},       /* no milliseconds */
        {"2017-09-17T00:24:54.955", 0},    /* no Z */
        {"2017-09-17 00:24:54.955Z", 0},   /* space for T */
        {"2017-09-17T00:24:54.9550Z", 0},  /* 25 chars */
        {"2017-9-17T00:24:54.955Z", 0},    /* 23 chars */
        {"2017-09-17T00:24:54.95xZ", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct stock_fsm f;
        struct stock_cfg c = cfg_of(1, 1, 0);
        struct stock_out out;
        start_registered(&f, &c);
        char *json = t[i].date[0] ? ewl_build_date_reply(DEVID, OWNER, t[i].date)
                                  : dup("{\"error\":0,\"deviceid\":\"" DEVID "\",\"apikey\":\""
                                        OWNER "\",\"date\":\"\"}");
        feed(&f, json, &out);
        if (t[i].ok) {
            assert_false(out.fail);
            assert_int_equal(out.n, 1);
            assert_int_equal(f.st, STK_UPDATE);
            stock_out_free(&out);
        } else if (t[i].date[0]) {
            if (!out.fail)
                print_error("date '%s' accepted\n", t[i].date);
            assert_failed(&out);
        } else {
            /* an empty date is no date: an update reply, unexpected while waiting for date */
            assert_ignored(&out);
        }
    }
}

/* A reply of the expected kind with an error other than 0 ends the session. */
static void reply_with_error(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"error\":406,\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\",\"date\":\"" DATE "\"}",
        "{\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\",\"date\":\"" DATE "\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        struct stock_fsm f;
        struct stock_cfg c = cfg_of(1, 1, 0);
        struct stock_out out;
        start_registered(&f, &c);
        feed(&f, dup(bad[i]), &out);
        assert_failed(&out);
    }
}

/* §1.4: all later server messages need the owner apikey and the device's id. */
static void owner_apikey_rule(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    start_registered(&f, &c);
    feed(&f, ewl_build_date_reply(DEVID, FACTORY, DATE), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_date_reply(DEVID, OTHER_UUID, DATE), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_date_reply("100008db12", OWNER, DATE), &out);
    assert_ignored(&out);
    feed(&f, dup("{\"error\":0,\"deviceid\":\"" DEVID "\",\"date\":\"" DATE "\"}"), &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_DATE);
    /* commands too: no ack for a foreign key */
    to_ready(&f, &c);
    feed(&f, ewl_build_switch(DEVID, FACTORY, SEQ, 1), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_switch("100008db12", OWNER, SEQ, 1), &out);
    assert_ignored(&out);
    assert_false(f.switch_on);
}

/* A restart of the session (stock_start) forgets the owner: the old key no longer works. */
static void new_session_new_owner(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    to_ready(&f, &c);
    char *reg = stock_start(&f, 1);
    free(reg);
    assert_int_equal(f.st, STK_REGISTER);
    assert_string_equal(f.owner, "");
    feed(&f, ewl_build_switch(DEVID, OWNER, SEQ, 1), &out);
    assert_ignored(&out);
    feed(&f, ewl_build_register_reply(DEVID, OTHER_UUID, 145), &out);
    assert_true(out.registered);
    struct ewl_msg m;
    sent(out.msg[0], OTHER_UUID, &m);
    stock_out_free(&out);
}

/* ---- §1.4 commands ---- */

static void assert_ack(struct stock_out *out, const char *seq, int error)
{
    struct ewl_msg m;
    assert_int_equal(out->n, 1);
    sent(out->msg[0], OWNER, &m);
    assert_int_equal(m.action, EWL_ACT_NONE);
    assert_true(m.has_error);
    assert_int_equal(m.error, error);
    assert_string_equal(m.sequence, seq);
}

static void switch_command(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    to_ready(&f, &c);
    /* SonOTA's five toggles (S) are each acked with their own sequence */
    static const char *const seqs[] = {"1505608036953", "1505608036954", "1505608036955",
                                       "1505608036956", "1505608036957"};
    for (int i = 0; i < 5; i++) {
        feed(&f, ewl_build_switch(DEVID, OWNER, seqs[i], i % 2), &out);
        assert_ack(&out, seqs[i], 0);
        assert_false(out.upgrade || out.restart || out.fail);
        assert_int_equal(f.switch_on, i % 2);
        stock_out_free(&out);
    }
    /* a numeric sequence is acked as digits */
    feed(&f, dup("{\"action\":\"update\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
                 "\"userAgent\":\"app\",\"sequence\":42,\"params\":{\"switch\":\"off\"}}"),
         &out);
    assert_ack(&out, "42", 0);
    assert_int_equal(f.switch_on, 0);
    stock_out_free(&out);
    /* an update without params.switch is acked and changes nothing */
    feed(&f, dup("{\"action\":\"update\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
                 "\"sequence\":\"7\",\"params\":{\"startup\":\"on\"}}"), &out);
    assert_ack(&out, "7", 0);
    assert_int_equal(f.switch_on, 0);
    stock_out_free(&out);
    /* no sequence: nothing to ack with */
    feed(&f, dup("{\"action\":\"update\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
                 "\"params\":{\"switch\":\"on\"}}"), &out);
    assert_ignored(&out);
    assert_int_equal(f.switch_on, 0);
}

static void restart_and_other_commands(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    to_ready(&f, &c);
    feed(&f, dup("{\"action\":\"restart\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
                 "\"userAgent\":\"app\",\"sequence\":\"" SEQ "\"}"), &out);
    assert_ack(&out, SEQ, 0);
    assert_true(out.restart);
    stock_out_free(&out);
    feed(&f, dup("{\"action\":\"restart\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\"}"),
         &out);
    assert_ignored(&out);
    /* redirect, notify and unknown actions are not simulated: ignored, never acked */
    static const char *const other[] = {
        "{\"action\":\"redirect\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
        "\"sequence\":\"1\",\"IP\":\"10.0.0.1\",\"port\":443}",
        "{\"action\":\"notify\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
        "\"sequence\":\"1\",\"cmd\":\"config\",\"hb\":1,\"hbInterval\":60}",
        "{\"action\":\"factoryReset\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
        "\"sequence\":\"1\"}",
        "{\"action\":\"register\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\"}",
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        feed(&f, dup(other[i]), &out);
        assert_ignored(&out);
    }
    /* a wrong-typed known field: the codec refuses it, and it is no upgrade */
    feed(&f, dup("{\"action\":\"update\",\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER "\","
                 "\"sequence\":\"1\",\"error\":\"0\"}"), &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_READY);
}

/* ---- §1.5 the upgrade command ---- */

enum edit {
    E_NONE,
    E_NO_VERSION,
    E_NO_AUTORESTART,
    E_AUTORESTART_STRING,
    E_NO_SEQUENCE,
    E_THIRD_BIN,
    E_BIN_NO_NAME,
    E_BINLIST_NOT_ARRAY,
    E_NO_BINLIST,
    E_LONG_SEQUENCE,
};

struct upg {
    const char *name;
    int ig, running, refuse;     /* device */
    const char *model, *version; /* NULL: MODEL / "99.99.99" */
    int n_bins;                  /* bins: user1 then user2, or swapped */
    int swapped;
    const char *url1, *dig1;     /* NULL: the good ones */
    const char *apikey, *deviceid;
    enum edit edit;
    int want;                    /* ack code, or -1: ignored (no ack) */
    int want_slot;               /* on ack 0 */
};

static char *upgrade_json(const struct upg *t)
{
    struct ewl_upgrade u;
    memset(&u, 0, sizeof u);
    snprintf(u.deviceid, sizeof u.deviceid, "%s", t->deviceid ? t->deviceid : DEVID);
    snprintf(u.apikey, sizeof u.apikey, "%s", t->apikey ? t->apikey : OWNER);
    snprintf(u.sequence, sizeof u.sequence, "%s", SEQ);
    snprintf(u.model, sizeof u.model, "%s", t->model ? t->model : MODEL);
    snprintf(u.version, sizeof u.version, "%s", t->version ? t->version : "99.99.99");
    u.auto_restart = 1;
    u.n_bins = t->n_bins;
    struct ewl_bin b1 = {"", "", "user1.bin"}, b2 = {URL2, DIG2, "user2.bin"};
    snprintf(b1.url, sizeof b1.url, "%s", t->url1 ? t->url1 : URL1);
    snprintf(b1.digest, sizeof b1.digest, "%s", t->dig1 ? t->dig1 : DIG1);
    u.bins[0] = t->swapped ? b2 : b1;
    u.bins[1] = t->swapped ? b1 : b2;
    if (t->n_bins == 1 && t->swapped)
        u.bins[0] = b2;
    char *json = ewl_build_upgrade(&u);
    assert_non_null(json);
    if (t->edit == E_NONE)
        return json;
    cJSON *root = cJSON_Parse(json);
    free(json);
    assert_non_null(root);
    cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    cJSON *list = cJSON_GetObjectItemCaseSensitive(params, "binList");
    switch (t->edit) {
    case E_NONE: break;
    case E_NO_VERSION: cJSON_DeleteItemFromObjectCaseSensitive(params, "version"); break;
    case E_NO_AUTORESTART: cJSON_DeleteItemFromObjectCaseSensitive(params, "autoRestart"); break;
    case E_AUTORESTART_STRING:
        cJSON_ReplaceItemInObjectCaseSensitive(params, "autoRestart", cJSON_CreateString("1"));
        break;
    case E_NO_SEQUENCE: cJSON_DeleteItemFromObjectCaseSensitive(root, "sequence"); break;
    case E_THIRD_BIN:
        cJSON_AddItemToArray(list, cJSON_Duplicate(cJSON_GetArrayItem(list, 0), 1));
        break;
    case E_BIN_NO_NAME:
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(list, 1), "name");
        break;
    case E_BINLIST_NOT_ARRAY:
        cJSON_ReplaceItemInObjectCaseSensitive(params, "binList", cJSON_CreateString(URL2));
        break;
    case E_NO_BINLIST: cJSON_DeleteItemFromObjectCaseSensitive(params, "binList"); break;
    case E_LONG_SEQUENCE:
        cJSON_ReplaceItemInObjectCaseSensitive(root, "sequence",
                                               cJSON_CreateString("1234567890123456789012345"));
        break;
    }
    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    assert_non_null(json);
    return json;
}

static const struct upg upgrades[] = {
    /* the IG variant (newer firmware): autoRestart, version, exactly 2 bins by name and
     * position */
    {"good, running user1 → user2.bin at 0x81000", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL,
     NULL, NULL, E_NONE, 0, 2},
    {"good, running user2 → user1.bin at 0x1000", 1, 2, 0, NULL, NULL, 2, 0, NULL, NULL,
     NULL, NULL, E_NONE, 0, 1},
    {"another model", 1, 1, 0, "PSA-BHA-GL", NULL, 2, 0, NULL, NULL, NULL, NULL, E_NONE, 406,
     0},
    {"fault refuse-model", 1, 1, 1, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_NONE, 406, 0},
    {"version equal", 1, 1, 0, NULL, ROM, 2, 0, NULL, NULL, NULL, NULL, E_NONE, 410, 0},
    {"version newer by number, older by strcmp", 1, 1, 0, NULL, "1.10.0", 2, 0, NULL, NULL,
     NULL, NULL, E_NONE, 410, 0},
    {"version newer by strcmp", 1, 1, 0, NULL, "10.0.0", 2, 0, NULL, NULL, NULL, NULL, E_NONE,
     0, 2},
    {"SonOTA's 23.42.5 is newer than 1.5.5", 1, 1, 0, NULL, "23.42.5", 2, 0, NULL, NULL, NULL,
     NULL, E_NONE, 0, 2},
    {"no version", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_NO_VERSION, 400, 0},
    {"no autoRestart", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_NO_AUTORESTART,
     400, 0},
    {"autoRestart a string", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL,
     E_AUTORESTART_STRING, 400, 0},
    {"one bin", 1, 1, 0, NULL, NULL, 1, 1, NULL, NULL, NULL, NULL, E_NONE, 400, 0},
    {"no bins", 1, 1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, E_NONE, 400, 0},
    {"user2 first", 1, 1, 0, NULL, NULL, 2, 1, NULL, NULL, NULL, NULL, E_NONE, 400, 0},
    {"https URL", 1, 1, 0, NULL, NULL, 2, 0, "https://192.168.1.6:8443/ota/u1.bin", NULL, NULL,
     NULL, E_NONE, 400, 0},
    {"digest 63 chars", 1, 1, 0, NULL, NULL, 2, 0, NULL, DIG1 + 1, NULL, NULL, E_NONE, 400, 0},
    {"digest not hex", 1, 1, 0, NULL, NULL, 2, 0, NULL,
     "g111111111111111111111111111111111111111111111111111111111111111", NULL, NULL, E_NONE,
     400, 0},
    {"three bins", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_THIRD_BIN, 400, 0},
    {"bin without name", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_BIN_NO_NAME, 400,
     0},
    {"binList a string", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_BINLIST_NOT_ARRAY,
     400, 0},
    {"no binList", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_NO_BINLIST, 400, 0},
    {"no sequence", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_NO_SEQUENCE, -1, 0},
    {"sequence too long to ack", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL,
     E_LONG_SEQUENCE, -1, 0},
    {"factory apikey", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, FACTORY, NULL, E_NONE, -1, 0},
    {"another deviceid", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, "100008db12", E_NONE, -1,
     0},
    {"malformed and a foreign apikey", 1, 1, 0, NULL, NULL, 2, 0, NULL, NULL, OTHER_UUID, NULL,
     E_THIRD_BIN, -1, 0},
    /* older firmware (1.5.x, S): version has no effect, no autoRestart, bins by name */
    {"old: good", 0, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL, E_NONE, 0, 2},
    {"old: older version", 0, 1, 0, NULL, "0.1", 2, 0, NULL, NULL, NULL, NULL, E_NONE, 0, 2},
    {"old: no version, no autoRestart", 0, 1, 0, NULL, NULL, 2, 0, NULL, NULL, NULL, NULL,
     E_NO_AUTORESTART, 0, 2},
    {"old: user2 first, found by name", 0, 1, 0, NULL, NULL, 2, 1, NULL, NULL, NULL, NULL,
     E_NONE, 0, 2},
    {"old: user2 first, running user2", 0, 2, 0, NULL, NULL, 2, 1, NULL, NULL, NULL, NULL,
     E_NONE, 0, 1},
    {"old: only user2.bin", 0, 1, 0, NULL, NULL, 1, 1, NULL, NULL, NULL, NULL, E_NONE, 0, 2},
    {"old: only user1.bin while running user1", 0, 1, 0, NULL, NULL, 1, 0, NULL, NULL, NULL,
     NULL, E_NONE, 400, 0},
    {"old: no bins", 0, 1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, E_NONE, 400, 0},
    {"old: another model", 0, 1, 0, "PSC-B01-GL", NULL, 2, 0, NULL, NULL, NULL, NULL, E_NONE,
     406, 0},
    {"old: https URL", 0, 1, 0, NULL, NULL, 2, 0, "https://h/u1.bin", NULL, NULL, NULL, E_NONE,
     400, 0},
};

static void upgrade_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof upgrades / sizeof upgrades[0]; i++) {
        const struct upg *t = &upgrades[i];
        struct stock_fsm f;
        struct stock_cfg c = cfg_of(t->ig, t->running, t->refuse);
        struct stock_out out;
        to_ready(&f, &c);
        feed(&f, upgrade_json(t), &out);
        int got = out.upgrade_acked ? out.ack_error : -1;
        if (got != t->want)
            print_error("upgrade '%s': got %d, want %d (%s)\n", t->name, got, t->want, out.why);
        assert_int_equal(got, t->want);
        assert_false(out.fail);
        if (t->want < 0) {
            assert_ignored(&out);
            assert_false(f.busy);
            continue;
        }
        assert_ack(&out, SEQ, t->want);
        assert_string_equal(out.sequence, SEQ);
        assert_int_equal(out.upgrade, t->want == 0);
        assert_int_equal(f.busy, t->want == 0);
        if (t->want == 0) {
            assert_int_equal(out.target_slot, t->want_slot);
            assert_int_equal(out.write_addr, t->want_slot == 2 ? 0x81000u : 0x1000u);
            assert_string_equal(out.bin.name, t->want_slot == 2 ? "user2.bin" : "user1.bin");
            assert_string_equal(out.bin.url, t->want_slot == 2 ? URL2 : URL1);
            assert_string_equal(out.bin.digest, t->want_slot == 2 ? DIG2 : DIG1);
        } else {
            assert_true(strstr(out.why, "upgrade refused") != NULL);
        }
        stock_out_free(&out);
    }
}

/* One upgrade at a time; a refused one does not block the next; SonOTA sends the upgrade
 * right after the first update reply, before the query reply. */
static void upgrade_sequence(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    struct upg good = upgrades[0], bad = good;
    bad.model = "PSA-BHA-GL";
    start_registered(&f, &c);
    feed(&f, ewl_build_date_reply(DEVID, OWNER, DATE), &out);
    stock_out_free(&out);
    feed(&f, ewl_build_update_reply(DEVID, OWNER), &out);
    stock_out_free(&out);
    assert_int_equal(f.st, STK_QUERY);
    feed(&f, upgrade_json(&bad), &out);
    assert_ack(&out, SEQ, 406);
    stock_out_free(&out);
    feed(&f, upgrade_json(&good), &out);
    assert_ack(&out, SEQ, 0);
    assert_true(out.upgrade);
    stock_out_free(&out);
    feed(&f, upgrade_json(&good), &out);
    assert_ignored(&out);
    /* the malformed one is not acked 400 while busy either */
    struct upg third = good;
    third.edit = E_THIRD_BIN;
    feed(&f, upgrade_json(&third), &out);
    assert_ignored(&out);
    /* the session goes on */
    feed(&f, ewl_build_query_reply(DEVID, OWNER), &out);
    assert_false(out.fail);
    assert_int_equal(f.st, STK_READY);
}

/* What the session sends on its own: the asynchronous verdicts of §1.5 (404 download failed,
 * 409 digest mismatch) as acks, and the IG variant's upgradeState update. */
static void verdict_messages(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    to_ready(&f, &c);
    static const int codes[] = {0, 404, 409};
    for (int i = 0; i < 3; i++) {
        char *ack = stock_ack(&f, SEQ, codes[i]);
        struct ewl_msg m;
        sent(ack, OWNER, &m);
        assert_int_equal(m.action, EWL_ACT_NONE);
        assert_int_equal(m.error, codes[i]);
        assert_string_equal(m.sequence, SEQ);
        free(ack);
        char *st = stock_upgrade_state(&f, codes[i]);
        sent(st, OWNER, &m);
        assert_int_equal(m.action, EWL_ACT_UPDATE);
        assert_true(m.has_upgrade_state);
        assert_int_equal(m.upgrade_state, codes[i]);
        free(st);
    }
}

/* Bounds: nothing larger than the device's 2 KiB receive buffer is taken (§1.4), and fields
 * longer than the firmware keeps are refused rather than cut. */
static void bounds(void **state)
{
    (void)state;
    struct stock_fsm f;
    struct stock_cfg c = cfg_of(1, 1, 0);
    struct stock_out out;
    start(&f, &c);
    /* a register reply padded past EWL_JSON_MAX */
    size_t n = EWL_JSON_MAX + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    int k = snprintf(big, n + 1, "{\"error\":0,\"deviceid\":\"" DEVID "\",\"apikey\":\"" OWNER
                     "\",\"x\":\"");
    memset(big + k, 'a', n - (size_t)k - 2);
    memcpy(big + n - 2, "\"}", 3);
    assert_int_equal(strlen(big), n);
    feed(&f, big, &out);
    assert_ignored(&out);
    assert_int_equal(f.st, STK_REGISTER);
    /* a deviceid longer than any real one */
    feed(&f, dup("{\"error\":0,\"deviceid\":\"100008db11100008db11100008db11\",\"apikey\":\""
                 OWNER "\"}"), &out);
    assert_ignored(&out);
    /* a URL longer than the device keeps: the codec refuses it, the device acks 400 */
    to_ready(&f, &c);
    char url[EWL_URL_MAX + 8];
    memset(url, 'a', sizeof url - 1);
    url[sizeof url - 1] = '\0';
    memcpy(url, "http://h/", 9);
    char *printed = upgrade_json(&upgrades[0]);
    char *at = strstr(printed, URL1);
    assert_non_null(at);
    size_t plen = strlen(printed), ulen = strlen(URL1), nlen = strlen(url);
    char *json = malloc(plen - ulen + nlen + 1);
    assert_non_null(json);
    memcpy(json, printed, (size_t)(at - printed));
    memcpy(json + (at - printed), url, nlen);
    strcpy(json + (at - printed) + nlen, at + ulen);
    free(printed);
    feed(&f, json, &out);
    assert_ack(&out, SEQ, 400);
    stock_out_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vp_order),
        cmocka_unit_test(register_reply_variants),
        cmocka_unit_test(register_reply_refused),
        cmocka_unit_test(before_register),
        cmocka_unit_test(replies_out_of_order),
        cmocka_unit_test(date_reply_format),
        cmocka_unit_test(reply_with_error),
        cmocka_unit_test(owner_apikey_rule),
        cmocka_unit_test(new_session_new_owner),
        cmocka_unit_test(switch_command),
        cmocka_unit_test(restart_and_other_commands),
        cmocka_unit_test(upgrade_table),
        cmocka_unit_test(upgrade_sequence),
        cmocka_unit_test(verdict_messages),
        cmocka_unit_test(bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
