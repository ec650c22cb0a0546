#include "lib/cloud_fsm.h"
#include "lib/fmt_attr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers ---- */

static void copy(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return;
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static struct cloud_action *push(struct cloud_actions *out, enum cloud_act_type t)
{
    if (out->n >= CLOUD_ACTIONS_MAX)
        return NULL;
    struct cloud_action *a = &out->a[out->n++];
    memset(a, 0, sizeof *a);
    a->type = t;
    return a;
}

static void logf_(struct cloud_actions *out, enum cloud_log_level lvl, const char *fmt, ...)
    SO_PRINTF(3, 4);
static void logf_(struct cloud_actions *out, enum cloud_log_level lvl, const char *fmt, ...)
{
    struct cloud_action *a = push(out, CLOUD_ACT_LOG);
    if (!a)
        return;
    a->level = lvl;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
}

static void event(struct cloud_actions *out, enum cloud_ev ev, int error, int paced)
{
    struct cloud_action *a = push(out, CLOUD_ACT_EVENT);
    if (!a)
        return;
    a->ev = ev;
    a->error = error;
    a->paced = paced;
}

static void error_event(struct cloud_actions *out, const char *fmt, ...)
    SO_PRINTF(2, 3);
static void error_event(struct cloud_actions *out, const char *fmt, ...)
{
    struct cloud_action *a = push(out, CLOUD_ACT_EVENT);
    if (!a)
        return;
    a->ev = CLOUD_EV_ERROR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
}

/* Takes ownership of text (NULL = the builder ran out of memory). */
static enum so_err send_text(struct cloud_actions *out, char *text)
{
    if (!text)
        return SO_E_NOMEM;
    if (strlen(text) >= CLOUD_FRAME_MAX) {
        free(text);
        error_event(out, "a reply grew over %d bytes; the device could not take it",
                    CLOUD_FRAME_MAX);
        return SO_OK;
    }
    struct cloud_action *a = push(out, CLOUD_ACT_SEND);
    if (!a) {
        free(text);
        return SO_E_NOMEM;
    }
    a->text = text;
    return SO_OK;
}

static void u64_to_dec(uint64_t v, char *buf, size_t cap)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof tmp);
    if (n + 1 > cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

static int same_key(const char *a, const char *b)
{
    return !strcasecmp(a, b);
}

/* Any identity with this id, the trusted one first. */
static struct cloud_device *find_dev(struct cloud *c, const char *id)
{
    struct cloud_device *any = NULL;
    for (size_t i = 0; i < c->n_devices; i++) {
        struct cloud_device *d = &c->devices[i];
        if (strcmp(d->deviceid, id))
            continue;
        if (d->trusted)
            return d;
        if (!any)
            any = d;
    }
    return any;
}

static struct cloud_device *find_identity(struct cloud *c, const char *id, const char *key)
{
    for (size_t i = 0; i < c->n_devices; i++)
        if (!strcmp(c->devices[i].deviceid, id) && same_key(c->devices[i].factory_apikey, key))
            return &c->devices[i];
    return NULL;
}

/* A trusted identity with this id but another key: the session is not that device. */
static const struct cloud_device *claimed_by_other(struct cloud *c, const char *id,
                                                   const char *key)
{
    for (size_t i = 0; i < c->n_devices; i++) {
        const struct cloud_device *d = &c->devices[i];
        if (d->trusted && !strcmp(d->deviceid, id) && !same_key(d->factory_apikey, key))
            return d;
    }
    return NULL;
}

/* Finds or adds the identity (id, key); the least recently seen untrusted entry makes
 * room (trusted ones are at most half the table, so there always is one). */
static struct cloud_device *remember(struct cloud *c, const char *id, const char *key,
                                     uint64_t now_ms)
{
    struct cloud_device *d = find_identity(c, id, key);
    if (!d) {
        if (c->n_devices < CLOUD_DEVICES_MAX) {
            d = &c->devices[c->n_devices++];
        } else {
            for (size_t i = 0; i < c->n_devices; i++) {
                struct cloud_device *x = &c->devices[i];
                if (!x->trusted && (!d || x->last_seen_ms < d->last_seen_ms))
                    d = x;
            }
        }
        memset(d, 0, sizeof *d);
        copy(d->deviceid, sizeof d->deviceid, id);
        copy(d->factory_apikey, sizeof d->factory_apikey, key);
        if (!++c->last_ident) /* wrapped: 0 means "none" */
            c->last_ident = 1;
        d->ident = c->last_ident;
    }
    d->last_seen_ms = now_ms;
    return d;
}

/* The session's identity (re-added if it was replaced meanwhile). */
static struct cloud_device *sess_dev(struct cloud_sess *s, uint64_t now_ms)
{
    return remember(s->cloud, s->deviceid, s->factory_apikey, now_ms);
}

static int paced_for(const struct cloud *c, const struct cloud_device *d)
{
    switch (c->cfg.pace) {
    case CLOUD_PACE_SLOW: return 1;
    case CLOUD_PACE_FAST: return 0;
    case CLOUD_PACE_AUTO: return d && d->paced;
    }
    return 0;
}

static int has_upgrade(const struct cloud *c)
{
    return c->cfg.file[0][0] && c->cfg.file[1][0];
}

/* ---- public ---- */

const char *cloud_sess_state_name(enum cloud_sess_state st)
{
    switch (st) {
    case DEV_WAIT_REGISTER: return "wait-register";
    case DEV_READY: return "ready";
    case DEV_UPGRADE_SENT: return "upgrade-sent";
    case DEV_DOWNLOADING: return "downloading";
    case DEV_RETRY_WAIT: return "retry-wait";
    case DEV_DONE: return "done";
    case DEV_FAILED: return "failed";
    case DEV_CLOSED: return "closed";
    }
    return "?";
}

enum so_err cloud_init(struct cloud *c, const struct cloud_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->cfg.version[sizeof c->cfg.version - 1] = '\0';
    for (int i = 0; i < 2; i++) {
        c->cfg.file[i][CLOUD_FILE_MAX - 1] = '\0';
        c->cfg.digest[i][EWL_DIGEST_LEN] = '\0';
    }
    if (!has_upgrade(c))
        return SO_OK; /* dispatch + WS answers only; no upgrade command */
    if (!ewl_is_digest(c->cfg.digest[0]) || !ewl_is_digest(c->cfg.digest[1]) ||
        !c->cfg.version[0] || c->cfg.http_port <= 0 || c->cfg.http_port > 65535)
        return SO_E_ARG;
    return SO_OK;
}

const struct cloud_device *cloud_find_device(const struct cloud *c, const char *deviceid)
{
    return find_dev((struct cloud *)c, deviceid);
}

const struct cloud_device *cloud_find_ident(const struct cloud *c, unsigned ident)
{
    for (size_t i = 0; ident && i < c->n_devices; i++)
        if (c->devices[i].ident == ident)
            return &c->devices[i];
    return NULL;
}

enum so_err cloud_trust(struct cloud *c, const char *deviceid, const char *factory_apikey)
{
    if (!deviceid || !deviceid[0] || strlen(deviceid) >= EWL_DEVICEID_MAX ||
        !factory_apikey || !ewl_is_uuid(factory_apikey))
        return SO_E_ARG;
    struct cloud_device *d = find_identity(c, deviceid, factory_apikey);
    if (d && d->trusted)
        return SO_OK;
    if (c->n_trusted >= CLOUD_TRUSTED_MAX)
        return SO_E_NOMEM;
    d = remember(c, deviceid, factory_apikey, d ? d->last_seen_ms : 0);
    d->trusted = 1;
    c->n_trusted++;
    return SO_OK;
}

void cloud_sess_init(struct cloud_sess *s, struct cloud *c, const char *peer_ip,
                  const char *host)
{
    memset(s, 0, sizeof *s);
    s->cloud = c;
    s->state = DEV_WAIT_REGISTER;
    copy(s->peer_ip, sizeof s->peer_ip, peer_ip);
    copy(s->host, sizeof s->host, host);
    c->live_sessions++;
}

void cloud_sess_end(struct cloud_sess *s)
{
    if (!s->cloud)
        return;
    if (s->cloud->live_sessions)
        s->cloud->live_sessions--;
    s->cloud = NULL;
}

int cloud_sess_paced(const struct cloud_sess *s)
{
    if (!s->cloud)
        return 0;
    return paced_for(s->cloud, s->deviceid[0] ? find_identity(s->cloud, s->deviceid,
                                                             s->factory_apikey) : NULL);
}

uint64_t cloud_sess_next_deadline(const struct cloud_sess *s)
{
    return s->state == DEV_RETRY_WAIT ? s->reissue_at_ms : 0;
}

void cloud_actions_clear(struct cloud_actions *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->a[i].text);
        a->a[i].text = NULL;
    }
    a->n = 0;
}

/* The upgrade command of §1.5: both images, user1 first, the device's own model. */
static enum so_err send_upgrade(struct cloud_sess *s, uint64_t now_ms,
                                struct cloud_actions *out)
{
    struct cloud *c = s->cloud;
    /* The budget is the identity's: a stranger using this id cannot spend it. */
    struct cloud_device *d = sess_dev(s, now_ms);
    if (d->upgrades >= CLOUD_UPGRADE_ATTEMPTS_MAX) {
        s->state = DEV_FAILED;
        error_event(out, "device %s got %d upgrade commands without success; giving up",
                    s->deviceid, d->upgrades);
        return SO_OK;
    }
    struct ewl_upgrade u;
    memset(&u, 0, sizeof u);
    copy(u.deviceid, sizeof u.deviceid, s->deviceid);
    copy(u.apikey, sizeof u.apikey, s->apikey);
    /* A millisecond epoch string (§1.5), strictly increasing within the session. */
    uint64_t seq = now_ms > s->last_seq_ms ? now_ms : s->last_seq_ms + 1;
    s->last_seq_ms = seq;
    u64_to_dec(seq, u.sequence, sizeof u.sequence);
    copy(u.model, sizeof u.model, s->model);
    copy(u.version, sizeof u.version, c->cfg.version);
    u.auto_restart = 1;
    u.n_bins = 2;
    static const char *const bin_names[2] = {"user1.bin", "user2.bin"};
    for (int i = 0; i < 2; i++) {
        int n = snprintf(u.bins[i].url, sizeof u.bins[i].url, "http://%s:%d/ota/%s",
                         s->host, c->cfg.http_port, c->cfg.file[i]);
        if (n < 0 || (size_t)n >= sizeof u.bins[i].url) {
            s->state = DEV_FAILED;
            error_event(out, "the download URL for %s is too long for the device",
                        c->cfg.file[i]);
            return SO_OK;
        }
        copy(u.bins[i].digest, sizeof u.bins[i].digest, c->cfg.digest[i]);
        copy(u.bins[i].name, sizeof u.bins[i].name, bin_names[i]);
    }
    enum so_err e = send_text(out, ewl_build_upgrade(&u));
    if (e != SO_OK)
        return e;
    copy(s->sequence, sizeof s->sequence, u.sequence);
    d->upgrades++;
    s->upgrades++;
    s->reissue_at_ms = 0;
    s->state = DEV_UPGRADE_SENT;
    int paced = paced_for(c, d);
    if (paced && c->cfg.pace == CLOUD_PACE_AUTO) {
        /* The device may have come back with another address. */
        struct cloud_action *a = push(out, CLOUD_ACT_SET_PACED);
        if (a)
            a->paced = 1;
    }
    event(out, CLOUD_EV_UPGRADE_SENT, 0, paced);
    return SO_OK;
}

static enum so_err on_register(struct cloud_sess *s, const struct ewl_msg *m,
                               uint64_t now_ms, const uint8_t rnd[16],
                               struct cloud_actions *out)
{
    if (!m->deviceid[0]) {
        logf_(out, CLOUD_LOG_WARN, "register without deviceid ignored");
        return SO_OK;
    }
    copy(s->deviceid, sizeof s->deviceid, m->deviceid);
    copy(s->factory_apikey, sizeof s->factory_apikey, m->apikey);
    copy(s->model, sizeof s->model, m->model);
    copy(s->rom_version, sizeof s->rom_version, m->rom_version);
    /* A new owner key, never the factory key (§1.4 rule a). Flipping one bit of the
     * random input is enough to make it differ. */
    uint8_t r[16];
    memcpy(r, rnd, sizeof r);
    ewl_format_uuid(r, s->apikey);
    if (!strcasecmp(s->apikey, s->factory_apikey)) {
        r[15] ^= 1;
        ewl_format_uuid(r, s->apikey);
    }
    struct cloud_device *d = sess_dev(s, now_ms);
    s->ident = d->ident;
    s->trusted = d->trusted;
    const struct cloud_device *owner = claimed_by_other(s->cloud, s->deviceid,
                                                        s->factory_apikey);
    if (owner)
        logf_(out, CLOUD_LOG_WARN, "register of device %s with a factory apikey other "
              "than the one it was provisioned with: answered, but not that device",
              s->deviceid);
    copy(d->owner_apikey, sizeof d->owner_apikey, s->apikey);
    copy(d->peer_ip, sizeof d->peer_ip, s->peer_ip);
    if (s->model[0])
        copy(d->model, sizeof d->model, s->model);
    if (!s->model[0])
        logf_(out, CLOUD_LOG_WARN, "device %s registered without a model; the upgrade "
              "command must carry the device's own model", s->deviceid);
    s->state = DEV_READY;
    s->updates = 0;
    s->reissue_at_ms = 0;
    enum so_err e = send_text(out, ewl_build_register_reply(s->deviceid, s->apikey,
                                                            CLOUD_HB_INTERVAL));
    if (e != SO_OK)
        return e;
    event(out, CLOUD_EV_REGISTER, 0, paced_for(s->cloud, d));
    return SO_OK;
}

/* A message before any register: accepted only from a device we know, carrying
 * the owner key we gave it (a reconnect that skips register). */
static int adopt_known(struct cloud_sess *s, const struct ewl_msg *m, uint64_t now_ms)
{
    struct cloud *c = s->cloud;
    struct cloud_device *d = NULL;
    for (size_t i = 0; m->deviceid[0] && m->apikey[0] && i < c->n_devices; i++) {
        struct cloud_device *x = &c->devices[i];
        if (!strcmp(x->deviceid, m->deviceid) && x->owner_apikey[0] &&
            same_key(x->owner_apikey, m->apikey)) {
            d = x;
            break;
        }
    }
    if (!d)
        return 0;
    d->last_seen_ms = now_ms;
    copy(s->deviceid, sizeof s->deviceid, d->deviceid);
    copy(s->factory_apikey, sizeof s->factory_apikey, d->factory_apikey);
    copy(s->apikey, sizeof s->apikey, d->owner_apikey);
    copy(s->model, sizeof s->model, d->model);
    s->ident = d->ident;
    s->trusted = d->trusted;
    s->state = DEV_READY;
    return 1;
}

static enum so_err on_ack(struct cloud_sess *s, const struct ewl_msg *m, uint64_t now_ms,
                          struct cloud_actions *out)
{
    if (!s->sequence[0] || strcmp(m->sequence, s->sequence)) {
        logf_(out, CLOUD_LOG_DEBUG, "ack for sequence '%s' (ours: '%s') ignored",
              m->sequence, s->sequence);
        return SO_OK;
    }
    int err = m->has_error ? m->error : 0;
    struct cloud_device *d = sess_dev(s, now_ms);
    d->has_ack = 1;
    d->last_ack = err;
    if (err == 0) {
        s->state = DEV_DOWNLOADING;
    } else if (err == 404) {
        /* Download failed: SonOTA's slowstream case (§1.5). Pace this device and
         * its address, and offer the upgrade again. */
        if (s->cloud->cfg.pace == CLOUD_PACE_AUTO) {
            d->paced = 1;
            struct cloud_action *a = push(out, CLOUD_ACT_SET_PACED);
            if (a)
                a->paced = 1;
        }
        s->state = DEV_RETRY_WAIT;
        s->reissue_at_ms = now_ms + CLOUD_REISSUE_DELAY_MS;
    } else {
        s->state = DEV_FAILED;
    }
    event(out, CLOUD_EV_UPGRADE_ACK, err, paced_for(s->cloud, d));
    return SO_OK;
}

static enum so_err on_update(struct cloud_sess *s, const struct ewl_msg *m,
                             uint64_t now_ms, struct cloud_actions *out)
{
    enum so_err e = send_text(out, ewl_build_update_reply(s->deviceid, s->apikey));
    if (e != SO_OK)
        return e;
    s->updates++;
    if (m->has_upgrade_state) {
        s->state = m->upgrade_state == 0 ? DEV_DONE : DEV_FAILED;
        event(out, CLOUD_EV_UPGRADE_STATE, m->upgrade_state, cloud_sess_paced(s));
        return SO_OK;
    }
    /* SonOTA sends the upgrade right after answering the first update (§1.4). */
    if (s->updates == 1 && s->upgrades == 0 && has_upgrade(s->cloud) &&
        (s->state == DEV_READY))
        return send_upgrade(s, now_ms, out);
    return SO_OK;
}

enum so_err cloud_sess_on_text(struct cloud_sess *s, const char *json, size_t len,
                            uint64_t now_ms, const uint8_t rnd[16],
                            struct cloud_actions *out)
{
    if (!s->cloud || s->state == DEV_CLOSED)
        return SO_OK;
    if (len > EWL_JSON_MAX) {
        logf_(out, CLOUD_LOG_WARN, "message of %zu bytes is over the %d-byte limit; "
              "closing", len, EWL_JSON_MAX);
        s->state = DEV_CLOSED;
        push(out, CLOUD_ACT_CLOSE);
        return SO_OK;
    }
    struct ewl_msg m;
    enum so_err pe = ewl_parse_msg(json, len, &m);
    if (pe != SO_OK) {
        logf_(out, CLOUD_LOG_WARN, "unusable message ignored: %s", so_strerror(pe));
        return SO_OK;
    }
    if (m.action == EWL_ACT_REGISTER) {
        /* One session, one device: a register for another id on a registered
         * session is not a reconnect but someone else's message. */
        if (s->state != DEV_WAIT_REGISTER && s->deviceid[0] && m.deviceid[0] &&
            strcmp(m.deviceid, s->deviceid)) {
            logf_(out, CLOUD_LOG_WARN, "register of device %s on the session of %s ignored",
                  m.deviceid, s->deviceid);
            return SO_OK;
        }
        return on_register(s, &m, now_ms, rnd, out);
    }

    if (s->state == DEV_WAIT_REGISTER && !adopt_known(s, &m, now_ms)) {
        logf_(out, CLOUD_LOG_WARN, "'%s' before register ignored",
              m.action == EWL_ACT_NONE ? "reply" : m.action_name);
        return SO_OK;
    }
    if (m.deviceid[0] && strcmp(m.deviceid, s->deviceid)) {
        logf_(out, CLOUD_LOG_WARN, "message for device %s on the session of %s ignored",
              m.deviceid, s->deviceid);
        return SO_OK;
    }
    /* After register every message carries the owner key we gave (§1.4 rule a);
     * the factory key is tolerated. Any other key is not this device's: ignored. */
    if (m.apikey[0] && strcasecmp(m.apikey, s->apikey) &&
        (!s->factory_apikey[0] || strcasecmp(m.apikey, s->factory_apikey))) {
        logf_(out, CLOUD_LOG_WARN, "message from device %s with a wrong apikey ignored",
              s->deviceid);
        return SO_OK;
    }

    switch (m.action) {
    case EWL_ACT_DATE: {
        char date[25];
        ewl_format_date((int64_t)(now_ms / 1000), (int)(now_ms % 1000), date);
        return send_text(out, ewl_build_date_reply(s->deviceid, s->apikey, date));
    }
    case EWL_ACT_UPDATE:
        return on_update(s, &m, now_ms, out);
    case EWL_ACT_QUERY:
        return send_text(out, ewl_build_query_reply(s->deviceid, s->apikey));
    case EWL_ACT_NONE:
        if (m.sequence[0])
            return on_ack(s, &m, now_ms, out);
        logf_(out, CLOUD_LOG_DEBUG, "message without action or sequence ignored");
        return SO_OK;
    case EWL_ACT_REGISTER:
        break; /* handled above */
    case EWL_ACT_UPGRADE:
    case EWL_ACT_RESTART:
    case EWL_ACT_REDIRECT:
    case EWL_ACT_NOTIFY:
    case EWL_ACT_UNKNOWN:
        logf_(out, CLOUD_LOG_INFO, "device %s sent action '%s'; ignored", s->deviceid,
              m.action_name);
        return SO_OK;
    }
    return SO_OK;
}

enum so_err cloud_sess_on_tick(struct cloud_sess *s, uint64_t now_ms, struct cloud_actions *out)
{
    if (!s->cloud || s->state != DEV_RETRY_WAIT || !s->reissue_at_ms ||
        now_ms < s->reissue_at_ms)
        return SO_OK;
    s->reissue_at_ms = 0;
    logf_(out, CLOUD_LOG_INFO, "offering the upgrade to %s again%s", s->deviceid,
          cloud_sess_paced(s) ? ", paced" : "");
    return send_upgrade(s, now_ms, out);
}
