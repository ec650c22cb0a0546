/* cmd_configure.c - `sonota configure`: give a freshly flashed Tasmota its MQTT settings and
 * the home WiFi over its WiFi manager AP (PROTOCOL.md §7, §8 "Tasmota left unconfigured"),
 * then optionally check it on the home LAN. Options and questions here; the work is in
 * tasmota_cfg.c. */
#include "sonota/cmds.h"

#include "io/log.h"
#include "io/prompt.h"
#include "lib/wifi_pw.h"
#include "sonota/httpc.h"
#include "sonota/tasmota_cfg.h"
#include "sonota/ui_int.h"
#include "plat/fs.h"
#include "plat/intr.h"
#include "plat/clock.h"
#include "lib/fmt_attr.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_WIFI_PASSWORD "SONOTA_WIFI_PASSWORD"
#define SSID_MAX 32
#define WIFI_PW_MAX 64

struct cfg_opts {
    char device_url[TCFG_URL_MAX + 1];
    char lan_url[TCFG_URL_MAX + 1];
    const char *ssid;
    char *wifi_pw;          /* owned, wiped */
    int wifi_pw_flag;       /* came from the command line */
    const char *mqtt_host, *mqtt_user, *topic, *hostname, *backlog;
    char *mqtt_pw;          /* owned, wiped */
    int mqtt_pw_flag;
    int timeout_s;
    int json, quiet, verbose, no_color, help;
    const char *log_file;
};

enum {
    O_DEVICE = 256, O_SSID, O_WIFI_PW, O_MQTT_HOST, O_MQTT_USER, O_MQTT_PW, O_TOPIC,
    O_HOSTNAME, O_BACKLOG, O_LAN, O_TIMEOUT, O_JSON, O_LOG, O_NO_COLOR,
};

static const struct option long_opts[] = {
    {"device", required_argument, NULL, O_DEVICE},
    {"wifi-ssid", required_argument, NULL, O_SSID},
    {"wifi-password", required_argument, NULL, O_WIFI_PW},
    {"mqtt-host", required_argument, NULL, O_MQTT_HOST},
    {"mqtt-user", required_argument, NULL, O_MQTT_USER},
    {"mqtt-password", required_argument, NULL, O_MQTT_PW},
    {"topic", required_argument, NULL, O_TOPIC},
    {"hostname", required_argument, NULL, O_HOSTNAME},
    {"tasmota-backlog", required_argument, NULL, O_BACKLOG},
    {"lan-check", required_argument, NULL, O_LAN},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"json", no_argument, NULL, O_JSON},
    {"log", required_argument, NULL, O_LOG},
    {"no-color", no_argument, NULL, O_NO_COLOR},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: sonota configure --wifi-ssid SSID [OPTIONS]\n"
"\n"
"Finishes the job after the final image: configures a freshly flashed Tasmota over the\n"
"WiFi it opens (tasmota_XXXXXX-#### on Tasmota 6 and later, sonoff-#### on 5.x; open, the\n"
"device at 192.168.4.1). Join that WiFi with this computer, then sonota\n"
"  1. waits until Tasmota's web server answers and asks for its version (Status 2);\n"
"  2. sends your --tasmota-backlog commands and the MQTT settings as one Backlog\n"
"     (MqttHost, MqttUser, MqttPassword, Topic, Hostname) while the device is still on its\n"
"     own WiFi, and waits until they show after the restart they cause (Status 0);\n"
"  3. sends your WiFi (/wi; Tasmota 5.x: the /sv forms, MQTT included);\n"
"  4. with --lan-check, waits until the device answers on your network.\n"
"\n"
"Device:\n"
"  --device URL            Tasmota's web server on its own WiFi (default " TCFG_DEVICE_URL ")\n"
"  --lan-check ADDR        after the WiFi step, poll http://ADDR/ (IP or name, optional\n"
"                          :port) until the device answers there with the new settings\n"
"WiFi (the network the device joins):\n"
"  --wifi-ssid SSID        your WiFi (asked when missing and a terminal is there)\n"
"  --wifi-password PW      its password; visible in the process list: prefer\n"
"                          " ENV_WIFI_PASSWORD " or the prompt (input not shown)\n"
"MQTT and names (each optional):\n"
"  --mqtt-host HOST        MQTT broker\n"
"  --mqtt-user USER\n"
"  --mqtt-password PW      visible in the process list: prefer " TCFG_ENV_MQTT_PASSWORD "\n"
"  --topic TOPIC           MQTT topic (no '/', '+', '#' or spaces)\n"
"  --hostname NAME         host name on your network\n"
"  --tasmota-backlog CMDS  more commands, ';'-separated (e.g. \"Module 1; SetOption19 1\");\n"
"                          they run before sonota's settings; not possible on Tasmota 5.x\n"
"Output:\n"
"  --json                  one JSON object per line on stdout (events: configure, action,\n"
"                          tasmota, configured, lan, info, warning, error, done)\n"
"  --log FILE              also write a detailed log to FILE (0600; passwords as ***)\n"
"  --no-color              no colours (also when NO_COLOR is set)\n"
"  -q, --quiet             only warnings, errors and the result\n"
"  -v, --verbose           more detail (the requests, passwords masked)\n"
"  --timeout SECONDS       give up after this long (default 300)\n"
"  -h, --help              this text\n"
"\n"
"Values may not hold ';' or control characters, start or end with a blank, or be \"0\"\n"
"or \"1\" (Tasmota reads those as \"clear\" and \"default\").\n"
"Exit status: 0 configured, 1 failed, 2 usage, 4 the device refused or is not Tasmota,\n"
"5 the device cannot be reached (or did not show up on the LAN), 130 interrupted.\n");
}

static int set_secret(char **dst, const char *v)
{
    if (*dst) {
        plat_wipe(*dst, strlen(*dst));
        free(*dst);
    }
    *dst = strdup(v);
    if (!*dst)
        return -1;
    so_log_add_secret(*dst);
    return 0;
}

static void opts_free(struct cfg_opts *o)
{
    char **s[2] = {&o->wifi_pw, &o->mqtt_pw};
    for (int i = 0; i < 2; i++) {
        if (*s[i]) {
            plat_wipe(*s[i], strlen(*s[i]));
            free(*s[i]);
            *s[i] = NULL;
        }
    }
}

static int wifi_pw_ok(const char *pw)
{
    return wifi_pw_acceptable(wifi_pw_check(pw, strlen(pw)));
}

SO_PRINTF(3, 4)
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse(int argc, char **argv, struct cfg_opts *o, char *err, size_t cap)
{
    optind = 0;
    opterr = 0;
    char e2[300];
    for (;;) {
        int c = getopt_long(argc, argv, "+:qvh", long_opts, NULL);
        if (c == -1)
            break;
        const char *a = optarg;
        switch (c) {
        case O_DEVICE:
        case O_LAN:
            if (tcfg_base_url(a, c == O_DEVICE ? o->device_url : o->lan_url, TCFG_URL_MAX + 1,
                              e2, sizeof e2) != 0)
                return fail(err, cap, "%s: %s", c == O_DEVICE ? "--device" : "--lan-check", e2);
            break;
        case O_SSID:
            if (!*a || strlen(a) > SSID_MAX)
                return fail(err, cap, "--wifi-ssid must be 1 to %d bytes", SSID_MAX);
            o->ssid = a;
            break;
        case O_WIFI_PW:
        case O_MQTT_PW:
            if (c == O_WIFI_PW && !wifi_pw_ok(a))
                return fail(err, cap, "--wifi-password must be 8 to 63 characters (or 64 hex "
                            "digits, or empty for an open network)");
            if (set_secret(c == O_WIFI_PW ? &o->wifi_pw : &o->mqtt_pw, a) != 0)
                return fail(err, cap, "out of memory");
            *(c == O_WIFI_PW ? &o->wifi_pw_flag : &o->mqtt_pw_flag) = 1;
            memset(optarg, '*', strlen(optarg)); /* out of `ps` from now on */
            break;
        case O_MQTT_HOST: o->mqtt_host = a; break;
        case O_MQTT_USER: o->mqtt_user = a; break;
        case O_TOPIC: o->topic = a; break;
        case O_HOSTNAME: o->hostname = a; break;
        case O_BACKLOG: o->backlog = a; break;
        case O_TIMEOUT: {
            char *end;
            long v = strtol(a, &end, 10);
            if (!*a || *end || v < 1 || v > 86400)
                return fail(err, cap, "--timeout needs a number of seconds (1-86400), not '%s'",
                            a);
            o->timeout_s = (int)v;
            break;
        }
        case O_JSON: o->json = 1; break;
        case O_LOG:
            if (!*a)
                return fail(err, cap, "empty --log file name");
            o->log_file = a;
            break;
        case O_NO_COLOR: o->no_color = 1; break;
        case 'q': o->quiet++; break;
        case 'v': o->verbose++; break;
        case 'h': o->help = 1; break;
        case ':': return fail(err, cap, "%s needs a value", argv[optind - 1]);
        default:
            return fail(err, cap, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o->help)
        return 0;
    if (optind < argc)
        return fail(err, cap, "unexpected argument '%s'", argv[optind]);
    const char *env = getenv(ENV_WIFI_PASSWORD);
    if (!o->wifi_pw && env) {
        if (!wifi_pw_ok(env))
            return fail(err, cap, ENV_WIFI_PASSWORD " must hold 8 to 63 characters (or 64 hex "
                        "digits, or be empty for an open network)");
        if (set_secret(&o->wifi_pw, env) != 0)
            return fail(err, cap, "out of memory");
    }
    env = getenv(TCFG_ENV_MQTT_PASSWORD);
    if (!o->mqtt_pw && env && *env && set_secret(&o->mqtt_pw, env) != 0)
        return fail(err, cap, "out of memory");
    if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
        o->no_color = 1;
    return 0;
}

/* SSID and password from the terminal when not given. 0, or -1 with err. */
static int ask(struct cfg_opts *o, char *err, size_t cap)
{
    static char ssid[SSID_MAX + 2];
    if (!o->ssid) {
        if (!prompt_available() ||
            prompt_line("WiFi network (SSID) the device should join: ", ssid, sizeof ssid) ||
            !ssid[0] || strlen(ssid) > SSID_MAX)
            return fail(err, cap, "the device needs your WiFi name: pass --wifi-ssid SSID");
        o->ssid = ssid;
    }
    if (!o->wifi_pw) {
        char pw[WIFI_PW_MAX + 2];
        int asked = prompt_available() ? prompt_wifi_password(o->ssid, pw, sizeof pw) : -1;
        int rc = asked == 0 ? set_secret(&o->wifi_pw, pw) : 0;
        plat_wipe(pw, sizeof pw);
        if (asked == -2)
            return fail(err, cap, "no usable WiFi password after %d answers: a WPA2 password "
                        "has 8 to 63 characters (or 64 hex digits); an open network needs an "
                        "empty answer, confirmed", PROMPT_PW_TRIES);
        if (asked != 0)
            return fail(err, cap, "the device needs your WiFi password and there is no "
                        "terminal to ask: set " ENV_WIFI_PASSWORD " (or pass --wifi-password)");
        if (rc != 0)
            return fail(err, cap, "out of memory");
    }
    return 0;
}

static volatile sig_atomic_t g_stop;

static void start_event(struct ui *u, const struct cfg_opts *o)
{
    if (!u->json) {
        if (!u->quiet)
            fprintf(u->out, "sonota %s: configuring Tasmota at %s\n", SONOTA_VERSION,
                    o->device_url);
        return;
    }
    cJSON *e = ui_ev_new(u, "configure");
    if (!e)
        return;
    cJSON_AddStringToObject(e, "version", SONOTA_VERSION);
    cJSON_AddStringToObject(e, "device", o->device_url);
    cJSON_AddStringToObject(e, "ssid", o->ssid);
    const char *k[] = {"mqttHost", "mqttUser", "topic", "hostname"};
    const char *v[] = {o->mqtt_host, o->mqtt_user, o->topic, o->hostname};
    for (int i = 0; i < 4; i++) {
        if (v[i])
            cJSON_AddStringToObject(e, k[i], v[i]);
        else
            cJSON_AddNullToObject(e, k[i]);
    }
    cJSON_AddBoolToObject(e, "mqttPassword", o->mqtt_pw != NULL);
    if (o->lan_url[0])
        cJSON_AddStringToObject(e, "lanCheck", o->lan_url);
    else
        cJSON_AddNullToObject(e, "lanCheck");
    ui_ev_emit(u, e);
}

static void done_event(struct ui *u, const struct cfg_opts *o, const struct tcfg_result *r)
{
    double el = (double)(plat_mono_ms() - u->t0_ms) / 1000.0;
    if (!u->json) {
        char ver[64]; /* Tasmota's own answer */
        char line[512];
        snprintf(line, sizeof line, "\n== Done == Tasmota %s configured%s%s%s%s%s (%.1f s)",
                 ui_esc(ver, sizeof ver, r->version),
                o->mqtt_host ? ": MQTT " : "", o->mqtt_host ? o->mqtt_host : "",
                r->wifi_sent ? ", WiFi \"" : "", r->wifi_sent ? o->ssid : "",
                r->wifi_sent ? (r->lan_ok ? "\", seen on the LAN" : "\"") : "", el);
        ui_say(u, u->out, NULL, line);
        return;
    }
    cJSON *e = ui_ev_new(u, "done");
    if (!e)
        return;
    cJSON_AddStringToObject(e, "tasmota", r->version);
    cJSON_AddBoolToObject(e, "legacy", r->legacy);
    cJSON_AddNumberToObject(e, "backlogCommands", r->backlog_cmds);
    cJSON_AddBoolToObject(e, "wifi", r->wifi_sent);
    if (r->lan_ok)
        cJSON_AddStringToObject(e, "lan", o->lan_url);
    else
        cJSON_AddNullToObject(e, "lan");
    if (r->lan_ip[0])
        cJSON_AddStringToObject(e, "ip", r->lan_ip);
    cJSON_AddNumberToObject(e, "elapsed", el);
    ui_ev_emit(u, e);
}

int cmd_configure(int argc, char **argv)
{
    struct cfg_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.device_url, sizeof o.device_url, "%s", TCFG_DEVICE_URL);
    o.timeout_s = 300;
    char err[600];
    int code = EXIT_USAGE;
    if (parse(argc, argv, &o, err, sizeof err) != 0) {
        fprintf(stderr, "sonota configure: %s\n(see 'sonota configure --help')\n", err);
        goto out;
    }
    if (o.help) {
        usage(stdout);
        code = EXIT_OK;
        goto out;
    }
    struct tcfg_opts t;
    memset(&t, 0, sizeof t);
    memcpy(t.device_url, o.device_url, sizeof t.device_url);
    memcpy(t.lan_url, o.lan_url, sizeof t.lan_url);
    t.request_ms = TCFG_REQUEST_MS;
    t.poll_ms = TCFG_POLL_MS;
    t.cfg = (struct tasmota_cfg){.hostname = o.hostname, .mqtt_host = o.mqtt_host,
                                 .mqtt_user = o.mqtt_user, .mqtt_password = o.mqtt_pw,
                                 .topic = o.topic, .backlog = o.backlog};
    if (tcfg_check(&t.cfg, err, sizeof err)) {
        fprintf(stderr, "sonota configure: %s\n(see 'sonota configure --help')\n", err);
        goto out;
    }
    so_log_set_tag("sonota");
    so_log_set_level(o.quiet ? SO_LOG_WARN : o.verbose >= 2 ? SO_LOG_TRACE
                     : o.verbose ? SO_LOG_DEBUG : SO_LOG_INFO);
    if (o.log_file && so_log_open_file(o.log_file) != 0) {
        fprintf(stderr, "sonota configure: cannot open the log file %s: %s\n", o.log_file,
                strerror(errno));
        code = EXIT_FAIL;
        goto out;
    }
    struct ui u;
    ui_init(&u, stdout, stderr, o.json, o.quiet, o.verbose, o.no_color);

    g_stop = 0;
    plat_intr_catch(&g_stop); /* the prompt and the waits end at Ctrl-C */

    if (ask(&o, err, sizeof err) != 0) {
        ui_error(&u, g_stop ? "interrupted" : "usage", g_stop ? EXIT_INTERRUPTED : EXIT_USAGE,
                 "%s", g_stop ? "interrupted at the question; nothing was sent to the device"
                              : err);
        code = g_stop ? EXIT_INTERRUPTED : EXIT_USAGE;
    } else {
        t.cfg.ssid = o.ssid;
        t.cfg.wifi_password = o.wifi_pw;
        tcfg_add_secrets(&t.cfg);
        if (o.wifi_pw_flag)
            ui_warn(&u, "password-visible", "--wifi-password was visible in the process list "
                    "until now; prefer " ENV_WIFI_PASSWORD " or the prompt");
        if (o.mqtt_pw_flag)
            ui_warn(&u, "password-visible", "--mqtt-password was visible in the process list "
                    "until now; prefer " TCFG_ENV_MQTT_PASSWORD);
        start_event(&u, &o);
        if (httpc_global_init() != 0) {
            ui_error(&u, "http", EXIT_FAIL, "cannot initialise libcurl");
            code = EXIT_FAIL;
        } else {
            struct tcfg_result r;
            code = tcfg_run(&t, &u, plat_mono_ms() + (int64_t)o.timeout_s * 1000, &g_stop, &r);
            if (code == EXIT_OK)
                done_event(&u, &o, &r);
            httpc_global_cleanup();
        }
    }
    plat_intr_restore();
    plat_wipe(&t, sizeof t);
out:
    opts_free(&o);
    so_log_forget_secrets();
    so_log_close_file();
    return code;
}
