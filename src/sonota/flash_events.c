/* flash_events.c - the server's events moving a `sonota flash` run forward: the device
 * calling (dispatch, register), the upgrade's acknowledgement and state, downloads
 * (PROTOCOL.md §1.3-§1.5, §4). */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "lib/str.h"
#include "sonota/cmds.h"
#include "plat/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>


/* ---- what the device says ---- */

static void rom_warning(struct ui *u, const char *rom)
{
    switch (stage_rom_verdict(rom)) {
    case ROM_PINNED:
        ui_warn(u, "rom-version", "firmware %s: stock firmware 1.6 and later (and 2.6 and "
                "later) is known to refuse this path: it pins the eWeLink certificate, so it "
                "refuses the certificate of any other server. Trying anyway; if no download "
                "starts, this device needs a serial adapter.", rom); /* PROTOCOL.md §2/§3 */
        break;
    case ROM_DIY:
        ui_warn(u, "rom-version", "firmware %s is 3.x: the stock OTA path is closed for it "
                "(ITEAD closed it from 3.0 on); use DIY mode (`sonota diy`) if the model supports "
                "it. "
                "Trying anyway.", rom);
        break;
    case ROM_OK:
    case ROM_UNKNOWN:
        break;
    }
}

/* ---- who the device is (docs/DESIGN.md "Who may steer a run") ---- */

static void stranger_say(struct run *r, const char *key, const char *fmt, ...)
    SO_PRINTF(3, 4);
static void stranger_say(struct run *r, const char *key, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < r->told.n_strangers; i++) {
        if (!strcmp(r->told.strangers[i], key)) {
            LOG_D("not the device (again): %s", m);
            return;
        }
    }
    if (r->told.n_strangers < RUN_STRANGERS_TOLD) {
        snprintf(r->told.strangers[r->told.n_strangers++], sizeof r->told.strangers[0], "%s",
                 key);
        ui_warn(&r->ui, "not-the-device", "%s", m);
        return;
    }
    unsigned long n = ++r->told.strangers_untold; /* told at 1, 10, 100, ... */
    for (unsigned long p = 1; p <= n; p *= 10) {
        if (p == n) {
            ui_warn(&r->ui, "not-the-device", "%lu more peers that are not the device "
                    "(the last: %s); not told one by one", n, m);
            return;
        }
    }
    LOG_D("not the device: %s", m);
}

static int code_text(const struct flash_opts *o, int e, const char *kind, const char *model,
                  const char *rom, int n404, char *m, size_t cap)
{
    int fatal = 1;
    switch (e) {
    case 0:
        snprintf(m, cap, !strcmp(kind, "ack")
                 ? "accepted: the device is downloading the intermediate firmware"
                 : "the device reports the upgrade finished");
        fatal = 0;
        break;
    case 404:
        fatal = flash_code_fatal(e, n404);
        if (o->pace == SRV_PACE_AUTO)
            snprintf(m, cap, "the download failed (404). Nothing to do: sonota now serves "
                     "this device slowly (paced) and it reconnects by itself and retries");
        else if (o->pace == SRV_PACE_FAST)
            snprintf(m, cap, "the download failed (404) and --pace fast keeps serving at "
                     "full speed; if this repeats, rerun with --pace auto or --pace slow");
        else
            snprintf(m, cap, "the download failed (404) although paced; check the WiFi "
                     "signal near the device and that nothing blocks TCP %d", o->http_port);
        if (fatal)
            snprintf(m + strlen(m), cap - strlen(m), "; giving up after %d failed "
                     "downloads", n404);
        break;
    case 400:
        snprintf(m, cap, "the device calls the upgrade command malformed (400): its "
                 "firmware expects fields sonota does not send; please report its model and "
                 "firmware version");
        break;
    case 406:
        snprintf(m, cap, "model mismatch (406): the device refused an upgrade for another "
                 "model than its own (%s); nothing was written", model && *model ? model : "?");
        break;
    case 409:
        snprintf(m, cap, "digest mismatch (409): what the device downloaded does not match "
                 "the sha256 sonota announced; the device keeps its firmware. Something "
                 "altered the data on the way (or the file changed): run again");
        break;
    case 410:
        snprintf(m, cap, "version not newer (410): the firmware (%s) refuses this upgrade; "
                 "it is too new for the stock OTA path (use DIY mode, `sonota diy`, for 3.x)",
                 rom && *rom ? rom : "?");
        break;
    default:
        snprintf(m, cap, "unknown error %d from the device", e);
        break;
    }
    return fatal;
}

/* The device went away in the middle of a download: a power cut, a reset or lost WiFi.
 * Says what the device does next and what to do (PROTOCOL.md §1.5, §4). */
static void on_vanished(struct run *r, const char *file, uint64_t at, uint64_t total)
{
    enum flash_stage st = flash_run_st(r);
    char where[64] = "";
    if (total)
        snprintf(where, sizeof where, " at %llu of %llu B", (unsigned long long)at,
                 (unsigned long long)total);
    if (st <= STAGE_CLOUD)
        ui_info(&r->ui, "  the device stopped downloading %s%s (power cut, reset or WiFi "
                "loss?). Nothing to do but wait: the stock firmware retries by itself, and "
                "after a power cut it boots its old firmware again (it switches slots only "
                "after a complete, verified download) and calls this computer "
                "again. Keep sonota running; if the device is off, power it up. If you stop "
                "sonota, it says how to continue.", file ? file : "the firmware", where);
    else
        ui_info(&r->ui, "  the device stopped downloading %s%s (power cut, reset or WiFi "
                "loss?). The intermediate firmware does not resume: it hangs or restarts. If it "
                "does not ask for the file again within a minute, power-cycle the device "
                "(unplug, plug in): it starts the intermediate firmware again (FinalStage), "
                "which downloads the image again. Keep sonota running; if you stop it, it says "
                "how to continue. No FinalStage WiFi after a power-up means the power went while "
                "it rewrote its bootloader: a serial adapter is needed then.",
                file ? file : "the firmware", where);
}

static int event_shown(struct run *r, const struct srv_event *ev)
{
    const char *peer = ev->peer ? ev->peer : "?";
    switch (ev->type) {
    case SRV_EV_LISTENING:
        ui_listening(&r->ui, ev->detail ? ev->detail : "?");
        return 1;
    case SRV_EV_TLS_CLIENT:
        /* Once: a device retries every few seconds. Pinning is named only when the client
         * refused our certificate (not for our refusal or a bare connect-and-close). */
        if (ev->error && ev->detail && !strstr(ev->detail, "no ClientHello") &&
            !r->told.tls++) {
            ui_warn(&r->ui, "tls", "TLS from %s: %s%s", peer, ev->detail,
                    ev->tls_cert_refused ? "; such a device cannot be freed over the air"
                    : ". sonota could not agree on TLS with this client: if it is your "
                      "device, please report its model and firmware with this line");
        } else {
            ui_detail(&r->ui, "  TLS from %s: %s", peer, ev->detail ? ev->detail : "");
        }
        return 1;
    case SRV_EV_WS_OPEN:
        ui_detail(&r->ui, "  WebSocket from %s", peer);
        return 1;
    case SRV_EV_UPGRADE_SENT:
        ui_upgrade(&r->ui, ev->deviceid, ev->paced);
        return 1;
    case SRV_EV_DOWNLOAD_PROGRESS:
        ui_download(&r->ui, "progress", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        return 1;
    case SRV_EV_REJECTED:
        ui_warn(&r->ui, "rejected", "refused a request from %s: %s", peer,
                ev->detail ? ev->detail : "?");
        return 1;
    case SRV_EV_ERROR:
        ui_warn(&r->ui, "server", "%s", ev->detail ? ev->detail : "server error");
        return 1;
    case SRV_EV_DIY_RESULT: /* DIY devices only (§6); not part of the stock path */
        ui_detail(&r->ui, "  DIY result from %s: %s", peer, ev->detail ? ev->detail : "");
        return 1;
    case SRV_EV_DISPATCH:
    case SRV_EV_REGISTER:
    case SRV_EV_UPGRADE_ACK:
    case SRV_EV_UPGRADE_STATE:
    case SRV_EV_WS_CLOSED:
    case SRV_EV_DOWNLOAD_START:
    case SRV_EV_DOWNLOAD_DONE:
    case SRV_EV_DOWNLOAD_ABORT:
        break;
    }
    return 0;
}

/* The device pins the cloud certificate: no use waiting for --timeout (issue 12). */
void flash_events_pinned_fail(struct run *r)
{
    flash_run_fail(r, EXIT_DEVICE, "pinned", "the device at %s pins the cloud certificate: %d TLS "
                   "handshakes in a row ended right after sonota's certificate (%s). Stock "
                   "firmware 1.6 and later (and 2.6 and later) talks only to ITEAD's own server, "
                   "so it cannot be freed over the air this way. If your device runs firmware 3.x "
                   "(Basic R3, Mini, D1 and other newer models), use `sonota diy` (DIY mode); "
                   "otherwise flash it with a serial adapter (esptool or Tasmotizer: write_flash "
                   "-fm dout 0x0 tasmota-lite.bin).", r->told.pins.peer_ip, r->told.pins.refusals,
                   r->told.pins.how);
}

/* Anyone on the LAN can imitate a pinning client, so the verdict waits --pin-grace for
 * the device's own register, which cancels it (flash_loop_run ends the run at pin_fail_at). */
static void check_pinning(struct run *r, const struct srv_event *ev)
{
    const struct flash_dev *d = flash_run_dev(r);
    if (flash_run_st(r) > STAGE_CLOUD || d->model[0] || r->told.pin_fail_at ||
        !pin_watch_feed(&r->told.pins, ev, stage_rom_verdict(d->rom)))
        return;
    ui_pinned(&r->ui, r->told.pins.peer_ip, r->told.pins.refusals, r->told.pins.how);
    if (r->o->pin_grace_s == 0) {
        flash_events_pinned_fail(r);
        return;
    }
    r->told.pin_fail_at = plat_mono_ms() + (int64_t)r->o->pin_grace_s * 1000;
    ui_warn(&r->ui, "pinned", "%s refused sonota's certificate %d times in a row (%s): "
            "certificate pinning. sonota stops in %d s unless the device registers (a "
            "device that pins cannot; someone else could imitate it).", r->told.pins.peer_ip,
            r->told.pins.refusals, r->told.pins.how, r->o->pin_grace_s);
}


/* ---- the rows (a fleet shows each change of a device) ---- */

void flash_events_row_of(const struct flash_dev *d, struct ui_fleet_row *row, int64_t now)
{
    int done = d->st == STAGE_DONE, failed = d->st == STAGE_FAILED;
    int64_t end = d->end_ms ? d->end_ms : now;
    *row = (struct ui_fleet_row){d->deviceid, d->model[0] ? d->model : NULL,
                                 d->rom[0] ? d->rom : NULL, d->slot,
                                 done ? "done" : failed ? "failed" : "incomplete",
                                 flash_dev_stage_name(d->st), d->detail[0] ? d->detail : NULL,
                                 (double)(end - d->first_ms) / 1000.0};
}

void flash_events_tell_row(struct run *r, size_t i)
{
    struct ui_fleet_row row;
    flash_events_row_of(&r->table.dev[i], &row, plat_mono_ms());
    ui_fleet_device(&r->ui, &row, r->table.n_done, r->o->fleet_size);
}

void flash_events_table_full(struct run *r, const char *id)
{
    if (!r->told.full++)
        ui_warn(&r->ui, "fleet-full", "this run lists %zu devices%s; device %s and later ones "
                "are served but not listed: start another run for more", r->table.n,
                r->table.n < FLASH_DEVICES_MAX ? " (out of memory)" : "", id);
}

/* ---- performing a session's actions ---- */

static const char *download_why(enum flash_why why)
{
    switch (why) {
    case FLASH_WHY_NO_DEVICE: return "no device has registered yet";
    case FLASH_WHY_OTHER_ADDR: return "the device fetches from another address";
    case FLASH_WHY_NOT_FINAL: return "the device is not at FinalStage yet";
    case FLASH_WHY_NOT_ORDERED: return "the device was not sent the upgrade yet";
    case FLASH_WHY_SESSION:
    case FLASH_WHY_CLAIMS_ID:
    case FLASH_WHY_WRONG_STAGE:
        break;
    }
    return "not the device";
}

static void stranger(struct run *r, const struct srv_event *ev, const char *ip,
                     const struct flash_act *a)
{
    const char *id = ev->deviceid ? ev->deviceid : "?";
    const char *peer = ev->peer ? ev->peer : ip;
    const char *own = r->table.lone ? flash_run_dev(r)->deviceid : "";
    switch (a->why) {
    case FLASH_WHY_CLAIMS_ID:
        stranger_say(r, a->key, "%s from %s, a session claiming device %s but without the "
                     "factory key it was provisioned with: answered, not counted", a->text, ip,
                     id);
        return;
    case FLASH_WHY_SESSION:
        if (r->table.lone)
            stranger_say(r, a->key, "%s from %s (device %s), not the device being flashed%s%s: "
                         "answered, not counted", a->text, ip, id, own[0] ? ", " : "", own);
        else
            stranger_say(r, a->key, "%s from %s, a session of device %s without the factory "
                         "key of the device listed under that id: answered, not counted",
                         a->text, ip, id);
        return;
    case FLASH_WHY_WRONG_STAGE:
        stranger_say(r, a->key, "%s fetched %s: not a device of this run at that stage; "
                     "served, not counted", ip, a->text);
        return;
    case FLASH_WHY_OTHER_ADDR:
        if (!r->table.lone) {
            stranger_say(r, a->key, "%s asked for %s: no device of this run fetches from "
                         "there; served, not counted", peer, a->text);
            return;
        }
        break;
    case FLASH_WHY_NO_DEVICE:
    case FLASH_WHY_NOT_FINAL:
    case FLASH_WHY_NOT_ORDERED:
        break;
    }
    stranger_say(r, a->key, "%s asked for %s: %s; served, not counted", peer, a->text,
                 download_why(a->why));
}

static void code(struct run *r, const struct srv_event *ev, const struct flash_act *a)
{
    struct flash_dev *d = &r->table.dev[a->dev];
    char m[512];
    code_text(r->o, a->code, a->text, d->model, d->rom, a->n404, m, sizeof m);
    ui_ack(&r->ui, a->text, ev->deviceid, a->code, m);
    if (!a->fatal)
        return;
    if (r->table.lone) {
        flash_run_fail(r, EXIT_DEVICE, "device-refused", "the device refused the upgrade: %s", m);
        return;
    }
    if (snprintf(d->detail, sizeof d->detail, "%s", m) >= (int)sizeof d->detail)
        LOG_D("fleet: the reason for %s is cut in the table", d->deviceid);
    ui_error(&r->ui, "device-refused", EXIT_DEVICE, "device %s: %s; the other devices go on",
             d->deviceid, m);
}

static void say(struct run *r, const struct flash_act *a)
{
    const struct flash_dev *d = &r->table.dev[a->dev];
    int lone = r->table.lone;
    switch (a->say) {
    case FLASH_SAY_INTERMEDIATE:
        if (lone)
            ui_info(&r->ui, "  the device received the intermediate firmware (%s); it "
                    "checks it and reboots into it", a->text);
        else
            ui_info(&r->ui, "  device %s received the intermediate firmware (%s); it checks "
                    "it and reboots into it, then opens the WiFi \"FinalStage\"",
                    d->deviceid, a->text);
        return;
    case FLASH_SAY_SLOT2:
        if (lone)
            ui_info(&r->ui, "  the intermediate firmware moved itself to slot 2 (%s) and "
                    "reboots; next it fetches the final image", a->text);
        else
            ui_info(&r->ui, "  device %s: the intermediate firmware moved itself to slot 2 "
                    "(%s); next it fetches the final image", d->deviceid, a->text);
        return;
    case FLASH_SAY_FINAL_SENT:
        if (!lone)
            ui_info(&r->ui, "  device %s has the final image and restarts into it (%zu done%s)",
                    d->deviceid, r->table.n_done, r->o->fleet_size ? " so far" : "");
        return;
    case FLASH_SAY_VANISHED:
        on_vanished(r, a->text[0] ? a->text : NULL, a->at, a->total);
        return;
    }
}

/* A device entered a stage. A single run follows its device (banners, the record, what
 * to do next); a fleet shows the row. */
static void stage_entered(struct run *r, const struct flash_act *a, int intermediate)
{
    if (r->table.lone) {
        if (a->to != STAGE_FAILED)
            flash_run_stage_changed(r, a->from, a->to);
        return;
    }
    flash_events_tell_row(r, a->dev);
    if (a->to != STAGE_FINAL || !intermediate)
        return;
    if (!r->told.final++) /* the full instructions once; they are the same each time */
        ui_action(&r->ui, UI_ACT_JOIN_FINAL, &r->ctx);
    else
        ui_info(&r->ui, "  join its FinalStage as before (192.168.4.2, TCP %d open); one "
                "FinalStage at a time", r->o->http_port);
}

static void perform(struct run *r, const struct srv_event *ev, const char *ip,
                    const struct flash_acts *acts)
{
    int intermediate = 0;
    for (size_t k = 0; k < acts->n; k++) {
        const struct flash_act *a = &acts->a[k];
        struct flash_dev *d = a->dev < r->table.n ? &r->table.dev[a->dev] : NULL;
        if (!d && a->type != FLASH_ACT_STRANGER && a->type != FLASH_ACT_FULL &&
            a->type != FLASH_ACT_PACE)
            continue; /* every other action names a row */
        switch (a->type) {
        case FLASH_ACT_STRANGER:
            stranger(r, ev, ip, a);
            break;
        case FLASH_ACT_FULL:
            flash_events_table_full(r, a->text);
            break;
        case FLASH_ACT_OTHER_DEVICE:
            ui_warn(&r->ui, "other-device", "device %s called, but %s was recorded; "
                    "flashing %s", ev->deviceid, a->text, ev->deviceid);
            break;
        case FLASH_ACT_DEVICE:
            ui_device(&r->ui, a->text, d->deviceid, d->model[0] ? d->model : NULL,
                      d->rom[0] ? d->rom : NULL);
            break;
        case FLASH_ACT_ROM_WARN:
            rom_warning(&r->ui, d->rom);
            break;
        case FLASH_ACT_REGISTERED:
            if (r->table.lone && r->told.pin_fail_at)
                ui_info(&r->ui, "  the device registered: the refused handshakes were not "
                        "it (or not pinning); going on");
            r->told.pin_fail_at = 0;
            break;
        case FLASH_ACT_CALLED:
            flash_run_record(r, STAGE_CLOUD);
            break;
        case FLASH_ACT_PACE:
            flash_net_set_paced(r, a->text);
            break;
        case FLASH_ACT_CODE:
            code(r, ev, a);
            break;
        case FLASH_ACT_STAGE:
            stage_entered(r, a, intermediate);
            break;
        case FLASH_ACT_SAY:
            intermediate |= a->say == FLASH_SAY_INTERMEDIATE;
            say(r, a);
            break;
        }
    }
}

/* The event's own line (before what it does to a device, except a download's start). */
static void show(struct run *r, const struct srv_event *ev, const char *ip,
                 const struct flash_acts *acts)
{
    if (event_shown(r, ev))
        return;
    switch (ev->type) {
    case SRV_EV_DISPATCH:
        for (size_t k = 0; k < acts->n; k++)
            if (acts->a[k].type == FLASH_ACT_CALLED)
                return; /* the device's: it says so itself */
        ui_detail(&r->ui, "  dispatch from %s for device %s", ip,
                  ev->deviceid ? ev->deviceid : "?");
        break;
    case SRV_EV_WS_CLOSED:
        ui_detail(&r->ui, "  WebSocket of %s closed", ev->deviceid ? ev->deviceid : "?");
        break;
    case SRV_EV_DOWNLOAD_START:
        ui_download(&r->ui, "start", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    case SRV_EV_DOWNLOAD_DONE:
        ui_download(&r->ui, "done", ev->file, ev->peer, ev->total, ev->total, ev->paced);
        break;
    case SRV_EV_DOWNLOAD_ABORT:
        ui_download(&r->ui, "abort", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    default: /* REGISTER, ACK, STATE: their actions say it */
        break;
    }
}

/* The server's events, for a single run and a fleet alike: the table finds the device
 * and moves it (flash_session.c); this shows what happened and performs the rest. */
void flash_events_on_server(const struct srv_event *ev, void *user)
{
    struct run *r = user;
    int64_t now = plat_mono_ms();
    if (ev->type == SRV_EV_TLS_CLIENT && r->table.lone)
        check_pinning(r, ev);
    if (ev->type >= SRV_EV_DOWNLOAD_START && ev->type <= SRV_EV_DOWNLOAD_ABORT)
        r->last_hint = now; /* a (paced) download is under way: no "nothing yet" */
    char ip[NETIF_IP_MAX];
    so_peer_addr(ev->peer, ip, sizeof ip);
    struct flash_acts acts;
    flash_table_on_event(&r->table, ev, ip, now, &acts);
    if (acts.hide) {
        perform(r, ev, ip, &acts); /* the stranger warning only */
        return;
    }
    if (ev->type == SRV_EV_DOWNLOAD_START) {
        r->downloads_seen++;
        perform(r, ev, ip, &acts);
        show(r, ev, ip, &acts);
        return;
    }
    show(r, ev, ip, &acts);
    perform(r, ev, ip, &acts);
}
