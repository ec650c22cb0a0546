/* tasmota_cfg_steps.c - the phases of the Tasmota configuration (PROTOCOL.md §7): wait for
 * the web server, tell the generation apart, the Backlog (6.x and later) or the /sv forms
 * (5.x), the home WiFi last, the LAN check; and what they show the user. */
#include "sonota/tasmota_cfg_int.h"

#include "sonota/ui_int.h"

#include "sonota/cmds.h"
#include "plat/fs.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <string.h>

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

/* A setting saved: JSON event, or the text as a human line. */
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
        return tcfg_give_up(x, EXIT_NETWORK, "device-unreachable", what);
    if (x->r.status != 200) {
        snprintf(x->err, sizeof x->err, "%.300s%.600s answers HTTP %ld", x->o->device_url,
                 x->shown, x->r.status);
        return tcfg_give_up(x, EXIT_DEVICE, "device-refused", what);
    }
    return EXIT_OK;
}

/* ---- phases ---- */

/* Ends the run: it did not make it. */
static void fail(struct tcfg *x, int code, const char *ecode, const char *what)
{
    tcfg_finish(x, tcfg_give_up(x, code, ecode, what));
}

static void after_mqtt(struct tcfg *x);
static void lan_try(struct tcfg *x);

static void web_done(struct tcfg *x)
{
    const char *why = "waiting for Tasmota's web server", *base = x->o->device_url;
    if (x->g != TG_OK) {
        fail(x, EXIT_NETWORK, "device-unreachable", why);
    } else if (x->r.status == 200) {
        tcfg_fetch_status(x, PH_DETECT, base, 2, 1);
    } else if (x->r.status == 302) {
        snprintf(x->err, sizeof x->err, "%s/ redirects elsewhere (Tasmota's captive portal "
                 "does that for names): use the IP address, e.g. --device " TCFG_DEVICE_URL,
                 base);
        fail(x, EXIT_USAGE, "usage", why);
    } else {
        snprintf(x->err, sizeof x->err, "%s/ answers HTTP %ld: that is not Tasmota's web "
                 "server; is this computer on the device's tasmota-... or sonoff-... WiFi?",
                 base, x->r.status);
        fail(x, EXIT_DEVICE, "device-reply", why);
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
        fail(x, code, code == EXIT_DEVICE ? "device-reply" : "device-unreachable", why);
    } else if (r == 1) {
        /* 5.x has neither /cm nor /wi: make sure /wi is missing too (§7). */
        tcfg_fetch(x, PH_PROBE_WI, x->o->device_url, "/wi", "/wi", 1);
    } else if (!(x->st.have & TASMOTA_ST_VERSION)) {
        snprintf(x->err, sizeof x->err, "%s/cm?cmnd=Status%%202 has no StatusFWR.Version: not "
                 "Tasmota?", x->o->device_url);
        fail(x, EXIT_DEVICE, "device-reply", why);
    } else {
        snprintf(x->res->version, sizeof x->res->version, "%s", x->st.version);
        x->res->legacy = tasmota_version_major(x->st.version) == 5;
        detected(x);
    }
}

static void probe_wi_done(struct tcfg *x)
{
    if (x->g != TG_OK) {
        fail(x, EXIT_NETWORK, "device-unreachable", "probing /wi");
    } else if (x->r.status != 404) {
        snprintf(x->err, sizeof x->err, "%s has /wi but no /cm: an unknown Tasmota "
                 "variant; configure it in its web page", x->o->device_url);
        fail(x, EXIT_DEVICE, "device-reply", "probing /wi");
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
        fail(x, EXIT_USAGE, "usage", "building the Backlog");
        return;
    }
    if (!n) {
        after_mqtt(x);
        return;
    }
    x->bl_n = n;
    x->boots = -1;
    tcfg_fetch_status(x, PH_BL_STATUS, x->o->device_url, 0, 1);
}

static void bl_status_done(struct tcfg *x)
{
    int code = EXIT_OK;
    if (status_check(x, x->o->device_url, 0, &x->st, &code) != 0) {
        fail(x, code ? code : EXIT_DEVICE, "device-reply", "reading Status 0");
        return;
    }
    if (x->st.have & TASMOTA_ST_BOOTCOUNT)
        x->boots = x->st.boot_count;
    ui_detail(x->u, "sending %s", x->bl_shown_cmd);
    tcfg_fetch(x, PH_BL_SEND, x->o->device_url, x->bl_target, x->bl_shown, 1);
}

static int bl_run_fail(struct tcfg *x)
{
    return tcfg_give_up(x, EXIT_NETWORK, "timeout", "waiting for the Backlog to run");
}

static void bl_poll(struct tcfg *x)
{
    tcfg_fetch_status(x, PH_BL_POLL, x->o->device_url, 0, 1);
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
        fail(x, EXIT_NETWORK, "device-unreachable", what);
        return;
    }
    if (x->r.status != 200 || tasmota_status_parse(x->r.buf, x->r.len, st) != SO_OK ||
        (st->have & TASMOTA_ST_WARNING && strstr(st->warning, "password"))) {
        snprintf(x->err, sizeof x->err, "the Backlog got HTTP %ld%s", x->r.status,
                 st->have & TASMOTA_ST_WARNING ? " and a refusal (web password set?)" : "");
        fail(x, EXIT_DEVICE, "device-refused", what);
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
        tcfg_nap(x, (n + 1) * 250 + 2000, bl_run_fail, bl_wait_restart);
        return;
    }
    bl_wait_restart(x);
}

static int bl_poll_fail(struct tcfg *x)
{
    return tcfg_give_up(x, EXIT_DEVICE, "timeout", "waiting for the settings to show");
}

static void bl_poll_done(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    int code = EXIT_OK;
    if (status_check(x, x->o->device_url, 0, &x->st, &code) != 0) {
        fail(x, code ? code : EXIT_DEVICE, "device-reply", "waiting for the settings to show");
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
    tcfg_nap(x, x->o->poll_ms, bl_poll_fail, bl_poll);
}

static void legacy_begin(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    const char *pw = c->wifi_password;
    if (pw && strchr(pw, '*')) {
        snprintf(x->err, sizeof x->err, "Tasmota 5.x ignores a WiFi password holding '*' "
                 "(it takes it for the masked placeholder): upgrade Tasmota first, or set "
                 "the WiFi on its page by hand");
        fail(x, EXIT_DEVICE, "device-refused", "checking the WiFi password");
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
    tcfg_fetch(x, PH_LEGACY_MQTT, x->o->device_url, target, shown, 1);
    plat_wipe(target, sizeof target);
}

static void legacy_mqtt_done(struct tcfg *x)
{
    int code = form_check(x, "sending the MQTT settings (/sv?w=2)");
    if (code != EXIT_OK) {
        tcfg_finish(x, code);
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
        tcfg_finish(x, EXIT_OK);
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
        fail(x, EXIT_USAGE, "usage", "sending the WiFi settings");
        return;
    }
    ui_detail(x->u, "sending %s", shown);
    tcfg_fetch(x, PH_WIFI, x->o->device_url, target, shown, 1);
    plat_wipe(target, sizeof target);
}

static void wifi_done(struct tcfg *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    int code = form_check(x, "sending the WiFi settings");
    if (code != EXIT_OK) {
        tcfg_finish(x, code);
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
        tcfg_finish(x, EXIT_OK);
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
        tcfg_fetch(x, PH_LAN, x->o->lan_url, "/", "/", 0);
    else
        tcfg_fetch_status(x, PH_LAN, x->o->lan_url, 0, 0);
}

static int lan_fail(struct tcfg *x)
{
    char prev[sizeof x->err];
    snprintf(prev, sizeof prev, "%s", x->err);
    snprintf(x->err, sizeof x->err, "the device did not answer at %s (%.200s); it may "
             "have failed to join \"%.32s\" (wrong password? 5 GHz only?): if its WiFi "
             "tasmota-.../sonoff-... is back, join it and run `sonota configure` "
             "again", x->o->lan_url, prev, x->o->cfg.ssid);
    return tcfg_give_up(x, EXIT_NETWORK, "lan-check", "checking the LAN");
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
            fail(x, EXIT_DEVICE, "device-reply", "checking the LAN");
            return;
        }
    }
    if (r != 0) {
        tcfg_nap(x, x->o->poll_ms * 2, lan_fail, lan_try);
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
    tcfg_finish(x, EXIT_OK);
}

/* The phase's request has its final answer. */
void tcfg_phase_done(struct tcfg *x)
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

/* The user joins the new firmware's WiFi; then the first phase. */
void tcfg_begin(struct tcfg *x)
{
    const struct tcfg_opts *o = x->o;
    char text[600];
    snprintf(text, sizeof text, "Join the new firmware's WiFi with this computer: "
             "\"tasmota_XXXXXX-####\" (Tasmota 6 and later) or \"sonoff-####\" (5.x), open, no "
             "password; the device is at %s. Then sonota sends the MQTT settings first and "
             "your WiFi \"%s\" last.", o->device_url, o->cfg.ssid ? o->cfg.ssid : "(none)");
    action(x->u, "join-tasmota", NULL, text);
    tcfg_fetch(x, PH_WEB, o->device_url, "/", "/", 1);
}
