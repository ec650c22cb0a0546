/* flash_session.c - the pure transitions of the devices of a `sonota flash` run: which
 * device a server event belongs to, and how it moves it (PROTOCOL.md §1.3-§1.5, §4;
 * docs/DESIGN.md "Who may steer a run"). No I/O, no clock: flash_events.c performs the
 * actions. */
#include "sonota/flash_session.h"

#include "sonota/flash_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the table ---- */

void flash_table_init(struct flash_table *t, int lone, const char *final_device,
                      int pace_auto)
{
    memset(t, 0, sizeof *t);
    t->lone = lone;
    t->final_device = final_device;
    t->pace_auto = pace_auto;
}

void flash_table_free(struct flash_table *t)
{
    if (!t)
        return;
    free(t->dev);
    t->dev = NULL;
    t->n = t->cap = 0;
}

struct flash_dev *flash_table_add(struct flash_table *t, const char *id, int64_t now_ms)
{
    size_t max = t->lone ? 1 : FLASH_DEVICES_MAX;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : (t->lone ? 1 : 16);
        if (cap > max)
            cap = max;
        struct flash_dev *dev = t->n < cap ? realloc(t->dev, cap * sizeof *dev) : NULL;
        if (!dev)
            return NULL;
        t->dev = dev;
        t->cap = cap;
    }
    struct flash_dev *d = &t->dev[t->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->deviceid, sizeof d->deviceid, "%s", id ? id : "");
    d->first_ms = now_ms;
    return d;
}

struct flash_dev *flash_table_find_id(struct flash_table *t, const char *id)
{
    for (size_t i = 0; id && i < t->n; i++)
        if (!strcmp(t->dev[i].deviceid, id))
            return &t->dev[i];
    return NULL;
}

static struct flash_dev *find_ident(struct flash_table *t, unsigned ident)
{
    for (size_t i = 0; ident && i < t->n; i++)
        if (t->dev[i].ident == ident)
            return &t->dev[i];
    return NULL;
}

static size_t index_of(const struct flash_table *t, const struct flash_dev *d)
{
    return (size_t)(d - t->dev);
}

/* ---- actions ---- */

static struct flash_act *act(struct flash_acts *out, enum flash_act_type type, size_t dev)
{
    if (out->n >= FLASH_ACTS_MAX)
        return NULL; /* never with the events below (at most 5 each) */
    struct flash_act *a = &out->a[out->n++];
    memset(a, 0, sizeof *a);
    a->type = type;
    a->dev = dev;
    return a;
}

static void act_text(struct flash_acts *out, enum flash_act_type type, size_t dev,
                     const char *text)
{
    struct flash_act *a = act(out, type, dev);
    if (a)
        snprintf(a->text, sizeof a->text, "%s", text ? text : "");
}

/* Someone who is not a device of the run; hide: the event is not the run's at all (only
 * the warning is shown). */
static void stranger(struct flash_acts *out, enum flash_why why, const char *key,
                     const char *what, int hide)
{
    struct flash_act *a = act(out, FLASH_ACT_STRANGER, 0);
    if (a) {
        a->why = why;
        snprintf(a->key, sizeof a->key, "%s", key);
        snprintf(a->text, sizeof a->text, "%s", what);
    }
    out->hide |= hide;
}

static void session_stranger(struct flash_table *t, const struct srv_event *ev,
                             const char *what, struct flash_acts *out)
{
    char key[64]; /* one line per session and kind of event: its register, its ack... */
    snprintf(key, sizeof key, "#%u/%d", ev->ident, (int)ev->type);
    const struct flash_dev *d = t->lone && t->n ? &t->dev[0] : NULL;
    int claims = d && d->provisioned && d->deviceid[0] && ev->deviceid &&
                 !strcmp(ev->deviceid, d->deviceid);
    stranger(out, claims ? FLASH_WHY_CLAIMS_ID : FLASH_WHY_SESSION, key, what, 1);
}

/* ---- stages ---- */

void flash_dev_set_stage(struct flash_table *t, size_t i, enum flash_stage st, int64_t now_ms,
                         struct flash_acts *out)
{
    struct flash_dev *d = &t->dev[i];
    if (d->st == st || d->st == STAGE_DONE)
        return;
    struct flash_act *a = act(out, FLASH_ACT_STAGE, i);
    if (a) {
        a->from = d->st;
        a->to = st;
    }
    d->st = st;
    if (st == STAGE_FINAL)
        d->inter_ms = now_ms;
    if (st == STAGE_DONE || st == STAGE_FAILED)
        d->end_ms = now_ms;
    if (st == STAGE_DONE)
        t->n_done++;
}

void flash_dev_provisioned(struct flash_table *t, size_t i, int64_t now_ms,
                           struct flash_acts *out)
{
    struct flash_dev *d = &t->dev[i];
    out->n = 0;
    out->hide = 0;
    d->provisioned_ms = now_ms;
    d->detail[0] = '\0';
    /* From now on only its factory key is this device: the row waits for the register
     * that carries it (a session that took the id before is someone else). */
    d->provisioned = 1;
    d->ident = 0;
    d->ordered = 0;
    flash_dev_set_stage(t, i, STAGE_PROVISIONED, now_ms, out);
}

int flash_code_fatal(int code, int n404)
{
    if (code == 0)
        return 0;
    return code != 404 || n404 > FLASH_MAX_404;
}

const char *flash_dev_stage_name(enum flash_stage st)
{
    switch (st) {
    case STAGE_FINAL: return "intermediate";
    case STAGE_DONE: return "done";
    case STAGE_FAILED: return "failed";
    case STAGE_CLOUD: return "cloud";
    case STAGE_NONE:
    case STAGE_WAIT_AP:
    case STAGE_PROVISION:
    case STAGE_POST_AP:
    case STAGE_PROVISIONED:
        break;
    }
    return "provisioned";
}

void flash_dev_restart(struct flash_table *t, size_t i, int64_t now_ms)
{
    struct flash_dev *d = &t->dev[i];
    if (d->st == STAGE_DONE && t->n_done)
        t->n_done--;
    char id[EWL_DEVICEID_MAX];
    memcpy(id, d->deviceid, sizeof id);
    memset(d, 0, sizeof *d);
    memcpy(d->deviceid, id, sizeof id);
    d->first_ms = now_ms;
}

/* ---- the device calling (dispatch, register) ---- */

/* The row of a REGISTER's identity, or NULL (a STRANGER or FULL action says why).
 * Lone: the row is the trusted identity once stage 1 ran; without stage 1 (--no-prov, a
 * resumed run) the first identity that registers. Fleet: a device provisioned here
 * takes the row of its id with the trusted key; an id not listed gets a row; a listed
 * id with another key is someone else. */
static struct flash_dev *register_row(struct flash_table *t, const struct srv_event *ev,
                                      int64_t now, struct flash_acts *out)
{
    struct flash_dev *d = find_ident(t, ev->ident);
    if (d || !ev->ident)
        return d;
    if (t->lone) {
        d = t->n ? &t->dev[0] : NULL;
        if (!d || !(ev->trusted || (!d->provisioned && !d->ident)))
            return NULL;
        d->ident = ev->ident;
        d->ordered = 0;
        return d;
    }
    if (!ev->deviceid || !*ev->deviceid)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct flash_dev *x = &t->dev[i];
        if (strcmp(x->deviceid, ev->deviceid))
            continue;
        if (x->provisioned && ev->trusted && !x->ident) {
            x->ident = ev->ident;
            return x;
        }
        return NULL; /* the id is listed with another key */
    }
    if (!(d = flash_table_add(t, ev->deviceid, now))) {
        act_text(out, FLASH_ACT_FULL, 0, ev->deviceid);
        return NULL;
    }
    d->ident = ev->ident;
    return d;
}

/* What the device said about itself; it called: stage 2 at least. */
static void called(struct flash_table *t, struct flash_dev *d, const struct srv_event *ev,
                   const char *ip, const char *source, int64_t now, struct flash_acts *out)
{
    size_t i = index_of(t, d);
    int changed = 0, rom_changed = 0;
    if (ev->deviceid && *ev->deviceid && strcmp(d->deviceid, ev->deviceid)) {
        if (d->deviceid[0]) /* lone only: a fleet row keeps its id */
            act_text(out, FLASH_ACT_OTHER_DEVICE, i, d->deviceid);
        snprintf(d->deviceid, sizeof d->deviceid, "%s", ev->deviceid);
        changed = 1;
    }
    if (ev->model && *ev->model && strcmp(d->model, ev->model)) {
        snprintf(d->model, sizeof d->model, "%s", ev->model);
        changed = 1;
    }
    if (ev->rom_version && *ev->rom_version && strcmp(d->rom, ev->rom_version)) {
        snprintf(d->rom, sizeof d->rom, "%s", ev->rom_version);
        changed = rom_changed = 1;
    }
    if (ev->type == SRV_EV_REGISTER && ip[0])
        snprintf(d->ip, sizeof d->ip, "%s", ip);
    if (changed)
        act_text(out, FLASH_ACT_DEVICE, i, source);
    if (rom_changed)
        act(out, FLASH_ACT_ROM_WARN, i);
    act_text(out, FLASH_ACT_CALLED, i, source);
    if (d->st < STAGE_CLOUD || d->st == STAGE_FAILED) {
        d->detail[0] = '\0';
        flash_dev_set_stage(t, i, STAGE_CLOUD, now, out);
    }
}

static void on_dispatch(struct flash_table *t, const struct srv_event *ev, const char *ip,
                        int64_t now, struct flash_acts *out)
{
    /* Unauthenticated (§1.3): it informs only about the one device a lone run expects;
     * fleet rows come with the register. */
    if (!t->lone || !t->n || !ev->deviceid ||
        (t->dev[0].deviceid[0] && strcmp(ev->deviceid, t->dev[0].deviceid)))
        return;
    called(t, &t->dev[0], ev, ip, "dispatch", now, out);
}

static void on_register(struct flash_table *t, const struct srv_event *ev, const char *ip,
                        int64_t now, struct flash_acts *out)
{
    struct flash_dev *d = register_row(t, ev, now, out);
    if (!d) {
        session_stranger(t, ev, "a register", out);
        return;
    }
    act(out, FLASH_ACT_REGISTERED, index_of(t, d));
    called(t, d, ev, ip, "register", now, out);
}

/* ---- the upgrade's acknowledgement and state ---- */

static void on_code(struct flash_table *t, const struct srv_event *ev, const char *ip,
                    const char *kind, int64_t now, struct flash_acts *out)
{
    struct flash_dev *d = find_ident(t, ev->ident);
    if (!d) {
        char what[64];
        snprintf(what, sizeof what, "%s %d", kind, ev->error);
        session_stranger(t, ev, what, out);
        return;
    }
    size_t i = index_of(t, d);
    if (ev->error == 404) {
        d->n404++;
        if (t->pace_auto && ip[0])
            act_text(out, FLASH_ACT_PACE, i, ip);
    }
    struct flash_act *a = act(out, FLASH_ACT_CODE, i);
    int fatal = flash_code_fatal(ev->error, d->n404);
    if (a) {
        snprintf(a->text, sizeof a->text, "%s", kind);
        a->code = ev->error;
        a->n404 = d->n404;
        a->fatal = fatal;
    }
    if (fatal)
        flash_dev_set_stage(t, i, STAGE_FAILED, now, out);
    else if (ev->error == 0 && !strcmp(kind, "state") && d->st < STAGE_FINAL)
        flash_dev_set_stage(t, i, STAGE_FINAL, now, out); /* written and verified: it
                                                             reboots into E2A (§1.5, §4) */
}

/* ---- downloads ---- */

static int is_final_file(const char *file)
{
    return file && !strcmp(file, FLASH_NAME_FINAL);
}

/* Whether a download comes from where a device of the run fetches: its stage-2 address
 * (lone: once it registered; fleet: once it was sent the upgrade) or --final-device. */
static int device_address(const struct flash_table *t, const char *ip)
{
    if (!ip[0])
        return 0;
    if (t->final_device && !strcmp(ip, t->final_device))
        return 1;
    for (size_t i = 0; i < t->n; i++)
        if ((t->lone || t->dev[i].ordered) && t->dev[i].ip[0] && !strcmp(t->dev[i].ip, ip))
            return 1;
    return 0;
}

/* The device of a download from a device address. Lone: the one device. Fleet: the one
 * that was sent the upgrade and called from ip in stage 2; else, for the images E2A
 * fetches from --final-device, the first to finish stage 2 (one FinalStage is joined at a
 * time). NULL: not a device's download at that stage. */
static struct flash_dev *download_row(struct flash_table *t, const char *ip, const char *file)
{
    if (t->lone)
        return t->n ? &t->dev[0] : NULL;
    int final = is_final_file(file);
    for (size_t i = 0; i < t->n; i++) {
        struct flash_dev *d = &t->dev[i];
        if (d->ordered && !strcmp(d->ip, ip) &&
            (final ? d->st == STAGE_FINAL : d->st <= STAGE_FINAL))
            return d;
    }
    if (!t->final_device || strcmp(ip, t->final_device))
        return NULL;
    struct flash_dev *best = NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct flash_dev *d = &t->dev[i];
        if (d->st == STAGE_FINAL && (!best || d->inter_ms < best->inter_ms))
            best = d;
    }
    return best;
}

static void say(struct flash_acts *out, size_t i, enum flash_say what, const char *file,
                uint64_t at, uint64_t total)
{
    struct flash_act *a = act(out, FLASH_ACT_SAY, i);
    if (!a)
        return;
    a->say = what;
    a->at = at;
    a->total = total;
    snprintf(a->text, sizeof a->text, "%s", file ? file : "");
}

static void on_download_start(struct flash_table *t, const struct srv_event *ev,
                              const char *ip, int64_t now, struct flash_acts *out)
{
    struct flash_dev *d = download_row(t, ip, ev->file);
    if (!d)
        return;
    size_t i = index_of(t, d);
    if (!d->stock_file[0] && d->ordered && d->st <= STAGE_CLOUD && ev->file &&
        !is_final_file(ev->file) && !strcmp(ip, d->ip))
        snprintf(d->stock_file, sizeof d->stock_file, "%s", ev->file);
    if (d->st < STAGE_CLOUD)
        flash_dev_set_stage(t, i, STAGE_CLOUD, now, out); /* it fetches: it called us */
}

static void on_download_done(struct flash_table *t, const struct srv_event *ev,
                             const char *ip, int64_t now, struct flash_acts *out)
{
    const char *file = ev->file;
    struct flash_dev *d = file ? download_row(t, ip, file) : NULL;
    if (!file)
        return;
    if (!d) {
        stranger(out, FLASH_WHY_WRONG_STAGE, ip, file, 0);
        return;
    }
    size_t i = index_of(t, d);
    /* From --final-device: the intermediate firmware (unless the device's stage-2
     * session came from there too, as on a loopback test: then the stage decides). */
    int e2a = t->final_device && !strcmp(ip, t->final_device) && strcmp(ip, d->ip);
    if (is_final_file(file)) {
        /* Only the intermediate firmware fetches it: from its FinalStage address, or
         * from the device's own once it has the intermediate firmware (§4). */
        if (e2a || d->st == STAGE_FINAL) {
            flash_dev_set_stage(t, i, STAGE_DONE, now, out);
            say(out, i, FLASH_SAY_FINAL_SENT, file, 0, 0);
        } else {
            stranger(out, FLASH_WHY_NOT_FINAL, ip, file, 0);
        }
        return;
    }
    if (!e2a && !d->ordered) {
        stranger(out, FLASH_WHY_NOT_ORDERED, ip, file, 0);
        return;
    }
    if (e2a || (d->stock_file[0] && strcmp(file, d->stock_file))) {
        say(out, i, FLASH_SAY_SLOT2, file, 0, 0);
        if (d->st < STAGE_FINAL)
            flash_dev_set_stage(t, i, STAGE_FINAL, now, out); /* it runs: stage 3 */
        return;
    }
    /* The stock firmware's download (§1.5); upgradeState 0 may have come first. */
    if (!d->stock_file[0])
        snprintf(d->stock_file, sizeof d->stock_file, "%s", file);
    if (!d->slot)
        d->slot = !strcmp(file, FLASH_NAME_USER1) ? "user1" : "user2";
    if (d->st < STAGE_FINAL) {
        say(out, i, FLASH_SAY_INTERMEDIATE, file, 0, 0);
        flash_dev_set_stage(t, i, STAGE_FINAL, now, out);
    }
}

/* ---- addresses (a single run) ---- */

enum flash_stage flash_dev_on_scan(const struct flash_dev *d, int recheck, int contacted,
                                   const struct flash_scan *s, enum flash_scan_why *why)
{
    *why = FLASH_SCAN_STAY;
    switch (d->st) {
    case STAGE_WAIT_AP:
        if (s->final)
            break;
        if (s->ap) {
            *why = FLASH_SCAN_AP;
            return STAGE_PROVISION;
        }
        return d->st;
    case STAGE_PROVISION:
        if (s->ap)
            return d->st;
        if (s->final)
            break;
        if (recheck) {
            *why = FLASH_SCAN_LEFT_RECHECK;
            return s->serving ? STAGE_CLOUD : STAGE_PROVISIONED;
        }
        *why = FLASH_SCAN_LEFT_AP;
        return STAGE_WAIT_AP;
    case STAGE_PROVISIONED:
        if (s->serving) {
            *why = FLASH_SCAN_SERVING;
            return STAGE_CLOUD;
        }
        if (s->final)
            break;
        *why = s->ap_rose ? FLASH_SCAN_BACK_TO_AP : FLASH_SCAN_ABSENT;
        return s->ap_rose ? STAGE_PROVISION : d->st;
    case STAGE_CLOUD:
        if (s->final)
            break;
        *why = s->ap_rose && !contacted ? FLASH_SCAN_BACK_TO_AP : FLASH_SCAN_ABSENT;
        return *why == FLASH_SCAN_BACK_TO_AP ? STAGE_PROVISION : d->st;
    case STAGE_NONE:
    case STAGE_POST_AP:     /* the request decides */
    case STAGE_FINAL:
    case STAGE_DONE:
    case STAGE_FAILED:
        return d->st;
    }
    *why = FLASH_SCAN_FINAL; /* E2A fetches from 192.168.4.2 only (§4) */
    return STAGE_FINAL;
}

/* ---- clocks (a single run) ---- */

int64_t flash_dev_clock_next(enum flash_stage st, int contacted, int64_t st_since,
                             int64_t last_hint)
{
    int64_t first = 0; /* the hint's delay; 0: no hint */
    switch (st) {
    case STAGE_WAIT_AP:
        return st_since + FLASH_WAIT_AP_MS + 1; /* more than the wait: give up */
    case STAGE_PROVISIONED:
        return st_since + FLASH_WAIT_HOME_MS + 1;
    case STAGE_CLOUD:
        if (!contacted) /* else the "no contact yet" hint is over */
            first = FLASH_HINT_CLOUD_MS;
        break;
    case STAGE_FINAL:
        first = FLASH_HINT_FINAL_MS;
        break;
    case STAGE_NONE:
    case STAGE_PROVISION:   /* stage 1's requests have their own attempts */
    case STAGE_POST_AP:
    case STAGE_DONE:
    case STAGE_FAILED:
        break;
    }
    if (!first)
        return INT64_MAX;
    /* Not before `first` in the stage, nor before `first` after the last hint's mark. */
    return (st_since > last_hint ? st_since : last_hint) + first;
}

enum flash_clock_due flash_dev_clock(enum flash_stage st, int contacted, int64_t st_since,
                                     int64_t *last_hint, int64_t now)
{
    int64_t at = flash_dev_clock_next(st, contacted, st_since, *last_hint);
    if (at == INT64_MAX || now < at)
        return FLASH_CLOCK_NONE;
    switch (st) {
    case STAGE_WAIT_AP:
        return FLASH_CLOCK_GIVE_UP_AP;
    case STAGE_PROVISIONED:
        return FLASH_CLOCK_GIVE_UP_HOME;
    case STAGE_CLOUD:
        *last_hint = now + FLASH_HINT_REPEAT_MS - FLASH_HINT_CLOUD_MS; /* next: now + repeat */
        return FLASH_CLOCK_HINT_CLOUD;
    case STAGE_FINAL:
        *last_hint = now + FLASH_HINT_REPEAT_MS - FLASH_HINT_FINAL_MS;
        return FLASH_CLOCK_HINT_FINAL;
    case STAGE_NONE:
    case STAGE_PROVISION:
    case STAGE_POST_AP:
    case STAGE_DONE:
    case STAGE_FAILED:
        break;
    }
    return FLASH_CLOCK_NONE;
}

/* ---- a fleet's device on its pairing WiFi ---- */

enum flash_pairing flash_table_on_pairing(struct flash_table *t, const char *id,
                                          int64_t now_ms, size_t *row)
{
    struct flash_dev *d = flash_table_find_id(t, id);
    if (!d) {
        if (!(d = flash_table_add(t, id, now_ms)))
            return FLASH_PAIRING_FULL;
        *row = index_of(t, d);
        return FLASH_PAIRING_NEW;
    }
    *row = index_of(t, d);
    if (!d->provisioned) {
        /* Sessions that registered with this id were not it: the device on its pairing
         * WiFi is the real one; the row starts again as its. */
        flash_dev_restart(t, *row, now_ms);
        return FLASH_PAIRING_RESTART;
    }
    if (d->st == STAGE_DONE)
        return FLASH_PAIRING_IGNORE; /* a done device in pairing mode: nothing to do */
    if (d->st == STAGE_FAILED)
        return FLASH_PAIRING_RETRY;
    if (d->provisioned_ms && now_ms - d->provisioned_ms < FLASH_REPROV_MS)
        return FLASH_PAIRING_IGNORE; /* still leaving its AP */
    return FLASH_PAIRING_AGAIN;
}

/* ---- one event ---- */

void flash_table_on_event(struct flash_table *t, const struct srv_event *ev, const char *ip,
                          int64_t now, struct flash_acts *out)
{
    out->n = 0;
    out->hide = 0;
    if (!ip)
        ip = "";
    switch (ev->type) {
    case SRV_EV_DISPATCH:
        on_dispatch(t, ev, ip, now, out);
        return;
    case SRV_EV_REGISTER:
        on_register(t, ev, ip, now, out);
        return;
    case SRV_EV_UPGRADE_SENT: {
        struct flash_dev *d = find_ident(t, ev->ident);
        if (!d)
            session_stranger(t, ev, "a session", out);
        else
            d->ordered = 1;
        return;
    }
    case SRV_EV_ERROR:
        if (ev->ident && !find_ident(t, ev->ident))
            session_stranger(t, ev, "an error of a session", out);
        return;
    case SRV_EV_UPGRADE_ACK:
        on_code(t, ev, ip, "ack", now, out);
        return;
    case SRV_EV_UPGRADE_STATE:
        on_code(t, ev, ip, "state", now, out);
        return;
    case SRV_EV_WS_CLOSED: {
        /* Range downloads stop between chunks, so no abort event tells it (§1.5). */
        struct flash_dev *d = t->lone ? find_ident(t, ev->ident) : NULL;
        if (d && d->st == STAGE_CLOUD && ev->detail && !strcmp(ev->detail, "downloading"))
            say(out, index_of(t, d), FLASH_SAY_VANISHED,
                d->stock_file[0] ? d->stock_file : NULL, 0, 0);
        return;
    }
    case SRV_EV_DOWNLOAD_START:
    case SRV_EV_DOWNLOAD_PROGRESS:
    case SRV_EV_DOWNLOAD_DONE:
    case SRV_EV_DOWNLOAD_ABORT:
        if (!device_address(t, ip)) {
            int registered = t->lone && t->n && t->dev[0].ip[0];
            stranger(out, t->lone && !registered ? FLASH_WHY_NO_DEVICE : FLASH_WHY_OTHER_ADDR,
                     ip, ev->file ? ev->file : "a file", 1);
            return;
        }
        if (ev->type == SRV_EV_DOWNLOAD_START)
            on_download_start(t, ev, ip, now, out);
        else if (ev->type == SRV_EV_DOWNLOAD_DONE)
            on_download_done(t, ev, ip, now, out);
        else if (ev->type == SRV_EV_DOWNLOAD_ABORT && t->lone && t->n)
            say(out, 0, FLASH_SAY_VANISHED, ev->file, ev->offset, ev->total);
        return;
    case SRV_EV_LISTENING:
    case SRV_EV_TLS_CLIENT:
    case SRV_EV_WS_OPEN:
    case SRV_EV_REJECTED:
    case SRV_EV_DIY_RESULT:
        return; /* they inform the user only */
    }
}
