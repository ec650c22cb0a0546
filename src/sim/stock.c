#include "sim/stock.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ack codes of the upgrade command (§1.5, IG). */
#define ACK_OK 0
#define ACK_BAD_FIELDS 400
#define ACK_MODEL 406
#define ACK_VERSION 410

void stock_init(struct stock_fsm *f, const struct stock_cfg *cfg)
{
    memset(f, 0, sizeof *f);
    f->cfg = *cfg;
    f->st = STK_REGISTER;
}

char *stock_start(struct stock_fsm *f, uint32_t ts)
{
    f->st = STK_REGISTER;
    f->owner[0] = '\0';
    /* The register message carries the factory apikey (§1.4, VP). */
    return ewl_build_register(f->cfg.deviceid, f->cfg.factory_apikey, f->cfg.model,
                              f->cfg.rom_version, ts);
}

void stock_out_free(struct stock_out *out)
{
    for (int i = 0; i < out->n; i++)
        free(out->msg[i]);
    out->n = 0;
}

static void push(struct stock_out *out, char *msg)
{
    if (!msg) {
        out->fail = 1;
        snprintf(out->why, sizeof out->why, "out of memory building a message");
        return;
    }
    if (out->n < STOCK_OUT_MAX)
        out->msg[out->n++] = msg;
    else
        free(msg);
}

static int ignore(struct stock_fsm *f, struct stock_out *out, const char *why)
{
    f->n_ignored++;
    snprintf(out->why, sizeof out->why, "ignored: %s", why);
    return 0;
}

static int fail(struct stock_out *out, const char *why)
{
    out->fail = 1;
    snprintf(out->why, sizeof out->why, "%s", why);
    return 0;
}

char *stock_ack(const struct stock_fsm *f, const char *sequence, int error)
{
    return ewl_build_ack(f->cfg.deviceid, f->owner, sequence, error);
}

char *stock_upgrade_state(const struct stock_fsm *f, int state)
{
    return ewl_build_dev_upgrade_state(f->cfg.deviceid, f->owner, state);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", at most 24 chars (§1.4 rule b). */
static int valid_date(const char *d)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(d) != sizeof pat - 1)
        return 0;
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == 'd' ? (d[i] < '0' || d[i] > '9') : d[i] != pat[i])
            return 0;
    }
    return 1;
}

static int hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return i == 64;
}

static int on_register_reply(struct stock_fsm *f, const struct ewl_msg *m,
                              struct stock_out *out)
{
    char why[160];
    if (!m->has_error)
        return fail(out, "register reply without error field");
    if (m->error == 404)
        return fail(out, "server refused the registration (error 404, regInterval)");
    if (m->error != 0) {
        snprintf(why, sizeof why, "register reply error %d", m->error);
        return fail(out, why);
    }
    if (strcmp(m->deviceid, f->cfg.deviceid)) {
        snprintf(why, sizeof why, "register reply for another deviceid '%s'", m->deviceid);
        return fail(out, why);
    }
    /* Rule (a): a 36-char UUID different from the factory key (§1.4, IG). */
    if (!ewl_is_uuid(m->apikey) || !strcmp(m->apikey, f->cfg.factory_apikey))
        return fail(out, "server gave bad apikey (needs a new 36-char UUID, not the "
                         "factory apikey)");
    if (m->has_params)
        return fail(out, "register reply must not contain params");
    snprintf(f->owner, sizeof f->owner, "%s", m->apikey);
    if (m->has_config) {
        f->hb = m->hb;
        f->hb_interval = m->hb_interval;
    }
    out->registered = 1;
    f->st = STK_DATE;
    push(out, ewl_build_dev_simple("date", f->cfg.deviceid, f->owner));
    return 0;
}

/* Replies are told apart by their fields, as IG does (§1.4 rules b-d). */
static int on_reply(struct stock_fsm *f, const struct ewl_msg *m, struct stock_out *out)
{
    char why[160];
    enum stock_state kind = m->date[0] ? STK_DATE : m->has_params ? STK_QUERY : STK_UPDATE;
    static const char *const names[] = {"register", "date", "update", "query", "ready"};
    if (kind != f->st) {
        snprintf(why, sizeof why, "a %s reply while waiting for %s", names[kind],
                 f->st == STK_READY ? "nothing" : names[f->st]);
        return ignore(f, out, why);
    }
    if (!m->has_error || m->error != 0) {
        snprintf(why, sizeof why, "%s reply with error %d", names[kind],
                 m->has_error ? m->error : -1);
        return fail(out, why);
    }
    switch (kind) {
    case STK_DATE:
        if (!valid_date(m->date)) {
            snprintf(why, sizeof why, "date reply with a malformed date '%.40s'", m->date);
            return fail(out, why);
        }
        f->st = STK_UPDATE;
        push(out, ewl_build_dev_update(f->cfg.deviceid, f->owner, f->cfg.rom_version,
                                       f->cfg.mac, -31, f->switch_on));
        break;
    case STK_UPDATE:
        f->st = STK_QUERY;
        push(out, ewl_build_dev_simple("query", f->cfg.deviceid, f->owner));
        break;
    case STK_QUERY:
        f->st = STK_READY;
        break;
    default:
        break;
    }
    return 0;
}

static int on_update_cmd(struct stock_fsm *f, const struct ewl_msg *m, const char *json,
                          size_t n, struct stock_out *out)
{
    if (!m->sequence[0])
        return ignore(f, out, "update command without sequence");
    cJSON *root = cJSON_ParseWithLength(json, n);
    cJSON *params = root ? cJSON_GetObjectItemCaseSensitive(root, "params") : NULL;
    cJSON *sw = params ? cJSON_GetObjectItemCaseSensitive(params, "switch") : NULL;
    if (cJSON_IsString(sw) && !strcmp(sw->valuestring, "on"))
        f->switch_on = 1;
    else if (cJSON_IsString(sw) && !strcmp(sw->valuestring, "off"))
        f->switch_on = 0;
    cJSON_Delete(root);
    push(out, stock_ack(f, m->sequence, ACK_OK));
    return 0;
}

static int upgrade_ack(struct stock_fsm *f, struct stock_out *out, const char *seq,
                        int error, const char *why)
{
    push(out, stock_ack(f, seq, error));
    out->upgrade_acked = 1;
    out->ack_error = error;
    snprintf(out->sequence, sizeof out->sequence, "%s", seq);
    snprintf(out->why, sizeof out->why, "upgrade refused with %d: %s", error, why);
    return 0;
}

/* §1.5: field checks, then the slot rule of system_upgrade_userbin_check(). */
static int on_upgrade(struct stock_fsm *f, const struct ewl_msg *m, struct stock_out *out)
{
    const char *seq = m->sequence;
    char why[160];
    if (!seq[0])
        return ignore(f, out, "upgrade without sequence");
    if (f->busy)
        return ignore(f, out, "upgrade while another one is in progress");
    int ig = f->cfg.variant_ig;
    if (ig ? m->n_bins != 2 : m->n_bins < 1) {
        snprintf(why, sizeof why, "binList has %d entries (needs %s)", m->n_bins,
                 ig ? "exactly 2" : "at least 1");
        return upgrade_ack(f, out, seq, ACK_BAD_FIELDS, why);
    }
    for (int i = 0; i < m->n_bins; i++) {
        if (strncmp(m->bins[i].url, "http://", 7))
            return upgrade_ack(f, out, seq, ACK_BAD_FIELDS, "downloadUrl is not http://");
        if (!hex64(m->bins[i].digest))
            return upgrade_ack(f, out, seq, ACK_BAD_FIELDS, "digest is not 64 hex chars");
    }
    if (f->cfg.refuse_model || strcmp(m->upgrade_model, f->cfg.model)) {
        if (f->cfg.refuse_model)
            snprintf(why, sizeof why, "fault refuse-model (model '%s')", m->upgrade_model);
        else
            snprintf(why, sizeof why, "model '%s' is not the device's '%s'", m->upgrade_model,
                     f->cfg.model);
        return upgrade_ack(f, out, seq, ACK_MODEL, why);
    }
    if (ig && !m->has_auto_restart)
        return upgrade_ack(f, out, seq, ACK_BAD_FIELDS, "no integer autoRestart (IG variant)");
    if (ig && !m->upgrade_version[0])
        return upgrade_ack(f, out, seq, ACK_BAD_FIELDS, "no version (IG variant)");
    if (ig && strcmp(m->upgrade_version, f->cfg.rom_version) <= 0) {
        snprintf(why, sizeof why, "version '%s' not strcmp-greater than romVersion '%s'",
                 m->upgrade_version, f->cfg.rom_version);
        return upgrade_ack(f, out, seq, ACK_VERSION, why);
    }
    /* Running user1 → fetch user2.bin for 0x81000, and vice versa (IG by name; IC by
     * position: index 0 = user1, index 1 = user2). */
    int target = f->cfg.running_slot == 1 ? 2 : 1;
    const char *want = target == 2 ? "user2.bin" : "user1.bin";
    int idx = -1;
    for (int i = 0; i < m->n_bins; i++)
        if (!strcmp(m->bins[i].name, want))
            idx = i;
    if (idx < 0 || (ig && idx != target - 1)) {
        snprintf(why, sizeof why, "no entry named %s%s", want,
                 ig ? " at its position (user1 first, user2 second)" : "");
        return upgrade_ack(f, out, seq, ACK_BAD_FIELDS, why);
    }
    out->upgrade = 1;
    out->bin = m->bins[idx];
    out->target_slot = target;
    out->write_addr = target == 2 ? 0x81000u : 0x1000u;
    snprintf(out->sequence, sizeof out->sequence, "%s", seq);
    f->busy = 1;
    out->upgrade_acked = 1;
    out->ack_error = ACK_OK;
    push(out, stock_ack(f, seq, ACK_OK));
    return 0;
}

/* An upgrade the codec refused (bad binList): the firmware still acks 400 (§1.5). */
static int on_unparsed(struct stock_fsm *f, const char *json, size_t n,
                        struct stock_out *out, const char *err)
{
    char why[160];
    cJSON *root = f->st != STK_REGISTER ? cJSON_ParseWithLength(json, n) : NULL;
    cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "action");
    cJSON *key = cJSON_GetObjectItemCaseSensitive(root, "apikey");
    cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "deviceid");
    cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "sequence");
    if (cJSON_IsString(act) && !strcmp(act->valuestring, "upgrade") && cJSON_IsString(key) &&
        !strcmp(key->valuestring, f->owner) && cJSON_IsString(id) &&
        !strcmp(id->valuestring, f->cfg.deviceid) && cJSON_IsString(seq) &&
        strlen(seq->valuestring) < EWL_SEQ_MAX && !f->busy) {
        snprintf(why, sizeof why, "malformed upgrade fields (%s)", err);
        upgrade_ack(f, out, seq->valuestring, ACK_BAD_FIELDS, why);
    } else {
        snprintf(why, sizeof why, "unparseable message (%s)", err);
        ignore(f, out, why);
    }
    cJSON_Delete(root);
    return 0;
}

void stock_on_text(struct stock_fsm *f, const char *json, size_t n, struct stock_out *out)
{
    memset(out, 0, sizeof *out);
    struct ewl_msg *m = calloc(1, sizeof *m);
    if (!m) {
        fail(out, "out of memory");
        return;
    }
    enum so_err e = ewl_parse_msg(json, n, m);
    if (e != SO_OK) {
        on_unparsed(f, json, n, out, so_strerror(e));
        free(m);
        return;
    }
    if (f->st == STK_REGISTER) {
        if (m->action != EWL_ACT_NONE)
            ignore(f, out, "a command before the register reply");
        else
            on_register_reply(f, m, out);
        free(m);
        return;
    }
    /* Every later server message must carry the owner apikey and our deviceid (IG). */
    if (strcmp(m->apikey, f->owner) || strcmp(m->deviceid, f->cfg.deviceid)) {
        char why[160];
        snprintf(why, sizeof why, "message without the owner apikey and deviceid "
                 "(apikey '%.36s', deviceid '%.20s')", m->apikey, m->deviceid);
        ignore(f, out, why);
        free(m);
        return;
    }
    switch (m->action) {
    case EWL_ACT_NONE: on_reply(f, m, out); break;
    case EWL_ACT_UPDATE: on_update_cmd(f, m, json, n, out); break;
    case EWL_ACT_UPGRADE: on_upgrade(f, m, out); break;
    case EWL_ACT_RESTART:
        if (!m->sequence[0]) {
            ignore(f, out, "restart without sequence");
            break;
        }
        push(out, stock_ack(f, m->sequence, ACK_OK));
        out->restart = 1;
        break;
    case EWL_ACT_REGISTER:
    case EWL_ACT_DATE:
    case EWL_ACT_QUERY:
    case EWL_ACT_REDIRECT:
    case EWL_ACT_NOTIFY:
    case EWL_ACT_UNKNOWN: {
        char why[80];
        snprintf(why, sizeof why, "action '%s' not simulated", m->action_name);
        ignore(f, out, why);
        break;
    }
    }
    free(m);
}
