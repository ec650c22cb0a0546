/* flash_loop.c - the loop of a single-device `sonota flash` run: one step per stage
 * (timers, address scans through flash_dev_on_scan, stage 1 requests) between server
 * slices (flash_net.c); the server's events are in flash_events.c (PROTOCOL.md
 * §1.2-§1.5, §4, §10). Every stage survives the network going away and coming back (§8:
 * "script exits when WiFi drops"); only --timeout and the bounded waits for the user end
 * a run. */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "sonota/cmds.h"
#include "sonota/prov.h"
#include "sonota/stage.h"
#include "plat/fs.h"
#include "plat/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOOP_MAX_MS 500             /* longest wait for a socket: a Ctrl-C that lands just
                                       before the wait is seen within this */
#define POLL_IP_MS 2000             /* local address rescans (§10.1: every ~2 s) */
#define GET_DEVICE_ATTEMPTS 30      /* ~60 s of GET /device, 2 s each (§1.2) */
#define POST_AP_MS 5000             /* the device answers before it drops its AP */
#define POST_AP_TRIES 3
#define DRAIN_MS 600                /* let the last bytes leave before closing */
#define HOME_OTHER_MS (20 * 1000)   /* back on a network without the serving IP: say so */

/* Address scans only when watching addresses, once per POLL_IP_MS. */
static int poll_due(struct run *r, int64_t now)
{
    if (!r->watch || now < r->addr.next_poll)
        return 0;
    r->addr.next_poll = now + POLL_IP_MS;
    return 1;
}

/* The device called or fetched something in stage 2 (its model is known, or a download
 * was seen). */
static int contacted(const struct run *r)
{
    return r->table.dev[0].model[0] || r->downloads_seen;
}

/* A scan when one is due: creates the servers whose address appeared and reports the
 * addresses the current stage needs going and coming back. 1 scanned (seen filled,
 * *ap_rose: a 10.10.7.x address appeared since the last scan), 0 not due, -1 failed. */
static int watch(struct run *r, int64_t now, struct stage_seen *seen, int *ap_rose)
{
    *ap_rose = 0;
    if (!poll_due(r, now))
        return 0;
    if (flash_net_scan(r, seen) != 0 || flash_net_update(r, seen) != 0)
        return -1;
    *ap_rose = seen->ap && !r->addr.ap_up;
    if (flash_run_st(r) == STAGE_CLOUD && r->addr.serving_up && !seen->serving) {
        ui_address_lost(&r->ui, "serving", r->serving_ip, "the WiFi dropped? Sonota keeps "
                        "waiting (up to --timeout) and the device retries by itself; "
                        "reconnect this computer to your WiFi");
        r->addr.serving_lost_told = 1;
    } else if (r->addr.serving_lost_told && seen->serving && !r->addr.serving_up) {
        ui_address(&r->ui, "serving", r->serving_ip, NULL);
        ui_info(&r->ui, "  %s is back: continuing", r->serving_ip);
        r->addr.serving_lost_told = 0;
    }
    if (flash_run_st(r) == STAGE_FINAL && r->addr.final_up && !seen->final) {
        ui_address_lost(&r->ui, "final", STAGE_FINAL_HOST_STR, "FinalStage dropped? If the "
                        "device restarted, its FinalStage comes back: reconnect this computer "
                        "to it; sonota keeps waiting (up to --timeout)");
        r->addr.final_lost_told = 1;
    } else if (seen->final && !r->addr.final_up && flash_run_st(r) == STAGE_FINAL) {
        ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen->final_if);
        r->addr.final_lost_told = 0;
    }
    /* A network (re)joined may come with other firewall rules (firewalld zones, a
     * "public" FinalStage): check again for the ports that network needs. */
    enum flash_stage st = flash_run_st(r);
    if (seen->serving && !r->addr.serving_up && st >= STAGE_PROVISIONED && st <= STAGE_CLOUD)
        flash_run_firewall(r, 0);
    if (seen->final && !r->addr.final_up && flash_run_st(r) == STAGE_FINAL)
        flash_run_firewall(r, 1);
    r->addr.serving_up = seen->serving;
    r->addr.ap_up = seen->ap;
    r->addr.final_up = seen->final;
    return 1;
}

/* Back on some network, but not with the serving IP, for a while: the device was told an
 * address this computer no longer has (a new DHCP lease, another network). */
static void check_serving_absent(struct run *r, int64_t now, const struct stage_seen *seen)
{
    if (seen->serving || !seen->home_other) {
        r->addr.home_other_since = 0;
        return;
    }
    if (!r->addr.home_other_since)
        r->addr.home_other_since = now;
    if (now - r->addr.home_other_since < HOME_OTHER_MS || r->addr.serving_absent_told)
        return;
    r->addr.serving_absent_told = 1;
    ui_warn(&r->ui, "serving-absent", "this computer is on a network again (it has %s on "
            "%s) but not %s, the address the device was given: the device cannot reach it. "
            "If your WiFi gave this computer a new address, get %s back (or connect to the "
            "network the device joined, \"%s\"); otherwise run again with --fresh and provision "
            "the device again", seen->home_other_ip, seen->home_other_if, r->serving_ip,
            r->serving_ip, r->o->wifi_ssid ? r->o->wifi_ssid
                           : r->rec.ssid[0] ? r->rec.ssid : "your WiFi");
}

/* ---- stage 1 ---- */

/* GET /device answered (or not): stage 1 goes on with POST /ap, or asks again. */
static void got_device(void *user, enum prov_fail f, const struct ewl_device_info *dev,
                       int dev_error, const char *err)
{
    struct run *r = user;
    (void)dev_error;
    r->prov.busy = 0;
    if (*r->stop || r->exit_code >= 0 || flash_run_st(r) != STAGE_PROVISION)
        return; /* the run moved on meanwhile (another network, Ctrl-C) */
    if (f == PROV_OK) {
        struct flash_dev *d = flash_run_dev(r);
        if (r->prov.recheck && d->deviceid[0] && strcmp(d->deviceid, dev->deviceid) != 0)
            ui_info(&r->ui, "  another device (%s) answers on the pairing WiFi, not %s from "
                    "the earlier run: provisioning %s", dev->deviceid, d->deviceid,
                    dev->deviceid);
        else if (r->prov.recheck)
            ui_info(&r->ui, "  device %s is in pairing mode again: giving it the WiFi "
                    "settings again", dev->deviceid);
        r->prov.recheck = 0;
        r->prov.dev = *dev;
        snprintf(d->deviceid, sizeof d->deviceid, "%s", r->prov.dev.deviceid);
        ui_device(&r->ui, "ap", d->deviceid, NULL, NULL);
        r->ctx.deviceid = d->deviceid;
        flash_run_set_state(r, STAGE_POST_AP);
        return;
    }
    if (f == PROV_BAD_REPLY || f == PROV_HTTP_STATUS) {
        flash_run_fail(r, EXIT_DEVICE, "device-reply", "%s", err);
        return;
    }
    if (r->prov.get_attempts == 1 || r->prov.get_attempts % 5 == 0)
        ui_info(&r->ui, "  no answer yet (attempt %d): %s", r->prov.get_attempts, err);
    int64_t after = plat_mono_ms();
    if (r->prov.get_attempts < GET_DEVICE_ATTEMPTS && after + PROV_ATTEMPT_MS <= r->deadline)
        return;
    if (r->prov.recheck) {
        ui_info(&r->ui, "  no device answers on the pairing WiFi: device %s has probably "
                "joined your WiFi already", flash_run_dev(r)->deviceid);
        flash_run_set_state(r, STAGE_PROVISIONED);
        return;
    }
    flash_run_fail(r, EXIT_NETWORK, "device-unreachable", "%s (gave up after %d attempts); put "
                   "the device in pairing mode again and rerun", err, r->prov.get_attempts);
}

static void step_get_device(struct run *r, int64_t now)
{
    if (r->prov.busy || now < r->prov.next_get)
        return;
    r->prov.next_get = now + PROV_ATTEMPT_MS; /* §1.2: SonOTA asks every 2 s */
    r->prov.get_attempts++;
    if (prov_get_device_start(r->prov.http, r->o->device_url, PROV_ATTEMPT_MS, got_device, r) != 0)
        flash_run_fail(r, EXIT_FAIL, "http", "cannot start a request to %s", r->o->device_url);
    else
        r->prov.busy = 1;
}

/* POST /ap answered, or not: stage 2 or another try. */
static void posted_ap(void *user, enum prov_fail f, const struct ewl_device_info *dev,
                      int dev_error, const char *err)
{
    struct run *r = user;
    (void)dev;
    (void)dev_error;
    r->prov.busy = 0;
    if (*r->stop || r->exit_code >= 0 || flash_run_st(r) != STAGE_POST_AP)
        return;
    int64_t now = plat_mono_ms();
    switch (f) {
    case PROV_OK:
        flash_net_trust(r, &r->prov.dev);
        flash_run_record(r, STAGE_PROVISIONED); /* before telling anyone: a kill may follow */
        ui_provisioned(&r->ui, r->o->wifi_ssid, r->serving_ip, r->o->https_port);
        break;
    case PROV_REFUSED:
        flash_run_fail(r, EXIT_DEVICE, "device-refused", "%s", err);
        return;
    case PROV_BAD_REPLY:
    case PROV_HTTP_STATUS:
        flash_run_fail(r, EXIT_DEVICE, "device-reply", "%s", err);
        return;
    case PROV_TIMEOUT:
    case PROV_NO_REPLY:
        /* The request went out; the device often leaves its AP before answering. */
        flash_net_trust(r, &r->prov.dev);
        flash_run_record(r, STAGE_PROVISIONED);
        ui_warn(&r->ui, "device-reply", "%s; the device may have taken the settings and left "
                "its WiFi already: continuing (if ITEAD-%s is still there, rerun)", err,
                flash_run_dev(r)->deviceid);
        break;
    case PROV_UNREACHABLE:
        if (++r->prov.post_tries < POST_AP_TRIES) {
            ui_info(&r->ui, "  %s; trying again", err);
            r->st_since = now;
            return;
        }
        flash_run_fail(r, EXIT_NETWORK, "device-unreachable", "%s; put the device in pairing mode "
                       "again and rerun", err);
        return;
    }
    /* The device has the settings: only its factory key is it from now on. */
    struct flash_acts acts;
    enum flash_stage next = r->watch ? STAGE_PROVISIONED : STAGE_CLOUD;
    flash_dev_provisioned(&r->table, 0, now, &acts);
    flash_run_dev(r)->st = next;
    flash_run_stage_changed(r, STAGE_POST_AP, next);
}

static void step_post_ap(struct run *r, int64_t now)
{
    if (r->prov.busy)
        return;
    if (r->prov.post_tries > 0 && now - r->st_since < (int64_t)PROV_ATTEMPT_MS * r->prov.post_tries)
        return; /* space the retries */
    if (!r->creds_ok && flash_setup_credentials(r) != 0)
        return;
    /* POST /ap sends the device to our TLS port: not before the per-run key is ready
     * (a handshake would wait for it, and a slow machine could time the device out). */
    if (!srv_tls_ready(r->net.srv))
        return;
    if (flash_net_post_ap_start(r, POST_AP_MS, posted_ap) != 0)
        flash_run_fail(r, EXIT_FAIL, "http", "cannot start a request to %s", r->o->device_url);
}

/* ---- per-state step ---- */

static void to_final(struct run *r, const struct stage_seen *seen)
{
    ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen->final_if);
    flash_run_set_state(r, STAGE_FINAL);
}

/* The pairing AP appeared again in stage 2: the device fell back into pairing mode (it
 * could not join the WiFi: wrong password?) or the user pressed the button again. */
static void back_to_ap(struct run *r, const struct stage_seen *seen)
{
    ui_address(&r->ui, "ap", seen->ap_ip, seen->ap_if);
    ui_info(&r->ui, "  this computer is on a pairing WiFi (10.10.7.x) again: asking the "
            "device whether it is in pairing mode");
    r->prov.recheck = 1;
    flash_run_set_state(r, STAGE_PROVISION);
}

/* A scan moved the device (flash_dev_on_scan): says so and enters the stage. 1 moved. */
static int scan_moved(struct run *r, int64_t now, const struct stage_seen *seen, int ap_rose)
{
    const struct flash_scan fs = {seen->ap, ap_rose, seen->serving, seen->final};
    enum flash_scan_why why;
    enum flash_stage to = flash_dev_on_scan(flash_run_dev(r), r->prov.recheck, contacted(r),
                                            &fs, &why);
    switch (why) {
    case FLASH_SCAN_STAY:
        return 0;
    case FLASH_SCAN_ABSENT:
        check_serving_absent(r, now, seen);
        return 0;
    case FLASH_SCAN_FINAL:
        to_final(r, seen);
        return 1;
    case FLASH_SCAN_AP:
        ui_address(&r->ui, "ap", seen->ap_ip, seen->ap_if);
        break;
    case FLASH_SCAN_LEFT_RECHECK:
        ui_info(&r->ui, "  this computer left the pairing WiFi; device %s was "
                "provisioned before, so stage 2 goes on", flash_run_dev(r)->deviceid);
        break;
    case FLASH_SCAN_LEFT_AP:
        ui_address_lost(&r->ui, "ap", "10.10.7.x", "this computer left the "
                        "device's pairing WiFi: join ITEAD-<deviceid> again");
        break;
    case FLASH_SCAN_SERVING:
        ui_address(&r->ui, "serving", r->serving_ip, NULL);
        break;
    case FLASH_SCAN_BACK_TO_AP:
        back_to_ap(r, seen);
        return 1;
    }
    flash_run_set_state(r, to);
    return 1;
}

/* One turn of a single run: the stage's clocks (flash_dev_clock: give up, hints), then
 * what a scan of the addresses means (flash_dev_on_scan), then stage 1's requests. */
static void step(struct run *r, int64_t now)
{
    struct stage_seen seen;
    int ap_rose = 0;
    int scanned = watch(r, now, &seen, &ap_rose);
    if (scanned < 0)
        return;
    enum flash_stage st = flash_run_st(r);
    switch (flash_dev_clock(st, contacted(r), r->st_since, &r->last_hint, now)) {
    case FLASH_CLOCK_NONE:
        break;
    case FLASH_CLOCK_GIVE_UP_AP:
        flash_run_fail(r, EXIT_NETWORK, "timeout", "no address in 10.10.7.0/24 after %d "
                       "minutes: this computer did not join the device's ITEAD-<deviceid> WiFi. "
                       "Put the device in pairing mode, join that WiFi and rerun (or use "
                       "--no-check-ip if your system shows another address)",
                       FLASH_WAIT_AP_MS / 60000);
        return;
    case FLASH_CLOCK_GIVE_UP_HOME:
        flash_run_fail(r, EXIT_NETWORK, "timeout", "this computer did not get %s back within %d "
                       "minutes. Reconnect it to \"%s\"; if its address changed, rerun with "
                       "--fresh (and provision again: the device was told %s)",
                       r->serving_ip, FLASH_WAIT_HOME_MS / 60000,
                       r->o->wifi_ssid ? r->o->wifi_ssid : "your WiFi", r->serving_ip);
        return;
    case FLASH_CLOCK_HINT_CLOUD:
        flash_run_firewall(r, 0);
        ui_warn(&r->ui, "no-contact", "no device has called %s:%d yet. Check: the device "
                "joined your WiFi (LED on steadily, not blinking); this computer is on the "
                "same network with address %s; the firewall allows incoming TCP %d and %d. "
                "Firmware 1.6 and later drops the connection (certificate pinning): "
                "nothing arrives at all then.%s" /* PROTOCOL.md §2/§3 */, r->serving_ip,
                r->o->https_port, r->serving_ip, r->o->https_port, r->o->http_port,
                r->rec.stage ? " If you meant to flash another device, run again with "
                "--fresh." : "");
        break;
    case FLASH_CLOCK_HINT_FINAL:
        flash_run_firewall(r, 1);
        ui_warn(&r->ui, "no-contact", "the device has not asked for the final image yet. "
                "Check: this computer is on FinalStage with address 192.168.4.2 (no other "
                "device on FinalStage took it); the firewall allows incoming TCP %d. If "
                "FinalStage disappeared and came back, the device restarted: keep waiting.",
                r->o->http_port);
        break;
    }
    if (scanned && scan_moved(r, now, &seen, ap_rose))
        return;
    if (st == STAGE_PROVISION)
        step_get_device(r, now);
    else if (st == STAGE_POST_AP)
        step_post_ap(r, now);
    else if (st == STAGE_FINAL && scanned && seen.final_other &&
             strcmp(seen.final_other_ip, r->addr.final_other_warned) != 0) {
        snprintf(r->addr.final_other_warned, sizeof r->addr.final_other_warned, "%s",
                 seen.final_other_ip);
        ui_address(&r->ui, "final-other", seen.final_other_ip, NULL);
        ui_warn(&r->ui, "final-address", "this computer has %s on the 192.168.4.x network, "
                "but the intermediate firmware only connects to 192.168.4.2. Another device "
                "(a phone?) probably took .2: disconnect it from FinalStage, then reconnect "
                "this computer.", seen.final_other_ip);
    }
}

/* ---- the loop ---- */

static void sooner(int64_t *next, int64_t at)
{
    if (at > 0 && at < *next)
        *next = at;
}

/* How long the servers may wait for a socket before a timer of this stage is due. */
#define KEY_LOOK_MS 20 /* how often stage 1 looks whether the TLS key is ready */

static int wait_ms(const struct run *r, int64_t now)
{
    /* A request under way completes from httpc_step: wake up for libcurl's timer; its
     * sockets wake the servers' poll (flash_net_service watches them). */
    if (r->prov.busy)
        return httpc_wait_ms(r->prov.http, LOOP_MAX_MS);
    int64_t next = r->deadline;
    sooner(&next, r->told.pin_fail_at);
    if (r->watch)
        sooner(&next, r->addr.next_poll);
    switch (flash_run_st(r)) {
    case STAGE_PROVISION:
        sooner(&next, r->prov.next_get);
        break;
    case STAGE_POST_AP:
        if (!srv_tls_ready(r->net.srv))
            sooner(&next, now + KEY_LOOK_MS);
        else
            sooner(&next, r->st_since + (int64_t)PROV_ATTEMPT_MS * r->prov.post_tries);
        break;
    case STAGE_WAIT_AP:
    case STAGE_PROVISIONED:
    case STAGE_CLOUD:
    case STAGE_FINAL:
        sooner(&next, flash_dev_clock_next(flash_run_st(r), contacted(r), r->st_since,
                                           r->last_hint));
        break;
    case STAGE_NONE:
    case STAGE_DONE:
    case STAGE_FAILED:
        break;
    }
    int64_t ms = next - now;
    return ms <= 0 ? 0 : ms > LOOP_MAX_MS ? LOOP_MAX_MS : (int)ms;
}

static const char *resume_hint(const struct run *r)
{
    int remembers = r->watch && r->o->state_file;
    switch (flash_run_st(r)) {
    case STAGE_NONE:
    case STAGE_WAIT_AP:
    case STAGE_PROVISION:
    case STAGE_POST_AP:
        if (r->prov.recheck && remembers)
            return "the device was provisioned before: run the same command again to continue";
        return "the device was not changed; run sonota again to start over";
    case STAGE_PROVISIONED:
    case STAGE_CLOUD:
        if (remembers)
            return "the device keeps the WiFi settings it got and keeps calling this computer: "
                   "run the same command again to continue (it finds stage 2 by itself)";
        return "the device keeps the WiFi settings it got and keeps calling this computer: "
               "run sonota again with --no-prov (same --serving-host and ports) to continue";
    case STAGE_FINAL:
    case STAGE_DONE:
    case STAGE_FAILED:
        if (remembers)
            return "the device waits on FinalStage: run the same command again to continue "
                   "(it finds stage 3 by itself)";
        return "the device waits on FinalStage: connect this computer to FinalStage and run "
               "sonota again with --no-prov to continue";
    }
    return "";
}

void flash_loop_run(struct run *r)
{
    while (r->exit_code < 0 && flash_run_st(r) != STAGE_DONE) {
        if (*r->stop) {
            flash_run_fail(r, EXIT_INTERRUPTED, "interrupted", "interrupted; %s", resume_hint(r));
            break;
        }
        int64_t now = plat_mono_ms();
        if (now >= r->deadline) {
            flash_run_fail(r, EXIT_FAIL, "timeout",
                           "gave up after %d s (--timeout) in stage %s; %s", r->o->timeout_s,
                           flash_run_st(r) <= STAGE_POST_AP ? "1"
                           : flash_run_st(r) <= STAGE_CLOUD ? "2" : "3",
                           resume_hint(r));
            break;
        }
        if (r->told.pin_fail_at && now >= r->told.pin_fail_at) {
            flash_events_pinned_fail(r);
            break;
        }
        step(r, now);
        if (r->exit_code >= 0 || flash_run_st(r) == STAGE_DONE || *r->stop)
            continue;
        /* A request under way: its completion comes from httpc_step, on this turn or a
         * later one; the servers are serviced in between. */
        if (r->prov.busy)
            httpc_step(r->prov.http);
        if (r->exit_code >= 0 || flash_run_st(r) == STAGE_DONE || *r->stop)
            continue;
        if (flash_net_service(r, wait_ms(r, plat_mono_ms())) != 0)
            flash_run_fail(r, EXIT_FAIL, "server", "the server stopped working (see the messages "
                           "above); %s", resume_hint(r));
    }
    if (flash_run_st(r) == STAGE_DONE && r->exit_code < 0) {
        int64_t until = plat_mono_ms() + DRAIN_MS;
        while (plat_mono_ms() < until && !*r->stop && flash_net_service(r, 50) == 0)
            ;
        r->exit_code = EXIT_OK;
    }
}
