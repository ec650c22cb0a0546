/* flash_run.c - what a `sonota flash` run does whatever loop drives it: ending with an
 * error, what entering a stage means for a single run (the banner, the record, what the
 * user does next), the record of the stage reached (flash_state.h) and the firewall
 * check (fwcheck.h). The bottom of the flow's own files: it calls none of the others. */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "sonota/cmds.h"
#include "plat/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void flash_run_fail(struct run *r, int code, const char *tag, const char *fmt, ...)
{
    /* The images' verdict comes first, as when they were checked before anything else: a
     * bad image is the run's error, whatever failed while the worker checked it. */
    if (r->img_state == IMG_CHECKING && flash_images_finish(r) != 0)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ui_error(&r->ui, tag, code, "%s", text);
    if (r->exit_code < 0)
        r->exit_code = code;
}

static void flash_run_stage_enter(struct run *r, int which, const char *name)
{
    int64_t now = plat_mono_ms();
    for (int i = which + 1; i < 3; i++)
        if (r->stage_t[i][0])
            return; /* back to an earlier step: stages are announced in order only */
    for (int i = 0; i < 3; i++)
        if (i != which && r->stage_t[i][0] && !r->stage_t[i][1])
            r->stage_t[i][1] = now;
    if (!r->stage_t[which][0]) {
        r->stage_t[which][0] = now;
        ui_stage(&r->ui, name);
    }
    r->stage_t[which][1] = 0; /* (re)entered: running again */
}

/* stage_t's index: 0 provision, 1 cloud, 2 final. */
static int step_of(enum flash_stage st)
{
    return st <= STAGE_POST_AP ? 0 : st <= STAGE_CLOUD ? 1 : 2;
}

void flash_run_stage_changed(struct run *r, enum flash_stage prev, enum flash_stage st)
{
    r->st_since = r->last_hint = plat_mono_ms();
    r->addr.next_poll = 0;
    r->net.final_waits = st >= STAGE_FINAL;
    switch (st) {
    case STAGE_NONE:
    case STAGE_FAILED:
        break;
    case STAGE_WAIT_AP:
        flash_run_stage_enter(r, step_of(st), "provision");
        ui_action(&r->ui, UI_ACT_JOIN_AP, &r->ctx);
        break;
    case STAGE_PROVISION:
        flash_run_stage_enter(r, step_of(st), "provision");
        r->prov.get_attempts = 0;
        r->prov.next_get = 0;
        ui_action(&r->ui, UI_ACT_TALK_DEVICE, &r->ctx);
        break;
    case STAGE_POST_AP:
        r->prov.post_tries = 0;
        break;
    case STAGE_PROVISIONED:
        flash_run_stage_enter(r, step_of(st), "cloud");
        r->addr.home_other_since = 0;
        ui_action(&r->ui, UI_ACT_RECONNECT_HOME, &r->ctx);
        break;
    case STAGE_CLOUD:
        flash_run_stage_enter(r, step_of(st), "cloud");
        r->addr.home_other_since = 0;
        if (prev == STAGE_POST_AP) /* --no-check-ip: still say what to do */
            ui_action(&r->ui, UI_ACT_RECONNECT_HOME, &r->ctx);
        if (!flash_run_dev(r)->model[0] && !r->downloads_seen) /* not when the device just called */
            ui_action(&r->ui, UI_ACT_WAIT_DEVICE, &r->ctx);
        break;
    case STAGE_FINAL:
        flash_run_stage_enter(r, step_of(st), "final");
        flash_run_record(r, STAGE_FINAL);
        ui_action(&r->ui, UI_ACT_JOIN_FINAL, &r->ctx);
        if (prev != STAGE_FINAL)
            flash_run_firewall(r, 1); /* FinalStage may get other rules (a "public" zone) */
        break;
    case STAGE_DONE:
        flash_run_stage_enter(r, step_of(st), "final");
        r->stage_t[2][1] = plat_mono_ms();
        flash_run_record(r, STAGE_NONE); /* nothing left to resume */
        break;
    }
}

void flash_run_set_state(struct run *r, enum flash_stage st)
{
    enum flash_stage prev = flash_run_st(r);
    flash_run_dev(r)->st = st;
    flash_run_stage_changed(r, prev, st);
}

/* ---- the record ---- */

void flash_run_record(struct run *r, enum flash_stage st)
{
    const char *path = r->o->state_file;
    if (!r->watch || !path || !r->table.lone)
        return; /* a fleet has no single device to resume */
    if (st == STAGE_NONE) {
        if (flash_record_remove(path) != 0)
            LOG_W("cannot remove %s", path);
        memset(&r->rec, 0, sizeof r->rec);
        return;
    }
    const char *id = flash_run_dev(r)->deviceid;
    if (st < r->rec.stage && st != STAGE_PROVISIONED)
        return; /* only forward, except a new POST /ap (re-provisioned) */
    if (st == r->rec.stage && !strcmp(r->rec.deviceid, id) &&
        !strcmp(r->rec.serving_ip, r->serving_ip))
        return; /* nothing new (every dispatch and register lands here) */
    r->rec.stage = st;
    if (id[0])
        snprintf(r->rec.deviceid, sizeof r->rec.deviceid, "%s", id);
    snprintf(r->rec.serving_ip, sizeof r->rec.serving_ip, "%s", r->serving_ip);
    r->rec.https_port = r->o->https_port;
    snprintf(r->rec.ssid, sizeof r->rec.ssid, "%s", r->o->wifi_ssid ? r->o->wifi_ssid
                                                    : r->rec.ssid);
    char err[512];
    if (flash_record_save(path, &r->rec, err, sizeof err) != 0) {
        if (!r->rec_warned++)
            ui_warn(&r->ui, "state", "%s: a later run cannot know where this one stopped",
                    err);
        return;
    }
    ui_detail(&r->ui, "  recorded stage \"%s\" in %s", stage_name(st), path);
}

/* ---- firewall ---- */

void flash_run_firewall(struct run *r, int final)
{
    if (!r->watch)
        return;
    struct flash_opts *o = r->o;
    int ports[FW_PORTS_MAX];
    size_t n = 0;
    ports[n++] = o->http_port;
    if (!final) {
        ports[n++] = o->https_port;
        if (o->legacy)
            ports[n++] = o->plain_port;
    }
    struct fw_report rep;
    /* On FinalStage the device calls 192.168.4.2, on another network (and, on Windows,
     * another profile) than the serving IP. */
    fw_check(final ? STAGE_FINAL_HOST_STR : r->serving_ip, ports, n, &rep);
    if (rep.status != FW_CHECKED) {
        if (!r->fw.note_told++)
            ui_info(&r->ui, "  %s", rep.note);
        return;
    }
    if (rep.n == 0)
        ui_detail(&r->ui, "  firewall (%s): nothing drops TCP %d%s", rep.tool, o->http_port,
                  final ? "" : " or the cloud ports");
    for (size_t i = 0; i < rep.n; i++) {
        const struct fw_finding *f = &rep.f[i];
        char key[FW_TEXT_MAX];
        snprintf(key, sizeof key, "%.90s|%.200s|%x", f->where, f->rule, f->port_mask);
        int told = 0;
        for (size_t k = 0; k < r->fw.n_told; k++)
            if (!strcmp(r->fw.told[k], key))
                told = 1;
        if (told)
            continue;
        if (r->fw.n_told < FW_FINDINGS_MAX)
            snprintf(r->fw.told[r->fw.n_told++], FW_TEXT_MAX, "%s", key);
        char list[64];
        fw_ports_text(ports, n, f->port_mask, list, sizeof list);
        ui_firewall(&r->ui, rep.tool, f, list);
    }
}
