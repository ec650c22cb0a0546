/* flash_run.c - the loop of `sonota flash`: one step per state (address polling, stage 1
 * HTTP calls) between srv_run_once() slices, and the server's events (dispatch, acks,
 * downloads) moving the run forward (PROTOCOL.md §1.2-§1.5, §4, §10). */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "sonota/cmds.h"
#include "sonota/prov.h"
#include "sonota/stage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOOP_MS 150                 /* srv_run_once slice */
#define POLL_IP_MS 2000             /* local address rescans (§10.1: every ~2 s) */
#define WAIT_AP_MS (10 * 60 * 1000) /* joining ITEAD-<id> by hand */
#define WAIT_HOME_MS (10 * 60 * 1000)
#define GET_DEVICE_ATTEMPTS 30      /* ~60 s of GET /device, 2 s each (§1.2) */
#define POST_AP_MS 5000             /* the device answers before it drops its AP */
#define POST_AP_TRIES 3
#define HINT_CLOUD_MS (90 * 1000)   /* no dispatch by then: say what to check */
#define HINT_FINAL_MS (120 * 1000)
#define HINT_REPEAT_MS (5 * 60 * 1000)
#define MAX_404 4                   /* failed downloads (ack 404) before giving up */
#define DRAIN_MS 600                /* let the last bytes leave before closing */

void run_fail(struct run *r, int code, const char *tag, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ui_error(&r->ui, tag, code, "%s", text);
    if (r->exit_code < 0)
        r->exit_code = code;
}

void run_stage_enter(struct run *r, int which, const char *name)
{
    int64_t now = ui_now_ms();
    for (int i = 0; i < 3; i++)
        if (i != which && r->stage_t[i][0] && !r->stage_t[i][1])
            r->stage_t[i][1] = now;
    if (!r->stage_t[which][0]) {
        r->stage_t[which][0] = now;
        ui_stage(&r->ui, name);
    }
}

void run_set_state(struct run *r, enum rstate st)
{
    enum rstate prev = r->st;
    r->st = st;
    r->st_since = r->last_hint = ui_now_ms();
    r->next_poll = 0;
    switch (st) {
    case RS_WAIT_AP:
        run_stage_enter(r, ST_PROV, "provision");
        ui_action(&r->ui, UI_ACT_JOIN_AP, &r->ctx);
        break;
    case RS_GET_DEVICE:
        run_stage_enter(r, ST_PROV, "provision");
        ui_action(&r->ui, UI_ACT_TALK_DEVICE, &r->ctx);
        break;
    case RS_POST_AP:
        break;
    case RS_WAIT_HOME:
        run_stage_enter(r, ST_CLOUD, "cloud");
        ui_action(&r->ui, UI_ACT_RECONNECT_HOME, &r->ctx);
        break;
    case RS_CLOUD:
        run_stage_enter(r, ST_CLOUD, "cloud");
        if (prev == RS_POST_AP) /* --no-check-ip: still say what to do */
            ui_action(&r->ui, UI_ACT_RECONNECT_HOME, &r->ctx);
        if (!r->model[0] && !r->downloads_seen) /* not when the device just called */
            ui_action(&r->ui, UI_ACT_WAIT_DEVICE, &r->ctx);
        break;
    case RS_FINAL:
        run_stage_enter(r, ST_FINAL, "final");
        ui_action(&r->ui, UI_ACT_JOIN_FINAL, &r->ctx);
        break;
    case RS_DONE:
        run_stage_enter(r, ST_FINAL, "final");
        r->stage_t[ST_FINAL][1] = ui_now_ms();
        break;
    }
}

static int scan(struct run *r, struct stage_seen *seen)
{
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
    if (n < 0) {
        run_fail(r, EXIT_NETWORK, "address", "cannot list this computer's addresses");
        return -1;
    }
    stage_scan(a, (size_t)n, r->serving_ip[0] ? r->serving_ip : NULL, seen);
    return 0;
}

/* Address scans only with address checks on, once per POLL_IP_MS. */
static int poll_due(struct run *r, int64_t now)
{
    if (r->o->no_check_ip || now < r->next_poll)
        return 0;
    r->next_poll = now + POLL_IP_MS;
    return 1;
}

static int hint_due(struct run *r, int64_t now, int64_t first_ms)
{
    if (now - r->st_since < first_ms || now - r->last_hint < first_ms)
        return 0;
    r->last_hint = now + HINT_REPEAT_MS - first_ms;
    return 1;
}

/* ---- stage 1 ---- */

static void on_retry(int attempt, const char *why, void *user)
{
    struct run *r = user;
    if (attempt == 1 || attempt % 5 == 0)
        ui_info(&r->ui, "  no answer yet (attempt %d): %s", attempt, why);
}

static void step_get_device(struct run *r, int64_t now)
{
    char err[512];
    int64_t left = r->deadline - now;
    int attempts = (int)(left / PROV_ATTEMPT_MS) + 1;
    if (attempts > GET_DEVICE_ATTEMPTS)
        attempts = GET_DEVICE_ATTEMPTS;
    enum prov_fail f = prov_wait_device(r->o->device_url, attempts, r->stop, on_retry, r,
                                        &r->dev, err, sizeof err);
    if (*r->stop)
        return;
    if (f == PROV_OK) {
        ui_device(&r->ui, "ap", r->dev.deviceid, NULL, NULL);
        r->ctx.deviceid = r->dev.deviceid;
        run_set_state(r, RS_POST_AP);
    } else if (f == PROV_BAD_REPLY || f == PROV_HTTP_STATUS) {
        run_fail(r, EXIT_DEVICE, "device-reply", "%s", err);
    } else {
        run_fail(r, EXIT_NETWORK, "device-unreachable", "%s (gave up after %d attempts); put "
                 "the device in pairing mode again and rerun", err, attempts);
    }
}

static void step_post_ap(struct run *r, int64_t now)
{
    if (r->post_tries > 0 && now - r->st_since < (int64_t)PROV_ATTEMPT_MS * r->post_tries)
        return; /* space the retries */
    struct ewl_ap_config ap;
    memset(&ap, 0, sizeof ap);
    ap.version = 4; /* §1.2 */
    snprintf(ap.ssid, sizeof ap.ssid, "%s", r->o->wifi_ssid);
    snprintf(ap.password, sizeof ap.password, "%s", r->o->wifi_password);
    snprintf(ap.server, sizeof ap.server, "%s", r->serving_ip);
    ap.port = r->o->https_port;
    char err[512];
    int dev_error = -1;
    enum prov_fail f = prov_post_ap(r->o->device_url, &ap, POST_AP_MS, &dev_error, err,
                                    sizeof err);
    explicit_bzero(&ap, sizeof ap);
    switch (f) {
    case PROV_OK:
        ui_provisioned(&r->ui, r->o->wifi_ssid, r->serving_ip, r->o->https_port);
        break;
    case PROV_REFUSED:
        run_fail(r, EXIT_DEVICE, "device-refused", "%s", err);
        return;
    case PROV_BAD_REPLY:
    case PROV_HTTP_STATUS:
        run_fail(r, EXIT_DEVICE, "device-reply", "%s", err);
        return;
    case PROV_TIMEOUT:
    case PROV_NO_REPLY:
        /* The request went out; the device often leaves its AP before answering. */
        ui_warn(&r->ui, "device-reply", "%s; the device may have taken the settings and left "
                "its WiFi already: continuing (if ITEAD-%s is still there, rerun)", err,
                r->dev.deviceid);
        break;
    case PROV_UNREACHABLE:
        if (++r->post_tries < POST_AP_TRIES) {
            ui_info(&r->ui, "  %s; trying again", err);
            r->st_since = now;
            return;
        }
        run_fail(r, EXIT_NETWORK, "device-unreachable", "%s; put the device in pairing mode "
                 "again and rerun", err);
        return;
    }
    run_set_state(r, r->o->no_check_ip ? RS_CLOUD : RS_WAIT_HOME);
}

/* ---- per-state step ---- */

static void step(struct run *r, int64_t now)
{
    struct stage_seen seen;
    switch (r->st) {
    case RS_WAIT_AP:
        if (now - r->st_since > WAIT_AP_MS) {
            run_fail(r, EXIT_NETWORK, "timeout", "no address in 10.10.7.0/24 after %d "
                     "minutes: this computer did not join the device's ITEAD-<deviceid> WiFi. "
                     "Put the device in pairing mode, join that WiFi and rerun (or use "
                     "--no-check-ip if your system shows another address)", WAIT_AP_MS / 60000);
            return;
        }
        if (!poll_due(r, now) || scan(r, &seen) != 0)
            return;
        if (seen.final) {
            ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
            run_set_state(r, RS_FINAL);
        } else if (seen.ap) {
            ui_address(&r->ui, "ap", seen.ap_ip, seen.ap_if);
            run_set_state(r, RS_GET_DEVICE);
        }
        return;
    case RS_GET_DEVICE:
        step_get_device(r, now);
        return;
    case RS_POST_AP:
        step_post_ap(r, now);
        return;
    case RS_WAIT_HOME:
        if (now - r->st_since > WAIT_HOME_MS) {
            run_fail(r, EXIT_NETWORK, "timeout", "this computer did not get %s back within %d "
                     "minutes. Reconnect it to \"%s\"; if its address changed, rerun with "
                     "--serving-host NEW-IP (and provision again: the device was told %s)",
                     r->serving_ip, WAIT_HOME_MS / 60000,
                     r->o->wifi_ssid ? r->o->wifi_ssid : "your WiFi", r->serving_ip);
            return;
        }
        if (!poll_due(r, now) || scan(r, &seen) != 0)
            return;
        if (seen.serving) {
            ui_address(&r->ui, "serving", r->serving_ip, NULL);
            run_set_state(r, RS_CLOUD);
        } else if (seen.final) {
            run_set_state(r, RS_FINAL);
        }
        return;
    case RS_CLOUD:
        if (!r->model[0] && !r->downloads_seen && hint_due(r, now, HINT_CLOUD_MS))
            ui_warn(&r->ui, "no-contact", "no device has called %s:%d yet. Check: the device "
                    "joined your WiFi (LED on steadily, not blinking); this computer is on the "
                    "same network with address %s; the firewall allows incoming TCP %d and %d. "
                    "Firmware 1.6 and later drops the connection (certificate pinning, "
                    "PROTOCOL.md §2/§3): nothing arrives at all then.", r->serving_ip,
                    r->o->https_port, r->serving_ip, r->o->https_port, r->o->http_port);
        if (poll_due(r, now) && scan(r, &seen) == 0 && seen.final) {
            ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
            run_set_state(r, RS_FINAL);
        }
        return;
    case RS_FINAL:
        if (hint_due(r, now, HINT_FINAL_MS))
            ui_warn(&r->ui, "no-contact", "the device has not asked for the final image yet. "
                    "Check: this computer is on FinalStage with address 192.168.4.2 (no other "
                    "device on FinalStage took it); the firewall allows incoming TCP %d. If "
                    "FinalStage disappeared and came back, the device restarted: keep waiting.",
                    r->o->http_port);
        if (!poll_due(r, now) || scan(r, &seen) != 0)
            return;
        if (seen.final && !r->final_ip_seen)
            ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
        else if (!seen.final && r->final_ip_seen)
            ui_info(&r->ui, "  192.168.4.2 is gone from this computer (FinalStage dropped?); "
                    "reconnect to FinalStage");
        r->final_ip_seen = seen.final;
        if (seen.final_other && strcmp(seen.final_other_ip, r->final_other_warned) != 0) {
            snprintf(r->final_other_warned, sizeof r->final_other_warned, "%s",
                     seen.final_other_ip);
            ui_address(&r->ui, "final-other", seen.final_other_ip, NULL);
            ui_warn(&r->ui, "final-address", "this computer has %s on the 192.168.4.x network, "
                    "but the intermediate firmware only connects to 192.168.4.2. Another device "
                    "(a phone?) probably took .2: disconnect it from FinalStage, then reconnect "
                    "this computer.", seen.final_other_ip);
        }
        return;
    case RS_DONE:
        return;
    }
}

/* ---- server events ---- */

static void note_device(struct run *r, const struct srv_event *ev, const char *source)
{
    int changed = 0;
    if (ev->deviceid && *ev->deviceid) {
        if (r->dev.deviceid[0] && strcmp(r->dev.deviceid, ev->deviceid) != 0)
            ui_warn(&r->ui, "other-device", "device %s called, but %s was provisioned; "
                    "serving it anyway", ev->deviceid, r->dev.deviceid);
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
        switch (stage_rom_verdict(r->rom)) {
        case ROM_PINNED:
            ui_warn(&r->ui, "rom-version", "firmware %s: stock firmware 1.6 and later (and "
                    "2.6 and later) is known to refuse this path: it pins the eWeLink "
                    "certificate (PROTOCOL.md §2/§3). Trying anyway; if no download starts, "
                    "this device needs a serial adapter.", r->rom);
            break;
        case ROM_DIY:
            ui_warn(&r->ui, "rom-version", "firmware %s is 3.x: the stock OTA path is closed "
                    "for it (PROTOCOL.md §3); use DIY mode (`sonota diy`, §6) if the model "
                    "supports it. Trying anyway.", r->rom);
            break;
        case ROM_OK:
        case ROM_UNKNOWN:
            break;
        }
    }
    if (r->st < RS_CLOUD)
        run_set_state(r, RS_CLOUD); /* the device reached us: stage 1 is over */
}

static void peer_ip(const char *peer, char *out, size_t cap)
{
    snprintf(out, cap, "%s", peer ? peer : "");
    char *colon = strrchr(out, ':');
    if (colon)
        *colon = '\0';
}

static void on_code(struct run *r, const struct srv_event *ev, const char *kind)
{
    const char *id = ev->deviceid;
    int e = ev->error;
    char m[512];
    int fatal = 1;
    switch (e) {
    case 0:
        snprintf(m, sizeof m, !strcmp(kind, "ack")
                 ? "accepted: the device is downloading the intermediate firmware"
                 : "the device reports the upgrade finished");
        fatal = 0;
        break;
    case 404:
        fatal = ++r->n404 > MAX_404;
        if (r->o->pace == SRV_PACE_AUTO) {
            char ip[64];
            peer_ip(ev->peer, ip, sizeof ip);
            if (ip[0])
                srv_set_paced(r->srv, ip, 1);
            snprintf(m, sizeof m, "the download failed (404). Nothing to do: sonota now serves "
                     "this device slowly (paced, §1.5) and it reconnects by itself and retries");
        } else if (r->o->pace == SRV_PACE_FAST) {
            snprintf(m, sizeof m, "the download failed (404) and --pace fast keeps serving at "
                     "full speed; if this repeats, rerun with --pace auto or --pace slow");
        } else {
            snprintf(m, sizeof m, "the download failed (404) although paced; check the WiFi "
                     "signal near the device and that nothing blocks TCP %d", r->o->http_port);
        }
        if (fatal)
            snprintf(m + strlen(m), sizeof m - strlen(m), "; giving up after %d failed "
                     "downloads", r->n404);
        break;
    case 400:
        snprintf(m, sizeof m, "the device calls the upgrade command malformed (400): its "
                 "firmware expects fields sonota does not send; please report its model and "
                 "firmware version");
        break;
    case 406:
        snprintf(m, sizeof m, "model mismatch (406): the device refused an upgrade for another "
                 "model than its own (%s); nothing was written", r->model[0] ? r->model : "?");
        break;
    case 409:
        snprintf(m, sizeof m, "digest mismatch (409): what the device downloaded does not match "
                 "the sha256 sonota announced; the device keeps its firmware. Something "
                 "altered the data on the way (or the file changed): run again");
        break;
    case 410:
        snprintf(m, sizeof m, "version not newer (410): the firmware (%s) refuses this upgrade; "
                 "it is too new for the stock OTA path (use DIY mode for 3.x, §6)",
                 r->rom[0] ? r->rom : "?");
        break;
    default:
        snprintf(m, sizeof m, "unknown error %d from the device", e);
        break;
    }
    ui_ack(&r->ui, kind, id, e, m);
    if (fatal)
        run_fail(r, EXIT_DEVICE, "device-refused", "the device refused the upgrade: %s", m);
    else if (e == 0 && !strcmp(kind, "state") && r->st < RS_FINAL)
        run_set_state(r, RS_FINAL); /* written and verified: it reboots into E2A (§1.5, §4) */
}

static void on_done(struct run *r, const char *file)
{
    if (!file)
        return;
    if (!strcmp(file, FLASH_NAME_FINAL)) {
        run_set_state(r, RS_DONE);
    } else if (!r->stock_file[0] || !strcmp(file, r->stock_file)) {
        /* The stock firmware's download (§1.5); upgradeState 0 may have come first. */
        if (r->st < RS_FINAL) {
            ui_info(&r->ui, "  the device has the intermediate firmware (%s) and reboots "
                    "into it", file);
            run_set_state(r, RS_FINAL);
        }
    } else {
        ui_info(&r->ui, "  the intermediate firmware moved itself to slot 2 (%s) and reboots; "
                "next it fetches the final image", file);
    }
}

void run_on_event(const struct srv_event *ev, void *user)
{
    struct run *r = user;
    if (ev->type >= SRV_EV_DOWNLOAD_START && ev->type <= SRV_EV_DOWNLOAD_ABORT)
        r->last_hint = ui_now_ms(); /* a (paced) download is under way: no "nothing yet" */
    switch (ev->type) {
    case SRV_EV_LISTENING:
        ui_listening(&r->ui, ev->detail ? ev->detail : "?");
        break;
    case SRV_EV_TLS_CLIENT:
        if (ev->error && !r->tls_warned++) { /* once: a device retries every few seconds */
            const char *d = ev->detail ? ev->detail : "";
            ui_warn(&r->ui, "tls", "TLS from %s: %s%s", ev->peer ? ev->peer : "?", d,
                    strstr(d, "pins") ? "; such a device cannot be freed over the air"
                    : ". Firmware 1.6 and later drops the connection here (certificate "
                      "pinning, PROTOCOL.md §2/§3)");
        } else {
            ui_detail(&r->ui, "  TLS from %s: %s", ev->peer ? ev->peer : "?",
                      ev->detail ? ev->detail : "");
        }
        break;
    case SRV_EV_DISPATCH:
        note_device(r, ev, "dispatch");
        break;
    case SRV_EV_REGISTER:
        note_device(r, ev, "register");
        break;
    case SRV_EV_WS_OPEN:
        ui_detail(&r->ui, "  WebSocket from %s", ev->peer ? ev->peer : "?");
        break;
    case SRV_EV_UPGRADE_SENT:
        ui_upgrade(&r->ui, ev->deviceid, ev->paced);
        break;
    case SRV_EV_UPGRADE_ACK:
        on_code(r, ev, "ack");
        break;
    case SRV_EV_UPGRADE_STATE:
        on_code(r, ev, "state");
        break;
    case SRV_EV_WS_CLOSED:
        ui_detail(&r->ui, "  WebSocket of %s closed", ev->deviceid ? ev->deviceid : "?");
        break;
    case SRV_EV_DOWNLOAD_START:
        r->downloads_seen++;
        if (!r->stock_file[0] && r->st <= RS_CLOUD && ev->file &&
            strcmp(ev->file, FLASH_NAME_FINAL) != 0)
            snprintf(r->stock_file, sizeof r->stock_file, "%s", ev->file);
        if (r->st < RS_CLOUD)
            run_set_state(r, RS_CLOUD);
        ui_download(&r->ui, "start", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    case SRV_EV_DOWNLOAD_PROGRESS:
        ui_download(&r->ui, "progress", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    case SRV_EV_DOWNLOAD_DONE:
        ui_download(&r->ui, "done", ev->file, ev->peer, ev->total, ev->total, ev->paced);
        on_done(r, ev->file);
        break;
    case SRV_EV_DOWNLOAD_ABORT:
        ui_download(&r->ui, "abort", ev->file, ev->peer, ev->offset, ev->total, ev->paced);
        break;
    case SRV_EV_REJECTED:
        ui_warn(&r->ui, "rejected", "refused a request from %s: %s", ev->peer ? ev->peer : "?",
                ev->detail ? ev->detail : "?");
        break;
    case SRV_EV_ERROR:
        ui_warn(&r->ui, "server", "%s", ev->detail ? ev->detail : "server error");
        break;
    case SRV_EV_DIY_RESULT: /* DIY devices only (§6); not part of the stock path */
        ui_detail(&r->ui, "  DIY result from %s: %s", ev->peer ? ev->peer : "?",
                  ev->detail ? ev->detail : "");
        break;
    }
}

/* ---- the loop ---- */

static const char *resume_hint(const struct run *r)
{
    switch (r->st) {
    case RS_WAIT_AP:
    case RS_GET_DEVICE:
    case RS_POST_AP:
        return "the device was not changed; run sonota again to start over";
    case RS_WAIT_HOME:
    case RS_CLOUD:
        return "the device keeps the WiFi settings it got and keeps calling this computer: "
               "run sonota again with --no-prov (same --serving-host and ports) to continue";
    case RS_FINAL:
    case RS_DONE:
        return "the device waits on FinalStage: connect this computer to FinalStage and run "
               "sonota again with --no-prov to continue";
    }
    return "";
}

void run_loop(struct run *r)
{
    while (r->exit_code < 0 && r->st != RS_DONE) {
        if (*r->stop) {
            run_fail(r, EXIT_INTERRUPTED, "interrupted", "interrupted; %s", resume_hint(r));
            break;
        }
        int64_t now = ui_now_ms();
        if (now >= r->deadline) {
            run_fail(r, EXIT_FAIL, "timeout", "gave up after %d s (--timeout) in stage %s; %s",
                     r->o->timeout_s, r->st <= RS_POST_AP ? "1" : r->st <= RS_CLOUD ? "2" : "3",
                     resume_hint(r));
            break;
        }
        step(r, now);
        if (r->exit_code >= 0 || r->st == RS_DONE || *r->stop)
            continue;
        if (srv_run_once(r->srv, LOOP_MS) != 0)
            run_fail(r, EXIT_FAIL, "server", "the server stopped working (see the messages "
                     "above); run sonota again with --no-prov to continue");
    }
    if (r->st == RS_DONE && r->exit_code < 0) {
        int64_t until = ui_now_ms() + DRAIN_MS;
        while (ui_now_ms() < until && !*r->stop && srv_run_once(r->srv, 50) == 0)
            ;
        r->exit_code = EXIT_OK;
    }
}
