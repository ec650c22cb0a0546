/* tasmota_cfg.c - the Tasmota configuration as a state machine over httpc (see
 * tasmota_cfg.h). Each phase issues one GET; its handler runs from tcfg_step when the
 * answer is in, and either finishes, moves to the next phase or schedules a wake-up (a
 * retry while the device is away, a pause while it restarts). */
#include "sonota/tasmota_cfg.h"

#include "sonota/ui_int.h"

#include "io/log.h"
#include "lib/tasmota_msg.h"
#include "sonota/cmds.h"
#include "sonota/httpc.h"
#include "plat/fs.h"
#include "plat/clock.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tget {
    TG_OK,        /* an HTTP answer (any status) */
    TG_DOWN,      /* refused / unreachable: not there (yet), or restarting */
    TG_TIMEOUT,
    TG_BROKEN,    /* closed early, too big, interrupted, ... */
};

enum phase {
    PH_WEB,        /* GET / until Tasmota's web server answers */
    PH_DETECT,     /* Status 2: the generation */
    PH_PROBE_WI,   /* no /cm: make sure /wi is missing too (5.x) */
    PH_BL_STATUS,  /* Status 0 before the Backlog: BootCount */
    PH_BL_SEND,    /* the Backlog */
    PH_BL_RUN,     /* pause while only the user's commands run */
    PH_BL_POLL,    /* Status 0 until the settings show after the restart */
    PH_LEGACY_MQTT,/* 5.x: /sv?w=2 */
    PH_WIFI,       /* /wi or /sv */
    PH_LAN,        /* Status 0 (or /) on the home LAN */
    PH_DONE,
};

enum wait {
    W_NONE,
    W_FETCH,       /* a request is in flight */
    W_RETRY,       /* a failed request is asked again at wake */
    W_NAP,         /* the phase's pause ends at wake */
};

struct treply {
    char buf[TASMOTA_REPLY_MAX + 1];
    size_t len;
    long status;
};

struct tcfg {
    const struct tcfg_opts *o;
    struct ui *u;
    struct httpc *h;
    int64_t deadline, now;
    volatile sig_atomic_t *stop;
    struct tcfg_result *res;
    enum phase ph;
    enum wait wait;
    int64_t wake;
    int code;                       /* the exit status once PH_DONE */
    /* the request of the phase */
    struct httpc_req *req;
    const char *base;
    char target[TASMOTA_TARGET_MAX], shown[TASMOTA_TARGET_MAX];
    int retry;                      /* asked again every poll_ms while the device is away */
    int got;                        /* an answer waits for its phase handler */
    enum tget g;
    struct treply r;
    char err[1024];
    /* what a failed pause reports */
    int (*nap_fail)(struct tcfg *x);
    void (*nap_next)(struct tcfg *x);
    /* the Backlog */
    char bl_cmd[TASMOTA_CMND_MAX + 1], bl_shown_cmd[TASMOTA_CMND_MAX + 1];
    char bl_target[TASMOTA_TARGET_MAX], bl_shown[TASMOTA_TARGET_MAX];
    int bl_n, bl_known;
    long boots;
    struct tasmota_status st;
};

/* ---- output ---- */

/* A JSON event when --json is on, else NULL (the caller then writes a human line). */
static cJSON *ev(struct ui *u, const char *name)
{
    return u->json ? ui_ev_new(u, name) : NULL;
}

/* An "action" the user must take: JSON event, or the text as a human line. */
static void action(struct ui *u, const char *what, const char *ssid, const char *text)
{
    cJSON *o = ev(u, "action");
    if (o) {
        cJSON_AddStringToObject(o, "action", what);
        cJSON_AddStringToObject(o, "message", text);
        if (ssid)
            cJSON_AddStringToObject(o, "ssid", ssid);
        ui_ev_emit(u, o);
    } else {
        ui_info(u, "%s", text);
    }
}


static void configured(struct ui *u, const char *what, int n, const char *text)
{
    cJSON *o = ev(u, "configured");
    if (o) {
        cJSON_AddStringToObject(o, "what", what);
        if (n >= 0)
            cJSON_AddNumberToObject(o, "commands", n);
        cJSON_AddStringToObject(o, "message", text);
        ui_ev_emit(u, o);
    } else {
        ui_info(u, "%s", text);
    }
}

static int matches(const struct tasmota_cfg *c, const struct tasmota_status *st)
{
    return (!c->mqtt_host || !*c->mqtt_host ||
            ((st->have & TASMOTA_ST_MQTT_HOST) && !strcmp(st->mqtt_host, c->mqtt_host))) &&
           (!c->mqtt_user || !*c->mqtt_user ||
            ((st->have & TASMOTA_ST_MQTT_USER) && !strcmp(st->mqtt_user, c->mqtt_user))) &&
           (!c->topic || !*c->topic ||
            ((st->have & TASMOTA_ST_TOPIC) && !strcmp(st->topic, c->topic))) &&
           (!c->hostname || !*c->hostname ||
            ((st->have & TASMOTA_ST_HOSTNAME) && !strcmp(st->hostname, c->hostname)));
}

/* ---- run context ---- */

static int stopped(const struct tcfg *x)
{
    return x->stop && *x->stop;
}

/* The end of a run that did not make it: the exit status for stop / deadline / other. */
static int give_up(struct tcfg *x, int code, const char *ecode, const char *what)
{
    if (stopped(x)) {
        ui_error(x->u, "interrupted", EXIT_INTERRUPTED, "interrupted while %s; run `sonota "
                 "configure` again to continue (settings already sent are kept)", what);
        return EXIT_INTERRUPTED;
    }
    if (x->now >= x->deadline) {
        ui_error(x->u, "timeout", EXIT_NETWORK, "gave up (--timeout) while %s: %s", what,
                 x->err[0] ? x->err : "no answer");
        return EXIT_NETWORK;
    }
    ui_error(x->u, ecode, code, "%s", x->err);
    return code;
}

static void finish(struct tcfg *x, int code)
{
    x->ph = PH_DONE;
    x->wait = W_NONE;
    x->code = code;
}

/* ---- requests and pauses ---- */

static void on_fetched(void *user, const struct httpc_result *hr)
{
    struct tcfg *x = user;
    x->req = NULL;
    x->got = 1;
    x->r.status = hr->status;
    x->r.len = hr->len < TASMOTA_REPLY_MAX ? hr->len : TASMOTA_REPLY_MAX;
    memcpy(x->r.buf, hr->body, x->r.len);
    x->r.buf[x->r.len] = '\0';
    LOG_D("GET %s%s -> %s %ld, %zu B", x->base, x->shown, hr->err == SO_OK ? "HTTP" : "failed",
          hr->status, hr->len);
    switch (hr->err) {
    case SO_OK:
        x->g = TG_OK;
        break;
    case SO_E_NET_UNREACHABLE:
        snprintf(x->err, sizeof x->err, "GET %s%.600s: cannot connect (%s)", x->base, x->shown,
                 hr->cause);
        x->g = TG_DOWN;
        break;
    case SO_E_TIMEOUT:
        snprintf(x->err, sizeof x->err, "GET %s%.600s: no answer within %d ms", x->base,
                 x->shown, x->o->request_ms);
        x->g = TG_TIMEOUT;
        break;
    default:
        snprintf(x->err, sizeof x->err, "GET %s%.600s: %s", x->base, x->shown,
                 hr->err == SO_E_NET_REPLY_TOOBIG ? "the answer is too large for Tasmota"
                 : hr->cause[0] ? hr->cause : so_strerror(hr->err));
        x->g = TG_BROKEN;
        break;
    }
}

/* (Re)sends the phase's request. The URL may hold passwords: only `shown` is logged. */
static void fetch_again(struct tcfg *x)
{
    char url[TCFG_URL_MAX + TASMOTA_TARGET_MAX + 1], shown[TCFG_URL_MAX + TASMOTA_TARGET_MAX + 1];
    snprintf(url, sizeof url, "%s%s", x->base, x->target);
    snprintf(shown, sizeof shown, "%s%s", x->base, x->shown);
    struct httpc_opts ho = {.url = url, .shown_url = shown, .timeout_ms = x->o->request_ms,
                            .reply_max = TASMOTA_REPLY_MAX};
    x->wait = W_FETCH;
    x->req = httpc_start(x->h, &ho, on_fetched, x, x->err, sizeof x->err);
    plat_wipe(url, sizeof url);
    if (!x->req) {
        x->g = TG_BROKEN;
        x->got = 1;
    }
}

/* GET base+target for the current phase; retry: asked again every poll_ms until the device
 * answers at all (any HTTP status), or deadline/stop. */
static void fetch(struct tcfg *x, enum phase ph, const char *base, const char *target,
                  const char *shown, int retry)
{
    x->ph = ph;
    x->base = base;
    snprintf(x->target, sizeof x->target, "%s", target);
    snprintf(x->shown, sizeof x->shown, "%s", shown);
    x->retry = retry;
    fetch_again(x);
}

/* Status N over /cm for the current phase. */
static void fetch_status(struct tcfg *x, enum phase ph, const char *base, int n, int retry)
{
    char cmnd[16], target[256], shown[256];
    snprintf(cmnd, sizeof cmnd, "Status %d", n);
    const char *wp = x->o->cfg.web_password;
    tasmota_url_cm(cmnd, wp, 0, target, sizeof target);
    tasmota_url_cm(cmnd, wp, 1, shown, sizeof shown);
    fetch(x, ph, base, target, shown, retry);
    plat_wipe(target, sizeof target);
}

/* A pause of up to ms (never past the deadline); then next, or fail when stopped or out of
 * time. */
static void nap(struct tcfg *x, int ms, int (*fail)(struct tcfg *), void (*next)(struct tcfg *))
{
    x->wait = W_NAP;
    x->wake = x->now + ms < x->deadline ? x->now + ms : x->deadline;
    x->nap_fail = fail;
    x->nap_next = next;
}

/* The answer of a Status request: 0 with st, 1 when /cm is missing (5.x), -1 with the exit
 * code in *code. */
static int status_check(struct tcfg *x, const char *base, int n, struct tasmota_status *st,
                        int *code)
{
    if (x->g != TG_OK) {
        *code = EXIT_NETWORK;
        return -1;
    }
    if (x->r.status == 404) {
        *code = EXIT_OK; /* no /cm: Tasmota 5.x */
        return 1;
    }
    if (x->r.status != 200 || tasmota_status_parse(x->r.buf, x->r.len, st) != SO_OK) {
        snprintf(x->err, sizeof x->err, "%s/cm?cmnd=Status%%20%d answers HTTP %ld%s: not "
                 "Tasmota's command API", base, n, x->r.status,
                 x->r.status == 200 ? " without JSON" : "");
        *code = EXIT_DEVICE;
        return -1;
    }
    if (st->have & TASMOTA_ST_WARNING) {
        snprintf(x->err, sizeof x->err, "Tasmota refuses commands: \"%s\" (a web admin "
                 "password is set: clear it with WebPassword 0, or reset the device)",
                 st->warning);
        *code = EXIT_DEVICE;
        return -1;
    }
    return 0;
}

/* A form GET (/wi or /sv): 200 expected. */
static int form_check(struct tcfg *x, const char *what)
{
    if (x->g != TG_OK)
        return give_up(x, EXIT_NETWORK, "device-unreachable", what);
    if (x->r.status != 200) {
        snprintf(x->err, sizeof x->err, "%.300s%.600s answers HTTP %ld", x->o->device_url,
                 x->shown, x->r.status);
        return give_up(x, EXIT_DEVICE, "device-refused", what);
    }
    return EXIT_OK;
}

/* ---- phases ---- */

static void after_mqtt(struct tcfg *x);
static void lan_try(struct tcfg *x);

static void web_done(struct tcfg *x)
{
    const char *why = "waiting for Tasmota's web server", *base = x->o->device_url;
    if (x->g != TG_OK) {
        finish(x, give_up(x, EXIT_NETWORK, "device-unreachable", why));
    } else if (x->r.status == 200) {
        fetch_status(x, PH_DETECT, base, 2, 1);
    } else if (x->r.status == 302) {
        snprintf(x->err, sizeof x->err, "%s/ redirects elsewhere (Tasmota's captive portal "
                 "does that for names): use the IP address, e.g. --device " TCFG_DEVICE_URL,
                 base);
        finish(x, give_up(x, EXIT_USAGE, "usage", why));
    } else {
        snprintf(x->err, sizeof x->err, "%s/ answers HTTP %ld: that is not Tasmota's web "
                 "server; is this computer on the device's tasmota-... or sonoff-... WiFi?",
                 base, x->r.status);
        finish(x, give_up(x, EXIT_DEVICE, "device-reply", why));
    }
}

static void backlog_begin(struct tcfg *x);
static void legacy_begin(struct tcfg *x);

/* The generation is known: tell, then send the settings its way. */
static void detected(struct tcfg *x)
{
    struct tcfg_result *res = x->res;
    cJSON *o = ev(x->u, "tasmota");
    if (o) {
        cJSON_AddStringToObject(o, "version", res->version);
        cJSON_AddBoolToObject(o, "legacy", res->legacy);
        cJSON_AddStringToObject(o, "device", x->o->device_url);
        ui_ev_emit(x->u, o);
    } else {
        ui_info(x->u, "Tasmota %s answers at %s%s", res->version, x->o->device_url,
                res->legacy ? " (5.x: settings go through its /sv forms)" : "");
    }
    if (res->legacy)
        legacy_begin(x);
    else
        backlog_begin(x);
}

static void detect_done(struct tcfg *x)
{
    const char *why = "asking for the firmware version";
    int code = EXIT_OK;
    int r = status_check(x, x->o->device_url, 2, &x->st, &code);
    if (r < 0) {
        finish(x, give_up(x, code, code == EXIT_DEVICE ? "device-reply" : "device-unreachable",
                          why));
    } else if (r == 1) {
        /* 5.x has neither /cm nor /wi: make sure /wi is missing too (§7). */
        fetch(x, PH_PROBE_WI, x->o->device_url, "/wi", "/wi", 1);
    } else if (!(x->st.have & TASMOTA_ST_VERSION)) {
        snprintf(x->err, sizeof x->err, "%s/cm?cmnd=Status%%202 has no StatusFWR.Version: not "
                 "Tasmota?", x->o->device_url);
        finish(x, give_up(x, EXIT_DEVICE, "device-reply", why));
    } else {
        snprintf(x->res->version, sizeof x->res->version, "%s", x->st.version);
        x->res->legacy = tasmota_version_major(x->st.version) == 5;
        detected(x);
    }
}

static void probe_wi_done(struct tcfg *x)
{
    if (x->g != TG_OK) {
        finish(x, give_up(x, EXIT_NETWORK, "device-unreachable", "probing /wi"));
    } else if (x->r.status != 404) {
        snprintf(x->err, sizeof x->err, "%s has /wi but no /cm: an unknown Tasmota "
                 "variant; configure it in its web page", x->o->device_url);
        finish(x, give_up(x, EXIT_DEVICE, "device-reply", "probing /wi"));
    } else {
        x->res->legacy = 1;
        snprintf(x->res->version, sizeof x->res->version, "5.x");
        detected(x);
    }
}

/* Modern: the Backlog, then wait until its settings show and the restart they cause
 * (BootCount grew) is over, so the WiFi form cannot be lost in that restart. */
static void backlog_begin(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    int n = 0;
    if (tasmota_backlog(c, 0, x->bl_cmd, sizeof x->bl_cmd, &n) != SO_OK ||
        tasmota_backlog(c, 1, x->bl_shown_cmd, sizeof x->bl_shown_cmd, &n) != SO_OK ||
        (n && (tasmota_url_cm(x->bl_cmd, c->web_password, 0, x->bl_target,
                              sizeof x->bl_target) != SO_OK ||
               tasmota_url_cm(x->bl_shown_cmd, c->web_password, 1, x->bl_shown,
                              sizeof x->bl_shown) != SO_OK))) {
        snprintf(x->err, sizeof x->err, "the Backlog is too long or holds a bad value (at most "
                 "%d commands, %d bytes)", TASMOTA_BACKLOG_MAX, TASMOTA_CMND_MAX);
        finish(x, give_up(x, EXIT_USAGE, "usage", "building the Backlog"));
        return;
    }
    if (!n) {
        after_mqtt(x);
        return;
    }
    x->bl_n = n;
    x->boots = -1;
    fetch_status(x, PH_BL_STATUS, x->o->device_url, 0, 1);
}

static void bl_status_done(struct tcfg *x)
{
    int code = EXIT_OK;
    if (status_check(x, x->o->device_url, 0, &x->st, &code) != 0) {
        finish(x, give_up(x, code ? code : EXIT_DEVICE, "device-reply", "reading Status 0"));
        return;
    }
    if (x->st.have & TASMOTA_ST_BOOTCOUNT)
        x->boots = x->st.boot_count;
    ui_detail(x->u, "sending %s", x->bl_shown_cmd);
    fetch(x, PH_BL_SEND, x->o->device_url, x->bl_target, x->bl_shown, 1);
}

static int bl_run_fail(struct tcfg *x)
{
    return give_up(x, EXIT_NETWORK, "timeout", "waiting for the Backlog to run");
}

static void bl_poll(struct tcfg *x)
{
    fetch_status(x, PH_BL_POLL, x->o->device_url, 0, 1);
}

static void bl_wait_restart(struct tcfg *x)
{
    ui_info(x->u, "waiting for Tasmota to apply the settings and restart...");
    bl_poll(x);
}

static void bl_send_done(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    const char *what = "sending the Backlog";
    struct tasmota_status *st = &x->st;
    int n = x->bl_n;
    if (x->g != TG_OK) {
        finish(x, give_up(x, EXIT_NETWORK, "device-unreachable", what));
        return;
    }
    if (x->r.status != 200 || tasmota_status_parse(x->r.buf, x->r.len, st) != SO_OK ||
        (st->have & TASMOTA_ST_WARNING && strstr(st->warning, "password"))) {
        snprintf(x->err, sizeof x->err, "the Backlog got HTTP %ld%s", x->r.status,
                 st->have & TASMOTA_ST_WARNING ? " and a refusal (web password set?)" : "");
        finish(x, give_up(x, EXIT_DEVICE, "device-refused", what));
        return;
    }
    x->res->backlog_cmds = n;
    char text[TASMOTA_CMND_MAX + 64];
    snprintf(text, sizeof text, "Backlog sent (%d command%s): %s", n, n == 1 ? "" : "s",
             x->bl_shown_cmd + 8);
    configured(x->u, "backlog", n, text);
    x->bl_known = (c->mqtt_host && *c->mqtt_host) || (c->mqtt_user && *c->mqtt_user) ||
                  (c->mqtt_password && *c->mqtt_password) || (c->topic && *c->topic) ||
                  (c->hostname && *c->hostname);
    if (!x->bl_known) {
        /* Only the user's commands: no restart is certain. Let them run (one per 200 ms,
         * SetOption34), then wait until the device answers again in case one restarted it. */
        x->ph = PH_BL_RUN;
        nap(x, (n + 1) * 250 + 2000, bl_run_fail, bl_wait_restart);
        return;
    }
    bl_wait_restart(x);
}

static int bl_poll_fail(struct tcfg *x)
{
    return give_up(x, EXIT_DEVICE, "timeout", "waiting for the settings to show");
}

static void bl_poll_done(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    int code = EXIT_OK;
    if (status_check(x, x->o->device_url, 0, &x->st, &code) != 0) {
        finish(x, give_up(x, code ? code : EXIT_DEVICE, "device-reply",
                          "waiting for the settings to show"));
        return;
    }
    int restarted = !x->bl_known || x->boots < 0 || !(x->st.have & TASMOTA_ST_BOOTCOUNT) ||
                    x->st.boot_count > x->boots;
    if (matches(c, &x->st) && restarted) {
        if (x->bl_known)
            ui_detail(x->u, "Status 0 confirms MqttHost/MqttUser/Topic/Hostname after the "
                      "restart");
        after_mqtt(x);
        return;
    }
    snprintf(x->err, sizeof x->err, "the settings did not show in Status 0%s",
             matches(c, &x->st) ? " (no restart seen yet)" : "");
    nap(x, x->o->poll_ms, bl_poll_fail, bl_poll);
}

static void legacy_begin(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    const char *pw = c->wifi_password;
    if (pw && strchr(pw, '*')) {
        snprintf(x->err, sizeof x->err, "Tasmota 5.x ignores a WiFi password holding '*' "
                 "(it takes it for the masked placeholder): upgrade Tasmota first, or set "
                 "the WiFi on its page by hand");
        finish(x, give_up(x, EXIT_DEVICE, "device-refused", "checking the WiFi password"));
        return;
    }
    if (c->backlog && *c->backlog)
        ui_warn(x->u, "backlog-skipped", "Tasmota 5.x has no command API on its web server: "
                "--tasmota-backlog was not sent; enter it in the device's console later");
    if (!(c->mqtt_host && *c->mqtt_host) && !(c->mqtt_user && *c->mqtt_user) &&
        !(c->mqtt_password && *c->mqtt_password) && !(c->topic && *c->topic)) {
        after_mqtt(x);
        return;
    }
    char target[TASMOTA_TARGET_MAX], shown[TASMOTA_TARGET_MAX];
    /* r=0: no restart now; the WiFi form right after restarts once for both (§7). */
    tasmota_url_sv_mqtt(c, 0, 0, target, sizeof target);
    tasmota_url_sv_mqtt(c, 0, 1, shown, sizeof shown);
    fetch(x, PH_LEGACY_MQTT, x->o->device_url, target, shown, 1);
    plat_wipe(target, sizeof target);
}

static void legacy_mqtt_done(struct tcfg *x)
{
    int code = form_check(x, "sending the MQTT settings (/sv?w=2)");
    if (code != EXIT_OK) {
        finish(x, code);
        return;
    }
    x->res->mqtt_form = 1;
    configured(x->u, "mqtt", -1, "MQTT settings saved (Tasmota 5.x form /sv?w=2)");
    after_mqtt(x);
}

/* The MQTT side is done: the home WiFi last, when given. */
static void after_mqtt(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    if (!c->ssid) {
        finish(x, EXIT_OK);
        return;
    }
    char target[TASMOTA_TARGET_MAX], shown[TASMOTA_TARGET_MAX];
    enum so_err e = x->res->legacy ? tasmota_url_sv_wifi(c, 0, target, sizeof target)
                                   : tasmota_url_wi(c, 0, target, sizeof target);
    if (e == SO_OK)
        e = x->res->legacy ? tasmota_url_sv_wifi(c, 1, shown, sizeof shown)
                           : tasmota_url_wi(c, 1, shown, sizeof shown);
    if (e != SO_OK) {
        plat_wipe(target, sizeof target);
        snprintf(x->err, sizeof x->err, "the WiFi settings do not fit in a request");
        finish(x, give_up(x, EXIT_USAGE, "usage", "sending the WiFi settings"));
        return;
    }
    ui_detail(x->u, "sending %s", shown);
    fetch(x, PH_WIFI, x->o->device_url, target, shown, 1);
    plat_wipe(target, sizeof target);
}

static void wifi_done(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    int code = form_check(x, "sending the WiFi settings");
    if (code != EXIT_OK) {
        finish(x, code);
        return;
    }
    x->res->wifi_sent = 1;
    char text[300];
    snprintf(text, sizeof text, "WiFi \"%s\" saved; Tasmota %s and restarts on your network "
             "(its own WiFi goes away)", c->ssid,
             x->res->legacy ? "saves it" : "tests it (about 10 s), saves it");
    configured(x->u, "wifi", -1, text);
    if (!x->o->lan_url[0]) {
        ui_info(x->u, "Reconnect this computer to \"%s\"; the device will be at http://%s/ "
                "(if your router resolves names) or at the address your router gave it",
                c->ssid, c->hostname && *c->hostname ? c->hostname : "<its hostname>");
        finish(x, EXIT_OK);
        return;
    }
    snprintf(text, sizeof text, "Reconnect this computer to your WiFi \"%s\" now: sonota "
             "looks for the device at %s", c->ssid, x->o->lan_url);
    action(x->u, "reconnect-home", c->ssid, text);
    memset(&x->st, 0, sizeof x->st);
    lan_try(x);
}

static void lan_try(struct tcfg *x)
{
    if (x->res->legacy)
        fetch(x, PH_LAN, x->o->lan_url, "/", "/", 0);
    else
        fetch_status(x, PH_LAN, x->o->lan_url, 0, 0);
}

static int lan_fail(struct tcfg *x)
{
    char prev[sizeof x->err];
    snprintf(prev, sizeof prev, "%s", x->err);
    snprintf(x->err, sizeof x->err, "the device did not answer at %s (%.200s); it may "
             "have failed to join \"%.32s\" (wrong password? 5 GHz only?): if its WiFi "
             "tasmota-.../sonoff-... is back, join it and run `sonota configure` "
             "again", x->o->lan_url, prev, x->o->cfg.ssid);
    return give_up(x, EXIT_NETWORK, "lan-check", "checking the LAN");
}

static void lan_done(struct tcfg *x)
{
    struct tasmota_status *st = &x->st;
    int code = EXIT_OK, r;
    if (x->res->legacy) {
        r = x->g == TG_OK && x->r.status == 200 ? 0 : -1;
    } else {
        r = status_check(x, x->o->lan_url, 0, st, &code);
        if (r == 0 && !matches(&x->o->cfg, st)) {
            snprintf(x->err, sizeof x->err, "%s answers but with other settings (hostname "
                     "\"%s\", topic \"%s\"): another device at that address?",
                     x->o->lan_url, st->hostname, st->topic);
            finish(x, give_up(x, EXIT_DEVICE, "device-reply", "checking the LAN"));
            return;
        }
    }
    if (r != 0) {
        nap(x, x->o->poll_ms * 2, lan_fail, lan_try);
        return;
    }
    x->res->lan_ok = 1;
    if (st->have & TASMOTA_ST_IP)
        snprintf(x->res->lan_ip, sizeof x->res->lan_ip, "%s", st->ip);
    cJSON *o = ev(x->u, "lan");
    if (o) {
        cJSON_AddStringToObject(o, "url", x->o->lan_url);
        if (st->have & TASMOTA_ST_IP)
            cJSON_AddStringToObject(o, "ip", st->ip);
        if (st->have & TASMOTA_ST_HOSTNAME)
            cJSON_AddStringToObject(o, "hostname", st->hostname);
        ui_ev_emit(x->u, o);
    } else {
        ui_info(x->u, "Tasmota answers on your LAN at %s%s%s%s", x->o->lan_url,
                st->have & TASMOTA_ST_HOSTNAME ? " (" : "", st->hostname,
                st->have & TASMOTA_ST_HOSTNAME ? ")" : "");
    }
    finish(x, EXIT_OK);
}

/* The phase's request has its final answer. */
static void handle(struct tcfg *x)
{
    switch (x->ph) {
    case PH_WEB: web_done(x); break;
    case PH_DETECT: detect_done(x); break;
    case PH_PROBE_WI: probe_wi_done(x); break;
    case PH_BL_STATUS: bl_status_done(x); break;
    case PH_BL_SEND: bl_send_done(x); break;
    case PH_BL_POLL: bl_poll_done(x); break;
    case PH_LEGACY_MQTT: legacy_mqtt_done(x); break;
    case PH_WIFI: wifi_done(x); break;
    case PH_LAN: lan_done(x); break;
    case PH_BL_RUN: /* a pause, no request */
    case PH_DONE: break;
    }
}

/* ---- the machine ---- */

struct tcfg *tcfg_start(struct httpc *h, const struct tcfg_opts *o, struct ui *u,
                        int64_t deadline, volatile sig_atomic_t *stop,
                        struct tcfg_result *res)
{
    memset(res, 0, sizeof *res);
    struct tcfg *x = calloc(1, sizeof *x);
    if (!x) {
        ui_error(u, "memory", EXIT_FAIL, "out of memory");
        return NULL;
    }
    *x = (struct tcfg){.o = o, .u = u, .h = h, .deadline = deadline, .now = plat_mono_ms(),
                       .stop = stop, .res = res};
    char text[600];
    snprintf(text, sizeof text, "Join the new firmware's WiFi with this computer: "
             "\"tasmota_XXXXXX-####\" (Tasmota 6 and later) or \"sonoff-####\" (5.x), open, no "
             "password; the device is at %s. Then sonota sends the MQTT settings first and "
             "your WiFi \"%s\" last.", o->device_url, o->cfg.ssid ? o->cfg.ssid : "(none)");
    action(u, "join-tasmota", NULL, text);
    fetch(x, PH_WEB, o->device_url, "/", "/", 1);
    return x;
}

int tcfg_step(struct tcfg *x, int64_t now, int64_t *wake)
{
    x->now = now;
    /* bounded: every turn either ends or starts a request or a pause */
    for (int turn = 0; turn < 64 && x->ph != PH_DONE; turn++) {
        if (x->got) {
            x->got = 0;
            x->wait = W_NONE;
            if (x->g != TG_OK && x->retry && !stopped(x) && now < x->deadline) {
                x->wait = W_RETRY; /* the device is away (yet, or restarting) */
                x->wake = now + x->o->poll_ms < x->deadline ? now + x->o->poll_ms : x->deadline;
            } else {
                handle(x);
            }
        } else if (x->wait == W_FETCH && stopped(x)) {
            httpc_cancel(x->h, x->req); /* Ctrl-C need not wait for the answer */
            x->req = NULL;
            x->g = TG_BROKEN;
            x->got = 1;
        } else if (x->wait == W_RETRY && (stopped(x) || now >= x->wake)) {
            x->wait = W_NONE;
            if (stopped(x) || now >= x->deadline)
                handle(x); /* the last failure is the answer */
            else
                fetch_again(x);
        } else if (x->wait == W_NAP && (stopped(x) || now >= x->wake)) {
            x->wait = W_NONE;
            if (stopped(x) || now >= x->deadline)
                finish(x, x->nap_fail(x));
            else
                x->nap_next(x);
        } else {
            break;
        }
    }
    if (x->ph == PH_DONE)
        return x->code;
    *wake = x->got ? now : x->wait == W_RETRY || x->wait == W_NAP ? x->wake : -1;
    return TCFG_RUNNING;
}

void tcfg_free(struct tcfg *x)
{
    if (!x)
        return;
    if (x->req)
        httpc_cancel(x->h, x->req);
    plat_wipe(x, sizeof *x); /* targets and the Backlog may hold passwords */
    free(x);
}

int tcfg_run(const struct tcfg_opts *o, struct ui *u, int64_t deadline,
             volatile sig_atomic_t *stop, struct tcfg_result *res)
{
    struct httpc *h = httpc_new();
    if (!h) {
        memset(res, 0, sizeof *res);
        ui_error(u, "memory", EXIT_FAIL, "out of memory");
        return EXIT_FAIL;
    }
    struct tcfg *x = tcfg_start(h, o, u, deadline, stop, res);
    int code = EXIT_FAIL;
    while (x) {
        int64_t wake, now = plat_mono_ms();
        code = tcfg_step(x, now, &wake);
        if (code != TCFG_RUNNING)
            break;
        int64_t ms = 100; /* Ctrl-C is seen within 100 ms */
        if (wake >= 0 && wake - now < ms)
            ms = wake > now ? wake - now : 0;
        httpc_wait(h, (int)ms);
    }
    tcfg_free(x);
    httpc_free(h);
    return code;
}
