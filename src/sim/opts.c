#include "sim/opts.h"

#include "io/opt_help.h"
#include "lib/opt_table.h"

#include "io/crypto.h"
#include "lib/ewl_msg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[SIM_STAGE__COUNT] = {
    [SIM_STAGE_NONE] = "none",       [SIM_STAGE_AP] = "ap",
    [SIM_STAGE_DISPATCH] = "dispatch", [SIM_STAGE_REGISTER] = "register",
    [SIM_STAGE_UPGRADE] = "upgrade", [SIM_STAGE_DOWNLOAD] = "download",
    [SIM_STAGE_ROM2] = "rom2",       [SIM_STAGE_FINAL] = "final",
};

const char *sim_stage_name(enum sim_stage s)
{
    return (unsigned)s < SIM_STAGE__COUNT ? stage_names[s] : "?";
}

static int parse_stage(const char *s, enum sim_stage *out)
{
    for (int i = SIM_STAGE_AP; i < SIM_STAGE__COUNT; i++)
        if (!strcmp(s, stage_names[i])) {
            *out = (enum sim_stage)i;
            return 0;
        }
    return -1;
}

/* power-loss=WHICH:N, WHICH stock | rom2 | final, N a file byte offset (powerloss.h). */
static int parse_power_loss(struct sim_faults *f, const char *v)
{
    static const char *const names[] = {"stock", "rom2", "final"};
    const char *colon = strchr(v, ':');
    long x;
    if (!colon || opt_table_long(colon + 1, 0, 1L << 30, &x))
        return -1;
    size_t wn = (size_t)(colon - v);
    for (int i = 0; i < 3; i++)
        if (strlen(names[i]) == wn && !strncmp(v, names[i], wn)) {
            f->power_loss = (enum sim_pl)(SIM_PL_STOCK + i);
            f->power_loss_at = x;
            return 0;
        }
    return -1;
}

static int parse_fault(struct sim_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *v = eq ? eq + 1 : NULL;
    long x;
    if (n == 7 && !strncmp(arg, "drop-at", n) && v && !opt_table_long(v, 1, 1L << 30, &x))
        o->faults.drop_at = x;
    else if (n == 13 && !strncmp(arg, "corrupt-chunk", n) && v &&
             !opt_table_long(v, 0, 1 << 20, &x))
        o->faults.corrupt_chunk = x;
    else if (n == 12 && !strncmp(arg, "refuse-model", n) && !v)
        o->faults.refuse_model = 1;
    else if (n == 10 && !strncmp(arg, "power-loss", n) && v && !parse_power_loss(&o->faults, v))
        ;
    else if (n == 10 && !strncmp(arg, "stop-after", n) && v &&
             !parse_stage(v, &o->faults.stop_after))
        ;
    else if (!sim_diy_fault(&o->diy, arg))
        ;
    else
        return -1;
    return 0;
}

static int parse_hostport(const char *s, char *host, size_t cap, int *port)
{
    const char *c = strrchr(s, ':');
    long p;
    if (!c || c == s || (size_t)(c - s) >= cap || opt_table_long(c + 1, 1, 65535, &p))
        return -1;
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = '\0';
    *port = (int)p;
    return 0;
}

static int valid_device_id(const char *s)
{
    if (strlen(s) != 10)
        return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return 0;
    return 1;
}

/* Identity defaults derived from the flash path, so a re-run on the same flash file is the
 * same device (a real device keeps its id in flash). */
static void derive_identity(struct sim_opts *o)
{
    int have_id = o->device_id[0] != 0, have_key = o->apikey[0] != 0, have_mac = o->mac[0] != 0;
    char h[65];
    if (!have_id) {
        so_sha256_hex(o->flash_path, strlen(o->flash_path), h);
        snprintf(o->device_id, sizeof o->device_id, "1000%.6s", h);
    }
    char seed[64];
    snprintf(seed, sizeof seed, "factory-apikey:%s", o->device_id);
    so_sha256_hex(seed, strlen(seed), h);
    if (!have_key) {
        uint8_t rnd[16];
        for (int i = 0; i < 16; i++) {
            unsigned v;
            sscanf(h + 2 * i, "%2x", &v);
            rnd[i] = (uint8_t)v;
        }
        ewl_format_uuid(rnd, o->apikey);
    }
    if (!have_mac)
        snprintf(o->mac, sizeof o->mac, "5C:CF:7F:%c%c:%c%c:%c%c", toupper(h[40]),
                 toupper(h[41]), toupper(h[42]), toupper(h[43]), toupper(h[44]), toupper(h[45]));
}

static void set_defaults(struct sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->flash_path = "sonoff-flash.bin";
    o->slot = 1;
    o->model = "ITA-GZ1-GL";
    o->rom_version = "1.5.5";
    o->ap_addr = "10.10.7.1";
    o->ap_port = 80;
    o->tls = SIM_TLS_11;
    o->nonssl_port = 8081;
    o->variant = SIM_FW_IG;
    o->dispatch_tries = 3;
    o->max_sessions = 3;
    o->wait_upgrade = 60;
    o->download = SIM_DL_RANGE;
    o->reader_chunk = 1460;
    o->reader_interval_ms = 10;
    o->reader_max_pending = 2920;
    o->reader_rcvbuf = 4096;
    o->final_host = "192.168.4.2";
    o->final_port = 8080;
    o->final_path_user2 = "/ota/image_user2-0x81000.bin";
    o->final_path_final = "/ota/image_arduino.bin";
    o->max_boots = 8;
    o->time_scale = 1.0;
    o->timeout = 900;
    o->faults.drop_at = -1;
    o->faults.corrupt_chunk = -1;
    sim_diy_opts_defaults(&o->diy);
    sim_tasmota_opts_defaults(&o->tasmota);
}

/* ---- the option table ---- */

#define FAIL(...) do { snprintf(err, errcap, __VA_ARGS__); return -1; } while (0)
#define FUNC_ARGS const struct opt_table_row *r, void *base, char *arg, char *err, size_t errcap

static int set_device_id(FUNC_ARGS)
{
    (void)r;
    struct sim_opts *o = base;
    if (!valid_device_id(arg))
        FAIL("--device-id needs 10 lowercase hex chars");
    snprintf(o->device_id, sizeof o->device_id, "%s", arg);
    return 0;
}

static int set_apikey(FUNC_ARGS)
{
    (void)r;
    struct sim_opts *o = base;
    if (!ewl_is_uuid(arg))
        FAIL("--apikey needs a 36-char UUID");
    snprintf(o->apikey, sizeof o->apikey, "%s", arg);
    return 0;
}

static int set_mac(FUNC_ARGS)
{
    (void)r;
    struct sim_opts *o = base;
    if (strlen(arg) != 17)
        FAIL("--mac needs XX:XX:XX:XX:XX:XX");
    snprintf(o->mac, sizeof o->mac, "%s", arg);
    return 0;
}

/* --model, --rom-version: what the register message can carry. */
static int set_word(FUNC_ARGS)
{
    size_t max = r->hi;
    if (!*arg || strlen(arg) >= max)
        FAIL("--%s needs 1 to %zu characters", r->name, max - 1);
    *(const char **)((char *)base + r->off) = arg;
    return 0;
}

static int set_server(FUNC_ARGS)
{
    (void)r;
    struct sim_opts *o = base;
    if (parse_hostport(arg, o->server_host, sizeof o->server_host, &o->server_port))
        FAIL("--server needs HOST:PORT");
    return 0;
}

/* --final-path-user2, --final-path-final. */
static int set_abs_path(FUNC_ARGS)
{
    if (arg[0] != '/')
        FAIL("--%s must start with /", r->name);
    *(const char **)((char *)base + r->off) = arg;
    return 0;
}

static int set_time_scale(FUNC_ARGS)
{
    (void)r;
    struct sim_opts *o = base;
    char *end;
    o->time_scale = strtod(arg, &end);
    if (!*arg || *end || !(o->time_scale > 0) || o->time_scale > 100)
        FAIL("--time-scale needs a number in (0, 100]");
    return 0;
}

static int set_source_addr(FUNC_ARGS)
{
    (void)r;
    struct in_addr ia;
    if (inet_pton(AF_INET, arg, &ia) != 1)
        FAIL("--source-addr needs an IPv4 address (e.g. 127.0.0.5), not '%s'", arg);
    ((struct sim_opts *)base)->source_addr = arg;
    return 0;
}

static int add_fault(FUNC_ARGS)
{
    (void)r;
    if (parse_fault(base, arg))
        FAIL("unknown or malformed --fault '%s'", arg);
    return 0;
}

/* -v: info, debug, trace; -q: warnings only. */
static int more_verbose(FUNC_ARGS)
{
    (void)r, (void)arg, (void)err, (void)errcap;
    struct sim_opts *o = base;
    o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1;
    return 0;
}

static int set_quiet(FUNC_ARGS)
{
    (void)r, (void)arg, (void)err, (void)errcap;
    ((struct sim_opts *)base)->verbosity = -1;
    return 0;
}

_Static_assert(sizeof(enum sim_tls) == sizeof(int) && sizeof(enum sim_variant) == sizeof(int)
               && sizeof(enum sim_download) == sizeof(int), "enum fields must be int-sized");

#define T struct sim_opts
#define PORT(n, f, h, d) OPT_ROW_INT(T, n, f, 1, 65535, "N", h, d)
static const struct opt_table_row sim_rows[] = {
    OPT_ROW_HEADING("Device and flash:"),
    OPT_ROW_STR(T, "flash", flash_path, "FILE",
                "emulated 1 MB flash; a new file gets the stock layout\n"
                "(bootloader at 0x0, stock fw, system params)", "sonoff-flash.bin"),
    OPT_ROW_INT(T, "slot", slot, 1, 2, "1|2", "slot of the stock firmware in a new flash file",
                "1"),
    OPT_ROW_FUNC(T, "device-id", device_id, set_device_id, "ID",
                 "10 hex chars (default 1000xxxxxx derived from the flash path)", NULL),
    OPT_ROW_FUNC(T, "apikey", apikey, set_apikey, "UUID",
                 "factory apikey (default derived from the device id)", NULL),
    {.name = "model", .kind = OPT_TABLE_FUNC, .off = offsetof(T, model), .hi = EWL_MODEL_MAX,
     .fn = set_word, .arg = "M", .help = "factory model", .dflt = "ITA-GZ1-GL"},
    {.name = "rom-version", .kind = OPT_TABLE_FUNC, .off = offsetof(T, rom_version),
     .hi = EWL_VERSION_MAX, .fn = set_word, .arg = "V", .help = "stock romVersion",
     .dflt = "1.5.5"},
    OPT_ROW_FUNC(T, "mac", mac, set_mac, "MAC",
                 "staMac reported in update (default 5C:CF:7F:.. from the id)", NULL),
    OPT_ROW_HEADING("Pairing AP (GET /device, POST /ap):"),
    OPT_ROW_STR(T, "ap-addr", ap_addr, "ADDR", "listen address", "10.10.7.1"),
    PORT("ap-port", ap_port, "", "80"),
    OPT_ROW_FLAG(T, 0, "no-ap", no_ap,
                 "skip AP mode: use --server, else the server stored in flash"),
    OPT_ROW_FUNC(T, "server", server_host, set_server, "HOST:PORT",
                 "serverName and port as if given by POST /ap", NULL),
    OPT_ROW_HEADING("Cloud session (TLS, dispatch, WebSocket):"),
    OPT_ROW_CHOICE(T, "tls", tls, "tls1.0|tls1.1|tls1.2|none",
                   "tls1.0 | tls1.1 (default: that version only, AES128-SHA, no SNI,\n"
                   "no verification, fw <= 1.5.x) | tls1.2 (modern ciphers, mbedTLS\n"
                   "builds) | none (plain TCP on --nonssl-port, ignores the port)", NULL,
                   SIM_TLS_10, SIM_TLS_11, SIM_TLS_12, SIM_TLS_NONE),
    PORT("nonssl-port", nonssl_port, "fixed port of non-SSL builds", "8081"),
    {.name = "pinning", .kind = OPT_TABLE_CHOICE, .off = offsetof(T, pinning),
     .words = "alert|close", .vals = {SIM_PIN_ALERT, SIM_PIN_CLOSE}, .arg = "alert|close",
     .arg_optional = 1,
     .help = "fw >= 1.6: end the handshake after the server certificate with\n"
             "a fatal unknown_ca alert (default) or by closing without one [?]"},
    OPT_ROW_INT(T, "hb-interval", hb_interval, 1, 86400, "S",
                "ping interval, overrides the register reply's hbInterval", NULL),
    OPT_ROW_CHOICE(T, "fw-variant", variant, "ig|old",
                   "ig (default): upgrade needs integer autoRestart (else ack 400) and a\n"
                   "version strcmp-greater than romVersion (else 410) [?]; old: >= 1\n"
                   "binList entry, no version/autoRestart checks (1.5.x per SonOTA)", NULL,
                   SIM_FW_IG, SIM_FW_OLD),
    OPT_ROW_INT(T, "dispatch-tries", dispatch_tries, 1, 100, "N",
                "dispatch attempts per session", "3"),
    OPT_ROW_INT(T, "max-sessions", max_sessions, 1, 100, "N",
                "sessions (dispatch..download) before giving up", "3"),
    OPT_ROW_INT(T, "wait-upgrade", wait_upgrade, 1, 86400, "S",
                "how long a session waits for an upgrade command", "60"),
    OPT_ROW_FLAG(T, 0, "strict-packets", strict_packets,
                 "fail when a server frame is split or merged across reads; the\n"
                 "firmware handles one frame per TCP packet [?] (default off:\n"
                 "loopback merges segments that WiFi would not)"),
    OPT_ROW_HEADING("Download of the OTA upgrade:"),
    OPT_ROW_CHOICE(T, "download", download, "range|whole",
                   "style A: 4 KiB Range requests (default); style B: one GET, slow\n"
                   "reader that fails fast streams [?]", NULL, SIM_DL_RANGE, SIM_DL_WHOLE),
    OPT_ROW_INT(T, "reader-chunk", reader_chunk, 1, 65536, "N",
                "style B: bytes read per interval [?]", "1460"),
    OPT_ROW_INT(T, "reader-interval-ms", reader_interval_ms, 1, 10000, "N",
                "style B: read interval [?]", "10"),
    OPT_ROW_INT(T, "reader-max-pending", reader_max_pending, 1, 1 << 24, "N",
                "style B: fail with 'receive buffer overrun' when more than N bytes\n"
                "are waiting at a read [?]", "2920"),
    OPT_ROW_INT(T, "reader-rcvbuf", reader_rcvbuf, 256, 1 << 24, "N",
                "style B: SO_RCVBUF [?] (style B numbers model an unproven root\n"
                "cause [?]: defaults pass 1400 B every 20 ms and fail a full-speed\n"
                "stream)", "4096"),
    OPT_ROW_INT(T, "chunk-delay-ms", chunk_delay_ms, 0, 60000, "N",
                "extra delay per 4 KiB chunk (real flash writes: 75-120 ms)", NULL),
    OPT_ROW_HEADING("Intermediate firmware Espressif2Arduino (FinalStage):"),
    OPT_ROW_STR(T, "final-host", final_host, "ADDR", "host polled and downloaded from",
                "192.168.4.2"),
    PORT("final-port", final_port, "", "8080"),
    OPT_ROW_FUNC(T, "final-path-user2", final_path_user2, set_abs_path, "P", "",
                 "/ota/image_user2-0x81000.bin"),
    OPT_ROW_FUNC(T, "final-path-final", final_path_final, set_abs_path, "P", "",
                 "/ota/image_arduino.bin"),
    OPT_ROW_INT(T, "max-boots", max_boots, 1, 100, "N", "reboots before giving up", "8"),
    OPT_ROW_HEADING("General:"),
    OPT_ROW_FUNC(T, "time-scale", time_scale, set_time_scale, "F",
                 "multiply every firmware delay (default 1.0; tests use 0.05):\n"
                 "blinking, polls, retry/reconnect waits, 0.4 s before the download,\n"
                 "autoRestart, heartbeat; not network timeouts, not the style B\n"
                 "reader, not --chunk-delay-ms", NULL),
    OPT_ROW_INT(T, "timeout", timeout, 1, 86400, "S", "whole run", "900"),
    OPT_ROW_STR(T, "report", report_path, "FILE", "JSON report", NULL),
    OPT_ROW_STR(T, "log-file", log_file, "FILE", "copy of the log, 0600", NULL),
    OPT_ROW_FUNC(T, "source-addr", source_addr, set_source_addr, "ADDR",
                 "bind every outgoing TCP connection (dispatch, WebSocket, downloads,\n"
                 "E2A polls, DIY OTA) to this IPv4 address, e.g. 127.0.0.5, so\n"
                 "several sims on loopback have their own peer address (default:\n"
                 "the kernel's choice)", NULL),
    {.name = "verbose", .short_name = 'v', .kind = OPT_TABLE_FUNC, .off = offsetof(T, verbosity),
     .fn = more_verbose, .help = "more log (repeat for trace)"},
    {.name = "quiet", .short_name = 'q', .kind = OPT_TABLE_FUNC, .off = offsetof(T, verbosity),
     .fn = set_quiet, .help = "warnings only"},
    OPT_ROW_FUNC(T, "fault", faults, add_fault, "NAME[=ARG]",
                 "repeatable: drop-at=N (close the download after N file bytes,\n"
                 "once), corrupt-chunk=K (flip a byte of chunk K: digest 409),\n"
                 "refuse-model (ack 406), stop-after=STAGE (ap, dispatch, register,\n"
                 "upgrade, download, rom2, final),\n"
                 "power-loss=WHICH:N (power cut while writing file byte N of the\n"
                 "stock OTA download (stock), E2A's user2 self-copy (rom2) or the\n"
                 "final image (final): the words written so far stay in the flash\n"
                 "file, a sector erased but not yet written stays 0xFF; no report;\n"
                 "exit 3. Rerun on the same --flash to power the device up again)", NULL),
};
#undef PORT
#undef T

/* What the command line asks besides a run. */
struct sim_cli {
    int help, version;
};

static const struct opt_table_row cli_rows[] = {
    OPT_ROW_FLAG(struct sim_cli, 'h', "help", help, "this text"),
    OPT_ROW_FLAG(struct sim_cli, 'V', "version", version, "the version"),
};

static void help_part(FILE *f, const struct opt_table_part *part)
{
    opt_help_print(f, part, 1, 0);
}

static void usage(FILE *f, const struct opt_table_part *parts)
{
    fputs(
"usage: sonoff-sim [OPTIONS]\n"
"Simulates one stock ITEAD Sonoff (eWeLink 1.x/2.x, ESP8266, 1 MB flash) through the whole\n"
"SonOTA path: pairing AP, TLS dispatch, WebSocket session, OTA upgrade download, the\n"
"Espressif2Arduino intermediate firmware (FinalStage) and the final boot. As strict as the\n"
"firmware it models (the project's protocol reference); every address and port can be\n"
"moved to 127.0.0.1.\n"
"\n", f);
    help_part(f, &parts[0]);
    help_part(f, &parts[1]);
    fputs(
"\n"
"Uncertain behaviour in the reference ([?]) and what the sim does:\n"
"  - style B failure model (reader numbers above); Range reconnect counter resets after a\n"
"    good chunk; server frames split/merged across reads (--strict-packets)\n"
"  - /ap errors are answered HTTP 200 {\"error\":400}; the firmware's exact reply is unknown\n"
"  - erased system params boot user1; E2A's ROM2 path erases sectors 128-255, wiping RF cal,\n"
"    PHY init and system params (as coded); reported as a note\n"
"  - E2A hangs when its server closes before Content-Length bytes: the sim stops with\n"
"    'power cycle needed' and the flash file keeps the state for a re-run\n"
"  - any valid v2 image other than the stock one is run as the intermediate firmware\n"
"\n"
"Exit status: 0 the flash boots a valid final image, 1 otherwise (reason printed), 2 usage,\n"
"3 power cut by --fault power-loss.\n", f);
    help_part(f, &parts[2]);
    help_part(f, &parts[3]);
}

int sim_opts_parse(struct sim_opts *o, int argc, char **argv)
{
    set_defaults(o);
    struct sim_cli cli = {0, 0};
    const struct opt_table_part parts[] = {
        {sim_rows, OPT_TABLE_N(sim_rows), o},
        {cli_rows, OPT_TABLE_N(cli_rows), &cli},
        {sim_diy_rows, sim_diy_rows_n, &o->diy},
        {sim_tasmota_rows, sim_tasmota_rows_n, &o->tasmota},
    };
    char err[300];
    if (opt_table_parse(parts, OPT_TABLE_N(parts), argc, argv, NULL, 0, err, sizeof err) < 0)
        goto usage_err;
    if (cli.help) {
        usage(stdout, parts);
        return 1;
    }
    if (cli.version) {
        printf("sonoff-sim %s\n", SONOTA_VERSION);
        return 1;
    }
    if (o->server_host[0] && !o->no_ap) {
        snprintf(err, sizeof err, "--server only makes sense with --no-ap");
        goto usage_err;
    }
    if (sim_diy_opts_check(&o->diy, err, sizeof err))
        goto usage_err;
    if (o->tasmota.enabled && o->diy.enabled) {
        snprintf(err, sizeof err, "--tasmota follows the stock path; with --mode diy see "
                 "--after-flash");
        goto usage_err;
    }
    derive_identity(o);
    return 0;
usage_err:
    fprintf(stderr, "sonoff-sim: %s\nTry 'sonoff-sim --help'.\n", err);
    return 2;
}
