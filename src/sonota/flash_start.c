/* flash_start.c - where a `sonota flash` run starts: the record an earlier run left
 * (flash_state.h) checked against this run, and the "detected" message that tells the
 * user what was found (PROTOCOL.md §10.1, §8). */
#include "sonota/flash_run.h"

#include "io/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- where to start (PROTOCOL.md §10.1 and the record of an earlier run) ---- */

void flash_start_load_record(struct run *r)
{
    struct flash_opts *o = r->o;
    memset(&r->rec, 0, sizeof r->rec);
    if (!r->watch || !o->state_file)
        return;
    if (o->fresh) {
        if (flash_record_remove(o->state_file) != 0)
            ui_warn(&r->ui, "state", "cannot remove %s (--fresh): %s", o->state_file,
                    strerror(errno));
        return;
    }
    char err[512];
    if (flash_record_load(o->state_file, &r->rec, err, sizeof err) < 0) {
        ui_warn(&r->ui, "state", "%s", err);
        memset(&r->rec, 0, sizeof r->rec);
    }
}

/* How far the recorded run got, if the record fits this run (same serving IP and port:
 * what the device was told). */
enum flash_stage flash_start_recorded_stage(struct run *r)
{
    struct flash_record *rec = &r->rec;
    if (rec->stage < STAGE_PROVISIONED)
        return STAGE_NONE;
    if (rec->stage >= STAGE_FINAL)
        return STAGE_FINAL; /* E2A needs only 192.168.4.2:8080 (§4) */
    if (!strcmp(rec->serving_ip, r->serving_ip) && rec->https_port == r->o->https_port)
        return rec->stage;
    ui_info(&r->ui, "an earlier run told device %s to call %s:%d; this run serves %s:%d: "
            "starting over with stage 1", rec->deviceid[0] ? rec->deviceid : "?",
            rec->serving_ip, rec->https_port, r->serving_ip, r->o->https_port);
    memset(rec, 0, sizeof *rec);
    return STAGE_NONE;
}

static void age_text(int64_t updated, char *out, size_t cap, long long *secs)
{
    int64_t age = updated > 0 ? (int64_t)time(NULL) - updated : -1;
    *secs = age;
    if (age < 0)
        snprintf(out, cap, "some time ago");
    else if (age < 120)
        snprintf(out, cap, "%lld s ago", (long long)age);
    else if (age < 2 * 3600)
        snprintf(out, cap, "%lld min ago", (long long)age / 60);
    else
        snprintf(out, cap, "%lld h ago", (long long)age / 3600);
}

/* Says what was found and where the run starts. */
void flash_start_tell_detected(struct run *r, enum flash_stage plan, int recheck,
                               const struct stage_seen *seen, int from_record)
{
    const struct flash_record *rec = &r->rec;
    char msg[1200], ago[32];
    long long secs = -1;
    age_text(rec->updated, ago, sizeof ago, &secs);
    const char *id = rec->deviceid[0] ? rec->deviceid : "?";
    switch (plan == STAGE_PROVISION && recheck ? STAGE_POST_AP : plan) {
    case STAGE_NONE:
    case STAGE_DONE:
    case STAGE_FAILED:
    case STAGE_FINAL:
        if (seen->final && from_record)
            snprintf(msg, sizeof msg, "Detected: this computer has 192.168.4.2 (FinalStage) and "
                     "device %s got the intermediate firmware (%s): continuing with stage 3",
                     id, ago);
        else if (seen->final)
            snprintf(msg, sizeof msg, "Detected: this computer has 192.168.4.2: FinalStage, so "
                     "an earlier run got the device that far; continuing with stage 3. (If "
                     "192.168.4.0/24 is your home network instead: %s.)", CLASH_FINAL_TEXT);
        else
            snprintf(msg, sizeof msg, "Detected: device %s got the intermediate firmware in an "
                     "earlier run (%s) and waits on FinalStage: continuing with stage 3",
                     id, ago);
        break;
    case STAGE_CLOUD:
        if (!from_record) {
            snprintf(msg, sizeof msg, "--no-prov: the device calls %s already; starting with "
                     "stage 2", r->serving_ip);
            break;
        }
        snprintf(msg, sizeof msg, "Detected: an earlier run (%s) gave device %s your WiFi "
                 "\"%s\" and this computer's address %s, which is up: continuing with stage 2 "
                 "without provisioning (--fresh starts over with another device)", ago, id,
                 rec->ssid[0] ? rec->ssid : "?", r->serving_ip);
        break;
    case STAGE_PROVISIONED:
        if (!from_record) {
            snprintf(msg, sizeof msg, "--no-prov: the device calls %s; this computer does not "
                     "have that address now: stage 2, waiting for it", r->serving_ip);
            break;
        }
        snprintf(msg, sizeof msg, "Detected: an earlier run (%s) gave device %s your WiFi "
                 "\"%s\" and the address %s, which this computer does not have now: stage 2, "
                 "waiting for it", ago, id, rec->ssid[0] ? rec->ssid : "?", r->serving_ip);
        break;
    case STAGE_POST_AP: /* the recheck */
        snprintf(msg, sizeof msg, "Detected: this computer is on a pairing WiFi (%s), but an "
                 "earlier run (%s) already gave device %s your WiFi: asking the device whether "
                 "it is in pairing mode again; if it has left, reconnect this computer to "
                 "\"%s\" and sonota continues with stage 2", seen->ap_ip, ago, id,
                 rec->ssid[0] ? rec->ssid : "your WiFi");
        break;
    case STAGE_PROVISION:
        snprintf(msg, sizeof msg, "Detected: this computer is on a pairing WiFi (%s): "
                 "starting with stage 1", seen->ap_ip);
        break;
    case STAGE_WAIT_AP:
        snprintf(msg, sizeof msg, "Detected: nothing to continue%s: starting with stage 1",
                 r->watch ? "" : " (--no-check-ip: addresses are not watched)");
        break;
    }
    struct ui_detect d = {
        .start = stage_start_name(plan, recheck),
        .stage = plan >= STAGE_FINAL ? "final"
                 : plan == STAGE_CLOUD || plan == STAGE_PROVISIONED ? "cloud" : "provision",
        .message = msg,
        .state_file = r->watch ? r->o->state_file : NULL,
        .rec_stage = from_record ? stage_name(rec->stage) : NULL,
        .rec_deviceid = rec->deviceid,
        .rec_serving_ip = rec->serving_ip,
        .rec_age_s = secs,
    };
    ui_detected(&r->ui, &d);
}

