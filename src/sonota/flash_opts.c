#include "sonota/flash_opts.h"

#include "io/log.h"
#include "io/opt_help.h"
#include "lib/opt_table.h"
#include "sonota/cli_opts.h"
#include "io/netif.h"
#include "sonota/flash_state.h"
#include "plat/fs.h"
#include "lib/fmt_attr.h"
#include "plat/paths.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SO_PRINTF(3, 4) static int fail(char *err, size_t cap, const char *fmt, ...);

/* Rows that need more than a range or a word list. */
static int set_serving_host(const struct opt_table_row *r, void *base, char *arg, char *err,
                            size_t cap);
static int set_final_device(const struct opt_table_row *r, void *base, char *arg, char *err,
                            size_t cap);
static int set_owned_path(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap);
static int set_https_port(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap);
static int set_device_url(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap);
static int set_tasmota_url(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t cap);

_Static_assert(sizeof(enum srv_pace) == sizeof(int), "--pace sets an int-sized enum");
_Static_assert(sizeof(enum flash_pw_source) == sizeof(int) && FLASH_PW_FLAG == 1,
               "--wifi-password marks pw_source through an int (cli_opts.h)");

#define T struct flash_opts
#define PORT(n, f, h, d)                                                                   \
    {.name = (n), .kind = OPT_TABLE_INT, .off = offsetof(T, f), .lo = 1, .hi = 65535,      \
     .arg = "N", .what = "a port number", .help = (h), .dflt = (d)}
static const struct opt_table_row flash_rows[] = {
    OPT_ROW_HEADING("Network:"),
    OPT_ROW_FUNC(T, "serving-host", serving_host, set_serving_host, "IP",
                 "address of this computer on your WiFi (the device connects\n"
                 "to it); default: the only candidate, or ask", NULL),
    CLI_ROW_WIFI_SSID(T, wifi_ssid),
    CLI_ROW_WIFI_PASSWORD(T, wifi_password, pw_source),
    OPT_ROW_FLAG(T, 0, "no-prov", no_prov,
                 "skip stage 1 (the device already uses this computer); not\n"
                 "needed to resume, see below"),
    OPT_ROW_FLAG(T, 0, "no-check-ip", no_check_ip,
                 "do not wait for this computer's addresses to change (and\n"
                 "neither read nor write the --state record)"),
    OPT_ROW_FUNC(T, "device", device_url, set_device_url, "URL",
                 "the device on its pairing WiFi", "http://10.10.7.1"),
    PORT("http-port", http_port, "firmware file server port (the intermediate\n"
         "firmware only ever asks 192.168.4.2:8080)", "8080"),
    {.name = "https-port", .kind = OPT_TABLE_FUNC, .off = offsetof(T, https_port),
     .off2 = offsetof(T, https_port_set), .fn = set_https_port, .arg = "N",
     .help = "fake cloud port, HTTPS + WebSocket", .dflt = "8443, 443 with --legacy"},
    OPT_ROW_FLAG(T, 0, "legacy", legacy, "HTTPS on 443 plus plain dispatch + WebSocket on 8081\n"
                 "(older firmware such as POW 2.0.2)"),
    PORT("plain-port", plain_port, "the plain port of --legacy", "8081"),
    OPT_ROW_FLAG(T, 0, "bind-any", bind_any,
                 "listen on every interface (0.0.0.0) instead of only the\n"
                 "serving IP (stages 1-2) and 192.168.4.2 (stage 3)"),
    OPT_ROW_FUNC(T, "final-device", final_device, set_final_device, "IP",
                 "the intermediate firmware's address: the final image counts\n"
                 "only when fetched from it or from the address the device used\n"
                 "in stage 2", FLASH_FINAL_DEVICE),
    {.name = "pin-grace", .kind = OPT_TABLE_INT, .off = offsetof(T, pin_grace_s), .lo = 0,
     .hi = 3600, .arg = "SECONDS", .what = "a number of seconds",
     .help = "after three TLS handshakes that refused our certificate\n"
             "(certificate pinning), stop this long later unless the\n"
             "device registers (0 = at once)", .dflt = "60"},
    OPT_ROW_HEADING(
"\nResuming (without --no-check-ip):\n"
"  Every run finds its stage from this computer's addresses (10.10.7.x: stage 1,\n"
"  the serving IP: stage 2, 192.168.4.2: stage 3) and from what earlier runs\n"
"  recorded, so after an interruption the same command continues where it stopped."),
    OPT_ROW_FUNC(T, "state", state_file, set_owned_path, "FILE",
                 "the record (default $XDG_STATE_HOME/sonota/" FLASH_STATE_NAME ",\n"
                 "or ~/.local/state/sonota/...; 0600, never the password)", NULL),
    OPT_ROW_FLAG(T, 0, "fresh", fresh, "forget the record: start with stage 1 (another device)"),
    OPT_ROW_HEADING("\nFirmware:"),
    OPT_ROW_PATH(T, "firmware-dir", firmware_dir, "DIR",
                 "take " FLASH_NAME_USER1 ",\n" FLASH_NAME_USER2 " and " FLASH_NAME_FINAL
                 " from DIR", NULL),
    OPT_ROW_FUNC(T, "user1", user1, set_owned_path, "FILE",
                 "intermediate firmware linked for slot 1 (0x01000)", NULL),
    OPT_ROW_FUNC(T, "user2", user2, set_owned_path, "FILE",
                 "intermediate firmware linked for slot 2 (0x81000)", NULL),
    OPT_ROW_FUNC(T, "final", final, set_owned_path, "FILE",
                 "final image (<= 512 KiB, DOUT, 1 MB), e.g. tasmota-lite.bin", NULL),
    OPT_ROW_FLAG(T, 0, "force", force, "serve images that fail validation (dangerous)"),
    OPT_ROW_CHOICE(T, "pace", pace, "auto|fast|slow",
                   "whole-file downloads: paced after a failed download (auto),\n"
                   "never paced (fast), always paced (slow)", "auto",
                   SRV_PACE_AUTO, SRV_PACE_FAST, SRV_PACE_SLOW),
    OPT_ROW_HEADING("\nAfter the final image (Tasmota):"),
    OPT_ROW_FLAG(T, 0, "configure", configure,
                 "wait for the new firmware's WiFi (tasmota_XXXXXX-####), and\n"
                 "give it your WiFi (the same SSID and password) and the\n"
                 "settings below; any of them implies --configure"),
    CLI_ROWS_MQTT(T, mqtt_host, mqtt_user, mqtt_password, mqtt_pw_flag, topic, hostname,
                  backlog),
    OPT_ROW_FUNC(T, "lan-check", lan_url, set_tasmota_url, "ADDR",
                 "then wait until the device answers at ADDR on your network", NULL),
    OPT_ROW_FUNC(T, "configure-device", configure_url, set_tasmota_url, "URL",
                 "Tasmota on its own WiFi", TCFG_DEVICE_URL),
    OPT_ROW_HEADING("\nMany devices:"),
    OPT_ROW_FLAG(T, 0, "fleet", fleet,
                 "keep the servers up and flash one device after another (and\n"
                 "several at once in stages 2 and 3); ends with a table of\n"
                 "every device at Ctrl-C, --timeout or --fleet-size"),
    {.name = "fleet-size", .kind = OPT_TABLE_INT, .off = offsetof(T, fleet_size), .lo = 1,
     .hi = 10000, .arg = "N", .what = "a number of devices",
     .help = "stop once N devices have their final image"},
    OPT_ROW_HEADING("\nOutput:"),
    CLI_ROW_JSON(T, "one JSON object per line on stdout (see docs/EVENTS.md)"),
    CLI_ROW_LOG(T),
    CLI_ROW_NO_COLOR(T),
    CLI_ROW_QUIET(T, "only warnings, errors and the summary"),
    CLI_ROW_VERBOSE(T, "more detail (twice: protocol trace)"),
    CLI_ROW_TIMEOUT(T, timeout_s, 7 * 24 * 3600, "1800"),
    CLI_ROW_HELP(T),
};
#undef PORT
#undef T

void flash_opts_usage(FILE *f, const char *prog)
{
    fprintf(f,
"usage: %s [flash] [OPTIONS]\n"
"\n"
"Walks a Sonoff with stock eWeLink firmware (1.5.x, 2.0.x) through the OTA path:\n"
"  1. provision: on the device's ITEAD-<id> WiFi, tell it your WiFi and this computer\n"
"  2. cloud:     back on your WiFi, act as the eWeLink cloud and send the upgrade;\n"
"                the device downloads the intermediate firmware (user1 or user2)\n"
"  3. final:     on the open WiFi \"FinalStage\", serve the final image (e.g. Tasmota)\n"
"Every question has a flag, so a run can be scripted.\n"
"\n", prog);
    struct opt_table_part part = {flash_rows, OPT_TABLE_N(flash_rows), NULL};
    opt_help_print(f, &part, 1, 0);
    fputs("\n"
"Exit status: 0 done, 1 failed, 2 usage, 3 invalid image, 4 device refused,\n"
"5 network problem, 130 interrupted.\n", f);
}

const char *flash_opts_pace_name(enum srv_pace p)
{
    switch (p) {
    case SRV_PACE_AUTO: return "auto";
    case SRV_PACE_FAST: return "fast";
    case SRV_PACE_SLOW: return "slow";
    }
    return "auto";
}

SO_PRINTF(3, 4)
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && cap)
        vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int set_path(char **dst, const char *src)
{
    free(*dst);
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        n--; /* "/" becomes "" so the result is "/name" */
    char *p = malloc(n + 1 + strlen(name) + 1);
    if (p)
        sprintf(p, "%.*s/%s", (int)n, dir, name);
    return p;
}

int flash_opts_set_password(struct flash_opts *o, const char *pw, enum flash_pw_source src)
{
    o->pw_source = FLASH_PW_NONE;
    if (cli_opts_set_secret(&o->wifi_password, pw) != 0)
        return -1;
    if (pw)
        o->pw_source = src;
    return 0;
}

/* ---- the rows' functions ---- */

static int parse_host_ipv4(const char *arg)
{
    uint32_t a;
    return netif_parse_ipv4(arg, &a) != 0 || a == 0 || a == 0xFFFFFFFFu ? -1 : 0;
}

static int set_serving_host(const struct opt_table_row *r, void *base, char *arg, char *err,
                            size_t cap)
{
    (void)r;
    if (parse_host_ipv4(arg) != 0)
        return fail(err, cap, "--serving-host needs this computer's IPv4 address "
                    "(e.g. 192.168.1.20), not '%s'", arg);
    ((struct flash_opts *)base)->serving_host = arg;
    return 0;
}

static int set_final_device(const struct opt_table_row *r, void *base, char *arg, char *err,
                            size_t cap)
{
    (void)r;
    struct flash_opts *o = base;
    if (parse_host_ipv4(arg) != 0)
        return fail(err, cap, "--final-device needs an IPv4 address (e.g. 192.168.4.1), "
                    "not '%s'", arg);
    snprintf(o->final_device, sizeof o->final_device, "%s", arg);
    return 0;
}

/* --user1, --user2, --final, --state: an owned copy in the char * field. */
static int set_owned_path(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap)
{
    if (!*arg)
        return fail(err, cap, "empty --%s file name", r->name);
    if (set_path((char **)((char *)base + r->off), arg) != 0)
        return fail(err, cap, "out of memory");
    return 0;
}

static int set_https_port(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap)
{
    long v;
    if (opt_table_long(arg, 1, 65535, &v) != 0)
        return fail(err, cap, "--%s needs a port number (1-65535), not '%s'", r->name, arg);
    *(int *)((char *)base + r->off) = (int)v;
    *(int *)((char *)base + r->off2) = 1; /* an explicit port wins over --legacy's 443 */
    return 0;
}

static int set_device_url(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap)
{
    (void)r;
    struct flash_opts *o = base;
    if (strncmp(arg, "http://", 7) != 0 || !arg[7] || arg[7] == '/')
        return fail(err, cap, "--device must be an http:// URL such as http://10.10.7.1 "
                    "(the pairing AP speaks plain HTTP)");
    size_t n = strlen(arg);
    while (n > 7 && arg[n - 1] == '/')
        n--;
    if (n > FLASH_DEVICE_URL_MAX)
        return fail(err, cap, "--device URL is too long");
    memcpy(o->device_url, arg, n);
    o->device_url[n] = '\0';
    return 0;
}

/* --configure-device (which implies --configure) and --lan-check. */
static int set_tasmota_url(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t cap)
{
    struct flash_opts *o = base;
    char why[300];
    if (tcfg_base_url(arg, (char *)base + r->off, TCFG_URL_MAX + 1, why, sizeof why) != 0)
        return fail(err, cap, "--%s: %s", r->name, why);
    if (r->off == offsetof(struct flash_opts, configure_url))
        o->configure = 1;
    return 0;
}

/* The Tasmota settings: implied --configure, the environment, tasmota_cfg's checks. */
static int finish_configure(struct flash_opts *o, char *err, size_t cap)
{
    if (o->mqtt_host || o->mqtt_user || o->mqtt_password || o->topic || o->hostname ||
        o->backlog || o->lan_url[0])
        o->configure = 1;
    if (!o->configure)
        return 0;
    if (o->fleet)
        return fail(err, cap, "--fleet does not configure the devices (each needs this "
                    "computer on its own Tasmota WiFi): flash them with --fleet, then run "
                    "`sonota configure` for each");
    if (cli_opts_env_mqtt_password(&o->mqtt_password, err, cap) != 0)
        return -1;
    struct tasmota_cfg c = {.ssid = "x", .hostname = o->hostname, .mqtt_host = o->mqtt_host,
                            .mqtt_user = o->mqtt_user, .mqtt_password = o->mqtt_password,
                            .topic = o->topic, .backlog = o->backlog};
    char why[400];
    if (tcfg_check(&c, why, sizeof why))
        return fail(err, cap, "%s", why);
    return 0;
}

static int finish(struct flash_opts *o, char *err, size_t cap)
{
    if (o->firmware_dir) {
        char **slot[3] = {&o->user1, &o->user2, &o->final};
        const char *names[3] = {FLASH_NAME_USER1, FLASH_NAME_USER2, FLASH_NAME_FINAL};
        for (int i = 0; i < 3; i++) {
            if (*slot[i])
                continue; /* an explicit --user1/--user2/--final wins */
            *slot[i] = join(o->firmware_dir, names[i]);
            if (!*slot[i])
                return fail(err, cap, "out of memory");
        }
    }
    if (!o->user1 && !o->user2 && !o->final)
        return fail(err, cap, "no firmware given: pass --firmware-dir DIR (with %s, %s and "
                    "%s) or --user1 FILE --user2 FILE --final FILE",
                    FLASH_NAME_USER1, FLASH_NAME_USER2, FLASH_NAME_FINAL);
    if (!o->user1 || !o->user2 || !o->final)
        return fail(err, cap, "missing firmware: %s%s%s(all three are needed: the device "
                    "picks user1 or user2 by its running slot, then takes the final image)",
                    o->user1 ? "" : "--user1 ", o->user2 ? "" : "--user2 ",
                    o->final ? "" : "--final ");
    if (o->legacy && !o->https_port_set)
        o->https_port = 443; /* §1.6: --legacy means HTTPS on the device default 443 */
    if (o->http_port == o->https_port || (o->legacy && (o->plain_port == o->http_port ||
                                                        o->plain_port == o->https_port)))
        return fail(err, cap, "the server ports must differ (http %d, https %d%s)",
                    o->http_port, o->https_port, o->legacy ? ", plain as well" : "");
    int env = cli_opts_env_wifi_password(&o->wifi_password, err, cap);
    if (env < 0)
        return -1;
    if (env > 0)
        o->pw_source = FLASH_PW_ENV;
    if (cli_opts_env_no_color())
        o->no_color = 1;
    if (finish_configure(o, err, cap) != 0)
        return -1;
    if (o->fleet_size && !o->fleet)
        return fail(err, cap, "--fleet-size needs --fleet");
    if (!o->state_file) {
        char dir[4096], path[4096];
        if (plat_state_dir(dir, sizeof dir) == 0 &&
            flash_state_path_in(dir, path, sizeof path) == 0 &&
            set_path(&o->state_file, path) != 0)
            return fail(err, cap, "out of memory");
    }
    return 0;
}

int flash_opts_parse(int argc, char **argv, struct flash_opts *o, char *err, size_t errcap)
{
    if (err && errcap)
        err[0] = '\0';
    struct opt_table_part part = {flash_rows, OPT_TABLE_N(flash_rows), o};
    char *first = NULL; /* an operand: refused below unless --help was asked */
    int npos = opt_table_parse(&part, 1, argc, argv, &first, 1, err, errcap);
    if (npos < 0 && !o->help)
        return -1;
    if (o->help)
        return 0;
    if (npos > 0)
        return fail(err, errcap, "unexpected argument '%s'", first);
    if (o->quiet && o->verbose)
        return fail(err, errcap, "--quiet and --verbose contradict each other");
    return finish(o, err, errcap);
}

void flash_opts_free(struct flash_opts *o)
{
    if (!o)
        return;
    flash_opts_set_password(o, NULL, FLASH_PW_NONE);
    cli_opts_free_secret(&o->mqtt_password);
    free(o->user1);
    free(o->user2);
    free(o->final);
    free(o->state_file);
    o->user1 = o->user2 = o->final = o->state_file = NULL;
}
