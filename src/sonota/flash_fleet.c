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

#define FLEET_WAIT_MAX_MS 500       /* longest wait for a socket (a Ctrl-C just before it) */
#define FLEET_POLL_IP_MS 2000       /* address rescans, as in a single run (§10.1) */
#define FLEET_GET_EVERY_MS 3000     /* GET /device while looking for the next device */
#define FLEET_GET_MS 1000           /* short: the servers wait while it runs */
#define FLEET_POST_AP_MS 5000
#define FLEET_DRAIN_MS 600

/* What the fleet loop keeps besides the table (r->table). */
struct fleet {
    char ctx_id[EWL_DEVICEID_MAX];  /* the device the instructions name (r->ctx) */
    int64_t next_get, next_poll;
    int ap_up, serving_up, final_up;
    int interrupted, timed_out;     /* how the loop ended */
};

/* ---- stage 1: the next device on the pairing AP ---- */

/* POST /ap for row r->prov.row answered (or not). */
static void posted_ap(void *user, enum prov_fail e, const struct ewl_device_info *unused,
                      int dev_error, const char *err)
{
    struct run *r = user;
    struct fleet *f = r->fleet;
    size_t i = r->prov.row;
    (void)unused;
    (void)dev_error;
    r->prov.busy = 0;
    if (*r->stop || r->exit_code >= 0 || i >= r->table.n)
        goto out;
    struct flash_dev *d = &r->table.dev[i];
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
        goto out;
    case PROV_REFUSED:
    case PROV_BAD_REPLY:
    case PROV_HTTP_STATUS: {
        struct flash_acts acts = {0};
        if (snprintf(d->detail, sizeof d->detail, "%s", err) >= (int)sizeof d->detail)
            LOG_D("fleet: the reason for %s is cut in the table", d->deviceid);
        ui_error(&r->ui, "device-refused", EXIT_DEVICE, "device %s: %s; the other devices "
                 "go on", d->deviceid, err);
        flash_dev_set_stage(&r->table, i, STAGE_FAILED, plat_mono_ms(), &acts);
        if (acts.n)
            flash_events_tell_row(r, i);
        goto out;
    }
    }
    struct flash_acts acts;
    flash_net_trust(r, &r->prov.dev);
    flash_dev_provisioned(&r->table, i, plat_mono_ms(), &acts);
    ui_provisioned(&r->ui, r->o->wifi_ssid, r->serving_ip, r->o->https_port);
    flash_events_tell_row(r, i);
    snprintf(f->ctx_id, sizeof f->ctx_id, "%s", d->deviceid);
    r->ctx.deviceid = f->ctx_id;
    ui_action(&r->ui, UI_ACT_RECONNECT_HOME, &r->ctx);
    ui_info(&r->ui, "  Meanwhile the next device can go into pairing mode: sonota keeps "
            "serving the ones that call, and provisions each new one it finds on its "
            "pairing WiFi.");
out:
    plat_wipe(&r->prov.dev, sizeof r->prov.dev); /* the factory key */
}

/* GET /device answered (or not): a device to provision, or not yet. */
static void got_device(void *user, enum prov_fail e, const struct ewl_device_info *dev,
                       int dev_error, const char *err)
{
    struct run *r = user;
    (void)dev_error;
    r->prov.busy = 0;
    if (*r->stop || r->exit_code >= 0)
        return;
    if (e != PROV_OK) {
        if (r->watch)
            ui_detail(&r->ui, "  no device answers on the pairing WiFi yet: %s", err);
        return;
    }
    size_t row = 0;
    switch (flash_table_on_pairing(&r->table, dev->deviceid, plat_mono_ms(), &row)) {
    case FLASH_PAIRING_IGNORE:
        return; /* still leaving its AP (or a done device in pairing mode: nothing to do) */
    case FLASH_PAIRING_FULL:
        flash_events_table_full(r, dev->deviceid);
        return;
    case FLASH_PAIRING_RESTART:
        ui_warn(&r->ui, "not-the-device", "device %s is on its pairing WiFi: the sessions "
                "that registered with its id before were not it (another factory key); "
                "its row starts again, their acks and attempts do not count",
                r->table.dev[row].deviceid);
        break;
    case FLASH_PAIRING_AGAIN:
        ui_info(&r->ui, "  device %s is in pairing mode again (it could not join \"%s\"? "
                "check the password): giving it the WiFi settings again",
                r->table.dev[row].deviceid, r->o->wifi_ssid);
        break;
    case FLASH_PAIRING_RETRY: /* it failed here: the table says why; provision it again */
    case FLASH_PAIRING_NEW:
        break;
    }
    ui_device(&r->ui, "ap", r->table.dev[row].deviceid, NULL, NULL);
    r->prov.dev = *dev; /* the factory key, for flash_net_trust when POST /ap is through */
    r->prov.row = row;
    if (flash_net_post_ap_start(r, FLEET_POST_AP_MS, posted_ap) != 0) {
        plat_wipe(&r->prov.dev, sizeof r->prov.dev);
        ui_warn(&r->ui, "http", "cannot start a request to %s", r->o->device_url);
    }
}

static void look_for_device(struct run *r, struct fleet *f, int64_t now)
{
    if (r->o->no_prov || r->prov.busy || now < f->next_get || (r->watch && !f->ap_up))
        return;
    f->next_get = now + FLEET_GET_EVERY_MS;
    if (prov_get_device_start(r->prov.http, r->o->device_url, FLEET_GET_MS, got_device, r) == 0)
        r->prov.busy = 1;
    else
        ui_warn(&r->ui, "http", "cannot start a request to %s", r->o->device_url);
}

/* ---- addresses (when watched) ---- */

static int watch(struct run *r, struct fleet *f, int64_t now)
{
    if (!r->watch || now < f->next_poll)
        return 0;
    f->next_poll = now + FLEET_POLL_IP_MS;
    struct stage_seen seen;
    if (flash_net_scan(r, &seen) != 0 || flash_net_update(r, &seen) != 0)
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
    r->net.final_waits = seen.final; /* which server waits (flash_net_service) */
    return 0;
}

/* ---- the loop and the table ---- */

/* How long the servers may wait for a socket before the next scan or GET /device. */
static int fleet_wait_ms(const struct run *r, const struct fleet *f, int64_t now)
{
    /* A request under way completes from httpc_step: wake up for libcurl's timer; its
     * sockets wake the servers' poll (flash_net_service watches them). */
    if (r->prov.busy)
        return httpc_wait_ms(r->prov.http, FLEET_WAIT_MAX_MS);
    int64_t next = r->deadline;
    if (r->watch && f->next_poll < next)
        next = f->next_poll;
    if (!r->o->no_prov && (!r->watch || f->ap_up) && f->next_get < next)
        next = f->next_get;
    int64_t ms = next - now;
    return ms <= 0 ? 0 : ms > FLEET_WAIT_MAX_MS ? FLEET_WAIT_MAX_MS : (int)ms;
}

/* The exit status and the closing error of a fleet run (none when every device is done). */
static void fleet_end(struct run *r, int interrupted, int timed_out)
{
    const struct flash_table *t = &r->table;
    size_t failed = 0, open = 0;
    for (size_t i = 0; i < t->n; i++) {
        failed += t->dev[i].st == STAGE_FAILED;
        open += t->dev[i].st < STAGE_DONE;
    }
    if (t->n && !open && !failed)
        return;
    const char *next = "devices that were provisioned keep calling this computer, and those "
                       "on FinalStage keep asking for the final image: run the same command "
                       "with --no-prov to finish them";
    if (!t->n)
        flash_run_fail(r, interrupted ? EXIT_INTERRUPTED : EXIT_FAIL, interrupted ? "interrupted"
                       : "timeout", "no device called%s", interrupted ? "" : " before --timeout");
    else if (open && interrupted)
        flash_run_fail(r, EXIT_INTERRUPTED, "interrupted", "interrupted with %zu device%s "
                       "unfinished; %s", open, open == 1 ? "" : "s", next);
    else if (open && timed_out)
        flash_run_fail(r, EXIT_FAIL, "timeout", "gave up after %d s (--timeout) with %zu device%s "
                       "unfinished; %s", r->o->timeout_s, open, open == 1 ? "" : "s", next);
    else if (open)
        flash_run_fail(r, EXIT_FAIL, "unfinished", "--fleet-size reached with %zu more device%s "
                       "unfinished; %s", open, open == 1 ? "" : "s", next);
    else
        flash_run_fail(r, EXIT_DEVICE, "device-refused", "%zu device%s refused the upgrade (see "
                       "the table); the others are done", failed, failed == 1 ? "" : "s");
}

static void table(struct run *r, int64_t t0)
{
    const struct flash_table *t = &r->table;
    int64_t now = plat_mono_ms();
    struct ui_fleet_row *rows = calloc(t->n ? t->n : 1, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < t->n; i++)
        flash_events_row_of(&t->dev[i], &rows[i], now);
    ui_fleet_done(&r->ui, rows, t->n, (double)(now - t0) / 1000.0);
    free(rows);
}

static void loop(struct run *r, struct fleet *f)
{
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
        if (r->o->fleet_size && r->table.n_done >= (size_t)r->o->fleet_size)
            break;
        if (watch(r, f, now) != 0)
            break;
        look_for_device(r, f, now);
        if (r->prov.busy)
            httpc_step(r->prov.http); /* the completion comes from here */
        if (*r->stop)
            continue;
        if (flash_net_service(r, fleet_wait_ms(r, f, plat_mono_ms())) != 0)
            flash_run_fail(r, EXIT_FAIL, "server", "the server stopped working (see the messages "
                           "above)");
    }
    if (r->exit_code >= 0)
        return;
    int64_t until = plat_mono_ms() + FLEET_DRAIN_MS; /* the last replies leave */
    while (!interrupted && plat_mono_ms() < until && flash_net_service(r, 50) == 0)
        ;
    f->interrupted = interrupted;
    f->timed_out = timed_out;
}

void fleet_run(struct run *r, const struct stage_seen *seen)
{
    struct flash_opts *o = r->o;
    struct fleet *f = calloc(1, sizeof *f);
    if (!f) {
        flash_run_fail(r, EXIT_FAIL, "memory", "out of memory");
        return;
    }
    r->fleet = f;
    int64_t t0 = plat_mono_ms();
    r->ctx = (struct ui_ctx){o->wifi_ssid, r->serving_ip, o->device_url, NULL, o->http_port,
                             o->https_port, o->plain_port, o->legacy, r->watch,
                             flash_net_bind_addr(r)};
    ui_start(&r->ui, SONOTA_VERSION, &r->ctx, flash_opts_pace_name(o->pace));
    if (!o->no_prov && flash_setup_credentials(r) != 0)
        goto out;
    if (flash_net_update(r, seen) != 0)
        goto out;
    flash_run_firewall(r, 0);
    f->ap_up = seen->ap;
    f->serving_up = seen->serving;
    f->final_up = seen->final;
    r->net.final_waits = seen->final;
    ui_stage(&r->ui, "fleet");
    ui_info(&r->ui, "  sonota serves every device that calls until %s. For each device: "
            "pairing mode and its ITEAD-<deviceid> WiFi (stage 1), your WiFi while it fetches "
            "the intermediate firmware (stage 2), FinalStage for the final image (stage 3). "
            "Devices in stages 2 and 3 may overlap.", o->fleet_size ? "enough devices are "
            "done (--fleet-size)" : "Ctrl-C (or --timeout)");
    if (!o->no_prov)
        ui_action(&r->ui, r->watch ? UI_ACT_JOIN_AP : UI_ACT_TALK_DEVICE, &r->ctx);
    loop(r, f);
    table(r, t0); /* first: the closing error below refers to it */
    if (r->exit_code < 0)
        fleet_end(r, f->interrupted, f->timed_out);
    if (r->exit_code < 0)
        r->exit_code = EXIT_OK;
out:
    r->fleet = NULL;
    free(f);
}
