#include "sonota/flash_opts.h"

#include "io/log.h"
#include "io/netif.h"
#include "lib/wifi_pw.h"
#include "sonota/flash_state.h"
#include "plat/fs.h"
#include "lib/fmt_attr.h"
#include "plat/paths.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_SERVING_HOST = 256, OPT_WIFI_SSID, OPT_WIFI_PASSWORD, OPT_NO_PROV, OPT_NO_CHECK_IP,
    OPT_DEVICE, OPT_HTTP_PORT, OPT_HTTPS_PORT, OPT_PLAIN_PORT, OPT_LEGACY, OPT_USER1,
    OPT_USER2, OPT_FINAL, OPT_FIRMWARE_DIR, OPT_PACE, OPT_FORCE, OPT_LOG, OPT_JSON,
    OPT_TIMEOUT, OPT_NO_COLOR, OPT_STATE, OPT_FRESH, OPT_BIND_ANY, OPT_CONFIGURE,
    OPT_CONFIGURE_DEVICE, OPT_LAN_CHECK, OPT_MQTT_HOST, OPT_MQTT_USER, OPT_MQTT_PASSWORD,
    OPT_TOPIC, OPT_HOSTNAME, OPT_BACKLOG, OPT_FLEET, OPT_FLEET_SIZE, OPT_FINAL_DEVICE,
    OPT_PIN_GRACE,
};

static const struct option long_opts[] = {
    {"serving-host", required_argument, NULL, OPT_SERVING_HOST},
    {"wifi-ssid", required_argument, NULL, OPT_WIFI_SSID},
    {"wifi-password", required_argument, NULL, OPT_WIFI_PASSWORD},
    {"no-prov", no_argument, NULL, OPT_NO_PROV},
    {"no-check-ip", no_argument, NULL, OPT_NO_CHECK_IP},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"http-port", required_argument, NULL, OPT_HTTP_PORT},
    {"https-port", required_argument, NULL, OPT_HTTPS_PORT},
    {"plain-port", required_argument, NULL, OPT_PLAIN_PORT},
    {"legacy", no_argument, NULL, OPT_LEGACY},
    {"user1", required_argument, NULL, OPT_USER1},
    {"user2", required_argument, NULL, OPT_USER2},
    {"final", required_argument, NULL, OPT_FINAL},
    {"firmware-dir", required_argument, NULL, OPT_FIRMWARE_DIR},
    {"pace", required_argument, NULL, OPT_PACE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"log", required_argument, NULL, OPT_LOG},
    {"json", no_argument, NULL, OPT_JSON},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"state", required_argument, NULL, OPT_STATE},
    {"fresh", no_argument, NULL, OPT_FRESH},
    {"bind-any", no_argument, NULL, OPT_BIND_ANY},
    {"configure", no_argument, NULL, OPT_CONFIGURE},
    {"configure-device", required_argument, NULL, OPT_CONFIGURE_DEVICE},
    {"lan-check", required_argument, NULL, OPT_LAN_CHECK},
    {"mqtt-host", required_argument, NULL, OPT_MQTT_HOST},
    {"mqtt-user", required_argument, NULL, OPT_MQTT_USER},
    {"mqtt-password", required_argument, NULL, OPT_MQTT_PASSWORD},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"tasmota-backlog", required_argument, NULL, OPT_BACKLOG},
    {"fleet", no_argument, NULL, OPT_FLEET},
    {"fleet-size", required_argument, NULL, OPT_FLEET_SIZE},
    {"final-device", required_argument, NULL, OPT_FINAL_DEVICE},
    {"pin-grace", required_argument, NULL, OPT_PIN_GRACE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

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
"\n"
"Network:\n"
"  --serving-host IP     address of this computer on your WiFi (the device connects\n"
"                        to it); default: the only candidate, or ask\n"
"  --wifi-ssid SSID      your WiFi network (the device joins it)\n"
"  --wifi-password PW    its password; visible in the process list: prefer the\n"
"                        environment variable " FLASH_ENV_PASSWORD " or the prompt\n"
"  --no-prov             skip stage 1 (the device already uses this computer); not\n"
"                        needed to resume, see below\n"
"  --no-check-ip         do not wait for this computer's addresses to change (and\n"
"                        neither read nor write the --state record)\n"
"  --device URL          the device on its pairing WiFi (default http://10.10.7.1)\n"
"  --http-port N         firmware file server port (default 8080; the intermediate\n"
"                        firmware only ever asks 192.168.4.2:8080)\n"
"  --https-port N        fake cloud port, HTTPS + WebSocket (default 8443,\n"
"                        443 with --legacy)\n"
"  --legacy              HTTPS on 443 plus plain dispatch + WebSocket on 8081\n"
"                        (older firmware such as POW 2.0.2)\n"
"  --plain-port N        the plain port of --legacy (default 8081)\n"
"  --bind-any            listen on every interface (0.0.0.0) instead of only the\n"
"                        serving IP (stages 1-2) and 192.168.4.2 (stage 3)\n"
"  --final-device IP     the intermediate firmware's address (default 192.168.4.1):\n"
"                        the final image counts only when fetched from it or from\n"
"                        the address the device used in stage 2\n"
"  --pin-grace SECONDS   after three TLS handshakes that refused our certificate\n"
"                        (certificate pinning), stop this long later unless the\n"
"                        device registers (default 60; 0 = at once)\n"
"\n"
"Resuming (without --no-check-ip):\n"
"  Every run finds its stage from this computer's addresses (10.10.7.x: stage 1,\n"
"  the serving IP: stage 2, 192.168.4.2: stage 3) and from what earlier runs\n"
"  recorded, so after an interruption the same command continues where it stopped.\n"
"  --state FILE          the record (default $XDG_STATE_HOME/sonota/" FLASH_STATE_NAME ",\n"
"                        or ~/.local/state/sonota/...; 0600, never the password)\n"
"  --fresh               forget the record: start with stage 1 (another device)\n"
"\n"
"Firmware:\n"
"  --firmware-dir DIR    take " FLASH_NAME_USER1 ",\n"
"                        " FLASH_NAME_USER2 " and " FLASH_NAME_FINAL " from DIR\n"
"  --user1 FILE          intermediate firmware linked for slot 1 (0x01000)\n"
"  --user2 FILE          intermediate firmware linked for slot 2 (0x81000)\n"
"  --final FILE          final image (≤ 512 KiB, DOUT, 1 MB), e.g. tasmota-lite.bin\n"
"  --force               serve images that fail validation (dangerous)\n"
"  --pace auto|fast|slow whole-file downloads: paced after a failed download (auto),\n"
"                        never paced (fast), always paced (slow)\n"
"\n"
"After the final image (Tasmota):\n"
"  --configure           wait for the new firmware's WiFi (tasmota_XXXXXX-####), and\n"
"                        give it your WiFi (the same SSID and password) and the\n"
"                        settings below; any of them implies --configure\n"
"  --mqtt-host HOST      MQTT broker\n"
"  --mqtt-user USER\n"
"  --mqtt-password PW    visible in the process list: prefer " TCFG_ENV_MQTT_PASSWORD "\n"
"  --topic TOPIC         MQTT topic\n"
"  --hostname NAME       the device's host name on your network\n"
"  --tasmota-backlog CMDS  more Tasmota commands, ';'-separated, sent first\n"
"  --lan-check ADDR      then wait until the device answers at ADDR on your network\n"
"  --configure-device URL  Tasmota on its own WiFi (default " TCFG_DEVICE_URL ")\n"
"\n"
"Many devices:\n"
"  --fleet               keep the servers up and flash one device after another (and\n"
"                        several at once in stages 2 and 3); ends with a table of\n"
"                        every device at Ctrl-C, --timeout or --fleet-size\n"
"  --fleet-size N        stop once N devices have their final image\n"
"\n"
"Output:\n"
"  --json                one JSON object per line on stdout (see docs/EVENTS.md)\n"
"  --log FILE            also write a detailed log to FILE (created 0600)\n"
"  --no-color            no colours (also when NO_COLOR is set)\n"
"  -q, --quiet           only warnings, errors and the summary\n"
"  -v, --verbose         more detail (twice: protocol trace)\n"
"  --timeout SECONDS     give up after this long (default 1800)\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage, 3 invalid image, 4 device refused,\n"
"5 network problem, 130 interrupted.\n",
            prog);
}

const char *flash_pace_name(enum srv_pace p)
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

static int parse_int(const char *s, long lo, long hi, int *out)
{
    if (!s || !*s)
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > hi)
            return -1;
    }
    if (v < lo)
        return -1;
    *out = (int)v;
    return 0;
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
    if (o->wifi_password) {
        plat_wipe(o->wifi_password, strlen(o->wifi_password));
        free(o->wifi_password);
        o->wifi_password = NULL;
    }
    o->pw_source = FLASH_PW_NONE;
    if (!pw)
        return 0;
    o->wifi_password = strdup(pw);
    if (!o->wifi_password)
        return -1;
    so_log_add_secret(o->wifi_password);
    o->pw_source = src;
    return 0;
}

/* WPA2 passphrases are 8..63 characters, a raw key 64 hex digits; "" = open network. */
static int password_ok(const char *pw)
{
    return wifi_pw_acceptable(wifi_pw_check(pw, strlen(pw)));
}

static int check_device_url(struct flash_opts *o, const char *url, char *err, size_t cap)
{
    if (strncmp(url, "http://", 7) != 0 || !url[7] || url[7] == '/')
        return fail(err, cap, "--device must be an http:// URL such as http://10.10.7.1 "
                    "(the pairing AP speaks plain HTTP)");
    size_t n = strlen(url);
    while (n > 7 && url[n - 1] == '/')
        n--;
    if (n > FLASH_DEVICE_URL_MAX)
        return fail(err, cap, "--device URL is too long");
    memcpy(o->device_url, url, n);
    o->device_url[n] = '\0';
    return 0;
}

static int set_mqtt_password(struct flash_opts *o, const char *pw)
{
    if (o->mqtt_password) {
        plat_wipe(o->mqtt_password, strlen(o->mqtt_password));
        free(o->mqtt_password);
    }
    o->mqtt_password = strdup(pw);
    if (!o->mqtt_password)
        return -1;
    so_log_add_secret(o->mqtt_password);
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
    const char *env = getenv(TCFG_ENV_MQTT_PASSWORD);
    if (!o->mqtt_password && env && *env && set_mqtt_password(o, env) != 0)
        return fail(err, cap, "out of memory");
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
    if (!o->wifi_password) {
        const char *env = getenv(FLASH_ENV_PASSWORD);
        if (env) {
            if (!password_ok(env))
                return fail(err, cap, FLASH_ENV_PASSWORD " must hold 8 to 63 characters "
                            "(or 64 hex digits, or be empty for an open network)");
            if (flash_opts_set_password(o, env, FLASH_PW_ENV) != 0)
                return fail(err, cap, "out of memory");
        }
    }
    if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
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
    optind = 0; /* glibc: full reset, so parsing can run more than once (tests) */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "+:qvh", long_opts, NULL);
        if (c == -1)
            break;
        const char *arg = optarg;
        switch (c) {
        case OPT_SERVING_HOST: {
            uint32_t a;
            if (netif_parse_ipv4(arg, &a) != 0 || a == 0 || a == 0xFFFFFFFFu)
                return fail(err, errcap, "--serving-host needs this computer's IPv4 address "
                            "(e.g. 192.168.1.20), not '%s'", arg);
            o->serving_host = arg;
            break;
        }
        case OPT_FINAL_DEVICE: {
            uint32_t a;
            if (netif_parse_ipv4(arg, &a) != 0 || a == 0 || a == 0xFFFFFFFFu)
                return fail(err, errcap, "--final-device needs an IPv4 address (e.g. "
                            "192.168.4.1), not '%s'", arg);
            snprintf(o->final_device, sizeof o->final_device, "%s", arg);
            break;
        }
        case OPT_WIFI_SSID:
            if (!*arg || strlen(arg) > FLASH_SSID_MAX)
                return fail(err, errcap, "--wifi-ssid must be 1 to %d bytes", FLASH_SSID_MAX);
            o->wifi_ssid = arg;
            break;
        case OPT_WIFI_PASSWORD:
            if (!password_ok(arg))
                return fail(err, errcap, "--wifi-password must be 8 to 63 characters (or 64 "
                            "hex digits, or empty for an open network)");
            if (flash_opts_set_password(o, arg, FLASH_PW_FLAG) != 0)
                return fail(err, errcap, "out of memory");
            /* Hide it from `ps` from now on (it was visible until this point). */
            memset(optarg, '*', strlen(optarg));
            break;
        case OPT_NO_PROV: o->no_prov = 1; break;
        case OPT_NO_CHECK_IP: o->no_check_ip = 1; break;
        case OPT_DEVICE:
            if (check_device_url(o, arg, err, errcap) != 0)
                return -1;
            break;
        case OPT_HTTP_PORT:
        case OPT_HTTPS_PORT:
        case OPT_PLAIN_PORT: {
            int port;
            if (parse_int(arg, 1, 65535, &port) != 0)
                return fail(err, errcap, "%s needs a port number 1-65535, not '%s'",
                            c == OPT_HTTP_PORT ? "--http-port"
                            : c == OPT_HTTPS_PORT ? "--https-port" : "--plain-port", arg);
            if (c == OPT_HTTP_PORT)
                o->http_port = port;
            else if (c == OPT_PLAIN_PORT)
                o->plain_port = port;
            else {
                o->https_port = port;
                o->https_port_set = 1;
            }
            break;
        }
        case OPT_LEGACY: o->legacy = 1; break;
        case OPT_USER1:
        case OPT_USER2:
        case OPT_FINAL:
            if (!*arg)
                return fail(err, errcap, "empty file name");
            if (set_path(c == OPT_USER1 ? &o->user1 : c == OPT_USER2 ? &o->user2 : &o->final,
                         arg) != 0)
                return fail(err, errcap, "out of memory");
            break;
        case OPT_FIRMWARE_DIR:
            if (!*arg)
                return fail(err, errcap, "empty --firmware-dir");
            o->firmware_dir = arg;
            break;
        case OPT_PACE:
            if (!strcmp(arg, "auto"))
                o->pace = SRV_PACE_AUTO;
            else if (!strcmp(arg, "fast"))
                o->pace = SRV_PACE_FAST;
            else if (!strcmp(arg, "slow"))
                o->pace = SRV_PACE_SLOW;
            else
                return fail(err, errcap, "--pace takes auto, fast or slow, not '%s'", arg);
            break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_LOG:
            if (!*arg)
                return fail(err, errcap, "empty --log file name");
            o->log_file = arg;
            break;
        case OPT_JSON: o->json = 1; break;
        case OPT_TIMEOUT:
            if (parse_int(arg, 1, 7 * 24 * 3600, &o->timeout_s) != 0)
                return fail(err, errcap, "--timeout needs a number of seconds (1-604800), "
                            "not '%s'", arg);
            break;
        case OPT_PIN_GRACE:
            if (parse_int(arg, 0, 3600, &o->pin_grace_s) != 0)
                return fail(err, errcap, "--pin-grace needs a number of seconds (0-3600), "
                            "not '%s'", arg);
            break;
        case OPT_NO_COLOR: o->no_color = 1; break;
        case OPT_STATE:
            if (!*arg)
                return fail(err, errcap, "empty --state file name");
            if (set_path(&o->state_file, arg) != 0)
                return fail(err, errcap, "out of memory");
            break;
        case OPT_FRESH: o->fresh = 1; break;
        case OPT_BIND_ANY: o->bind_any = 1; break;
        case OPT_CONFIGURE: o->configure = 1; break;
        case OPT_CONFIGURE_DEVICE:
        case OPT_LAN_CHECK: {
            char why[300];
            int dev = c == OPT_CONFIGURE_DEVICE;
            if (tcfg_base_url(arg, dev ? o->configure_url : o->lan_url, TCFG_URL_MAX + 1, why,
                              sizeof why) != 0)
                return fail(err, errcap, "%s: %s", dev ? "--configure-device" : "--lan-check",
                            why);
            if (dev)
                o->configure = 1;
            break;
        }
        case OPT_MQTT_HOST: o->mqtt_host = arg; break;
        case OPT_MQTT_USER: o->mqtt_user = arg; break;
        case OPT_TOPIC: o->topic = arg; break;
        case OPT_HOSTNAME: o->hostname = arg; break;
        case OPT_BACKLOG: o->backlog = arg; break;
        case OPT_MQTT_PASSWORD:
            if (set_mqtt_password(o, arg) != 0)
                return fail(err, errcap, "out of memory");
            o->mqtt_pw_flag = 1;
            memset(optarg, '*', strlen(optarg)); /* hide it from `ps` from now on */
            break;
        case OPT_FLEET: o->fleet = 1; break;
        case OPT_FLEET_SIZE:
            if (parse_int(arg, 1, 10000, &o->fleet_size) != 0)
                return fail(err, errcap, "--fleet-size needs a number of devices (1-10000), "
                            "not '%s'", arg);
            break;
        case 'q': o->quiet++; break;
        case 'v': o->verbose++; break;
        case 'h': o->help = 1; break;
        case ':':
            return fail(err, errcap, "%s needs a value", argv[optind - 1]);
        default:
            if (optopt >= OPT_SERVING_HOST || (optind > 0 && optind <= argc &&
                                               !strncmp(argv[optind - 1], "--", 2)))
                return fail(err, errcap, "unknown option or missing value: '%s'",
                            argv[optind - 1]);
            return fail(err, errcap, "unknown option '-%c'", optopt);
        }
    }
    if (o->help)
        return 0;
    if (optind < argc)
        return fail(err, errcap, "unexpected argument '%s'", argv[optind]);
    if (o->quiet && o->verbose)
        return fail(err, errcap, "--quiet and --verbose contradict each other");
    return finish(o, err, errcap);
}

void flash_opts_free(struct flash_opts *o)
{
    if (!o)
        return;
    flash_opts_set_password(o, NULL, FLASH_PW_NONE);
    if (o->mqtt_password)
        plat_wipe(o->mqtt_password, strlen(o->mqtt_password));
    free(o->mqtt_password);
    o->mqtt_password = NULL;
    free(o->user1);
    free(o->user2);
    free(o->final);
    free(o->state_file);
    o->user1 = o->user2 = o->final = o->state_file = NULL;
}
