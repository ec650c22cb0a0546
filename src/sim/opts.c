#include "sim/opts.h"

#include "sim/opt_table.h"

#include "io/crypto.h"
#include "lib/ewl_msg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
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

static void usage(FILE *f)
{
    fprintf(f,
"usage: sonoff-sim [OPTIONS]\n"
"Simulates one stock ITEAD Sonoff (eWeLink 1.x/2.x, ESP8266, 1 MB flash) through the whole\n"
"SonOTA path: pairing AP, TLS dispatch, WebSocket session, OTA upgrade download, the\n"
"Espressif2Arduino intermediate firmware (FinalStage) and the final boot. As strict as the\n"
"firmware it models (the project's protocol reference); every address and port can be\n"
"moved to 127.0.0.1.\n"
"\n"
"Device and flash:\n"
"  --flash FILE            emulated 1 MB flash (default sonoff-flash.bin); a new file gets the\n"
"                          stock layout (bootloader at 0x0, stock fw, system params)\n"
"  --slot 1|2              slot of the stock firmware in a new flash file (default 1)\n"
"  --device-id ID          10 hex chars (default 1000xxxxxx derived from the flash path)\n"
"  --apikey UUID           factory apikey (default derived from the device id)\n"
"  --model M               factory model (default ITA-GZ1-GL)\n"
"  --rom-version V         stock romVersion (default 1.5.5)\n"
"  --mac MAC               staMac reported in update (default 5C:CF:7F:.. from the id)\n"
"Pairing AP (GET /device, POST /ap):\n"
"  --ap-addr ADDR          listen address (default 10.10.7.1)\n"
"  --ap-port N             (default 80)\n"
"  --no-ap                 skip AP mode: use --server, else the server stored in flash\n"
"  --server HOST:PORT      serverName and port as if given by POST /ap\n"
"Cloud session (TLS, dispatch, WebSocket):\n"
"  --tls P                 tls1.0 | tls1.1 (default: that version only, AES128-SHA, no SNI,\n"
"                          no verification, fw <= 1.5.x) | tls1.2 (modern ciphers, mbedTLS\n"
"                          builds) | none (plain TCP on --nonssl-port, ignores the port)\n"
"  --nonssl-port N         fixed port of non-SSL builds (default 8081)\n"
"  --pinning[=alert|close] fw >= 1.6: end the handshake after the server certificate with\n"
"                          a fatal unknown_ca alert (default) or by closing without one [?]\n"
"  --hb-interval S         ping interval, overrides the register reply's hbInterval\n"
"  --fw-variant ig|old     ig (default): upgrade needs integer autoRestart (else ack 400) and a\n"
"                          version strcmp-greater than romVersion (else 410) [?]; old: >= 1\n"
"                          binList entry, no version/autoRestart checks (1.5.x per SonOTA)\n"
"  --dispatch-tries N      dispatch attempts per session (default 3)\n"
"  --max-sessions N        sessions (dispatch..download) before giving up (default 3)\n"
"  --wait-upgrade S        how long a session waits for an upgrade command (default 60)\n"
"  --strict-packets        fail when a server frame is split or merged across reads; the\n"
"                          firmware handles one frame per TCP packet [?] (default off:\n"
"                          loopback merges segments that WiFi would not)\n"
"Download of the OTA upgrade:\n"
"  --download range|whole  style A: 4 KiB Range requests (default); style B: one GET, slow\n"
"                          reader that fails fast streams [?]\n"
"  --reader-chunk N        style B: bytes read per interval (default 1460) [?]\n"
"  --reader-interval-ms N  style B: read interval (default 10) [?]\n"
"  --reader-max-pending N  style B: fail with 'receive buffer overrun' when more than N bytes\n"
"                          are waiting at a read (default 2920) [?]\n"
"  --reader-rcvbuf N       style B: SO_RCVBUF (default 4096) [?]\n"
"                          (style B numbers model an unproven root cause [?]:\n"
"                          defaults pass 1400 B every 20 ms and fail a full-speed stream)\n"
"  --chunk-delay-ms N      extra delay per 4 KiB chunk (real flash writes: 75-120 ms)\n"
"Intermediate firmware Espressif2Arduino (FinalStage):\n"
"  --final-host ADDR       host polled and downloaded from (default 192.168.4.2)\n"
"  --final-port N          (default 8080)\n"
"  --final-path-user2 P    (default /ota/image_user2-0x81000.bin)\n"
"  --final-path-final P    (default /ota/image_arduino.bin)\n"
"  --max-boots N           reboots before giving up (default 8)\n"
"General:\n"
"  --time-scale F          multiply every firmware delay (default 1.0; tests use 0.05):\n"
"                          blinking, polls, retry/reconnect waits, 0.4 s before the download,\n"
"                          autoRestart, heartbeat; not network timeouts, not the style B\n"
"                          reader, not --chunk-delay-ms\n"
"  --timeout S             whole run (default 900)\n"
"  --report FILE           JSON report\n"
"  --log-file FILE         copy of the log, 0600\n"
"  --source-addr ADDR      bind every outgoing TCP connection (dispatch, WebSocket, downloads,\n"
"                          E2A polls, DIY OTA) to this IPv4 address, e.g. 127.0.0.5, so\n"
"                          several sims on loopback have their own peer address (default:\n"
"                          the kernel's choice)\n"
"  -v, --verbose           more log (repeat for trace); -q, --quiet: warnings only\n"
"  --fault NAME[=ARG]      repeatable: drop-at=N (close the download after N file bytes,\n"
"                          once), corrupt-chunk=K (flip a byte of chunk K: digest 409),\n"
"                          refuse-model (ack 406), stop-after=STAGE (ap, dispatch, register,\n"
"                          upgrade, download, rom2, final),\n"
"                          power-loss=WHICH:N (power cut while writing file byte N of the\n"
"                          stock OTA download (stock), E2A's user2 self-copy (rom2) or the\n"
"                          final image (final): the words written so far stay in the flash\n"
"                          file, a sector erased but not yet written stays 0xFF; no report;\n"
"                          exit 3. Rerun on the same --flash to power the device up again)\n"
"  -h, --help, -V, --version\n"
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
"3 power cut by --fault power-loss.\n");
    sim_diy_usage(f);
    sim_tasmota_usage(f);
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
    if (!colon || sim_opt_long(colon + 1, 0, 1L << 30, &x))
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
    if (n == 7 && !strncmp(arg, "drop-at", n) && v && !sim_opt_long(v, 1, 1L << 30, &x))
        o->faults.drop_at = x;
    else if (n == 13 && !strncmp(arg, "corrupt-chunk", n) && v && !sim_opt_long(v, 0, 1 << 20, &x))
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
    if (!c || c == s || (size_t)(c - s) >= cap || sim_opt_long(c + 1, 1, 65535, &p))
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
static void derive_identity(struct sim_opts *o, int have_id, int have_key, int have_mac)
{
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

enum {
    O_FLASH = 256, O_SLOT, O_DEVID, O_APIKEY, O_MODEL, O_ROMVER, O_MAC, O_APADDR, O_APPORT,
    O_NOAP, O_SERVER, O_TLS, O_NONSSL, O_PINNING, O_HB, O_VARIANT, O_DTRIES, O_MAXSESS,
    O_WAITUP, O_STRICTPK, O_DOWNLOAD, O_RCHUNK, O_RINT, O_RMAX, O_RBUF, O_CDELAY, O_FHOST,
    O_FPORT, O_FP2, O_FPF, O_MAXBOOT, O_TSCALE, O_TIMEOUT, O_REPORT, O_LOGFILE, O_FAULT,
    O_SRCADDR,
};

static const struct option long_opts[] = {
    {"flash", required_argument, 0, O_FLASH},
    {"slot", required_argument, 0, O_SLOT},
    {"device-id", required_argument, 0, O_DEVID},
    {"apikey", required_argument, 0, O_APIKEY},
    {"model", required_argument, 0, O_MODEL},
    {"rom-version", required_argument, 0, O_ROMVER},
    {"mac", required_argument, 0, O_MAC},
    {"ap-addr", required_argument, 0, O_APADDR},
    {"ap-port", required_argument, 0, O_APPORT},
    {"no-ap", no_argument, 0, O_NOAP},
    {"server", required_argument, 0, O_SERVER},
    {"tls", required_argument, 0, O_TLS},
    {"nonssl-port", required_argument, 0, O_NONSSL},
    {"pinning", optional_argument, 0, O_PINNING},
    {"hb-interval", required_argument, 0, O_HB},
    {"fw-variant", required_argument, 0, O_VARIANT},
    {"dispatch-tries", required_argument, 0, O_DTRIES},
    {"max-sessions", required_argument, 0, O_MAXSESS},
    {"wait-upgrade", required_argument, 0, O_WAITUP},
    {"strict-packets", no_argument, 0, O_STRICTPK},
    {"download", required_argument, 0, O_DOWNLOAD},
    {"reader-chunk", required_argument, 0, O_RCHUNK},
    {"reader-interval-ms", required_argument, 0, O_RINT},
    {"reader-max-pending", required_argument, 0, O_RMAX},
    {"reader-rcvbuf", required_argument, 0, O_RBUF},
    {"chunk-delay-ms", required_argument, 0, O_CDELAY},
    {"final-host", required_argument, 0, O_FHOST},
    {"final-port", required_argument, 0, O_FPORT},
    {"final-path-user2", required_argument, 0, O_FP2},
    {"final-path-final", required_argument, 0, O_FPF},
    {"max-boots", required_argument, 0, O_MAXBOOT},
    {"time-scale", required_argument, 0, O_TSCALE},
    {"timeout", required_argument, 0, O_TIMEOUT},
    {"report", required_argument, 0, O_REPORT},
    {"log-file", required_argument, 0, O_LOGFILE},
    {"source-addr", required_argument, 0, O_SRCADDR},
    {"fault", required_argument, 0, O_FAULT},
    SIM_DIY_LONG_OPTS,
    SIM_TASMOTA_LONG_OPTS,
    {"verbose", no_argument, 0, 'v'},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, 'V'},
    {0, 0, 0, 0},
};

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

#define BAD(...) do { fprintf(stderr, "sonoff-sim: " __VA_ARGS__); goto usage_err; } while (0)

int sim_opts_parse(struct sim_opts *o, int argc, char **argv)
{
    set_defaults(o);
    int have_id = 0, have_key = 0, have_mac = 0, have_server = 0;
    long v;
    int c, idx = -1;
    char derr[160];
    optind = 1;
    while ((c = getopt_long(argc, argv, "vqhV", long_opts, &idx)) != -1) {
        switch (c) {
        case O_FLASH: o->flash_path = optarg; break;
        case O_SLOT:
            if (sim_opt_long(optarg, 1, 2, &v)) BAD("--slot must be 1 or 2\n");
            o->slot = (int)v;
            break;
        case O_DEVID:
            if (!valid_device_id(optarg)) BAD("--device-id needs 10 lowercase hex chars\n");
            snprintf(o->device_id, sizeof o->device_id, "%s", optarg);
            have_id = 1;
            break;
        case O_APIKEY:
            if (!ewl_is_uuid(optarg)) BAD("--apikey needs a 36-char UUID\n");
            snprintf(o->apikey, sizeof o->apikey, "%s", optarg);
            have_key = 1;
            break;
        case O_MODEL:
            if (!*optarg || strlen(optarg) >= EWL_MODEL_MAX) BAD("bad --model\n");
            o->model = optarg;
            break;
        case O_ROMVER:
            if (!*optarg || strlen(optarg) >= EWL_VERSION_MAX) BAD("bad --rom-version\n");
            o->rom_version = optarg;
            break;
        case O_MAC:
            if (strlen(optarg) != 17) BAD("--mac needs XX:XX:XX:XX:XX:XX\n");
            snprintf(o->mac, sizeof o->mac, "%s", optarg);
            have_mac = 1;
            break;
        case O_APADDR: o->ap_addr = optarg; break;
        case O_APPORT:
            if (sim_opt_long(optarg, 1, 65535, &v)) BAD("bad --ap-port\n");
            o->ap_port = (int)v;
            break;
        case O_NOAP: o->no_ap = 1; break;
        case O_SERVER:
            if (parse_hostport(optarg, o->server_host, sizeof o->server_host, &o->server_port))
                BAD("--server needs HOST:PORT\n");
            have_server = 1;
            break;
        case O_TLS:
            if (!strcmp(optarg, "tls1.0")) o->tls = SIM_TLS_10;
            else if (!strcmp(optarg, "tls1.1")) o->tls = SIM_TLS_11;
            else if (!strcmp(optarg, "tls1.2")) o->tls = SIM_TLS_12;
            else if (!strcmp(optarg, "none")) o->tls = SIM_TLS_NONE;
            else BAD("--tls is tls1.0, tls1.1, tls1.2 or none\n");
            break;
        case O_NONSSL:
            if (sim_opt_long(optarg, 1, 65535, &v)) BAD("bad --nonssl-port\n");
            o->nonssl_port = (int)v;
            break;
        case O_PINNING:
            if (!optarg || !strcmp(optarg, "alert")) o->pinning = SIM_PIN_ALERT;
            else if (!strcmp(optarg, "close")) o->pinning = SIM_PIN_CLOSE;
            else BAD("--pinning is alert or close\n");
            break;
        case O_HB:
            if (sim_opt_long(optarg, 1, 86400, &v)) BAD("bad --hb-interval\n");
            o->hb_interval = (int)v;
            break;
        case O_VARIANT:
            if (!strcmp(optarg, "ig")) o->variant = SIM_FW_IG;
            else if (!strcmp(optarg, "old")) o->variant = SIM_FW_OLD;
            else BAD("--fw-variant is ig or old\n");
            break;
        case O_DTRIES:
            if (sim_opt_long(optarg, 1, 100, &v)) BAD("bad --dispatch-tries\n");
            o->dispatch_tries = (int)v;
            break;
        case O_MAXSESS:
            if (sim_opt_long(optarg, 1, 100, &v)) BAD("bad --max-sessions\n");
            o->max_sessions = (int)v;
            break;
        case O_WAITUP:
            if (sim_opt_long(optarg, 1, 86400, &v)) BAD("bad --wait-upgrade\n");
            o->wait_upgrade = (int)v;
            break;
        case O_STRICTPK: o->strict_packets = 1; break;
        case O_DOWNLOAD:
            if (!strcmp(optarg, "range")) o->download = SIM_DL_RANGE;
            else if (!strcmp(optarg, "whole")) o->download = SIM_DL_WHOLE;
            else BAD("--download is range or whole\n");
            break;
        case O_RCHUNK:
            if (sim_opt_long(optarg, 1, 65536, &v)) BAD("bad --reader-chunk\n");
            o->reader_chunk = (int)v;
            break;
        case O_RINT:
            if (sim_opt_long(optarg, 1, 10000, &v)) BAD("bad --reader-interval-ms\n");
            o->reader_interval_ms = (int)v;
            break;
        case O_RMAX:
            if (sim_opt_long(optarg, 1, 1 << 24, &v)) BAD("bad --reader-max-pending\n");
            o->reader_max_pending = (int)v;
            break;
        case O_RBUF:
            if (sim_opt_long(optarg, 256, 1 << 24, &v)) BAD("bad --reader-rcvbuf\n");
            o->reader_rcvbuf = (int)v;
            break;
        case O_CDELAY:
            if (sim_opt_long(optarg, 0, 60000, &v)) BAD("bad --chunk-delay-ms\n");
            o->chunk_delay_ms = (int)v;
            break;
        case O_FHOST: o->final_host = optarg; break;
        case O_FPORT:
            if (sim_opt_long(optarg, 1, 65535, &v)) BAD("bad --final-port\n");
            o->final_port = (int)v;
            break;
        case O_FP2:
            if (optarg[0] != '/') BAD("--final-path-user2 must start with /\n");
            o->final_path_user2 = optarg;
            break;
        case O_FPF:
            if (optarg[0] != '/') BAD("--final-path-final must start with /\n");
            o->final_path_final = optarg;
            break;
        case O_MAXBOOT:
            if (sim_opt_long(optarg, 1, 100, &v)) BAD("bad --max-boots\n");
            o->max_boots = (int)v;
            break;
        case O_TSCALE: {
            char *end;
            o->time_scale = strtod(optarg, &end);
            if (!*optarg || *end || !(o->time_scale > 0) || o->time_scale > 100)
                BAD("--time-scale needs a number in (0, 100]\n");
            break;
        }
        case O_TIMEOUT:
            if (sim_opt_long(optarg, 1, 86400, &v)) BAD("bad --timeout\n");
            o->timeout = (int)v;
            break;
        case O_REPORT: o->report_path = optarg; break;
        case O_LOGFILE: o->log_file = optarg; break;
        case O_SRCADDR: {
            struct in_addr ia;
            if (inet_pton(AF_INET, optarg, &ia) != 1)
                BAD("--source-addr needs an IPv4 address (e.g. 127.0.0.5), not '%s'\n", optarg);
            o->source_addr = optarg;
            break;
        }
        case SIM_DIY_OPT:
            if (idx < 0 || sim_diy_opt(&o->diy, long_opts[idx].name, optarg, derr, sizeof derr))
                BAD("%s\n", idx < 0 ? "bad option" : derr);
            break;
        case SIM_TASMOTA_OPT:
            if (idx < 0 || sim_tasmota_opt(&o->tasmota, long_opts[idx].name, optarg, derr,
                                           sizeof derr))
                BAD("%s\n", idx < 0 ? "bad option" : derr);
            break;
        case O_FAULT:
            if (parse_fault(o, optarg)) BAD("unknown or malformed --fault '%s'\n", optarg);
            break;
        case 'v': o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1; break;
        case 'q': o->verbosity = -1; break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("sonoff-sim %s\n", SONOTA_VERSION); return 1;
        default: goto usage_err;
        }
    }
    if (optind < argc)
        BAD("unexpected argument '%s'\n", argv[optind]);
    if (have_server && !o->no_ap)
        BAD("--server only makes sense with --no-ap\n");
    if (sim_diy_opts_check(&o->diy, derr, sizeof derr))
        BAD("%s\n", derr);
    if (o->tasmota.enabled && o->diy.enabled)
        BAD("--tasmota follows the stock path; with --mode diy see --after-flash\n");
    derive_identity(o, have_id, have_key, have_mac);
    return 0;
usage_err:
    fprintf(stderr, "Try 'sonoff-sim --help'.\n");
    return 2;
}
