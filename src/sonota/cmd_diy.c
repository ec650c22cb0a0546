/* cmd_diy.c - `sonota diy discover|info|unlock|flash`: ITEAD firmware 3.x devices in DIY
 * mode over their LAN REST API (PROTOCOL.md §6, §10.8). This file: options, discovery,
 * info and unlock; shared helpers in diy_cli.c, the flash flow in diy_flash.c. */
#include "sonota/cmds.h"

#include "io/log.h"
#include "io/netif.h"
#include "io/opt_help.h"
#include "lib/opt_table.h"
#include "sonota/cli_opts.h"
#include "sonota/diy_cli.h"
#include "sonota/ui_int.h"
#include "sonota/httpc.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help groups: `sonota diy SUB --help` shows the rows of SUB. */
enum { G_DISCOVER = 1, G_INFO = 2, G_UNLOCK = 4, G_FLASH = 8 };
#define G_DEVICE (G_INFO | G_UNLOCK | G_FLASH)

static int set_deviceid(const struct opt_table_row *r, void *base, char *arg, char *err,
                        size_t cap);
static int set_ipv4(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t cap);
static int set_seconds_ms(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap);
static int set_url(const struct opt_table_row *r, void *base, char *arg, char *err,
                   size_t cap);

#define T struct diy_opts
static const struct opt_table_row diy_rows[] = {
    {.kind = OPT_TABLE_HEADING, .help = "Device selection:", .show = G_DEVICE},
    {.name = "device", .kind = OPT_TABLE_STR, .off = offsetof(T, device),
     .arg = "ID|IP[:PORT]", .show = G_DEVICE,
     .help = "a device id (10 hex digits, looked up by mDNS) or an address;\n"
             "default: the only DIY device mDNS finds"},
    {.name = "deviceid", .kind = OPT_TABLE_FUNC, .off = offsetof(T, deviceid),
     .fn = set_deviceid, .arg = "ID", .show = G_DEVICE,
     .help = "id sent in requests (firmware 3.7.6+ needs the real one; default:\n"
             "from mDNS or the info reply)"},
    {.name = "port", .kind = OPT_TABLE_INT, .off = offsetof(T, port), .lo = 1, .hi = 65535,
     .arg = "N", .what = "a port number", .show = G_DEVICE,
     .help = "API port when --device is an address", .dflt = "8081"},
    {.name = "request-timeout", .kind = OPT_TABLE_FUNC, .off = offsetof(T, request_ms),
     .lo = 1, .hi = 600, .fn = set_seconds_ms, .arg = "S", .show = G_DEVICE,
     .help = "per request (ota_flash may take 6 times longer)", .dflt = "10"},
    OPT_ROW_HEADING("mDNS:"),
    OPT_ROW_STR(T, "interface", ifname, "IF",
                "use mDNS on IF only (default: every interface that is up)", NULL),
    OPT_ROW_FUNC(T, "bind", bind_ip, set_ipv4, "IP",
                 "use mDNS on the interface holding IP (flash: and serve the image there)",
                 NULL),
    {.name = "browse-time", .kind = OPT_TABLE_FUNC, .off = offsetof(T, browse_ms), .lo = 1,
     .hi = 60, .fn = set_seconds_ms, .arg = "S", .help = "how long mDNS listens",
     .dflt = "3"},
    {.kind = OPT_TABLE_HEADING, .help = "discover:", .show = G_DISCOVER},
    {.name = "info", .kind = OPT_TABLE_FLAG, .off = offsetof(T, with_info), .show = G_DISCOVER,
     .help = "also ask each device's /zeroconf/info (firmware, OTA lock)"},
    {.name = "json", .kind = OPT_TABLE_FLAG, .off = offsetof(T, json), .show = G_DISCOVER,
     .help = "one JSON object per device on stdout"},
    {.kind = OPT_TABLE_HEADING, .show = G_FLASH,
     .help = "flash:\n"
             "  FILE                    full ESP8266 image: v1, DOUT, 1 MB, at most 520192 bytes\n"
             "                          (e.g. tasmota-lite.bin; never tasmota-minimal)"},
    {.name = "serve-ip", .kind = OPT_TABLE_FUNC, .off = offsetof(T, serve_ip), .fn = set_ipv4,
     .arg = "IP", .show = G_FLASH,
     .help = "address the device downloads from (default: ours facing it)"},
    {.name = "http-port", .kind = OPT_TABLE_INT, .off = offsetof(T, http_port), .lo = 0,
     .hi = 65535, .arg = "N", .what = "a port number", .show = G_FLASH,
     .help = "port of sonota's file server (0 = any free)", .dflt = "8080"},
    {.name = "content-range-equals", .kind = OPT_TABLE_FLAG, .off = offsetof(T, equals_form),
     .show = G_FLASH, .help = "send 'Content-Range: bytes=a-b/t' like ITEAD's own tool"},
    {.name = "url", .kind = OPT_TABLE_FUNC, .off = offsetof(T, url), .fn = set_url,
     .arg = "URL", .show = G_FLASH,
     .help = "have the device fetch URL instead of our server (http only, Range\n"
             "support needed; FILE still gives the checks and the SHA-256)"},
    {.name = "sha256", .kind = OPT_TABLE_STR, .off = offsetof(T, sha256), .arg = "HEX",
     .show = G_FLASH, .help = "with --url: the digest to expect (lowercased; must match FILE)"},
    {.name = "no-unlock", .kind = OPT_TABLE_FLAG, .off = offsetof(T, no_unlock),
     .show = G_FLASH, .help = "do not call ota_unlock when OTA is locked"},
    {.name = "force", .kind = OPT_TABLE_FLAG, .off = offsetof(T, force), .show = G_FLASH,
     .help = "send an image that fails the DIY checks (size, DOUT) anyway"},
    {.name = "fetch-wait", .kind = OPT_TABLE_INT, .off = offsetof(T, fetch_wait_s), .lo = 1,
     .hi = 3600, .arg = "S", .what = "a number of seconds", .show = G_FLASH,
     .help = "for the device's first request after it accepted ota_flash\n"
             "(it fetches the first 4 KiB before it answers)", .dflt = "15"},
    {.name = "timeout", .kind = OPT_TABLE_INT, .off = offsetof(T, timeout_s), .lo = 1,
     .hi = 86400, .arg = "S", .what = "a number of seconds", .show = G_FLASH,
     .help = "for the whole download", .dflt = "300"},
    {.name = "wait", .kind = OPT_TABLE_INT, .off = offsetof(T, wait_s), .lo = 0, .hi = 86400,
     .arg = "S", .what = "a number of seconds", .show = G_FLASH,
     .help = "for the device to come back as Tasmota", .dflt = "300"},
    {.name = "tasmota-ap-ip", .kind = OPT_TABLE_FUNC, .off = offsetof(T, ap_ip),
     .fn = set_ipv4, .arg = "IP", .show = G_FLASH, .dflt = "192.168.4.1",
     .help = "Tasmota's AP address, tried when one of our addresses is in its\n"
             "/24, i.e. we joined its WiFi"},
    {.name = "tasmota-port", .kind = OPT_TABLE_INT, .off = offsetof(T, tasmota_port), .lo = 1,
     .hi = 65535, .arg = "N", .what = "a port number", .show = G_FLASH,
     .help = "Tasmota's web port", .dflt = "80"},
    {.name = "yes", .short_name = 'y', .kind = OPT_TABLE_FLAG, .off = offsetof(T, yes),
     .show = G_UNLOCK | G_FLASH, .help = "do not ask before unlocking or flashing"},
    OPT_ROW_HEADING("General:"),
    CLI_ROW_VERBOSE(T, "more detail (repeat for the protocol trace)"),
    CLI_ROW_QUIET(T, "errors only"),
    CLI_ROW_LOG(T),
    CLI_ROW_NO_COLOR(T),
    OPT_ROW_FLAG(T, 'h', "help", help, "this text ('sonota diy SUB --help': one command)"),
};
#undef T

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
static const char help_exit[] =
"Device error codes are explained in words (400, 401, 403, 404, 408, 413, 422, 424, 471,\n"
"500, 503). Requests to a device are at least 200 ms apart.\n"
"Exit status: 0 done, 1 failed, 2 usage, 3 image refused, 4 the device refused (code\n"
"explained), 5 network setup (mDNS socket, ports, addresses).\n";

static const struct {
    const char *name;
    unsigned group;
    const char *usage;
} diy_subs[] = {
    {"discover", G_DISCOVER,
     "usage: sonota diy discover [--info] [--json] [OPTIONS]\n\n"
     "Lists the DIY devices that announce themselves over mDNS (_ewelink._tcp):\n"
     "id, address, firmware, switch state and whether OTA is unlocked.\n\n"},
    {"info", G_INFO,
     "usage: sonota diy info [--device ID|IP[:PORT]] [OPTIONS]\n\n"
     "Shows one device's /zeroconf/info: firmware version, switch, startup, pulse,\n"
     "WiFi, signal and whether OTA is unlocked (either protocol variant).\n\n"},
    {"unlock", G_UNLOCK,
     "usage: sonota diy unlock [--device ID|IP[:PORT]] [OPTIONS]\n\n"
     "Calls ota_unlock: the device asks ITEAD's unlock service over the Internet\n"
     "(it needs Internet access for that); unlocking voids the warranty. 'sonota\n"
     "diy flash' unlocks by itself unless --no-unlock.\n\n"},
    {"flash", G_FLASH,
     "usage: sonota diy flash FILE [--device ID|IP[:PORT]] [OPTIONS]\n\n"
     "Checks FILE (v1 image, DOUT, 1 MB, at most 520192 bytes), unlocks OTA if needed\n"
     "(asking first), serves FILE from this computer, has the device fetch it\n"
     "(ota_flash), follows the download to the last byte and waits until the device\n"
     "comes back as Tasmota, on your LAN or on its own WiFi (tasmota_XXXXXX-####).\n\n"},
};

static int sub_index(const char *sub)
{
    for (size_t i = 0; sub && i < sizeof diy_subs / sizeof diy_subs[0]; i++)
        if (!strcmp(sub, diy_subs[i].name))
            return (int)i;
    return -1;
}

/* sub NULL (or unknown): every command; else what that command does and takes. */
static void print_help(const char *sub)
{
    int k = sub_index(sub);
    if (k < 0)
        fputs("usage: sonota diy discover [OPTIONS]\n"
              "       sonota diy info   [--device ID|IP[:PORT]] [OPTIONS]\n"
              "       sonota diy unlock [--device ID|IP[:PORT]] [OPTIONS]\n"
              "       sonota diy flash FILE [--device ID|IP[:PORT]] [OPTIONS]\n\n", stdout);
    else
        fputs(diy_subs[k].usage, stdout);
    if (k < 0) {
        fputs(help_mode, stdout);
        fputc('\n', stdout);
        fputs(help_subs, stdout);
        fputc('\n', stdout);
    }
    struct opt_table_part part = {diy_rows, OPT_TABLE_N(diy_rows), NULL};
    unsigned group = k < 0 ? 0 : diy_subs[k].group;
    opt_help_print(stdout, &part, 1, group);
    if (group != G_DISCOVER) {
        fputc('\n', stdout);
        fputs(help_exit, stdout);
    }
    if (k >= 0) {
        fputc('\n', stdout);
        fputs(help_mode, stdout);
    }
}

/* ---- discover ---- */

/* A TXT field for JSON: null when absent or empty. */
static const char *or_null(const char *v)
{
    return v && v[0] ? v : NULL;
}

static int discover_with(const struct diy_opts *o, struct mdns_found *found)
{
    char err[256];
    struct mdns_browse_opts bo = {.ifname = o->ifname, .bind_ip = o->bind_ip,
                                  .timeout_ms = o->browse_ms};
    int n = mdns_browse(&bo, found, MDNS_BROWSE_MAX, err, sizeof err);
    if (n < 0) {
        diy_fail("mDNS: %s", err);
        return EXIT_NETWORK;
    }
    if (!o->json)
        diy_say(o, "%-12s %-21s %-9s %-6s %-9s %-5s %s", "ID", "ADDRESS", "FIRMWARE", "SWITCH",
                "OTA", "RSSI", "PROTOCOL");
    int shown = 0;
    for (int i = 0; i < n; i++) {
        struct mdns_found *f = &found[i];
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
            /* TXT fields come from any device on the LAN: ui_ev_emit escapes the line */
            cJSON *e = cJSON_CreateObject();
            ui_add_str(e, "id", or_null(f->txt.id));
            ui_add_str(e, "ip", or_null(f->ip));
            ui_add_num(e, "port", f->port);
            ui_add_str(e, "instance", or_null(f->instance));
            ui_add_str(e, "type", or_null(f->txt.type));
            ui_add_str(e, "apivers", or_null(f->txt.apivers));
            ui_add_num(e, "seq", (double)f->txt.seq);
            ui_add_str(e, "firmware", txt_ok ? or_null(st->fw_version) : NULL);
            ui_add_str(e, "switch", txt_ok ? or_null(st->sw) : NULL);
            if (!ota[0] && e)
                cJSON_AddNullToObject(e, "otaUnlock");
            else
                ui_add_bool(e, "otaUnlock", st->ota_unlock);
            ui_add_bool(e, "encrypted", enc);
            ui_add_bool(e, "complete", mdns_found_complete(f));
            ui_add_str(e, "protocol", or_null(proto));
            ui_ev_emit(diy_ui(), e);
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

static int cmd_discover(const struct diy_opts *o)
{
    struct mdns_found *found = diy_found_alloc();
    if (!found) {
        diy_fail("out of memory");
        return EXIT_FAIL;
    }
    int rc = discover_with(o, found);
    free(found);
    return rc;
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

static int is_ip(const char *s)
{
    uint32_t a;
    return netif_parse_ipv4(s, &a) == 0;
}

static int set_deviceid(const struct opt_table_row *r, void *base, char *arg, char *err,
                        size_t cap)
{
    if (!diy_is_deviceid(arg)) {
        snprintf(err, cap, "--%s wants 10 lowercase hex digits (e.g. 1000abcdef)", r->name);
        return -1;
    }
    *(const char **)((char *)base + r->off) = arg;
    return 0;
}

/* --bind, --serve-ip, --tasmota-ap-ip. */
static int set_ipv4(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t cap)
{
    if (!is_ip(arg)) {
        snprintf(err, cap, "--%s wants an IPv4 address, not '%s'", r->name, arg);
        return -1;
    }
    *(const char **)((char *)base + r->off) = arg;
    return 0;
}

/* --browse-time, --request-timeout: seconds on the command line, ms in the struct. */
static int set_seconds_ms(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t cap)
{
    long v;
    if (opt_table_long(arg, r->lo, r->hi, &v) != 0) {
        snprintf(err, cap, "--%s wants %ld..%ld s, not '%s'", r->name, r->lo, r->hi, arg);
        return -1;
    }
    *(int *)((char *)base + r->off) = (int)v * 1000;
    return 0;
}

static int set_url(const struct opt_table_row *r, void *base, char *arg, char *err,
                   size_t cap)
{
    if (strncmp(arg, "http://", 7) || !arg[7] || strlen(arg) >= DIY_URL_MAX) {
        snprintf(err, cap, "--%s must be a plain http:// URL (devices cannot fetch https) of "
                 "fewer than %d characters", r->name, DIY_URL_MAX);
        return -1;
    }
    *(const char **)((char *)base + r->off) = arg;
    return 0;
}

#define USAGE_ERR(...) do { diy_fail(__VA_ARGS__); goto usage; } while (0)

static int parse(int argc, char **argv, struct diy_opts *o)
{
    char err[300], *pos[3];
    struct opt_table_part part = {diy_rows, OPT_TABLE_N(diy_rows), o};
    /* options may come before or after the subcommand */
    int npos = opt_table_parse(&part, 1, argc, argv, pos, 3, err, sizeof err);
    if (npos < 0)
        USAGE_ERR("%s", err);
    if (o->help) { /* `sonota diy SUB --help` describes SUB */
        print_help(npos > 0 ? pos[0] : NULL);
        return 1;
    }
    if (npos == 0)
        USAGE_ERR("which command? discover, info, unlock or flash");
    o->sub = pos[0];
    int next = 1;
    if (!strcmp(o->sub, "flash")) {
        if (npos < 2)
            USAGE_ERR("flash needs the image FILE");
        o->file = pos[next++];
    }
    if (npos > next)
        USAGE_ERR("unexpected argument '%s'", pos[next]);
    if (sub_index(o->sub) < 0)
        USAGE_ERR("unknown command '%s': discover, info, unlock or flash", o->sub);
    if (o->sha256 && !o->url)
        USAGE_ERR("--sha256 only goes with --url (sonota computes it for its own server)");
    if (o->ifname && o->bind_ip)
        USAGE_ERR("give --interface or --bind, not both");
    return 0;
usage:
    ui_say_line(diy_ui(), diy_ui()->err, NULL, "Try 'sonota diy --help'.");
    return 2;
}

int cmd_diy(int argc, char **argv)
{
    struct diy_opts o = DIY_OPTS_DEFAULT;
    int pr = parse(argc, argv, &o);
    if (pr == 1)
        return EXIT_OK;
    if (pr != 0)
        return EXIT_USAGE;
    diy_ui_init(&o);
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
