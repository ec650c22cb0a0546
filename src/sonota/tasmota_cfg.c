#include "sonota/tasmota_cfg.h"

#include "sonota/ui_int.h"

#include "io/log.h"
#include "sonota/http_body.h"
#include "lib/tasmota_msg.h"
#include "sonota/cmds.h"
#include "plat/fs.h"
#include "plat/clock.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- HTTP ---- */

enum tget {
    TG_OK,        /* an HTTP answer (any status) */
    TG_DOWN,      /* refused / unreachable: not there (yet), or restarting */
    TG_TIMEOUT,
    TG_BROKEN,    /* closed early, too big, ... */
};

struct treply {
    char buf[TASMOTA_REPLY_MAX + 1];
    struct http_body body;      /* collects into buf */
    long status;
};

/* GET base+target. `shown` is the target with passwords masked: the only form that is
 * logged or put into err. */
static enum tget get(const char *base, const char *target, const char *shown, int timeout_ms,
                     struct treply *r, char *err, size_t cap)
{
    char url[TCFG_URL_MAX + TASMOTA_TARGET_MAX + 1];
    memset(r, 0, sizeof *r);
    r->body = (struct http_body){.buf = r->buf, .cap = TASMOTA_REPLY_MAX};
    snprintf(url, sizeof url, "%s%s", base, target);
    CURL *c = curl_easy_init();
    if (!c) {
        plat_wipe(url, sizeof url);
        snprintf(err, cap, "cannot start an HTTP client (out of memory)");
        return TG_BROKEN;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* the device is on a local link or the LAN */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sonota/" SONOTA_VERSION);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    plat_wipe(url, sizeof url);
    LOG_D("GET %s%s -> %s %ld, %zu B", base, shown, rc == CURLE_OK ? "HTTP" : "failed",
          r->status, r->body.len);
    switch (rc) {
    case CURLE_OK:
        return TG_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(err, cap, "GET %s%s: cannot connect (%s)", base, shown,
                 curl_easy_strerror(rc));
        return TG_DOWN;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, cap, "GET %s%s: no answer within %d ms", base, shown, timeout_ms);
        return TG_TIMEOUT;
    default:
        snprintf(err, cap, "GET %s%s: %s", base, shown,
                 r->body.overflow ? "the answer is too large for Tasmota"
                                  : curl_easy_strerror(rc));
        return TG_BROKEN;
    }
}

/* ---- time, output ---- */

/* Sleeps up to ms, in short steps so Ctrl-C is quick; 0, or -1 when stopped / past deadline. */
static int nap(int ms, int64_t deadline, volatile sig_atomic_t *stop)
{
    int64_t end = plat_mono_ms() + ms;
    if (end > deadline)
        end = deadline;
    while (!(stop && *stop)) {
        int64_t left = end - plat_mono_ms();
        if (left <= 0)
            break;
        plat_sleep_ms(left > 100 ? 100u : (unsigned)left);
    }
    return (stop && *stop) || plat_mono_ms() >= deadline ? -1 : 0;
}

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

/* ---- run context ---- */

struct run {
    const struct tcfg_opts *o;
    struct ui *u;
    int64_t deadline;
    volatile sig_atomic_t *stop;
    struct tcfg_result *res;
    char err[1024];
    struct treply r;
};

static int stopped(const struct run *x)
{
    return x->stop && *x->stop;
}

/* The end of a run that did not make it: the exit status for stop / deadline / other. */
static int give_up(struct run *x, int code, const char *ecode, const char *what)
{
    if (stopped(x)) {
        ui_error(x->u, "interrupted", EXIT_INTERRUPTED, "interrupted while %s; run `sonota "
                 "configure` again to continue (settings already sent are kept)", what);
        return EXIT_INTERRUPTED;
    }
    if (plat_mono_ms() >= x->deadline) {
        ui_error(x->u, "timeout", EXIT_NETWORK, "gave up (--timeout) while %s: %s", what,
                 x->err[0] ? x->err : "no answer");
        return EXIT_NETWORK;
    }
    ui_error(x->u, ecode, code, "%s", x->err);
    return code;
}

/* GET until the device answers at all (any HTTP status), or deadline/stop. */
static enum tget get_retry(struct run *x, const char *base, const char *target,
                           const char *shown)
{
    for (;;) {
        enum tget g = get(base, target, shown, x->o->request_ms, &x->r, x->err, sizeof x->err);
        if (g == TG_OK || stopped(x) || plat_mono_ms() >= x->deadline)
            return g;
        if (nap(x->o->poll_ms, x->deadline, x->stop) != 0)
            return g;
    }
}

/* ---- steps ---- */

static int wait_web(struct run *x, const char *why)
{
    const char *base = x->o->device_url;
    for (;;) {
        enum tget g = get_retry(x, base, "/", "/");
        if (g != TG_OK)
            return give_up(x, EXIT_NETWORK, "device-unreachable", why);
        if (x->r.status == 200)
            return EXIT_OK;
        if (x->r.status == 302) {
            snprintf(x->err, sizeof x->err, "%s/ redirects elsewhere (Tasmota's captive portal "
                     "does that for names): use the IP address, e.g. --device " TCFG_DEVICE_URL,
                     base);
            return give_up(x, EXIT_USAGE, "usage", why);
        }
        snprintf(x->err, sizeof x->err, "%s/ answers HTTP %ld: that is not Tasmota's web "
                 "server; is this computer on the device's tasmota-... or sonoff-... WiFi?",
                 base, x->r.status);
        return give_up(x, EXIT_DEVICE, "device-reply", why);
    }
}

/* Status N over /cm; SO_OK with st, or the exit code in *code. */
static int status(struct run *x, const char *base, int n, struct tasmota_status *st,
                  int retry, int *code)
{
    char cmnd[16], target[256], shown[256];
    snprintf(cmnd, sizeof cmnd, "Status %d", n);
    const char *wp = x->o->cfg.web_password;
    tasmota_url_cm(cmnd, wp, 0, target, sizeof target);
    tasmota_url_cm(cmnd, wp, 1, shown, sizeof shown);
    enum tget g = retry ? get_retry(x, base, target, shown)
                        : get(base, target, shown, x->o->request_ms, &x->r, x->err,
                              sizeof x->err);
    if (g != TG_OK) {
        *code = EXIT_NETWORK;
        return -1;
    }
    if (x->r.status == 404) {
        *code = EXIT_OK; /* no /cm: Tasmota 5.x */
        return 1;
    }
    if (x->r.status != 200 || tasmota_status_parse(x->r.buf, x->r.body.len, st) != SO_OK) {
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

static int detect(struct run *x)
{
    struct tasmota_status st;
    int code = EXIT_OK;
    int r = status(x, x->o->device_url, 2, &st, 1, &code);
    if (r < 0)
        return give_up(x, code, code == EXIT_DEVICE ? "device-reply" : "device-unreachable",
                       "asking for the firmware version");
    struct tcfg_result *res = x->res;
    if (r == 1) {
        /* 5.x has neither /cm nor /wi: make sure /wi is missing too (§7). */
        if (get_retry(x, x->o->device_url, "/wi", "/wi") != TG_OK)
            return give_up(x, EXIT_NETWORK, "device-unreachable", "probing /wi");
        if (x->r.status != 404) {
            snprintf(x->err, sizeof x->err, "%s has /wi but no /cm: an unknown Tasmota "
                     "variant; configure it in its web page", x->o->device_url);
            return give_up(x, EXIT_DEVICE, "device-reply", "probing /wi");
        }
        res->legacy = 1;
        snprintf(res->version, sizeof res->version, "5.x");
    } else if (!(st.have & TASMOTA_ST_VERSION)) {
        snprintf(x->err, sizeof x->err, "%s/cm?cmnd=Status%%202 has no StatusFWR.Version: not "
                 "Tasmota?", x->o->device_url);
        return give_up(x, EXIT_DEVICE, "device-reply", "asking for the firmware version");
    } else {
        snprintf(res->version, sizeof res->version, "%s", st.version);
        res->legacy = tasmota_version_major(st.version) == 5;
    }
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
    return EXIT_OK;
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

/* Modern: the Backlog, then wait until its settings show and the restart they cause
 * (BootCount grew) is over, so the WiFi form cannot be lost in that restart. */
static int send_backlog(struct run *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    char *cmd = malloc(TASMOTA_CMND_MAX + 1), *shown_cmd = malloc(TASMOTA_CMND_MAX + 1);
    char *target = malloc(TASMOTA_TARGET_MAX), *shown = malloc(TASMOTA_TARGET_MAX);
    int n = 0, code = EXIT_OK;
    if (!cmd || !shown_cmd || !target || !shown) {
        snprintf(x->err, sizeof x->err, "out of memory");
        code = give_up(x, EXIT_FAIL, "memory", "building the Backlog");
        goto out;
    }
    if (tasmota_backlog(c, 0, cmd, TASMOTA_CMND_MAX + 1, &n) != SO_OK ||
        tasmota_backlog(c, 1, shown_cmd, TASMOTA_CMND_MAX + 1, &n) != SO_OK ||
        (n && (tasmota_url_cm(cmd, c->web_password, 0, target, TASMOTA_TARGET_MAX) != SO_OK ||
               tasmota_url_cm(shown_cmd, c->web_password, 1, shown, TASMOTA_TARGET_MAX) != SO_OK))) {
        snprintf(x->err, sizeof x->err, "the Backlog is too long or holds a bad value (at most "
                 "%d commands, %d bytes)", TASMOTA_BACKLOG_MAX, TASMOTA_CMND_MAX);
        code = give_up(x, EXIT_USAGE, "usage", "building the Backlog");
        goto out;
    }
    if (!n)
        goto out;
    struct tasmota_status st;
    long boots = -1;
    int r = status(x, x->o->device_url, 0, &st, 1, &code);
    if (r != 0) {
        code = give_up(x, code ? code : EXIT_DEVICE, "device-reply", "reading Status 0");
        goto out;
    }
    if (st.have & TASMOTA_ST_BOOTCOUNT)
        boots = st.boot_count;
    ui_detail(x->u, "sending %s", shown_cmd);
    if (get_retry(x, x->o->device_url, target, shown) != TG_OK) {
        code = give_up(x, EXIT_NETWORK, "device-unreachable", "sending the Backlog");
        goto out;
    }
    if (x->r.status != 200 || tasmota_status_parse(x->r.buf, x->r.body.len, &st) != SO_OK ||
        (st.have & TASMOTA_ST_WARNING && strstr(st.warning, "password"))) {
        snprintf(x->err, sizeof x->err, "the Backlog got HTTP %ld%s", x->r.status,
                 st.have & TASMOTA_ST_WARNING ? " and a refusal (web password set?)" : "");
        code = give_up(x, EXIT_DEVICE, "device-refused", "sending the Backlog");
        goto out;
    }
    x->res->backlog_cmds = n;
    char text[TASMOTA_CMND_MAX + 64];
    snprintf(text, sizeof text, "Backlog sent (%d command%s): %s", n, n == 1 ? "" : "s",
             shown_cmd + 8);
    configured(x->u, "backlog", n, text);
    int known = (c->mqtt_host && *c->mqtt_host) || (c->mqtt_user && *c->mqtt_user) ||
                (c->mqtt_password && *c->mqtt_password) || (c->topic && *c->topic) ||
                (c->hostname && *c->hostname);
    if (!known) {
        /* Only the user's commands: no restart is certain. Let them run (one per 200 ms,
         * SetOption34), then wait until the device answers again in case one restarted it. */
        if (nap((n + 1) * 250 + 2000, x->deadline, x->stop) != 0) {
            code = give_up(x, EXIT_NETWORK, "timeout", "waiting for the Backlog to run");
            goto out;
        }
    }
    ui_info(x->u, "waiting for Tasmota to apply the settings and restart...");
    for (;;) {
        r = status(x, x->o->device_url, 0, &st, 1, &code);
        if (r != 0) {
            code = give_up(x, code ? code : EXIT_DEVICE, "device-reply",
                           "waiting for the settings to show");
            goto out;
        }
        int restarted = !known || boots < 0 || !(st.have & TASMOTA_ST_BOOTCOUNT) ||
                        st.boot_count > boots;
        if (matches(c, &st) && restarted)
            break;
        snprintf(x->err, sizeof x->err, "the settings did not show in Status 0%s",
                 matches(c, &st) ? " (no restart seen yet)" : "");
        if (nap(x->o->poll_ms, x->deadline, x->stop) != 0) {
            code = give_up(x, EXIT_DEVICE, "timeout", "waiting for the settings to show");
            goto out;
        }
    }
    if (known)
        ui_detail(x->u, "Status 0 confirms MqttHost/MqttUser/Topic/Hostname after the restart");
out:
    if (cmd)
        plat_wipe(cmd, TASMOTA_CMND_MAX + 1);
    if (target)
        plat_wipe(target, TASMOTA_TARGET_MAX);
    free(cmd);
    free(shown_cmd);
    free(target);
    free(shown);
    return code;
}

/* One form GET (/wi or /sv): 200 expected; retried while the device is away. */
static int send_form(struct run *x, const char *target, const char *shown, const char *what)
{
    if (get_retry(x, x->o->device_url, target, shown) != TG_OK)
        return give_up(x, EXIT_NETWORK, "device-unreachable", what);
    if (x->r.status != 200) {
        snprintf(x->err, sizeof x->err, "%.300s%.600s answers HTTP %ld", x->o->device_url, shown,
                 x->r.status);
        return give_up(x, EXIT_DEVICE, "device-refused", what);
    }
    return EXIT_OK;
}

static int send_legacy_mqtt(struct run *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    if (c->backlog && *c->backlog)
        ui_warn(x->u, "backlog-skipped", "Tasmota 5.x has no command API on its web server: "
                "--tasmota-backlog was not sent; enter it in the device's console later");
    if (!(c->mqtt_host && *c->mqtt_host) && !(c->mqtt_user && *c->mqtt_user) &&
        !(c->mqtt_password && *c->mqtt_password) && !(c->topic && *c->topic))
        return EXIT_OK;
    char target[TASMOTA_TARGET_MAX], shown[TASMOTA_TARGET_MAX];
    /* r=0: no restart now; the WiFi form right after restarts once for both (§7). */
    tasmota_url_sv_mqtt(c, 0, 0, target, sizeof target);
    tasmota_url_sv_mqtt(c, 0, 1, shown, sizeof shown);
    int code = send_form(x, target, shown, "sending the MQTT settings (/sv?w=2)");
    plat_wipe(target, sizeof target);
    if (code == EXIT_OK) {
        x->res->mqtt_form = 1;
        configured(x->u, "mqtt", -1, "MQTT settings saved (Tasmota 5.x form /sv?w=2)");
    }
    return code;
}

static int send_wifi(struct run *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    char target[TASMOTA_TARGET_MAX], shown[TASMOTA_TARGET_MAX];
    enum so_err e = x->res->legacy ? tasmota_url_sv_wifi(c, 0, target, sizeof target)
                                   : tasmota_url_wi(c, 0, target, sizeof target);
    if (e == SO_OK)
        e = x->res->legacy ? tasmota_url_sv_wifi(c, 1, shown, sizeof shown)
                           : tasmota_url_wi(c, 1, shown, sizeof shown);
    if (e != SO_OK) {
        snprintf(x->err, sizeof x->err, "the WiFi settings do not fit in a request");
        return give_up(x, EXIT_USAGE, "usage", "sending the WiFi settings");
    }
    ui_detail(x->u, "sending %s", shown);
    int code = send_form(x, target, shown, "sending the WiFi settings");
    plat_wipe(target, sizeof target);
    if (code != EXIT_OK)
        return code;
    x->res->wifi_sent = 1;
    char text[300];
    snprintf(text, sizeof text, "WiFi \"%s\" saved; Tasmota %s and restarts on your network "
             "(its own WiFi goes away)", c->ssid,
             x->res->legacy ? "saves it" : "tests it (about 10 s), saves it");
    configured(x->u, "wifi", -1, text);
    return EXIT_OK;
}

static int lan_check(struct run *x)
{
    const struct tasmota_cfg *c = &x->o->cfg;
    char text[400];
    snprintf(text, sizeof text, "Reconnect this computer to your WiFi \"%s\" now: sonota "
             "looks for the device at %s", c->ssid, x->o->lan_url);
    action(x->u, "reconnect-home", c->ssid, text);
    struct tasmota_status st;
    memset(&st, 0, sizeof st);
    for (;;) {
        int code = EXIT_OK, r;
        if (x->res->legacy) {
            enum tget g = get(x->o->lan_url, "/", "/", x->o->request_ms, &x->r, x->err,
                              sizeof x->err);
            r = g == TG_OK && x->r.status == 200 ? 0 : -1;
        } else {
            r = status(x, x->o->lan_url, 0, &st, 0, &code);
            if (r == 0 && !matches(c, &st)) {
                snprintf(x->err, sizeof x->err, "%s answers but with other settings (hostname "
                         "\"%s\", topic \"%s\"): another device at that address?",
                         x->o->lan_url, st.hostname, st.topic);
                return give_up(x, EXIT_DEVICE, "device-reply", "checking the LAN");
            }
        }
        if (r == 0)
            break;
        if (nap(x->o->poll_ms * 2, x->deadline, x->stop) != 0) {
            char prev[sizeof x->err];
            snprintf(prev, sizeof prev, "%s", x->err);
            snprintf(x->err, sizeof x->err, "the device did not answer at %s (%.200s); it may "
                     "have failed to join \"%.32s\" (wrong password? 5 GHz only?): if its WiFi "
                     "tasmota-.../sonoff-... is back, join it and run `sonota configure` "
                     "again", x->o->lan_url, prev, c->ssid);
            return give_up(x, EXIT_NETWORK, "lan-check", "checking the LAN");
        }
    }
    x->res->lan_ok = 1;
    if (st.have & TASMOTA_ST_IP)
        snprintf(x->res->lan_ip, sizeof x->res->lan_ip, "%s", st.ip);
    cJSON *o = ev(x->u, "lan");
    if (o) {
        cJSON_AddStringToObject(o, "url", x->o->lan_url);
        if (st.have & TASMOTA_ST_IP)
            cJSON_AddStringToObject(o, "ip", st.ip);
        if (st.have & TASMOTA_ST_HOSTNAME)
            cJSON_AddStringToObject(o, "hostname", st.hostname);
        ui_ev_emit(x->u, o);
    } else {
        ui_info(x->u, "Tasmota answers on your LAN at %s%s%s%s", x->o->lan_url,
                st.have & TASMOTA_ST_HOSTNAME ? " (" : "", st.hostname,
                st.have & TASMOTA_ST_HOSTNAME ? ")" : "");
    }
    return EXIT_OK;
}

int tcfg_run(const struct tcfg_opts *o, struct ui *u, int64_t deadline,
             volatile sig_atomic_t *stop, struct tcfg_result *res)
{
    struct run *x = calloc(1, sizeof *x);
    if (!x) {
        ui_error(u, "memory", EXIT_FAIL, "out of memory");
        return EXIT_FAIL;
    }
    memset(res, 0, sizeof *res);
    *x = (struct run){.o = o, .u = u, .deadline = deadline, .stop = stop, .res = res};
    char text[600];
    snprintf(text, sizeof text, "Join the new firmware's WiFi with this computer: "
             "\"tasmota_XXXXXX-####\" (Tasmota 6 and later) or \"sonoff-####\" (5.x), open, no "
             "password; the device is at %s. Then sonota sends the MQTT settings first and "
             "your WiFi \"%s\" last.", o->device_url, o->cfg.ssid ? o->cfg.ssid : "(none)");
    action(u, "join-tasmota", NULL, text);
    int code = wait_web(x, "waiting for Tasmota's web server");
    if (code == EXIT_OK)
        code = detect(x);
    if (code == EXIT_OK && !res->legacy)
        code = send_backlog(x);
    if (code == EXIT_OK && res->legacy) {
        const char *pw = o->cfg.wifi_password;
        if (pw && strchr(pw, '*')) {
            snprintf(x->err, sizeof x->err, "Tasmota 5.x ignores a WiFi password holding '*' "
                     "(it takes it for the masked placeholder): upgrade Tasmota first, or set "
                     "the WiFi on its page by hand");
            code = give_up(x, EXIT_DEVICE, "device-refused", "checking the WiFi password");
        }
    }
    if (code == EXIT_OK && res->legacy)
        code = send_legacy_mqtt(x);
    if (code == EXIT_OK && o->cfg.ssid)
        code = send_wifi(x);
    if (code == EXIT_OK && o->cfg.ssid && o->lan_url[0])
        code = lan_check(x);
    else if (code == EXIT_OK && o->cfg.ssid)
        ui_info(u, "Reconnect this computer to \"%s\"; the device will be at http://%s/ "
                "(if your router resolves names) or at the address your router gave it",
                o->cfg.ssid, o->cfg.hostname && *o->cfg.hostname ? o->cfg.hostname
                : "<its hostname>");
    plat_wipe(x, sizeof *x);
    free(x);
    return code;
}
