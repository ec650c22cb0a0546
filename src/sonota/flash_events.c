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


/* ---- server events ---- */

void run_rom_warning(struct ui *u, const char *rom)
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

static void note_device(struct run *r, const struct srv_event *ev, const char *source)
{
    int changed = 0;
    if (ev->deviceid && *ev->deviceid) {
        if (r->dev.deviceid[0] && strcmp(r->dev.deviceid, ev->deviceid) != 0)
            ui_warn(&r->ui, "other-device", "device %s called, but %s was recorded; "
                    "flashing %s", ev->deviceid, r->dev.deviceid, ev->deviceid);
        if (strcmp(r->dev.deviceid, ev->deviceid) != 0) {
            snprintf(r->dev.deviceid, sizeof r->dev.deviceid, "%s", ev->deviceid);
            changed = 1;
        }
    }
    if (ev->model && *ev->model && strcmp(r->model, ev->model) != 0) {
        snprintf(r->model, sizeof r->model, "%s", ev->model);
        changed = 1;
    }
    if (ev->rom_version && *ev->rom_version && strcmp(r->rom, ev->rom_version) != 0) {
        snprintf(r->rom, sizeof r->rom, "%s", ev->rom_version);
        changed = 1;
    }
    if (changed)
        ui_device(&r->ui, source, r->dev.deviceid, r->model[0] ? r->model : NULL,
                  r->rom[0] ? r->rom : NULL);
    if (r->rom[0] && !r->rom_warned) {
        r->rom_warned = 1;
        run_rom_warning(&r->ui, r->rom);
    }
    run_record(r, REC_CLOUD);
    if (r->st < RS_CLOUD)
        run_set_state(r, RS_CLOUD); /* the device reached us: stage 1 is over */
}

/* ---- who the device is (docs/DESIGN.md "Who may steer a run") ---- */

void run_stranger(struct run *r, const char *key, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < r->n_stranger_told; i++) {
        if (!strcmp(r->stranger_told[i], key)) {
            LOG_D("not the device (again): %s", m);
            return;
        }
    }
    if (r->n_stranger_told < RUN_STRANGERS_TOLD) {
        snprintf(r->stranger_told[r->n_stranger_told++], sizeof r->stranger_told[0], "%s",
                 key);
        ui_warn(&r->ui, "not-the-device", "%s", m);
        return;
    }
    unsigned long n = ++r->strangers_untold; /* told at 1, 10, 100, ... */
    for (unsigned long p = 1; p <= n; p *= 10) {
        if (p == n) {
            ui_warn(&r->ui, "not-the-device", "%lu more peers that are not the device "
                    "(the last: %s); not told one by one", n, m);
            return;
        }
    }
    LOG_D("not the device: %s", m);
}

int run_is_device_ip(const struct run *r, const char *ip)
{
    if (!ip || !ip[0])
        return 0;
    return (r->dev_ip[0] && !strcmp(ip, r->dev_ip)) || !strcmp(ip, r->o->final_device);
}

/* Whether a cloud event is the device's. A REGISTER makes its identity the device's
 * when it is the one provisioned in this run, or, when this run provisioned none
 * (--no-prov, a resumed run), when it is the first to register. */
static int is_device(struct run *r, const struct srv_event *ev, const char *ip)
{
    if (!ev->ident)
        return 0;
    if (ev->type == SRV_EV_REGISTER &&
        (ev->trusted || (!r->n_trusted && (!r->ident || ev->ident == r->ident)))) {
        if (r->ident != ev->ident)
            r->ordered = 0;
        r->ident = ev->ident;
        snprintf(r->dev_ip, sizeof r->dev_ip, "%.*s", (int)sizeof r->dev_ip - 1, ip);
        return 1;
    }
    return ev->ident == r->ident;
}

static void not_device_session(struct run *r, const struct srv_event *ev, const char *ip,
                               const char *what)
{
    char key[64]; /* one line per session and kind of event: its register, its ack... */
    snprintf(key, sizeof key, "#%u/%d", ev->ident, (int)ev->type);
    const char *id = ev->deviceid ? ev->deviceid : "?";
    if (r->n_trusted && r->dev.deviceid[0] && !strcmp(id, r->dev.deviceid))
        run_stranger(r, key, "%s from %s, a session claiming device %s but without the "
                     "factory key it was provisioned with: answered, not counted", what, ip,
                     id);
    else
        run_stranger(r, key, "%s from %s (device %s), not the device being flashed%s%s: "
                     "answered, not counted", what, ip, id, r->dev.deviceid[0] ? ", " : "",
                     r->dev.deviceid);
}

static void not_device_download(struct run *r, const struct srv_event *ev, const char *ip,
                                const char *why)
{
    run_stranger(r, ip, "%s asked for %s: %s; served, not counted", ev->peer ? ev->peer : ip,
                 ev->file ? ev->file : "a file", why);
}

int run_code_text(const struct flash_opts *o, int e, const char *kind, const char *model,
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
        fatal = n404 > RUN_MAX_404;
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

static void on_code(struct run *r, const struct srv_event *ev, const char *kind)
{
    char m[512];
    char ip[64];
    so_peer_addr(ev->peer, ip, sizeof ip);
    if (!is_device(r, ev, ip)) {
        snprintf(m, sizeof m, "%s %d", kind, ev->error);
        not_device_session(r, ev, ip, m);
        return;
    }
    if (ev->error == 404) {
        r->n404++;
        if (r->o->pace == SRV_PACE_AUTO && ip[0])
            run_set_paced(r, ip);
    }
    int fatal = run_code_text(r->o, ev->error, kind, r->model, r->rom, r->n404, m, sizeof m);
    ui_ack(&r->ui, kind, ev->deviceid, ev->error, m);
    if (fatal)
        run_fail(r, EXIT_DEVICE, "device-refused", "the device refused the upgrade: %s", m);
    else if (ev->error == 0 && !strcmp(kind, "state") && r->st < RS_FINAL)
        run_set_state(r, RS_FINAL); /* written and verified: it reboots into E2A (§1.5, §4) */
}

static void on_done(struct run *r, const struct srv_event *ev, const char *ip)
{
    const char *file = ev->file;
    if (!file)
        return;
    /* From --final-device: the intermediate firmware (unless the device's stage-2
     * session came from there too, as on a loopback test: then the stage decides). */
    int e2a = !strcmp(ip, r->o->final_device) && strcmp(ip, r->dev_ip);
    if (!strcmp(file, FLASH_NAME_FINAL)) {
        /* Only the intermediate firmware fetches it: from its FinalStage address, or
         * from the device's own once it has the intermediate firmware (§4). */
        if (e2a || r->st == RS_FINAL)
            run_set_state(r, RS_DONE);
        else
            not_device_download(r, ev, ip, "the device is not at FinalStage yet");
    } else if (!e2a && (!r->ordered || (r->stock_file[0] && strcmp(file, r->stock_file)))) {
        if (!r->ordered)
            not_device_download(r, ev, ip, "the device was not sent the upgrade yet");
        else
            ui_info(&r->ui, "  the intermediate firmware moved itself to slot 2 (%s) and "
                    "reboots; next it fetches the final image", file);
    } else if (!e2a) {
        /* The stock firmware's download (§1.5); upgradeState 0 may have come first. */
        if (r->st < RS_FINAL) {
            ui_info(&r->ui, "  the device received the intermediate firmware (%s); it "
                    "checks it and reboots into it", file);
            run_set_state(r, RS_FINAL);
        }
    } else {
        ui_info(&r->ui, "  the intermediate firmware moved itself to slot 2 (%s) and reboots; "
                "next it fetches the final image", file);
        if (r->st < RS_FINAL)
            run_set_state(r, RS_FINAL); /* it runs: stage 3 */
    }
}

/* The device went away in the middle of a download: a power cut, a reset or lost WiFi.
 * Says what the device does next and what to do (PROTOCOL.md §1.5, §4). */
static void on_vanished(struct run *r, const char *file, uint64_t at, uint64_t total)
{
    char where[64] = "";
    if (total)
        snprintf(where, sizeof where, " at %llu of %llu B", (unsigned long long)at,
                 (unsigned long long)total);
    if (r->st <= RS_CLOUD)
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

int run_event_shown(struct run *r, const struct srv_event *ev)
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
            !r->tls_warned++) {
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
void run_pinned_fail(struct run *r)
{
    run_fail(r, EXIT_DEVICE, "pinned", "the device at %s pins the cloud certificate: %d TLS "
             "handshakes in a row ended right after sonota's certificate (%s). Stock "
             "firmware 1.6 and later (and 2.6 and later) talks only to ITEAD's own server, "
             "so it cannot be freed over the air this way. If your device runs firmware 3.x "
             "(Basic R3, Mini, D1 and other newer models), use `sonota diy` (DIY mode); "
             "otherwise flash it with a serial adapter (esptool or Tasmotizer: write_flash "
             "-fm dout 0x0 tasmota-lite.bin).", r->pins.peer_ip, r->pins.refusals,
             r->pins.how);
}

/* Anyone on the LAN can imitate a pinning client, so the verdict waits --pin-grace for
 * the device's own register, which cancels it (run_loop ends the run at pin_fail_at). */
static void check_pinning(struct run *r, const struct srv_event *ev)
{
    if (r->st > RS_CLOUD || r->model[0] || r->pin_fail_at ||
        !pin_watch_feed(&r->pins, ev, stage_rom_verdict(r->rom)))
        return;
    ui_pinned(&r->ui, r->pins.peer_ip, r->pins.refusals, r->pins.how);
    if (r->o->pin_grace_s == 0) {
        run_pinned_fail(r);
        return;
    }
    r->pin_fail_at = plat_mono_ms() + (int64_t)r->o->pin_grace_s * 1000;
    ui_warn(&r->ui, "pinned", "%s refused sonota's certificate %d times in a row (%s): "
            "certificate pinning. sonota stops in %d s unless the device registers (a "
            "device that pins cannot; someone else could imitate it).", r->pins.peer_ip,
            r->pins.refusals, r->pins.how, r->o->pin_grace_s);
}

void run_on_event(const struct srv_event *ev, void *user)
{
    struct run *r = user;
    if (ev->type == SRV_EV_TLS_CLIENT && !r->fleet)
        check_pinning(r, ev);
    if (ev->type >= SRV_EV_DOWNLOAD_START && ev->type <= SRV_EV_DOWNLOAD_ABORT)
        r->last_hint = plat_mono_ms(); /* a (paced) download is under way: no "nothing yet" */
    if (r->fleet) {
        fleet_on_event(r, ev);
        return;
    }
    char ip[64];
    so_peer_addr(ev->peer, ip, sizeof ip);
    if (ev->type == SRV_EV_UPGRADE_SENT || (ev->type == SRV_EV_ERROR && ev->ident)) {
        if (!is_device(r, ev, ip)) {
            not_device_session(r, ev, ip, ev->type == SRV_EV_ERROR ? "an error of a "
                               "session" : "a session");
            return;
        }
        if (ev->type == SRV_EV_UPGRADE_SENT)
            r->ordered = 1;
    }
    if (ev->type >= SRV_EV_DOWNLOAD_START && ev->type <= SRV_EV_DOWNLOAD_ABORT &&
        !run_is_device_ip(r, ip)) {
        not_device_download(r, ev, ip, r->dev_ip[0] ? "the device fetches from another "
                            "address" : "no device has registered yet");
        return;
    }
    if (run_event_shown(r, ev))
        return;
    switch (ev->type) {
    case SRV_EV_DISPATCH:
        /* Unauthenticated (§1.3): it informs only about the device we expect. */
        if (!ev->deviceid || (r->dev.deviceid[0] && strcmp(ev->deviceid, r->dev.deviceid)))
            ui_detail(&r->ui, "  dispatch from %s for device %s", ip,
                      ev->deviceid ? ev->deviceid : "?");
        else
            note_device(r, ev, "dispatch");
        break;
    case SRV_EV_REGISTER:
        if (is_device(r, ev, ip)) {
            if (r->pin_fail_at)
                ui_info(&r->ui, "  the device registered: the refused handshakes were not "
                        "it (or not pinning); going on");
            r->pin_fail_at = 0;
            note_device(r, ev, "register");
        } else
            not_device_session(r, ev, ip, "a register");
        break;
    case SRV_EV_UPGRADE_ACK:
        on_code(r, ev, "ack");
        break;
    case SRV_EV_UPGRADE_STATE:
        on_code(r, ev, "state");
        break;
    case SRV_EV_WS_CLOSED:
        ui_detail(&r->ui, "  WebSocket of %s closed", ev->deviceid ? ev->deviceid : "?");
        /* Range downloads stop between chunks, so no abort event tells it (§1.5). */
        if (r->st == RS_CLOUD && ev->detail && !strcmp(ev->detail, "downloading") &&
            ev->ident && ev->ident == r->ident)
            on_vanished(r, r->stock_file[0] ? r->stock_file : NULL, 0, 0);
        break;
    case SRV_EV_DOWNLOAD_START:
        r->downloads_seen++;
        if (!r->stock_file[0] && r->ordered && r->st <= RS_CLOUD && ev->file &&
            strcmp(ev->file, FLASH_NAME_FINAL) != 0 && !strcmp(ip, r->dev_ip))
            snprintf(r->stock_file, sizeof r->stock_file, "%s", ev->file);
        if (r->st < RS_CLOUD)
            run_set_state(r, RS_CLOUD);
        ui_download(&r->ui, "start", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    case SRV_EV_DOWNLOAD_DONE:
        ui_download(&r->ui, "done", ev->file, ev->peer, ev->total, ev->total, ev->paced);
        on_done(r, ev, ip);
        break;
    case SRV_EV_DOWNLOAD_ABORT:
        ui_download(&r->ui, "abort", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        on_vanished(r, ev->file, ev->offset, ev->total);
        break;
    default: /* shown above */
        break;
    }
}
