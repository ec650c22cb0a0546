/* cmd_configure.c - `sonota configure`: give a freshly flashed Tasmota its MQTT settings and
 * the home WiFi over its WiFi manager AP (PROTOCOL.md §7, §8 "Tasmota left unconfigured"),
 * then optionally check it on the home LAN. Options and questions here; the work is in
 * tasmota_cfg.c. */
#include "sonota/cmds.h"

#include "io/log.h"
#include "io/prompt.h"
#include "io/opt_help.h"
#include "lib/opt_table.h"
#include "sonota/cli_opts.h"
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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfg_opts {
    char device_url[TCFG_URL_MAX + 1];
    char lan_url[TCFG_URL_MAX + 1];
    const char *ssid;
    char ssid_buf[CLI_SSID_MAX + 2]; /* the answer at the prompt */
    char *wifi_pw;          /* owned, wiped */
    int wifi_pw_flag;       /* came from the command line */
    const char *mqtt_host, *mqtt_user, *topic, *hostname, *backlog;
    char *mqtt_pw;          /* owned, wiped */
    int mqtt_pw_flag;
    int timeout_s;
    int json, quiet, verbose, no_color, help;
    const char *log_file;
};

SO_PRINTF(3, 4)
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* --device and --lan-check. */
static int set_url(const struct opt_table_row *r, void *base, char *arg, char *err, size_t cap)
{
    char why[300];
    if (tcfg_base_url(arg, (char *)base + r->off, TCFG_URL_MAX + 1, why, sizeof why) != 0)
        return fail(err, cap, "--%s: %s", r->name, why);
    return 0;
}

#define T struct cfg_opts
static const struct opt_table_row cfg_rows[] = {
    OPT_ROW_HEADING("Device:"),
    OPT_ROW_FUNC(T, "device", device_url, set_url, "URL",
                 "Tasmota's web server on its own WiFi", TCFG_DEVICE_URL),
    OPT_ROW_FUNC(T, "lan-check", lan_url, set_url, "ADDR",
                 "after the WiFi step, poll http://ADDR/ (IP or name, optional\n"
                 ":port) until the device answers there with the new settings", NULL),
    OPT_ROW_HEADING("WiFi (the network the device joins):"),
    CLI_ROW_WIFI_SSID(T, ssid),
    CLI_ROW_WIFI_PASSWORD(T, wifi_pw, wifi_pw_flag),
    OPT_ROW_HEADING("MQTT and names (each optional):"),
    CLI_ROWS_MQTT(T, mqtt_host, mqtt_user, mqtt_pw, mqtt_pw_flag, topic, hostname, backlog),
    OPT_ROW_HEADING("Output:"),
    CLI_ROW_JSON(T, "one JSON object per line on stdout (events: configure, action,\n"
                    "tasmota, configured, lan, info, warning, error, done)"),
    CLI_ROW_LOG(T),
    CLI_ROW_NO_COLOR(T),
    CLI_ROW_QUIET(T, "only warnings, errors and the result"),
    CLI_ROW_VERBOSE(T, "more detail (the requests, passwords masked)"),
    CLI_ROW_TIMEOUT(T, timeout_s, 86400, "300"),
    CLI_ROW_HELP(T),
};
#undef T

static void usage(FILE *f)
{
    fputs(
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
"\n", f);
    struct opt_table_part part = {cfg_rows, OPT_TABLE_N(cfg_rows), NULL};
    opt_help_print(f, &part, 1, 0);
    fputs(
"\n"
"Values may not hold ';' or control characters, start or end with a blank, or be \"0\"\n"
"or \"1\" (Tasmota reads those as \"clear\" and \"default\").\n"
"Exit status: 0 configured, 1 failed, 2 usage, 4 the device refused or is not Tasmota,\n"
"5 the device cannot be reached (or did not show up on the LAN), 130 interrupted.\n", f);
}

static void opts_free(struct cfg_opts *o)
{
    cli_opts_free_secret(&o->wifi_pw);
    cli_opts_free_secret(&o->mqtt_pw);
}

static int parse(int argc, char **argv, struct cfg_opts *o, char *err, size_t cap)
{
    struct opt_table_part part = {cfg_rows, OPT_TABLE_N(cfg_rows), o};
    char *first = NULL; /* an operand: refused below unless --help was asked */
    int npos = opt_table_parse(&part, 1, argc, argv, &first, 1, err, cap);
    if (npos < 0 && !o->help)
        return -1;
    if (o->help)
        return 0;
    if (npos > 0)
        return fail(err, cap, "unexpected argument '%s'", first);
    if (cli_opts_env_wifi_password(&o->wifi_pw, err, cap) < 0 ||
        cli_opts_env_mqtt_password(&o->mqtt_pw, err, cap) < 0)
        return -1;
    if (cli_opts_env_no_color())
        o->no_color = 1;
    return 0;
}

/* SSID and password from the terminal when not given. 0, or -1 with err. */
static int ask(struct cfg_opts *o, char *err, size_t cap)
{
    char *ssid = o->ssid_buf;
    if (!o->ssid) {
        if (!prompt_available() ||
            prompt_line("WiFi network (SSID) the device should join: ", ssid,
                        sizeof o->ssid_buf) ||
            !ssid[0] || strlen(ssid) > CLI_SSID_MAX)
            return fail(err, cap, "the device needs your WiFi name: pass --wifi-ssid SSID");
        o->ssid = ssid;
    }
    if (!o->wifi_pw) {
        char pw[CLI_WIFI_PW_MAX + 2];
        int asked = prompt_available() ? prompt_wifi_password(o->ssid, pw, sizeof pw) : -1;
        int rc = asked == 0 ? cli_opts_set_secret(&o->wifi_pw, pw) : 0;
        plat_wipe(pw, sizeof pw);
        if (asked == -2)
            return fail(err, cap, "no usable WiFi password after %d answers: a WPA2 password "
                        "has 8 to 63 characters (or 64 hex digits); an open network needs an "
                        "empty answer, confirmed", PROMPT_PW_TRIES);
        if (asked != 0)
            return fail(err, cap, "the device needs your WiFi password and there is no "
                        "terminal to ask: set " CLI_ENV_WIFI_PASSWORD
                        " (or pass --wifi-password)");
        if (rc != 0)
            return fail(err, cap, "out of memory");
    }
    return 0;
}

static volatile sig_atomic_t g_stop;

static void start_event(struct ui *u, const struct cfg_opts *o)
{
    if (!u->json) {
        char line[TCFG_URL_MAX + 64];
        snprintf(line, sizeof line, "sonota %s: configuring Tasmota at %s", SONOTA_VERSION,
                 o->device_url);
        if (!u->quiet)
            ui_say_line(u, u->out, NULL, line);
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
                    "until now; prefer " CLI_ENV_WIFI_PASSWORD " or the prompt");
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
