/* test_flash_session.c - the devices of a flash run (src/sonota/flash_session.c): which
 * device an event belongs to and how it moves it, for a single run (a table of one) and a
 * fleet, including what someone else on the LAN tries (docs/DESIGN.md "Who may steer a
 * run"; tests/e2e/flash_attack.sh and flash_fleet_attack.sh tell the same stories
 * through the real binary). */
#include "sonota/flash_session.h"
#include "sonota/flash_opts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define DEV_IP "192.168.1.50"
#define E2A_IP "192.168.4.1"
#define EVIL_IP "192.168.1.66"

static struct srv_event ev_of(enum srv_event_type type, const char *peer, const char *id,
                              unsigned ident, int trusted)
{
    struct srv_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.peer = peer;
    e.deviceid = id;
    e.ident = ident;
    e.trusted = trusted;
    return e;
}

static void feed(struct flash_table *t, struct srv_event e, const char *ip, int64_t now,
                 struct flash_acts *out)
{
    flash_table_on_event(t, &e, ip, now, out);
}

static const struct flash_act *find(const struct flash_acts *a, enum flash_act_type type)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->a[i].type == type)
            return &a->a[i];
    return NULL;
}

static void reg(struct flash_table *t, const char *ip, const char *id, unsigned ident,
                int trusted, struct flash_acts *out)
{
    struct srv_event e = ev_of(SRV_EV_REGISTER, ip, id, ident, trusted);
    e.model = "ITA-GZ1-GL";
    e.rom_version = "1.5.5";
    feed(t, e, ip, 10, out);
}

static void code(struct flash_table *t, enum srv_event_type type, const char *ip,
                 unsigned ident, int error, struct flash_acts *out)
{
    struct srv_event e = ev_of(type, ip, "1000aaaaaa", ident, 0);
    e.error = error;
    feed(t, e, ip, 20, out);
}

static void download(struct flash_table *t, enum srv_event_type type, const char *ip,
                     const char *file, struct flash_acts *out)
{
    struct srv_event e = ev_of(type, ip, NULL, 0, 0);
    e.file = file;
    e.total = 1000;
    feed(t, e, ip, 30, out);
}

/* A single run whose stage 1 provisioned device 1000aaaaaa. */
static void lone_provisioned(struct flash_table *t)
{
    struct flash_acts a;
    flash_table_init(t, 1, E2A_IP, 1);
    struct flash_dev *d = flash_table_add(t, "1000aaaaaa", 0);
    assert_non_null(d);
    assert_null(flash_table_add(t, "1000bbbbbb", 0)); /* a table of one */
    d->st = STAGE_POST_AP;
    flash_dev_provisioned(t, 0, 5, &a);
    assert_int_equal(t->dev[0].st, STAGE_PROVISIONED);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.a[0].type, FLASH_ACT_STAGE);
}

/* The whole stock path of one device: register, upgrade, ack, download, FinalStage. */
static void lone_happy_path(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    lone_provisioned(&t);
    reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
    assert_false(a.hide);
    assert_non_null(find(&a, FLASH_ACT_REGISTERED));
    assert_non_null(find(&a, FLASH_ACT_DEVICE));
    assert_non_null(find(&a, FLASH_ACT_ROM_WARN));
    assert_non_null(find(&a, FLASH_ACT_CALLED));
    assert_int_equal(t.dev[0].st, STAGE_CLOUD);
    assert_string_equal(t.dev[0].ip, DEV_IP);
    assert_string_equal(t.dev[0].model, "ITA-GZ1-GL");

    feed(&t, ev_of(SRV_EV_UPGRADE_SENT, DEV_IP, "1000aaaaaa", 7, 1), DEV_IP, 11, &a);
    assert_int_equal(a.n, 0);
    assert_true(t.dev[0].ordered);
    code(&t, SRV_EV_UPGRADE_ACK, DEV_IP, 7, 0, &a);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.a[0].type, FLASH_ACT_CODE);
    assert_false(a.a[0].fatal);

    download(&t, SRV_EV_DOWNLOAD_START, DEV_IP, FLASH_NAME_USER1, &a);
    assert_false(a.hide);
    assert_string_equal(t.dev[0].stock_file, FLASH_NAME_USER1);
    download(&t, SRV_EV_DOWNLOAD_DONE, DEV_IP, FLASH_NAME_USER1, &a);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.a[0].type, FLASH_ACT_SAY);
    assert_int_equal(a.a[0].say, FLASH_SAY_INTERMEDIATE);
    assert_int_equal(a.a[1].type, FLASH_ACT_STAGE);
    assert_int_equal(a.a[1].from, STAGE_CLOUD);
    assert_int_equal(a.a[1].to, STAGE_FINAL);
    assert_string_equal(t.dev[0].slot, "user1");

    /* The intermediate firmware on FinalStage: its slot-2 copy, then the final image. */
    download(&t, SRV_EV_DOWNLOAD_DONE, E2A_IP, FLASH_NAME_USER2, &a);
    assert_non_null(find(&a, FLASH_ACT_SAY));
    assert_int_equal(find(&a, FLASH_ACT_SAY)->say, FLASH_SAY_SLOT2);
    assert_null(find(&a, FLASH_ACT_STAGE));
    download(&t, SRV_EV_DOWNLOAD_DONE, E2A_IP, FLASH_NAME_FINAL, &a);
    assert_int_equal(t.dev[0].st, STAGE_DONE);
    assert_int_equal(t.n_done, 1);
    assert_int_equal(t.dev[0].end_ms, 30);
    flash_table_free(&t);
}

/* A session with the provisioned id but without its factory key, and its acks: answered
 * by the cloud, never the run's. */
static void lone_impostor_moves_nothing(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    lone_provisioned(&t);
    reg(&t, EVIL_IP, "1000aaaaaa", 9, 0, &a);
    assert_true(a.hide);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.a[0].type, FLASH_ACT_STRANGER);
    assert_int_equal(a.a[0].why, FLASH_WHY_CLAIMS_ID);
    assert_int_equal(t.dev[0].ident, 0u);
    assert_int_equal(t.dev[0].st, STAGE_PROVISIONED);
    /* Its acks 404 (spending the device's budget) and its "state 0" (claiming the
     * intermediate firmware) count for nothing. */
    for (int i = 0; i < 10; i++) {
        code(&t, SRV_EV_UPGRADE_ACK, EVIL_IP, 9, 404, &a);
        assert_true(a.hide);
        assert_null(find(&a, FLASH_ACT_PACE));
        assert_null(find(&a, FLASH_ACT_CODE));
    }
    code(&t, SRV_EV_UPGRADE_STATE, EVIL_IP, 9, 0, &a);
    assert_true(a.hide);
    assert_int_equal(t.dev[0].n404, 0);
    assert_int_equal(t.dev[0].st, STAGE_PROVISIONED);
    feed(&t, ev_of(SRV_EV_UPGRADE_SENT, EVIL_IP, "1000aaaaaa", 9, 0), EVIL_IP, 12, &a);
    assert_true(a.hide);
    assert_false(t.dev[0].ordered);
    /* The real device then registers and counts. */
    reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
    assert_false(a.hide);
    assert_int_equal(t.dev[0].ident, 7u);
    flash_table_free(&t);
}

/* Downloads from anyone else: served, never counted; the final image before stage 3 does
 * not finish the run (it once printed "Done" and deleted the record). */
static void lone_stranger_downloads(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    lone_provisioned(&t);
    download(&t, SRV_EV_DOWNLOAD_DONE, EVIL_IP, FLASH_NAME_FINAL, &a);
    assert_true(a.hide);
    assert_int_equal(a.a[0].why, FLASH_WHY_NO_DEVICE);
    reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
    download(&t, SRV_EV_DOWNLOAD_DONE, EVIL_IP, FLASH_NAME_FINAL, &a);
    assert_true(a.hide);
    assert_int_equal(a.a[0].why, FLASH_WHY_OTHER_ADDR);
    assert_string_equal(a.a[0].key, EVIL_IP);
    /* From the device's own address, but before stage 3 / before the upgrade. */
    download(&t, SRV_EV_DOWNLOAD_DONE, DEV_IP, FLASH_NAME_FINAL, &a);
    assert_false(a.hide);
    assert_int_equal(a.a[0].why, FLASH_WHY_NOT_FINAL);
    download(&t, SRV_EV_DOWNLOAD_DONE, DEV_IP, FLASH_NAME_USER1, &a);
    assert_int_equal(a.a[0].why, FLASH_WHY_NOT_ORDERED);
    assert_int_equal(t.dev[0].st, STAGE_CLOUD);
    assert_int_equal(t.n_done, 0);
    flash_table_free(&t);
}

/* Acks: a 404 paces the device's address and is retried; the fifth ends it; a model
 * mismatch ends it at once; upgradeState 0 means the intermediate firmware is in. */
static void lone_codes(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    lone_provisioned(&t);
    reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
    for (int i = 1; i <= FLASH_MAX_404; i++) {
        code(&t, SRV_EV_UPGRADE_ACK, DEV_IP, 7, 404, &a);
        assert_non_null(find(&a, FLASH_ACT_PACE));
        assert_string_equal(find(&a, FLASH_ACT_PACE)->text, DEV_IP);
        assert_int_equal(find(&a, FLASH_ACT_CODE)->n404, i);
        assert_false(find(&a, FLASH_ACT_CODE)->fatal);
    }
    code(&t, SRV_EV_UPGRADE_ACK, DEV_IP, 7, 404, &a);
    assert_true(find(&a, FLASH_ACT_CODE)->fatal);
    assert_int_equal(t.dev[0].st, STAGE_FAILED);
    flash_table_free(&t);

    lone_provisioned(&t);
    reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
    code(&t, SRV_EV_UPGRADE_STATE, DEV_IP, 7, 0, &a);
    assert_int_equal(t.dev[0].st, STAGE_FINAL);
    code(&t, SRV_EV_UPGRADE_ACK, DEV_IP, 7, 406, &a);
    assert_true(find(&a, FLASH_ACT_CODE)->fatal);
    assert_int_equal(t.dev[0].st, STAGE_FAILED);
    flash_table_free(&t);

    assert_false(flash_code_fatal(0, 0));
    assert_false(flash_code_fatal(404, FLASH_MAX_404));
    assert_true(flash_code_fatal(404, FLASH_MAX_404 + 1));
    assert_true(flash_code_fatal(409, 0));
}

/* Without stage 1 (--no-prov, a resumed run) the first identity that registers is the
 * device; another identity afterwards is not. A dispatch informs only about that id. */
static void lone_trust_on_first_use(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    flash_table_init(&t, 1, E2A_IP, 1);
    assert_non_null(flash_table_add(&t, "1000aaaaaa", 0)); /* from the record */
    t.dev[0].st = STAGE_CLOUD;
    struct srv_event d = ev_of(SRV_EV_DISPATCH, DEV_IP, "1000cccccc", 0, 0);
    feed(&t, d, DEV_IP, 1, &a);
    assert_null(find(&a, FLASH_ACT_CALLED));
    d.deviceid = "1000aaaaaa";
    feed(&t, d, DEV_IP, 1, &a);
    assert_non_null(find(&a, FLASH_ACT_CALLED));
    reg(&t, DEV_IP, "1000bbbbbb", 4, 0, &a);
    assert_false(a.hide);
    assert_non_null(find(&a, FLASH_ACT_OTHER_DEVICE));
    assert_string_equal(find(&a, FLASH_ACT_OTHER_DEVICE)->text, "1000aaaaaa");
    assert_string_equal(t.dev[0].deviceid, "1000bbbbbb");
    reg(&t, EVIL_IP, "1000dddddd", 5, 0, &a);
    assert_true(a.hide);
    assert_int_equal(a.a[0].why, FLASH_WHY_SESSION);
    assert_int_equal(t.dev[0].ident, 4u);
    flash_table_free(&t);
}

/* A fleet: a row per identity; a listed id with another key gets none; downloads count
 * from a row's address after its upgrade, and the final image from --final-device goes
 * to the device that finished stage 2 first. */
static void fleet_rows_and_strangers(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    flash_table_init(&t, 0, E2A_IP, 1);
    reg(&t, "192.168.1.51", "1000000001", 1, 0, &a);
    reg(&t, "192.168.1.52", "1000000002", 2, 0, &a);
    assert_int_equal(t.n, 2);
    assert_non_null(find(&a, FLASH_ACT_STAGE));
    reg(&t, EVIL_IP, "1000000001", 3, 0, &a); /* the id of row 0, another key */
    assert_true(a.hide);
    assert_int_equal(t.n, 2);
    /* A download from a row's address before its upgrade is not counted. */
    download(&t, SRV_EV_DOWNLOAD_DONE, "192.168.1.51", FLASH_NAME_USER1, &a);
    assert_true(a.hide);
    assert_int_equal(a.a[0].why, FLASH_WHY_OTHER_ADDR);
    for (unsigned i = 1; i <= 2; i++) {
        const char *ip = i == 1 ? "192.168.1.51" : "192.168.1.52";
        feed(&t, ev_of(SRV_EV_UPGRADE_SENT, ip, NULL, i, 0), ip, 40, &a);
        struct srv_event e = ev_of(SRV_EV_DOWNLOAD_DONE, ip, NULL, 0, 0);
        e.file = FLASH_NAME_USER2;
        feed(&t, e, ip, 40 + i, &a); /* device 2 finishes stage 2 later */
        assert_int_equal(t.dev[i - 1].st, STAGE_FINAL);
        assert_string_equal(t.dev[i - 1].slot, "user2");
    }
    assert_int_equal(t.dev[0].inter_ms, 41);
    /* The final image from FinalStage's address: device 1 (first in stage 3). */
    download(&t, SRV_EV_DOWNLOAD_DONE, E2A_IP, FLASH_NAME_FINAL, &a);
    assert_int_equal(t.dev[0].st, STAGE_DONE);
    assert_int_equal(t.dev[1].st, STAGE_FINAL);
    assert_int_equal(t.n_done, 1);
    /* An ack from the impostor session does not fail row 0 or 1. */
    code(&t, SRV_EV_UPGRADE_ACK, EVIL_IP, 3, 409, &a);
    assert_true(a.hide);
    assert_int_equal(t.dev[1].st, STAGE_FINAL);
    /* A provisioned row is claimed by its trusted key only. */
    struct flash_dev *p = flash_table_add(&t, "1000000009", 50);
    assert_non_null(p);
    flash_dev_provisioned(&t, 2, 50, &a);
    reg(&t, EVIL_IP, "1000000009", 8, 0, &a);
    assert_true(a.hide);
    assert_int_equal(t.dev[2].st, STAGE_PROVISIONED);
    reg(&t, "192.168.1.59", "1000000009", 9, 1, &a);
    assert_false(a.hide);
    assert_int_equal(t.dev[2].ident, 9u);
    assert_int_equal(t.dev[2].st, STAGE_CLOUD);
    /* A row that sessions had claimed starts again when the device shows up. */
    flash_dev_restart(&t, 0, 60);
    assert_int_equal(t.n_done, 0);
    assert_string_equal(t.dev[0].deviceid, "1000000001");
    assert_int_equal(t.dev[0].ident, 0u);
    assert_string_equal(flash_dev_stage_name(STAGE_FINAL), "intermediate");
    assert_string_equal(flash_dev_stage_name(STAGE_PROVISIONED), "provisioned");
    flash_table_free(&t);
}

/* A fleet that lists nobody yet: every cloud event and download is a stranger's. */
static void fleet_empty_table(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    flash_table_init(&t, 0, E2A_IP, 1);
    code(&t, SRV_EV_UPGRADE_ACK, EVIL_IP, 5, 404, &a);
    assert_true(a.hide);
    assert_int_equal(a.a[0].type, FLASH_ACT_STRANGER);
    feed(&t, ev_of(SRV_EV_UPGRADE_SENT, EVIL_IP, "1000000001", 5, 0), EVIL_IP, 1, &a);
    assert_true(a.hide);
    struct srv_event err = ev_of(SRV_EV_ERROR, EVIL_IP, "1000000001", 5, 0);
    feed(&t, err, EVIL_IP, 1, &a);
    assert_true(a.hide);
    download(&t, SRV_EV_DOWNLOAD_DONE, EVIL_IP, FLASH_NAME_FINAL, &a);
    assert_true(a.hide);
    /* --final-device, but no device is at FinalStage: served, not counted. */
    download(&t, SRV_EV_DOWNLOAD_DONE, E2A_IP, FLASH_NAME_FINAL, &a);
    assert_false(a.hide);
    assert_int_equal(a.a[0].why, FLASH_WHY_WRONG_STAGE);
    assert_int_equal(t.n, 0);
    assert_int_equal(t.n_done, 0);
    /* A register without an identity (never registered) is nobody. */
    reg(&t, EVIL_IP, "1000000001", 0, 0, &a);
    assert_true(a.hide);
    assert_int_equal(t.n, 0);
    flash_table_free(&t);
}

/* The device going away mid-download is said (single run), the stage stays. */
static void lone_vanished(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    lone_provisioned(&t);
    reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
    feed(&t, ev_of(SRV_EV_UPGRADE_SENT, DEV_IP, "1000aaaaaa", 7, 1), DEV_IP, 11, &a);
    download(&t, SRV_EV_DOWNLOAD_START, DEV_IP, FLASH_NAME_USER2, &a);
    struct srv_event ab = ev_of(SRV_EV_DOWNLOAD_ABORT, DEV_IP, NULL, 0, 0);
    ab.file = FLASH_NAME_USER2;
    ab.offset = 4096;
    ab.total = 8192;
    feed(&t, ab, DEV_IP, 12, &a);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.a[0].say, FLASH_SAY_VANISHED);
    assert_int_equal(a.a[0].at, 4096);
    struct srv_event closed = ev_of(SRV_EV_WS_CLOSED, DEV_IP, "1000aaaaaa", 7, 1);
    closed.detail = "downloading";
    feed(&t, closed, DEV_IP, 13, &a);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.a[0].text, FLASH_NAME_USER2);
    closed.ident = 9; /* someone else's session closing says nothing */
    feed(&t, closed, EVIL_IP, 13, &a);
    assert_int_equal(a.n, 0);
    assert_int_equal(t.dev[0].st, STAGE_CLOUD);
    flash_table_free(&t);
}

/* Thousands of events from strangers (other identities, other addresses; a pseudo-random
 * but fixed sequence) at every stage of the device: none moves it. (A dispatch is left
 * out: it carries no identity and informs about the expected id by design.) */
static void strangers_never_move_the_device(void **state)
{
    (void)state;
    static const char *const ips[] = {"192.168.1.60", "192.168.1.61", "10.0.0.9", ""};
    static const char *const files[] = {FLASH_NAME_USER1, FLASH_NAME_USER2, FLASH_NAME_FINAL,
                                        "x", NULL};
    static const char *const ids[] = {"1000aaaaaa", "1000bbbbbb", NULL};
    const enum flash_stage stages[] = {STAGE_PROVISIONED, STAGE_CLOUD, STAGE_FINAL};
    uint32_t x = 12345;
    for (size_t k = 0; k < sizeof stages / sizeof stages[0]; k++) {
        struct flash_table t;
        struct flash_acts a;
        lone_provisioned(&t);
        reg(&t, DEV_IP, "1000aaaaaa", 7, 1, &a);
        feed(&t, ev_of(SRV_EV_UPGRADE_SENT, DEV_IP, "1000aaaaaa", 7, 1), DEV_IP, 11, &a);
        t.dev[0].st = stages[k];
        struct flash_dev before = t.dev[0];
        for (int i = 0; i < 3000; i++) {
            x = x * 1103515245u + 12345u;
            struct srv_event e = ev_of((enum srv_event_type)((x >> 8) % (SRV_EV_DIY_RESULT + 1)),
                                       NULL, ids[(x >> 12) % 3], 100 + (x >> 16) % 8,
                                       0);
            if (e.type == SRV_EV_DISPATCH)
                continue; /* unauthenticated (§1.3): it informs about the expected id, as
                             lone_trust_on_first_use shows; docs/DESIGN.md */
            const char *ip = ips[(x >> 22) % 4];
            e.peer = ip;
            e.file = files[(x >> 24) % 5];
            e.error = (x >> 27) & 1 ? 404 : 0;
            e.model = "X";
            e.rom_version = "9.9";
            e.detail = "downloading";
            flash_table_on_event(&t, &e, ip, 100 + i, &a);
            for (size_t n = 0; n < a.n; n++) {
                if (a.a[n].type != FLASH_ACT_STRANGER)
                    print_error("stage %d event %d type %d ip '%s' id %s ident %u file %s: "
                                "action %d\n", (int)stages[k], i, (int)e.type, ip,
                                e.deviceid ? e.deviceid : "-", e.ident,
                                e.file ? e.file : "-", (int)a.a[n].type);
                assert_int_equal(a.a[n].type, FLASH_ACT_STRANGER);
            }
        }
        assert_int_equal(t.dev[0].st, before.st);
        assert_int_equal(t.dev[0].n404, before.n404);
        assert_int_equal(t.dev[0].ident, before.ident);
        assert_int_equal(t.dev[0].ordered, before.ordered);
        assert_string_equal(t.dev[0].ip, before.ip);
        assert_string_equal(t.dev[0].model, before.model);
        assert_int_equal(t.n_done, 0);
        flash_table_free(&t);
    }
}

/* Address scans of a single run (PROTOCOL.md §10.1, §8; tests/e2e/netns_walk.sh walks the
 * same networks for real). */
static void lone_address_scans(void **state)
{
    (void)state;
    const struct {
        enum flash_stage st;
        int recheck, contacted;
        struct flash_scan s;
        enum flash_stage to;
        enum flash_scan_why why;
    } t[] = {
        {STAGE_WAIT_AP, 0, 0, {0, 0, 1, 0}, STAGE_WAIT_AP, FLASH_SCAN_STAY},
        {STAGE_WAIT_AP, 0, 0, {1, 1, 0, 0}, STAGE_PROVISION, FLASH_SCAN_AP},
        {STAGE_WAIT_AP, 0, 0, {1, 1, 0, 1}, STAGE_FINAL, FLASH_SCAN_FINAL},
        {STAGE_PROVISION, 0, 0, {1, 0, 0, 0}, STAGE_PROVISION, FLASH_SCAN_STAY},
        {STAGE_PROVISION, 0, 0, {0, 0, 1, 0}, STAGE_WAIT_AP, FLASH_SCAN_LEFT_AP},
        {STAGE_PROVISION, 1, 0, {0, 0, 1, 0}, STAGE_CLOUD, FLASH_SCAN_LEFT_RECHECK},
        {STAGE_PROVISION, 1, 0, {0, 0, 0, 0}, STAGE_PROVISIONED, FLASH_SCAN_LEFT_RECHECK},
        {STAGE_PROVISION, 1, 0, {0, 0, 0, 1}, STAGE_FINAL, FLASH_SCAN_FINAL},
        {STAGE_POST_AP, 0, 0, {0, 0, 1, 1}, STAGE_POST_AP, FLASH_SCAN_STAY},
        {STAGE_PROVISIONED, 0, 0, {1, 1, 1, 0}, STAGE_CLOUD, FLASH_SCAN_SERVING},
        {STAGE_PROVISIONED, 0, 0, {0, 0, 0, 1}, STAGE_FINAL, FLASH_SCAN_FINAL},
        {STAGE_PROVISIONED, 0, 0, {1, 1, 0, 0}, STAGE_PROVISION, FLASH_SCAN_BACK_TO_AP},
        {STAGE_PROVISIONED, 0, 0, {1, 0, 0, 0}, STAGE_PROVISIONED, FLASH_SCAN_ABSENT},
        {STAGE_CLOUD, 0, 0, {1, 1, 1, 0}, STAGE_PROVISION, FLASH_SCAN_BACK_TO_AP},
        /* the device called already: a pairing AP now is another device's */
        {STAGE_CLOUD, 0, 1, {1, 1, 1, 0}, STAGE_CLOUD, FLASH_SCAN_ABSENT},
        {STAGE_CLOUD, 0, 1, {0, 0, 0, 1}, STAGE_FINAL, FLASH_SCAN_FINAL},
        {STAGE_FINAL, 0, 1, {1, 1, 1, 0}, STAGE_FINAL, FLASH_SCAN_STAY},
        {STAGE_DONE, 0, 1, {0, 0, 0, 1}, STAGE_DONE, FLASH_SCAN_STAY},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct flash_dev d;
        memset(&d, 0, sizeof d);
        d.st = t[i].st;
        enum flash_scan_why why = t[i].why == FLASH_SCAN_STAY ? FLASH_SCAN_FINAL
                                                              : FLASH_SCAN_STAY;
        assert_int_equal(flash_dev_on_scan(&d, t[i].recheck, t[i].contacted, &t[i].s, &why),
                         t[i].to);
        assert_int_equal(why, t[i].why);
    }
}

/* ---- clocks of a single run (flash_dev_clock) ---- */

/* flash_dev_clock, on a copy of last_hint: whether a clock is due at now. */
static enum flash_clock_due due_at(enum flash_stage st, int contacted, int64_t since,
                                   int64_t last_hint, int64_t now)
{
    return flash_dev_clock(st, contacted, since, &last_hint, now);
}

/* Waiting by hand for a network: give up just after the wait, not at it. */
static void clock_gives_up(void **state)
{
    (void)state;
    const int64_t since = 1000000, hint = since;
    assert_int_equal(flash_dev_clock_next(STAGE_WAIT_AP, 0, since, hint),
                     since + FLASH_WAIT_AP_MS + 1);
    assert_int_equal(due_at(STAGE_WAIT_AP, 0, since, hint, since), FLASH_CLOCK_NONE);
    assert_int_equal(due_at(STAGE_WAIT_AP, 0, since, hint, since + FLASH_WAIT_AP_MS),
                     FLASH_CLOCK_NONE);
    assert_int_equal(due_at(STAGE_WAIT_AP, 0, since, hint, since + FLASH_WAIT_AP_MS + 1),
                     FLASH_CLOCK_GIVE_UP_AP);
    assert_int_equal(flash_dev_clock_next(STAGE_PROVISIONED, 1, since, hint),
                     since + FLASH_WAIT_HOME_MS + 1);
    assert_int_equal(due_at(STAGE_PROVISIONED, 0, since, hint, since + FLASH_WAIT_HOME_MS),
                     FLASH_CLOCK_NONE);
    int64_t last = hint;
    assert_int_equal(flash_dev_clock(STAGE_PROVISIONED, 0, since, &last,
                                     since + FLASH_WAIT_HOME_MS + 1),
                     FLASH_CLOCK_GIVE_UP_HOME);
    assert_int_equal(last, hint); /* only hints move it */
    assert_int_equal(FLASH_WAIT_AP_MS / 60000, 10); /* the messages say minutes */
    assert_int_equal(FLASH_WAIT_HOME_MS / 60000, 10);

    /* Stage 1's requests and the ends have no clock here. */
    const enum flash_stage none[] = {STAGE_NONE, STAGE_PROVISION, STAGE_POST_AP,
                                     STAGE_DONE, STAGE_FAILED};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        assert_int_equal(flash_dev_clock_next(none[i], 0, since, hint), INT64_MAX);
        assert_int_equal(due_at(none[i], 0, since, hint, since + 24 * 3600 * 1000LL),
                         FLASH_CLOCK_NONE);
    }
}

/* A hint after its delay in the stage, then every FLASH_HINT_REPEAT_MS. */
static void hint_repeats(enum flash_stage st, int64_t first, enum flash_clock_due kind)
{
    const int64_t since = 5000000;
    int64_t last = since; /* as a run sets it on entering the stage */
    assert_int_equal(flash_dev_clock_next(st, 0, since, last), since + first);
    assert_int_equal(flash_dev_clock(st, 0, since, &last, since + first - 1),
                     FLASH_CLOCK_NONE);
    assert_int_equal(last, since);
    int64_t at = since + first;
    for (int n = 0; n < 3; n++) {
        assert_int_equal(flash_dev_clock(st, 0, since, &last, at), kind);
        /* once: not again on the same turn nor just before the repeat */
        assert_int_equal(flash_dev_clock(st, 0, since, &last, at), FLASH_CLOCK_NONE);
        assert_int_equal(flash_dev_clock_next(st, 0, since, last), at + FLASH_HINT_REPEAT_MS);
        assert_int_equal(flash_dev_clock(st, 0, since, &last, at + FLASH_HINT_REPEAT_MS - 1),
                         FLASH_CLOCK_NONE);
        at += FLASH_HINT_REPEAT_MS;
    }
    /* A turn late: the repeat counts from when it was said. */
    assert_int_equal(flash_dev_clock(st, 0, since, &last, at + 7000), kind);
    assert_int_equal(flash_dev_clock_next(st, 0, since, last), at + 7000 + FLASH_HINT_REPEAT_MS);
    /* Something showed the device busy (a paced download sets last_hint = now): the hint
     * waits its whole delay from then. */
    last = since + 60000;
    assert_int_equal(flash_dev_clock_next(st, 0, since, last), since + 60000 + first);
    assert_int_equal(due_at(st, 0, since, last, since + 60000 + first - 1), FLASH_CLOCK_NONE);
    assert_int_equal(due_at(st, 0, since, last, since + 60000 + first), kind);
}

static void clock_hints(void **state)
{
    (void)state;
    assert_int_equal(FLASH_HINT_CLOUD_MS, 90000);
    assert_int_equal(FLASH_HINT_FINAL_MS, 120000);
    assert_int_equal(FLASH_HINT_REPEAT_MS, 300000);
    hint_repeats(STAGE_CLOUD, FLASH_HINT_CLOUD_MS, FLASH_CLOCK_HINT_CLOUD);
    hint_repeats(STAGE_FINAL, FLASH_HINT_FINAL_MS, FLASH_CLOCK_HINT_FINAL);

    /* Stage 2's "no contact yet" ends once the device called or fetched; stage 3's stays
     * (the device called in stage 2 already). */
    const int64_t since = 1000;
    int64_t last = since;
    assert_int_equal(flash_dev_clock(STAGE_CLOUD, 0, since, &last, since + FLASH_HINT_CLOUD_MS),
                     FLASH_CLOCK_HINT_CLOUD);
    assert_int_equal(flash_dev_clock_next(STAGE_CLOUD, 1, since, last), INT64_MAX);
    assert_int_equal(due_at(STAGE_CLOUD, 1, since, last, since + 3600 * 1000), FLASH_CLOCK_NONE);
    assert_int_equal(due_at(STAGE_FINAL, 1, since, since, since + FLASH_HINT_FINAL_MS),
                     FLASH_CLOCK_HINT_FINAL);
}

/* What the loop waits for is what comes due: due exactly from flash_dev_clock_next on. */
static void clock_next_is_when_due(void **state)
{
    (void)state;
    const enum flash_stage st[] = {STAGE_WAIT_AP, STAGE_PROVISIONED, STAGE_CLOUD,
                                   STAGE_FINAL};
    const int64_t since = 40000, hints[] = {since, since + 1000, since + 200000};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
            int64_t next = flash_dev_clock_next(st[i], 0, since, hints[h]);
            assert_true(next > since && next < INT64_MAX);
            assert_int_equal(due_at(st[i], 0, since, hints[h], next - 1), FLASH_CLOCK_NONE);
            assert_int_not_equal(due_at(st[i], 0, since, hints[h], next), FLASH_CLOCK_NONE);
        }
}

/* ---- a fleet's device on its pairing WiFi (flash_table_on_pairing) ---- */

static void pairing_new_and_leaving(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    size_t row = 99;
    flash_table_init(&t, 0, E2A_IP, 1);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 100, &row), FLASH_PAIRING_NEW);
    assert_int_equal(row, 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.dev[0].deviceid, "1000aaaaaa");
    assert_int_equal(t.dev[0].first_ms, 100);
    /* Asked again before POST /ap went through: the same row, not provisioned yet, and
     * no one else's (its first answer made it): provisioned again. */
    assert_int_equal(flash_table_on_pairing(&t, "1000bbbbbb", 150, &row), FLASH_PAIRING_NEW);
    assert_int_equal(row, 1);

    /* Provisioned at 1000: still leaving its AP for FLASH_REPROV_MS. */
    flash_dev_provisioned(&t, 0, 1000, &a);
    row = 99;
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 1000, &row),
                     FLASH_PAIRING_IGNORE);
    assert_int_equal(row, 0);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 1000 + FLASH_REPROV_MS - 1, &row),
                     FLASH_PAIRING_IGNORE);
    /* Back in pairing mode after that: it could not join the WiFi; provision again. */
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 1000 + FLASH_REPROV_MS, &row),
                     FLASH_PAIRING_AGAIN);
    assert_int_equal(row, 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.dev[0].st, STAGE_PROVISIONED); /* the table is as it was */
    assert_int_equal(t.dev[0].provisioned, 1);

    /* Once it called (stage 2) and later: the same. */
    flash_dev_set_stage(&t, 0, STAGE_CLOUD, 2000, &a);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 1000 + FLASH_REPROV_MS - 1, &row),
                     FLASH_PAIRING_IGNORE);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 900000, &row),
                     FLASH_PAIRING_AGAIN);

    /* Done: nothing to do, however late. */
    a.n = 0;
    flash_dev_set_stage(&t, 0, STAGE_DONE, 3000, &a);
    assert_int_equal(t.n_done, 1);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 9000000, &row),
                     FLASH_PAIRING_IGNORE);
    assert_int_equal(t.dev[0].st, STAGE_DONE);
    assert_int_equal(t.n_done, 1);
    flash_table_free(&t);
}

static void pairing_failed_device_again(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    size_t row = 99;
    flash_table_init(&t, 0, E2A_IP, 1);
    assert_non_null(flash_table_add(&t, "1000aaaaaa", 0));
    flash_dev_provisioned(&t, 0, 1000, &a);
    a.n = 0;
    flash_dev_set_stage(&t, 0, STAGE_FAILED, 1100, &a);
    /* Failed (POST /ap refused, a fatal ack): provisioned again at once, even within
     * FLASH_REPROV_MS, keeping what the table says until then. */
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 1200, &row), FLASH_PAIRING_RETRY);
    assert_int_equal(row, 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.dev[0].st, STAGE_FAILED);
    flash_table_free(&t);
}

static void pairing_restarts_a_claimed_row(void **state)
{
    (void)state;
    struct flash_table t;
    struct flash_acts a;
    size_t row = 99;
    flash_table_init(&t, 0, E2A_IP, 1);
    /* Sessions registered with the device's id before it was on its pairing WiFi: the
     * row is theirs, not provisioned here. */
    reg(&t, EVIL_IP, "1000bbbbbb", 5, 0, &a);
    reg(&t, EVIL_IP, "1000aaaaaa", 7, 0, &a);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.dev[1].ident, 7);
    assert_int_equal(t.dev[1].st, STAGE_CLOUD);
    code(&t, SRV_EV_UPGRADE_ACK, EVIL_IP, 7, 404, &a);
    assert_int_equal(t.dev[1].n404, 1);
    a.n = 0;
    flash_dev_set_stage(&t, 1, STAGE_DONE, 40, &a); /* whatever they made of it */
    assert_int_equal(t.n_done, 1);

    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 500, &row),
                     FLASH_PAIRING_RESTART);
    assert_int_equal(row, 1);
    assert_int_equal(t.n, 2);
    const struct flash_dev *d = &t.dev[1];
    assert_string_equal(d->deviceid, "1000aaaaaa");
    assert_int_equal(d->ident, 0);
    assert_int_equal(d->st, STAGE_NONE);
    assert_int_equal(d->n404, 0);
    assert_string_equal(d->model, "");
    assert_string_equal(d->ip, "");
    assert_int_equal(d->first_ms, 500);
    assert_int_equal(t.n_done, 0); /* their "done" does not count */
    /* The claiming session's ack moves nothing now; the row is the device's once
     * provisioned. */
    code(&t, SRV_EV_UPGRADE_ACK, EVIL_IP, 7, 0, &a);
    assert_non_null(find(&a, FLASH_ACT_STRANGER));
    flash_dev_provisioned(&t, 1, 600, &a);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 700, &row),
                     FLASH_PAIRING_IGNORE);
    assert_int_equal(t.dev[0].ident, 5); /* the other row is untouched */
    flash_table_free(&t);
}

static void pairing_table_full(void **state)
{
    (void)state;
    struct flash_table t;
    size_t row = 99;
    char id[EWL_DEVICEID_MAX];
    flash_table_init(&t, 0, E2A_IP, 1);
    for (size_t i = 0; i < FLASH_DEVICES_MAX; i++) {
        snprintf(id, sizeof id, "10%08zx", i);
        assert_int_equal(flash_table_on_pairing(&t, id, 10, &row), FLASH_PAIRING_NEW);
        assert_int_equal(row, i);
    }
    assert_int_equal(t.n, FLASH_DEVICES_MAX);
    row = 99;
    assert_int_equal(flash_table_on_pairing(&t, "1000ffffff", 20, &row), FLASH_PAIRING_FULL);
    assert_int_equal(row, 99);
    assert_int_equal(t.n, FLASH_DEVICES_MAX);
    assert_null(flash_table_find_id(&t, "1000ffffff"));
    /* A listed device still gets its answer. */
    assert_int_equal(flash_table_on_pairing(&t, "1000000005", 20, &row),
                     FLASH_PAIRING_RESTART);
    assert_int_equal(row, 5);
    flash_table_free(&t);

    /* A single run's table holds one row. */
    flash_table_init(&t, 1, E2A_IP, 1);
    assert_int_equal(flash_table_on_pairing(&t, "1000aaaaaa", 10, &row), FLASH_PAIRING_NEW);
    assert_int_equal(flash_table_on_pairing(&t, "1000bbbbbb", 10, &row), FLASH_PAIRING_FULL);
    flash_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lone_happy_path),
        cmocka_unit_test(lone_impostor_moves_nothing),
        cmocka_unit_test(lone_stranger_downloads),
        cmocka_unit_test(lone_codes),
        cmocka_unit_test(lone_trust_on_first_use),
        cmocka_unit_test(fleet_rows_and_strangers),
        cmocka_unit_test(fleet_empty_table),
        cmocka_unit_test(lone_vanished),
        cmocka_unit_test(strangers_never_move_the_device),
        cmocka_unit_test(lone_address_scans),
        cmocka_unit_test(clock_gives_up),
        cmocka_unit_test(clock_hints),
        cmocka_unit_test(clock_next_is_when_due),
        cmocka_unit_test(pairing_new_and_leaving),
        cmocka_unit_test(pairing_failed_device_again),
        cmocka_unit_test(pairing_restarts_a_claimed_row),
        cmocka_unit_test(pairing_table_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
