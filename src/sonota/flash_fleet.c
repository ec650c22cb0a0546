/* flash_fleet.c - `sonota flash --fleet`: the servers stay up and every device that shows
 * up goes through the three stages on its own (PROTOCOL.md §1, §4): stage 1 whenever a
 * device answers on the pairing AP, stages 2 and 3 for as many devices at once as call.
 * Each device has its own record here (id, model, the slot it took, its 404 count and
 * pacing, its result); the run ends at --fleet-size, Ctrl-C or --timeout with a table.
 *
 * Who is who (docs/DESIGN.md "Who may steer a run"): a row is an identity of the cloud
 * (deviceid + factory apikey, srv_event.ident), not a deviceid, which is public. A
 * device provisioned here is the identity with the factory key its GET /device gave;
 * any other id gets a row when it first registers; a session claiming a listed id with
 * another key is someone else: answered, never listed, never counted. A download only
 * has the peer address: one from the address a device that was sent the upgrade used in
 * stage 2 is that device's; the final image from --final-device (192.168.4.1, every
 * FinalStage has that address, §4) goes to the device that finished its intermediate
 * download first (one FinalStage is joined at a time); from elsewhere it is not counted. */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "lib/str.h"
#include "sonota/cmds.h"
#include "sonota/prov.h"
#include "sonota/stage.h"
#include "plat/fs.h"
#include "plat/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows in one run: as many as --fleet-size accepts. The table grows as devices come
 * (about 0.4 KB a row, so at most ~4 MB); past the limit devices are served but not
 * listed. */
#define FLEET_DEVICES_MAX 10000
#define FLEET_LOOP_MS 150
#define FLEET_POLL_IP_MS 2000       /* address rescans, as in a single run (§10.1) */
#define FLEET_GET_EVERY_MS 3000     /* GET /device while looking for the next device */
#define FLEET_GET_MS 1000           /* short: the servers wait while it runs */
#define FLEET_POST_AP_MS 5000
#define FLEET_REPROV_MS (60 * 1000) /* the same device in pairing mode again after this:
                                       it could not join the WiFi; provision it again */
#define FLEET_DRAIN_MS 600

enum fd_state { FD_PROVISIONED, FD_CLOUD, FD_INTERMEDIATE, FD_DONE, FD_FAILED };

struct fleet_dev {
    char deviceid[EWL_DEVICEID_MAX], model[EWL_MODEL_MAX], rom[EWL_VERSION_MAX];
    unsigned ident;                 /* its cloud identity; 0 until it registers */
    int provisioned;                /* stage 1 of this run: only the trusted key is it */
    int ordered;                    /* it was sent the upgrade command */
    char ip[NETIF_IP_MAX];          /* where it called from in stage 2 */
    const char *slot;               /* "user1"/"user2": the stock firmware's download */
    enum fd_state st;
    int n404;
    int64_t first_ms, provisioned_ms, inter_ms, end_ms;
    char detail[240];
};

struct fleet {
    struct fleet_dev *dev;          /* grows; never hold a row pointer across add_dev */
    size_t n, cap, n_done;
    char ctx_id[EWL_DEVICEID_MAX];  /* the device the instructions name (r->ctx) */
    int64_t next_get, next_poll;
    int ap_up, serving_up, final_up;
    int full_told, final_told;
    int interrupted, timed_out;     /* how the loop ended */
};

static const char *const state_names[] = {"provisioned", "cloud", "intermediate", "done",
                                          "failed"};

static struct fleet_dev *find_id(struct fleet *f, const char *id)
{
    for (size_t i = 0; id && i < f->n; i++)
        if (!strcmp(f->dev[i].deviceid, id))
            return &f->dev[i];
    return NULL;
}

static struct fleet_dev *find_ident(struct fleet *f, unsigned ident)
{
    for (size_t i = 0; ident && i < f->n; i++)
        if (f->dev[i].ident == ident)
            return &f->dev[i];
    return NULL;
}

static struct fleet_dev *add_dev(struct run *r, const char *id)
{
    struct fleet *f = r->fleet;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        if (cap > FLEET_DEVICES_MAX)
            cap = FLEET_DEVICES_MAX;
        struct fleet_dev *dev = f->n < cap ? realloc(f->dev, cap * sizeof *dev) : NULL;
        if (!dev) {
            if (!f->full_told++)
                ui_warn(&r->ui, "fleet-full", "this run lists %zu devices%s; device %s and "
                        "later ones are served but not listed: start another run for more",
                        f->n, f->n < FLEET_DEVICES_MAX ? " (out of memory)" : "", id);
            return NULL;
        }
        f->dev = dev;
        f->cap = cap;
    }
    struct fleet_dev *d = &f->dev[f->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->deviceid, sizeof d->deviceid, "%s", id);
    d->first_ms = plat_mono_ms();
    return d;
}

static void row_of(const struct fleet_dev *d, struct ui_fleet_row *row, int64_t now)
{
    int done = d->st == FD_DONE, failed = d->st == FD_FAILED;
    int64_t end = d->end_ms ? d->end_ms : now;
    *row = (struct ui_fleet_row){d->deviceid, d->model[0] ? d->model : NULL,
                                 d->rom[0] ? d->rom : NULL, d->slot,
                                 done ? "done" : failed ? "failed" : "incomplete",
                                 state_names[d->st], d->detail[0] ? d->detail : NULL,
                                 (double)(end - d->first_ms) / 1000.0};
}

static void tell(struct run *r, const struct fleet_dev *d)
{
    struct ui_fleet_row row;
    row_of(d, &row, plat_mono_ms());
    ui_fleet_device(&r->ui, &row, r->fleet->n_done, r->o->fleet_size);
}

static void set_state(struct run *r, struct fleet_dev *d, enum fd_state st)
{
    if (d->st == st || d->st == FD_DONE)
        return;
    d->st = st;
    if (st == FD_INTERMEDIATE)
        d->inter_ms = plat_mono_ms();
    if (st == FD_DONE || st == FD_FAILED)
        d->end_ms = plat_mono_ms();
    if (st == FD_DONE)
        r->fleet->n_done++;
    tell(r, d);
}

/* ---- the devices' messages ---- */

/* The row of a cloud event's identity. A REGISTER finds the row of a device provisioned
 * here (trusted key only) or adds one for an id not listed yet; NULL: not a device of
 * this table (another key for a listed id, or the table is full). */
static struct fleet_dev *row_of_session(struct run *r, const struct srv_event *ev)
{
    struct fleet *f = r->fleet;
    struct fleet_dev *d = find_ident(f, ev->ident);
    if (d || ev->type != SRV_EV_REGISTER || !ev->ident || !ev->deviceid || !*ev->deviceid)
        return d;
    for (size_t i = 0; i < f->n; i++) {
        struct fleet_dev *x = &f->dev[i];
        if (strcmp(x->deviceid, ev->deviceid))
            continue;
        if (x->provisioned && ev->trusted && !x->ident) {
            x->ident = ev->ident;
            return x;
        }
        return NULL; /* the id is listed with another key */
    }
    if (!(d = add_dev(r, ev->deviceid)))
        return NULL;
    d->ident = ev->ident;
    return d;
}

static void stranger(struct run *r, const struct srv_event *ev, const char *ip,
                     const char *what)
{
    char key[64]; /* one line per session and kind of event */
    snprintf(key, sizeof key, "#%u/%d", ev->ident, (int)ev->type);
    run_stranger(r, key, "%s from %s, a session of device %s without the factory key of "
                 "the device listed under that id: answered, not counted", what, ip,
                 ev->deviceid ? ev->deviceid : "?");
}

static struct fleet_dev *note(struct run *r, const struct srv_event *ev, const char *ip,
                              const char *source)
{
    struct fleet_dev *d = row_of_session(r, ev);
    if (!d) {
        stranger(r, ev, ip, "a register");
        return NULL;
    }
    int changed = 0;
    if (ev->model && *ev->model && strcmp(d->model, ev->model)) {
        snprintf(d->model, sizeof d->model, "%s", ev->model);
        changed = 1;
    }
    if (ev->rom_version && *ev->rom_version && strcmp(d->rom, ev->rom_version)) {
        snprintf(d->rom, sizeof d->rom, "%s", ev->rom_version);
        changed = 1;
        run_rom_warning(&r->ui, d->rom);
    }
    if (ip[0])
        snprintf(d->ip, sizeof d->ip, "%s", ip);
    if (changed)
        ui_device(&r->ui, source, d->deviceid, d->model[0] ? d->model : NULL,
                  d->rom[0] ? d->rom : NULL);
    if (d->st < FD_CLOUD || d->st == FD_FAILED) {
        d->detail[0] = '\0';
        set_state(r, d, FD_CLOUD);
    }
    return d;
}

static void fail_dev(struct run *r, struct fleet_dev *d, const char *why)
{
    if (snprintf(d->detail, sizeof d->detail, "%s", why) >= (int)sizeof d->detail)
        LOG_D("fleet: the reason for %s is cut in the table", d->deviceid);
    ui_error(&r->ui, "device-refused", EXIT_DEVICE, "device %s: %s; the other devices go on",
             d->deviceid, why);
    set_state(r, d, FD_FAILED);
}

static void on_code(struct run *r, const struct srv_event *ev, const char *ip,
                    const char *kind)
{
    struct fleet_dev *d = find_ident(r->fleet, ev->ident);
    if (!d) {
        char m[64];
        snprintf(m, sizeof m, "%s %d", kind, ev->error);
        stranger(r, ev, ip, m);
        return;
    }
    int n404 = 0;
    if (ev->error == 404) {
        n404 = ++d->n404;
        if (r->o->pace == SRV_PACE_AUTO && ip[0])
            run_set_paced(r, ip);
    }
    char m[512];
    int fatal = run_code_text(r->o, ev->error, kind, d->model, d->rom, n404, m, sizeof m);
    ui_ack(&r->ui, kind, ev->deviceid, ev->error, m);
    if (fatal)
        fail_dev(r, d, m);
    else if (ev->error == 0 && !strcmp(kind, "state") && d->st < FD_INTERMEDIATE)
        set_state(r, d, FD_INTERMEDIATE); /* written and verified: it reboots into E2A */
}

/* A download's device: the one that was sent the upgrade and called from that address
 * in stage 2; else, for the images E2A fetches from --final-device, the first to finish
 * stage 2. NULL: not a device's download. */
static struct fleet_dev *download_dev(struct run *r, const char *ip, const char *file)
{
    struct fleet *f = r->fleet;
    int final = file && !strcmp(file, FLASH_NAME_FINAL);
    for (size_t i = 0; ip[0] && i < f->n; i++) {
        struct fleet_dev *d = &f->dev[i];
        if (d->ordered && !strcmp(d->ip, ip) &&
            (final ? d->st == FD_INTERMEDIATE : d->st <= FD_INTERMEDIATE))
            return d;
    }
    if (strcmp(ip, r->o->final_device))
        return NULL;
    struct fleet_dev *best = NULL;
    for (size_t i = 0; i < f->n; i++) {
        struct fleet_dev *d = &f->dev[i];
        if (d->st == FD_INTERMEDIATE && (!best || d->inter_ms < best->inter_ms))
            best = d;
    }
    return best;
}

static void on_download_done(struct run *r, const char *ip, const char *file)
{
    struct fleet *f = r->fleet;
    struct fleet_dev *d = download_dev(r, ip, file);
    if (!d || !file) {
        run_stranger(r, ip, "%s fetched %s: not a device of this run at that stage; "
                     "served, not counted", ip, file ? file : "a file");
        return;
    }
    if (!strcmp(file, FLASH_NAME_FINAL)) {
        set_state(r, d, FD_DONE);
        ui_info(&r->ui, "  device %s has the final image and restarts into it (%zu done%s)",
                d->deviceid, f->n_done, r->o->fleet_size ? " so far" : "");
        return;
    }
    if (!d->slot) {
        d->slot = !strcmp(file, FLASH_NAME_USER1) ? "user1" : "user2";
        ui_info(&r->ui, "  device %s received the intermediate firmware (%s); it checks it "
                "and reboots into it, then opens the WiFi \"FinalStage\"", d->deviceid, file);
        set_state(r, d, FD_INTERMEDIATE);
        if (!f->final_told++) /* the full instructions once; they are the same each time */
            ui_action(&r->ui, UI_ACT_JOIN_FINAL, &r->ctx);
        else
            ui_info(&r->ui, "  join its FinalStage as before (192.168.4.2, TCP %d open); one "
                    "FinalStage at a time", r->o->http_port);
    } else {
        ui_info(&r->ui, "  device %s: the intermediate firmware moved itself to slot 2 (%s); "
                "next it fetches the final image", d->deviceid, file);
    }
}

/* Whether a download comes from where some listed device fetches. */
static int device_ip(struct run *r, const char *ip)
{
    struct fleet *f = r->fleet;
    if (!strcmp(ip, r->o->final_device))
        return 1;
    for (size_t i = 0; ip[0] && i < f->n; i++)
        if (f->dev[i].ordered && !strcmp(f->dev[i].ip, ip))
            return 1;
    return 0;
}

void fleet_on_event(struct run *r, const struct srv_event *ev)
{
    char ip[NETIF_IP_MAX];
    so_peer_addr(ev->peer, ip, sizeof ip);
    if (ev->type == SRV_EV_UPGRADE_SENT || (ev->type == SRV_EV_ERROR && ev->ident)) {
        struct fleet_dev *d = find_ident(r->fleet, ev->ident);
        if (!d) {
            stranger(r, ev, ip, ev->type == SRV_EV_ERROR ? "an error of a session"
                     : "a session");
            return;
        }
        if (ev->type == SRV_EV_UPGRADE_SENT)
            d->ordered = 1;
    }
    if (ev->type >= SRV_EV_DOWNLOAD_START && ev->type <= SRV_EV_DOWNLOAD_ABORT &&
        !device_ip(r, ip)) {
        run_stranger(r, ip, "%s asked for %s: no device of this run fetches from there; "
                     "served, not counted", ev->peer ? ev->peer : ip,
                     ev->file ? ev->file : "a file");
        return;
    }
    if (run_event_shown(r, ev))
        return;
    switch (ev->type) {
    case SRV_EV_DISPATCH: /* unauthenticated (§1.3): rows come with the register */
        ui_detail(&r->ui, "  dispatch from %s for device %s", ip,
                  ev->deviceid ? ev->deviceid : "?");
        break;
    case SRV_EV_REGISTER:
        note(r, ev, ip, "register");
        break;

    case SRV_EV_UPGRADE_ACK:
        on_code(r, ev, ip, "ack");
        break;
    case SRV_EV_UPGRADE_STATE:
        on_code(r, ev, ip, "state");
        break;
    case SRV_EV_WS_CLOSED:
        ui_detail(&r->ui, "  WebSocket of %s closed", ev->deviceid ? ev->deviceid : "?");
        break;
    case SRV_EV_DOWNLOAD_START:
        ui_download(&r->ui, "start", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    case SRV_EV_DOWNLOAD_DONE:
        ui_download(&r->ui, "done", ev->file, ev->peer, ev->total, ev->total, ev->paced);
        on_download_done(r, ip, ev->file);
        break;
    case SRV_EV_DOWNLOAD_ABORT:
        ui_download(&r->ui, "abort", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    default: /* shown by run_event_shown */
        break;
    }
}

/* ---- stage 1: the next device on the pairing AP ---- */

static void post_ap(struct run *r, struct fleet_dev *d, const struct ewl_device_info *dev)
{
    char err[512];
    enum prov_fail e = run_post_ap(r, FLEET_POST_AP_MS, err, sizeof err);
    switch (e) {
    case PROV_OK:
        break;
    case PROV_TIMEOUT:
    case PROV_NO_REPLY: /* it often leaves its AP before answering */
        ui_warn(&r->ui, "device-reply", "%s; device %s may have taken the settings already: "
                "going on", err, d->deviceid);
        break;
    case PROV_UNREACHABLE:
        ui_info(&r->ui, "  %s; trying again", err);
        return;
    case PROV_REFUSED:
    case PROV_BAD_REPLY:
    case PROV_HTTP_STATUS:
        fail_dev(r, d, err);
        return;
    }
    d->provisioned_ms = plat_mono_ms();
    d->detail[0] = '\0';
    d->st = FD_PROVISIONED;
    /* From now on only its factory key is this device: the row waits for the register
     * that carries it (a session that took the id before is someone else). */
    run_trust(r, dev);
    d->provisioned = 1;
    d->ident = 0;
    d->ordered = 0;
    ui_provisioned(&r->ui, r->o->wifi_ssid, r->serving_ip, r->o->https_port);
    tell(r, d);
    snprintf(r->fleet->ctx_id, sizeof r->fleet->ctx_id, "%s", d->deviceid);
    r->ctx.deviceid = r->fleet->ctx_id;
    ui_action(&r->ui, UI_ACT_RECONNECT_HOME, &r->ctx);
    ui_info(&r->ui, "  Meanwhile the next device can go into pairing mode: sonota keeps "
            "serving the ones that call, and provisions each new one it finds on its "
            "pairing WiFi.");
}

static void look_for_device(struct run *r, int64_t now)
{
    struct fleet *f = r->fleet;
    if (r->o->no_prov || now < f->next_get || (r->watch && !f->ap_up))
        return;
    f->next_get = now + FLEET_GET_EVERY_MS;
    struct ewl_device_info dev;
    memset(&dev, 0, sizeof dev);
    char err[512];
    enum prov_fail e = prov_get_device(r->o->device_url, FLEET_GET_MS, &dev, err, sizeof err);
    if (e != PROV_OK) {
        if (r->watch)
            ui_detail(&r->ui, "  no device answers on the pairing WiFi yet: %s", err);
        return;
    }
    struct fleet_dev *d = find_id(f, dev.deviceid);
    if (d && d->provisioned && (d->st == FD_DONE || (d->st != FD_FAILED && d->provisioned_ms &&
                                    now - d->provisioned_ms < FLEET_REPROV_MS)))
        return; /* still leaving its AP (or a done device in pairing mode: nothing to do) */
    if (d && !d->provisioned) {
        /* The row was a session's that only claimed this id: the device on its pairing
         * WiFi is the real one; the row starts again as its. */
        if (d->st == FD_DONE && f->n_done)
            f->n_done--;
        ui_warn(&r->ui, "not-the-device", "device %s is on its pairing WiFi: the sessions "
                "that registered with its id before were not it (another factory key); "
                "its row starts again, their acks and attempts do not count", d->deviceid);
        struct fleet_dev fresh = {0};
        snprintf(fresh.deviceid, sizeof fresh.deviceid, "%s", d->deviceid);
        fresh.first_ms = plat_mono_ms();
        *d = fresh;
    } else if (d && d->st != FD_FAILED)
        ui_info(&r->ui, "  device %s is in pairing mode again (it could not join \"%s\"? "
                "check the password): giving it the WiFi settings again", d->deviceid,
                r->o->wifi_ssid);
    if (!d && !(d = add_dev(r, dev.deviceid)))
        return;
    ui_device(&r->ui, "ap", d->deviceid, NULL, NULL);
    post_ap(r, d, &dev);
    plat_wipe(&dev, sizeof dev); /* the factory key */
}

/* ---- addresses (when watched) ---- */

static int watch(struct run *r, int64_t now)
{
    struct fleet *f = r->fleet;
    if (!r->watch || now < f->next_poll)
        return 0;
    f->next_poll = now + FLEET_POLL_IP_MS;
    struct stage_seen seen;
    if (run_scan(r, &seen) != 0 || run_servers_update(r, &seen) != 0)
        return -1;
    if (seen.ap && !f->ap_up) {
        ui_address(&r->ui, "ap", seen.ap_ip, seen.ap_if);
        f->next_get = 0;
    }
    if (seen.serving && !f->serving_up)
        ui_address(&r->ui, "serving", r->serving_ip, NULL);
    if (seen.final && !f->final_up)
        ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
    f->ap_up = seen.ap;
    f->serving_up = seen.serving;
    f->final_up = seen.final;
    r->st = seen.final ? RS_FINAL : RS_CLOUD; /* which server waits (run_service) */
    return 0;
}

/* ---- the loop and the table ---- */

/* The exit status and the closing error of a fleet run (none when every device is done). */
static void fleet_end(struct run *r, int interrupted, int timed_out)
{
    struct fleet *f = r->fleet;
    size_t failed = 0, open = 0;
    for (size_t i = 0; i < f->n; i++) {
        failed += f->dev[i].st == FD_FAILED;
        open += f->dev[i].st < FD_DONE;
    }
    if (f->n && !open && !failed)
        return;
    const char *next = "devices that were provisioned keep calling this computer, and those "
                       "on FinalStage keep asking for the final image: run the same command "
                       "with --no-prov to finish them";
    if (!f->n)
        run_fail(r, interrupted ? EXIT_INTERRUPTED : EXIT_FAIL, interrupted ? "interrupted"
                 : "timeout", "no device called%s", interrupted ? "" : " before --timeout");
    else if (open && interrupted)
        run_fail(r, EXIT_INTERRUPTED, "interrupted", "interrupted with %zu device%s "
                 "unfinished; %s", open, open == 1 ? "" : "s", next);
    else if (open && timed_out)
        run_fail(r, EXIT_FAIL, "timeout", "gave up after %d s (--timeout) with %zu device%s "
                 "unfinished; %s", r->o->timeout_s, open, open == 1 ? "" : "s", next);
    else if (open)
        run_fail(r, EXIT_FAIL, "unfinished", "--fleet-size reached with %zu more device%s "
                 "unfinished; %s", open, open == 1 ? "" : "s", next);
    else
        run_fail(r, EXIT_DEVICE, "device-refused", "%zu device%s refused the upgrade (see "
                 "the table); the others are done", failed, failed == 1 ? "" : "s");
}

static void table(struct run *r, int64_t t0)
{
    struct fleet *f = r->fleet;
    int64_t now = plat_mono_ms();
    struct ui_fleet_row *rows = calloc(f->n ? f->n : 1, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < f->n; i++)
        row_of(&f->dev[i], &rows[i], now);
    ui_fleet_done(&r->ui, rows, f->n, (double)(now - t0) / 1000.0);
    free(rows);
}

static void loop(struct run *r)
{
    struct fleet *f = r->fleet;
    int interrupted = 0, timed_out = 0;
    while (r->exit_code < 0) {
        if (*r->stop) {
            interrupted = 1;
            break;
        }
        int64_t now = plat_mono_ms();
        if (now >= r->deadline) {
            timed_out = 1;
            break;
        }
        if (r->o->fleet_size && f->n_done >= (size_t)r->o->fleet_size)
            break;
        if (watch(r, now) != 0)
            break;
        look_for_device(r, now);
        if (*r->stop)
            continue;
        if (run_service(r, FLEET_LOOP_MS) != 0)
            run_fail(r, EXIT_FAIL, "server", "the server stopped working (see the messages "
                     "above)");
    }
    if (r->exit_code >= 0)
        return;
    int64_t until = plat_mono_ms() + FLEET_DRAIN_MS; /* the last replies leave */
    while (!interrupted && plat_mono_ms() < until && run_service(r, 50) == 0)
        ;
    f->interrupted = interrupted;
    f->timed_out = timed_out;
}

void fleet_run(struct run *r, const struct stage_seen *seen)
{
    struct flash_opts *o = r->o;
    struct fleet *f = calloc(1, sizeof *f);
    if (!f) {
        run_fail(r, EXIT_FAIL, "memory", "out of memory");
        return;
    }
    r->fleet = f;
    int64_t t0 = plat_mono_ms();
    r->ctx = (struct ui_ctx){o->wifi_ssid, r->serving_ip, o->device_url, NULL, o->http_port,
                             o->https_port, o->plain_port, o->legacy, r->watch,
                             run_bind_addr(r)};
    ui_start(&r->ui, SONOTA_VERSION, &r->ctx, flash_opts_pace_name(o->pace));
    if (!o->no_prov && run_credentials(r) != 0)
        goto out;
    if (run_servers_update(r, seen) != 0)
        goto out;
    run_firewall(r, 0);
    f->ap_up = seen->ap;
    f->serving_up = seen->serving;
    f->final_up = seen->final;
    r->st = seen->final ? RS_FINAL : RS_CLOUD;
    ui_stage(&r->ui, "fleet");
    ui_info(&r->ui, "  sonota serves every device that calls until %s. For each device: "
            "pairing mode and its ITEAD-<deviceid> WiFi (stage 1), your WiFi while it fetches "
            "the intermediate firmware (stage 2), FinalStage for the final image (stage 3). "
            "Devices in stages 2 and 3 may overlap.", o->fleet_size ? "enough devices are "
            "done (--fleet-size)" : "Ctrl-C (or --timeout)");
    if (!o->no_prov)
        ui_action(&r->ui, r->watch ? UI_ACT_JOIN_AP : UI_ACT_TALK_DEVICE, &r->ctx);
    loop(r);
    table(r, t0); /* first: the closing error below refers to it */
    if (r->exit_code < 0)
        fleet_end(r, f->interrupted, f->timed_out);
    if (r->exit_code < 0)
        r->exit_code = EXIT_OK;
out:
    r->fleet = NULL;
    free(f->dev);
    free(f);
}
