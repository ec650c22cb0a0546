/* cmd_diy.c - `sonota diy discover|info|unlock|flash`: ITEAD firmware 3.x devices in DIY
 * mode over their LAN REST API (PROTOCOL.md §6, §10.8). This file: options, discovery,
 * info and unlock; shared helpers in diy_cli.c, the flash flow in diy_flash.c. */
#include "sonota/cmds.h"

#include "io/log.h"
#include "io/netif.h"
#include "lib/text_esc.h"
#include "sonota/diy_cli.h"
#include "sonota/httpc.h"

#include <cjson/cJSON.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The help is built from blocks so `sonota diy SUB --help` shows what SUB takes. */
static const char help_mode[] =
"Flashes ITEAD firmware 3.x devices (Basic R3, RF R3, Mini, ...) in DIY mode over their\n"
"LAN REST API (port 8081), found by mDNS as _ewelink._tcp. Put the device in DIY mode\n"
"first: protocol v1.4 (fw 3.3/3.4) with the GPIO16 jumper and WiFi sonoffDiy /\n"
"20170618sn; v2.0 (fw >= 3.5.0) by holding the button 5 s twice, joining ITEAD-xxxxxx\n"
"(password 12345678) and entering your WiFi at http://10.10.7.1/.\n";
static const char help_subs[] =
"  discover   list DIY devices: id, address, firmware, switch, OTA lock (from mDNS)\n"
"  info       show one device's /zeroconf/info (either protocol variant)\n"
"  unlock     ota_unlock: the device asks ITEAD over the Internet; voids the warranty\n"
"  flash      check FILE, unlock if needed, serve FILE and have the device fetch it, wait\n"
"             until it has downloaded everything and comes back as Tasmota\n";
static const char help_mdns[] =
"  --interface IF          use mDNS on IF only (default: every interface that is up)\n"
"  --bind IP               use mDNS on the interface holding IP%s\n"
"  --browse-time S         how long mDNS listens (default 3)\n";
static const char help_device[] =
"Device selection:\n"
"  --device ID|IP[:PORT]   a device id (10 hex digits, looked up by mDNS) or an address;\n"
"                          default: the only DIY device mDNS finds\n"
"  --deviceid ID           id sent in requests (firmware 3.7.6+ needs the real one; default:\n"
"                          from mDNS or the info reply)\n"
"  --port N                API port when --device is an address (default 8081)\n"
"  --request-timeout S     per request (default 10; ota_flash may take 6 times longer)\n";
static const char help_discover[] =
"discover:\n"
"  --info                  also ask each device's /zeroconf/info (firmware, OTA lock)\n"
"  --json                  one JSON object per device on stdout\n";
static const char help_flash[] =
"flash:\n"
"  FILE                    full ESP8266 image: v1, DOUT, 1 MB, at most 520192 bytes\n"
"                          (e.g. tasmota-lite.bin; never tasmota-minimal)\n"
"  --serve-ip IP           address the device downloads from (default: ours facing it)\n"
"  --http-port N           port of sonota's file server (default 8080; 0 = any free)\n"
"  --content-range-equals  send 'Content-Range: bytes=a-b/t' like ITEAD's own tool\n"
"  --url URL               have the device fetch URL instead of our server (http only, Range\n"
"                          support needed; FILE still gives the checks and the SHA-256)\n"
"  --sha256 HEX            with --url: the digest to expect (lowercased; must match FILE)\n"
"  --no-unlock             do not call ota_unlock when OTA is locked\n"
"  --force                 send an image that fails the DIY checks (size, DOUT) anyway\n"
"  --fetch-wait S          for the device's first request after it accepted ota_flash\n"
"                          (default 15: it fetches the first 4 KiB before it answers)\n"
"  --timeout S             for the whole download (default 300)\n"
"  --wait S                for the device to come back as Tasmota (default 300)\n"
"  --tasmota-ap-ip IP      Tasmota's AP address, tried when one of our addresses is in its\n"
"                          /24, i.e. we joined its WiFi (default 192.168.4.1)\n"
"  --tasmota-port N        Tasmota's web port (default 80)\n"
"  -y, --yes               do not ask before unlocking or flashing\n";
static const char help_general[] =
"General:\n"
"  -v, --verbose           more detail (repeat for the protocol trace)\n"
"  -q, --quiet             errors only\n"
"  --log FILE              copy of the log\n"
"  -h, --help              this text ('sonota diy SUB --help': one command)\n";
static const char help_exit[] =
"Device error codes are explained in words (400, 401, 403, 404, 408, 413, 422, 424, 471,\n"
"500, 503). Requests to a device are at least 200 ms apart.\n"
"Exit status: 0 done, 1 failed, 2 usage, 3 image refused, 4 the device refused (code\n"
"explained), 5 network setup (mDNS socket, ports, addresses).\n";

/* sub NULL: every command; else what that command does and takes. */
static void print_help(const char *sub)
{
    int all = !sub, disc = sub && !strcmp(sub, "discover"), fl = sub && !strcmp(sub, "flash");
    if (all)
        fputs("usage: sonota diy discover [OPTIONS]\n"
              "       sonota diy info   [--device ID|IP[:PORT]] [OPTIONS]\n"
              "       sonota diy unlock [--device ID|IP[:PORT]] [OPTIONS]\n"
              "       sonota diy flash FILE [--device ID|IP[:PORT]] [OPTIONS]\n\n", stdout);
    else if (disc)
        fputs("usage: sonota diy discover [--info] [--json] [OPTIONS]\n\n"
              "Lists the DIY devices that announce themselves over mDNS (_ewelink._tcp):\n"
              "id, address, firmware, switch state and whether OTA is unlocked.\n\n", stdout);
    else if (fl)
        fputs("usage: sonota diy flash FILE [--device ID|IP[:PORT]] [OPTIONS]\n\n"
              "Checks FILE (v1 image, DOUT, 1 MB, at most 520192 bytes), unlocks OTA if needed\n"
              "(asking first), serves FILE from this computer, has the device fetch it\n"
              "(ota_flash), follows the download to the last byte and waits until the device\n"
              "comes back as Tasmota, on your LAN or on its own WiFi (tasmota_XXXXXX-####).\n\n",
              stdout);
    else if (!strcmp(sub, "info"))
        fputs("usage: sonota diy info [--device ID|IP[:PORT]] [OPTIONS]\n\n"
              "Shows one device's /zeroconf/info: firmware version, switch, startup, pulse,\n"
              "WiFi, signal and whether OTA is unlocked (either protocol variant).\n\n", stdout);
    else
        fputs("usage: sonota diy unlock [--device ID|IP[:PORT]] [OPTIONS]\n\n"
              "Calls ota_unlock: the device asks ITEAD's unlock service over the Internet\n"
              "(it needs Internet access for that); unlocking voids the warranty. 'sonota\n"
              "diy flash' unlocks by itself unless --no-unlock.\n\n", stdout);
    if (all) {
        fputs(help_mode, stdout);
        fputc('\n', stdout);
        fputs(help_subs, stdout);
        fputc('\n', stdout);
    }
    if (!disc) {
        fputs(help_device, stdout);
        printf(help_mdns, fl || all ? ", and serve the image there" : "");
    } else {
        fputs("mDNS:\n", stdout);
        printf(help_mdns, "");
    }
    if (all || disc)
        fputs(help_discover, stdout);
    if (all || fl)
        fputs(help_flash, stdout);
    fputs(help_general, stdout);
    if (!disc) {
        fputc('\n', stdout);
        fputs(help_exit, stdout);
    }
    if (!all) {
        fputc('\n', stdout);
        fputs(help_mode, stdout);
    }
}

/* ---- discover ---- */

/* "key":"value" with cJSON's escaping, then made valid UTF-8 and terminal-safe
 * (lib/text_esc.h): TXT fields come from any device on the LAN. */
static void json_str(FILE *f, const char *key, const char *v, int comma)
{
    fprintf(f, "\"%s\":", key);
    cJSON *s = v && v[0] ? cJSON_CreateString(v) : NULL;
    char *raw = s ? cJSON_PrintUnformatted(s) : NULL;
    char *safe = raw ? malloc(TEXT_ESC_CAP(strlen(raw))) : NULL;
    if (safe) {
        text_esc_json(safe, TEXT_ESC_CAP(strlen(raw)), raw, strlen(raw), NULL);
        fputs(safe, f);
    } else {
        fputs("null", f);
    }
    free(safe);
    cJSON_free(raw);
    cJSON_Delete(s);
    if (comma)
        fputc(',', f);
}

static int cmd_discover(const struct diy_opts *o)
{
    char err[256];
    struct mdns_browse_opts bo = {.ifname = o->ifname, .bind_ip = o->bind_ip,
                                  .timeout_ms = o->browse_ms};
    int n = mdns_browse(&bo, diy_found, MDNS_BROWSE_MAX, err, sizeof err);
    if (n < 0) {
        diy_fail("mDNS: %s", err);
        return EXIT_NETWORK;
    }
    if (!o->json)
        diy_say(o, "%-12s %-21s %-9s %-6s %-9s %-5s %s", "ID", "ADDRESS", "FIRMWARE", "SWITCH",
                "OTA", "RSSI", "PROTOCOL");
    int shown = 0;
    for (int i = 0; i < n; i++) {
        struct mdns_found *f = &diy_found[i];
        if (!f->have_txt && !f->have_srv)
            continue;
        struct diy_state *st = &f->txt.st;
        int txt_ok = f->txt.data_err == SO_OK;
        const char *proto = "";
        struct diy_reply rep;
        if (o->with_info && mdns_found_complete(f)) {
            struct diy_target t;
            memset(&t, 0, sizeof t);
            diy_take_found(&t, f);
            struct diy_client c;
            if (diy_connect(o, &t, &c) == EXIT_OK) {
                if (diy_get_info(o, &c, &t, &rep) == EXIT_OK) {
                    proto = diy_proto_name(rep.form == DIY_DATA_STRING ? DIY_PROTO_1_4
                                                                       : DIY_PROTO_2_0);
                    if (rep.st.fw_version[0])
                        snprintf(st->fw_version, sizeof st->fw_version, "%s", rep.st.fw_version);
                    if (rep.st.ota_unlock >= 0)
                        st->ota_unlock = rep.st.ota_unlock;
                    if (rep.st.sw[0])
                        snprintf(st->sw, sizeof st->sw, "%s", rep.st.sw);
                    txt_ok = 1;
                }
                diy_client_free(&c);
            }
        }
        const char *ota = !txt_ok || st->ota_unlock < 0 ? "" : st->ota_unlock ? "unlocked"
                                                                             : "locked";
        char rssi[12] = "";
        if (txt_ok && st->has_rssi)
            snprintf(rssi, sizeof rssi, "%d", st->rssi);
        int enc = f->txt.encrypt == 1;
        shown++;
        if (o->json) {
            printf("{");
            json_str(stdout, "id", f->txt.id, 1);
            json_str(stdout, "ip", f->ip, 1);
            printf("\"port\":%d,", f->port);
            json_str(stdout, "instance", f->instance, 1);
            json_str(stdout, "type", f->txt.type, 1);
            json_str(stdout, "apivers", f->txt.apivers, 1);
            printf("\"seq\":%ld,", f->txt.seq);
            json_str(stdout, "firmware", txt_ok ? st->fw_version : NULL, 1);
            json_str(stdout, "switch", txt_ok ? st->sw : NULL, 1);
            printf("\"otaUnlock\":%s,\"encrypted\":%s,\"complete\":%s,",
                   !ota[0] ? "null" : st->ota_unlock ? "true" : "false", enc ? "true" : "false",
                   mdns_found_complete(f) ? "true" : "false");
            json_str(stdout, "protocol", proto, 0);
            printf("}\n");
            fflush(stdout);
            continue;
        }
        char addr[32];
        snprintf(addr, sizeof addr, "%s:%d", f->ip[0] ? f->ip : "?", f->port);
        diy_say(o, "%-12s %-21s %-9s %-6s %-9s %-5s %s%s", f->txt.id[0] ? f->txt.id : "?", addr,
                txt_ok && st->fw_version[0] ? st->fw_version : "-",
                txt_ok && st->sw[0] ? st->sw : "-", enc ? "encrypted" : ota[0] ? ota : "-",
                rssi[0] ? rssi : "-", proto[0] ? proto : "-",
                mdns_found_complete(f) ? "" : "  (incomplete answer)");
    }
    if (!shown) {
        diy_fail("no DIY-mode device answered mDNS (_ewelink._tcp) within %d s. Check that "
                 "the device is in DIY mode on this network and that multicast passes "
                 "(--interface to pick the network).", o->browse_ms / 1000);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ---- info, unlock ---- */

static int cmd_info(const struct diy_opts *o)
{
    struct diy_target t;
    int rc = diy_resolve(o, &t);
    if (rc != EXIT_OK)
        return rc;
    struct diy_client c;
    if ((rc = diy_connect(o, &t, &c)) != EXIT_OK)
        return rc;
    struct diy_reply rep;
    rc = diy_get_info(o, &c, &t, &rep);
    if (rc == EXIT_OK)
        diy_print_info(o, &t, &rep);
    diy_client_free(&c);
    return rc;
}

static int cmd_unlock(const struct diy_opts *o)
{
    struct diy_target t;
    int rc = diy_resolve(o, &t);
    if (rc != EXIT_OK)
        return rc;
    if (!diy_confirm(o, "Unlocking OTA voids the warranty and needs the device to reach "
                        "ITEAD over the Internet. Unlock? [y/N] "))
        return EXIT_FAIL;
    struct diy_client c;
    if ((rc = diy_connect(o, &t, &c)) != EXIT_OK)
        return rc;
    struct diy_request rq;
    struct diy_reply rep;
    diy_request_for(&t, DIY_CMD_UNLOCK, &rq);
    diy_say(o, "unlocking OTA on %s (the device asks ITEAD's unlock service)...",
            t.have_id ? t.deviceid : t.ip);
    rc = diy_call(o, &c, &rq, o->request_ms * 3, &rep, NULL);
    if (rc == EXIT_OK)
        diy_say(o, "OTA unlocked: 'sonota diy flash FILE' can flash it now");
    diy_client_free(&c);
    return rc;
}

/* ---- options ---- */

enum {
    O_DEVICE = 256, O_DEVICEID, O_IFACE, O_BIND, O_PORT, O_BROWSE, O_REQTO, O_INFO, O_JSON,
    O_SERVEIP, O_HTTPPORT, O_EQUALS, O_URL, O_SHA, O_NOUNLOCK, O_FORCE, O_TIMEOUT, O_WAIT,
    O_APIP, O_TPORT, O_LOG, O_FETCHWAIT,
};

static const struct option long_opts[] = {
    {"device", required_argument, 0, O_DEVICE}, {"deviceid", required_argument, 0, O_DEVICEID},
    {"interface", required_argument, 0, O_IFACE}, {"bind", required_argument, 0, O_BIND},
    {"port", required_argument, 0, O_PORT}, {"browse-time", required_argument, 0, O_BROWSE},
    {"request-timeout", required_argument, 0, O_REQTO}, {"info", no_argument, 0, O_INFO},
    {"json", no_argument, 0, O_JSON}, {"serve-ip", required_argument, 0, O_SERVEIP},
    {"http-port", required_argument, 0, O_HTTPPORT},
    {"content-range-equals", no_argument, 0, O_EQUALS}, {"url", required_argument, 0, O_URL},
    {"sha256", required_argument, 0, O_SHA}, {"no-unlock", no_argument, 0, O_NOUNLOCK},
    {"force", no_argument, 0, O_FORCE}, {"timeout", required_argument, 0, O_TIMEOUT},
    {"wait", required_argument, 0, O_WAIT}, {"tasmota-ap-ip", required_argument, 0, O_APIP},
    {"tasmota-port", required_argument, 0, O_TPORT}, {"log", required_argument, 0, O_LOG},
    {"fetch-wait", required_argument, 0, O_FETCHWAIT},
    {"yes", no_argument, 0, 'y'}, {"verbose", no_argument, 0, 'v'},
    {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
};

static int num(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int is_ip(const char *s)
{
    uint32_t a;
    return netif_parse_ipv4(s, &a) == 0;
}

#define USAGE_ERR(...) do { diy_fail(__VA_ARGS__); goto usage; } while (0)

static int parse(int argc, char **argv, struct diy_opts *o)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "yvqh", long_opts, NULL)) != -1) {
        switch (c) {
        case O_DEVICE: o->device = optarg; break;
        case O_DEVICEID:
            if (!diy_is_deviceid(optarg))
                USAGE_ERR("--deviceid wants 10 lowercase hex digits (e.g. 1000abcdef)");
            o->deviceid = optarg;
            break;
        case O_IFACE: o->ifname = optarg; break;
        case O_BIND:
            if (!is_ip(optarg))
                USAGE_ERR("--bind wants an IPv4 address");
            o->bind_ip = optarg;
            break;
        case O_PORT: if (num(optarg, 1, 65535, &o->port)) USAGE_ERR("bad --port"); break;
        case O_BROWSE:
            if (num(optarg, 1, 60, &o->browse_ms)) USAGE_ERR("--browse-time wants 1..60 s");
            o->browse_ms *= 1000;
            break;
        case O_REQTO:
            if (num(optarg, 1, 600, &o->request_ms)) USAGE_ERR("--request-timeout wants 1..600 s");
            o->request_ms *= 1000;
            break;
        case O_INFO: o->with_info = 1; break;
        case O_JSON: o->json = 1; break;
        case O_SERVEIP:
            if (!is_ip(optarg))
                USAGE_ERR("--serve-ip wants an IPv4 address");
            o->serve_ip = optarg;
            break;
        case O_HTTPPORT: if (num(optarg, 0, 65535, &o->http_port)) USAGE_ERR("bad --http-port"); break;
        case O_EQUALS: o->equals_form = 1; break;
        case O_URL:
            if (strncmp(optarg, "http://", 7) || !optarg[7] || strlen(optarg) >= DIY_URL_MAX)
                USAGE_ERR("--url must be a plain http:// URL (devices cannot fetch https) of "
                          "fewer than %d characters", DIY_URL_MAX);
            o->url = optarg;
            break;
        case O_SHA: o->sha256 = optarg; break;
        case O_NOUNLOCK: o->no_unlock = 1; break;
        case O_FORCE: o->force = 1; break;
        case O_TIMEOUT: if (num(optarg, 1, 86400, &o->timeout_s)) USAGE_ERR("bad --timeout"); break;
        case O_WAIT: if (num(optarg, 0, 86400, &o->wait_s)) USAGE_ERR("bad --wait"); break;
        case O_FETCHWAIT:
            if (num(optarg, 1, 3600, &o->fetch_wait_s)) USAGE_ERR("--fetch-wait wants 1..3600 s");
            break;
        case O_APIP:
            if (!is_ip(optarg))
                USAGE_ERR("--tasmota-ap-ip wants an IPv4 address");
            o->ap_ip = optarg;
            break;
        case O_TPORT: if (num(optarg, 1, 65535, &o->tasmota_port)) USAGE_ERR("bad --tasmota-port"); break;
        case O_LOG: o->log_file = optarg; break;
        case 'y': o->yes = 1; break;
        case 'v': o->verbose++; break;
        case 'q': o->quiet = 1; break;
        case 'h': o->help = 1; break;
        default: goto usage;
        }
    }
    if (o->help) { /* `sonota diy SUB --help` describes SUB */
        const char *sub = optind < argc ? argv[optind] : NULL;
        if (sub && strcmp(sub, "discover") && strcmp(sub, "info") && strcmp(sub, "unlock") &&
            strcmp(sub, "flash"))
            sub = NULL;
        print_help(sub);
        return 1;
    }
    if (optind >= argc)
        USAGE_ERR("which command? discover, info, unlock or flash");
    o->sub = argv[optind++];
    if (!strcmp(o->sub, "flash")) {
        if (optind >= argc)
            USAGE_ERR("flash needs the image FILE");
        o->file = argv[optind++];
    }
    if (optind < argc)
        USAGE_ERR("unexpected argument '%s'", argv[optind]);
    if (strcmp(o->sub, "discover") && strcmp(o->sub, "info") && strcmp(o->sub, "unlock") &&
        strcmp(o->sub, "flash"))
        USAGE_ERR("unknown command '%s': discover, info, unlock or flash", o->sub);
    if (o->sha256 && !o->url)
        USAGE_ERR("--sha256 only goes with --url (sonota computes it for its own server)");
    if (o->ifname && o->bind_ip)
        USAGE_ERR("give --interface or --bind, not both");
    return 0;
usage:
    fprintf(stderr, "Try 'sonota diy --help'.\n");
    return 2;
}

int cmd_diy(int argc, char **argv)
{
    struct diy_opts o = DIY_OPTS_DEFAULT;
    /* options may come before or after the subcommand: getopt permutes argv */
    int pr = parse(argc, argv, &o);
    if (pr == 1)
        return EXIT_OK;
    if (pr != 0)
        return EXIT_USAGE;
    so_log_set_tag("sonota");
    so_log_set_level(o.verbose >= 2 ? SO_LOG_DEBUG : o.verbose ? SO_LOG_INFO : SO_LOG_WARN);
    if (o.log_file && so_log_open_file(o.log_file) != 0) {
        diy_fail("cannot open the log file %s", o.log_file);
        return EXIT_USAGE;
    }
    httpc_global_init();
    int rc;
    if (!strcmp(o.sub, "discover"))
        rc = cmd_discover(&o);
    else if (!strcmp(o.sub, "info"))
        rc = cmd_info(&o);
    else if (!strcmp(o.sub, "unlock"))
        rc = cmd_unlock(&o);
    else {
        struct diy_target t;
        rc = diy_resolve(&o, &t);
        if (rc == EXIT_OK)
            rc = diy_flash_run(&o, &t);
    }
    httpc_global_cleanup();
    so_log_close_file();
    return rc;
}
