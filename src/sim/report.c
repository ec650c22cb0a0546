/* report.c - run-context helpers and the JSON report. */
#include "sim/sim.h"

#include "io/file.h"
#include "io/log.h"
#include "sim/netio.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int sim_sleep(struct sim_ctx *s, long ms)
{
    double scaled = (double)ms * s->o->time_scale;
    long long want = (long long)scaled;
    long left = sim_left(s);
    if (want > left)
        want = left;
    struct timespec ts = {.tv_sec = want / 1000, .tv_nsec = (want % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return sim_left(s) > 0 ? 0 : -1;
}

long sim_left(const struct sim_ctx *s)
{
    long long r = s->deadline - plat_mono_ms();
    return r < 0 ? 0 : (long)r;
}

void sim_rand_reset(struct sim_ctx *s)
{
    s->rand_state = 1; /* newlib: srand(1) at boot */
}

uint32_t sim_rand(struct sim_ctx *s)
{
    s->rand_state = s->rand_state * 6364136223846793005ULL + 1;
    return (uint32_t)((s->rand_state >> 32) & 0x7fffffff);
}

int sim_reached(struct sim_ctx *s, enum sim_stage st)
{
    s->rep.reached[st] = 1;
    LOG_I("stage reached: %s", sim_stage_name(st));
    if (s->o->faults.stop_after == st) {
        s->stop = 1;
        sim_fail(s, "stopped after stage %s (--fault stop-after)", sim_stage_name(st));
        return 1;
    }
    return 0;
}

void sim_note(struct sim_ctx *s, const char *fmt, ...)
{
    char buf[SIM_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    LOG_W("note: %s", buf);
    if (s->rep.n_notes < SIM_MAX_NOTES)
        snprintf(s->rep.notes[s->rep.n_notes++], SIM_TEXT, "%s", buf);
}

void sim_fail(struct sim_ctx *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->rep.reason, sizeof s->rep.reason, fmt, ap);
    va_end(ap);
}

struct sim_dl_rec *sim_dl_add(struct sim_ctx *s, const char *kind, const char *file)
{
    static struct sim_dl_rec overflow;
    struct sim_dl_rec *d = s->rep.n_dl < SIM_MAX_DOWNLOADS ? &s->rep.dl[s->rep.n_dl++]
                                                           : &overflow;
    memset(d, 0, sizeof *d);
    snprintf(d->kind, sizeof d->kind, "%s", kind);
    snprintf(d->file, sizeof d->file, "%s", file);
    return d;
}

void sim_ack_add(struct sim_ctx *s, const char *sequence, int error, int upgrade_state)
{
    if (s->rep.n_acks >= SIM_MAX_ACKS)
        return;
    struct sim_ack_rec *a = &s->rep.acks[s->rep.n_acks++];
    snprintf(a->sequence, sizeof a->sequence, "%s", sequence ? sequence : "");
    a->error = error;
    a->upgrade_state = upgrade_state;
}

int sim_report_write(const struct sim_ctx *s, const char *path)
{
    const struct sim_report *r = &s->rep;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return -1;
    cJSON_AddStringToObject(root, "deviceid", s->o->device_id);
    cJSON_AddStringToObject(root, "model", s->o->model);
    cJSON_AddStringToObject(root, "romVersion", s->o->rom_version);
    cJSON *st = cJSON_AddArrayToObject(root, "stages");
    for (int i = SIM_STAGE_AP; i < SIM_STAGE__COUNT; i++)
        if (r->reached[i])
            cJSON_AddItemToArray(st, cJSON_CreateString(sim_stage_name((enum sim_stage)i)));
    cJSON_AddNumberToObject(root, "sessions", r->sessions);
    cJSON_AddNumberToObject(root, "boots", r->boots);
    if (r->tls[0])
        cJSON_AddStringToObject(root, "tls", r->tls);
    cJSON *dls = cJSON_AddArrayToObject(root, "downloads");
    for (int i = 0; i < r->n_dl; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "kind", r->dl[i].kind);
        cJSON_AddStringToObject(d, "file", r->dl[i].file);
        cJSON_AddNumberToObject(d, "bytes", (double)r->dl[i].bytes);
        cJSON_AddNumberToObject(d, "ms", (double)r->dl[i].ms);
        cJSON_AddBoolToObject(d, "ok", r->dl[i].ok);
        if (r->dl[i].error[0])
            cJSON_AddStringToObject(d, "error", r->dl[i].error);
        cJSON_AddItemToArray(dls, d);
    }
    cJSON *acks = cJSON_AddArrayToObject(root, "acks");
    for (int i = 0; i < r->n_acks; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "sequence", r->acks[i].sequence);
        cJSON_AddNumberToObject(a, "error", r->acks[i].error);
        cJSON_AddStringToObject(a, "as", r->acks[i].upgrade_state ? "upgradeState" : "ack");
        cJSON_AddItemToArray(acks, a);
    }
    cJSON *notes = cJSON_AddArrayToObject(root, "notes");
    for (int i = 0; i < r->n_notes; i++)
        cJSON_AddItemToArray(notes, cJSON_CreateString(r->notes[i]));
    cJSON_AddStringToObject(root, "boots_into", r->boot);
    cJSON_AddBoolToObject(root, "final_ok", r->final_ok);
    if (r->final_sha256[0]) {
        cJSON_AddStringToObject(root, "final_sha256", r->final_sha256);
        cJSON_AddNumberToObject(root, "final_len", (double)r->final_len);
    }
    if (r->reason[0])
        cJSON_AddStringToObject(root, "reason", r->reason);
    sim_tasmota_report(&r->tasmota, root);
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt)
        return -1;
    size_t n = strlen(txt);
    txt[n] = '\n';
    enum so_err e = so_write_file(path, txt, n + 1, 0644);
    free(txt);
    return e == SO_OK ? 0 : -1;
}
