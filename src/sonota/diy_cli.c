/* diy_cli.c - helpers shared by the `sonota diy` subcommands (see diy_cli.h): output,
 * finding the device, requests with their errors explained (PROTOCOL.md §6). */
#include "sonota/diy_cli.h"

#include "io/log.h"
#include "io/netif.h"
#include "io/prompt.h"
#include "sonota/cli_opts.h"
#include "sonota/ui_int.h"
#include "sonota/cmds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mdns_found *diy_found_alloc(void)
{
    return calloc(MDNS_BROWSE_MAX, sizeof(struct mdns_found));
}

/* ---- output ---- */

static struct ui g_ui;
static int g_ui_ready;

void diy_ui_init(const struct diy_opts *o)
{
    ui_init(&g_ui, stdout, stderr, o->json, o->quiet, o->verbose,
            o->no_color || cli_opts_env_no_color());
    g_ui_ready = 1;
}

struct ui *diy_ui(void)
{
    if (!g_ui_ready) { /* a message before the options were known: plain defaults */
        ui_init(&g_ui, stdout, stderr, 0, 0, 0, 1);
        g_ui_ready = 1;
    }
    return &g_ui;
}

void diy_say(const struct diy_opts *o, const char *fmt, ...)
{
    int keep_nl = strchr(fmt, '\n') != NULL; /* newlines of the format are ours */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct ui *u = diy_ui();
    if (o->quiet)
        LOG_T("ui: %s", line);
    else if (keep_nl)
        ui_say(u, u->out, NULL, line);
    else
        ui_say_line(u, u->out, NULL, line);
}

void diy_fail(const char *fmt, ...)
{
    int keep_nl = strchr(fmt, '\n') != NULL;
    char line[1536] = "sonota diy: ";
    size_t pre = strlen(line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + pre, sizeof line - pre, fmt, ap);
    va_end(ap);
    struct ui *u = diy_ui();
    if (keep_nl)
        ui_say(u, u->err, C_RED, line);
    else
        ui_say_line(u, u->err, C_RED, line);
}

/* "the device answered CMD with error N (name). <sentence>" on stderr. */
static void diy_explain(enum diy_cmd cmd, int code)
{
    diy_fail("the device answered %s with error %d (%s).\n  %s", diy_cmd_name(cmd), code,
             diy_error_name(code), diy_error_text(code));
}

void diy_explain_result(int code)
{
    diy_fail("ota_flash was accepted, but after its download the device reported error %d "
             "(%s) to this computer (its result POST).\n  %s", code, diy_error_name(code),
             diy_error_text(code));
}

int diy_confirm(const struct diy_opts *o, const char *question)
{
    if (o->yes || !prompt_available())
        return 1;
    char ans[16];
    if (prompt_line(question, ans, sizeof ans) != 0)
        return 0;
    return ans[0] == 'y' || ans[0] == 'Y';
}

/* ---- device ---- */

static int parse_addr(const char *s, char *ip, size_t cap, int *port)
{
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n >= cap)
        return -1;
    memcpy(ip, s, n);
    ip[n] = '\0';
    uint32_t a;
    if (netif_parse_ipv4(ip, &a) != 0)
        return -1;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || p < 1 || p > 65535)
            return -1;
        *port = (int)p;
    }
    return 0;
}

void diy_take_found(struct diy_target *t, const struct mdns_found *f)
{
    t->found = *f;
    t->from_mdns = 1;
    snprintf(t->ip, sizeof t->ip, "%s", f->ip);
    t->port = f->port;
    if (!t->have_id && f->txt.id[0]) {
        snprintf(t->deviceid, sizeof t->deviceid, "%s", f->txt.id);
        t->have_id = 1;
    }
}


/* diy_resolve with found as the browse buffer. */
static int resolve_with(const struct diy_opts *o, struct diy_target *t,
                        struct mdns_found *found)
{
    t->port = o->port;
    if (o->deviceid) {
        snprintf(t->deviceid, sizeof t->deviceid, "%s", o->deviceid);
        t->have_id = 1;
    }
    char err[256];
    struct mdns_browse_opts bo = {.ifname = o->ifname, .bind_ip = o->bind_ip,
                                  .timeout_ms = o->browse_ms};
    if (o->device && parse_addr(o->device, t->ip, sizeof t->ip, &t->port) == 0) {
        if (t->have_id)
            return EXIT_OK;
        /* The id is needed from firmware 3.7.6; mDNS knows it (best effort). */
        bo.want_ip = t->ip;
        int n = mdns_browse(&bo, found, MDNS_BROWSE_MAX, err, sizeof err);
        if (n < 0)
            LOG_D("mdns lookup of %s skipped: %s", t->ip, err);
        for (int i = 0; i < n; i++)
            if (mdns_found_complete(&found[i]) && !strcmp(found[i].ip, t->ip) &&
                found[i].txt.id[0]) {
                snprintf(t->deviceid, sizeof t->deviceid, "%s", found[i].txt.id);
                t->have_id = 1;
                LOG_I("mDNS: %s is device %s", t->ip, t->deviceid);
            }
        return EXIT_OK;
    }
    if (o->device && !diy_is_deviceid(o->device)) {
        diy_fail("--device wants a device id (10 lowercase hex digits) or an IPv4 address, "
                 "not '%s'", o->device);
        return EXIT_USAGE;
    }
    bo.want_id = o->device;
    int n = mdns_browse(&bo, found, MDNS_BROWSE_MAX, err, sizeof err);
    if (n < 0) {
        diy_fail("mDNS: %s", err);
        return EXIT_NETWORK;
    }
    int match = -1, count = 0;
    for (int i = 0; i < n; i++) {
        if (!mdns_found_complete(&found[i]))
            continue;
        if (o->device && strcasecmp(found[i].txt.id, o->device))
            continue;
        match = i;
        count++;
    }
    if (count == 1) {
        diy_take_found(t, &found[match]);
        LOG_I("mDNS: device %s at %s:%d", t->deviceid, t->ip, t->port);
        return EXIT_OK;
    }
    if (count == 0) {
        diy_fail("%s answered mDNS (_ewelink._tcp) within %d s. Check that the device is in "
                 "DIY mode (fast double blink) on the same network and that multicast "
                 "passes, or give its address with --device IP.",
                 o->device ? "that device never" : "no DIY-mode device", o->browse_ms / 1000);
        return EXIT_FAIL;
    }
    diy_fail("%d DIY devices answered; choose one with --device ID:", count);
    for (int i = 0; i < n; i++)
        if (mdns_found_complete(&found[i])) {
            char line[160];
            snprintf(line, sizeof line, "  %s  %s:%d", found[i].txt.id, found[i].ip,
                     found[i].port);
            ui_say_line(diy_ui(), diy_ui()->err, NULL, line);
        }
    return EXIT_USAGE;
}

int diy_resolve(const struct diy_opts *o, struct diy_target *t)
{
    memset(t, 0, sizeof *t);
    struct mdns_found *found = diy_found_alloc();
    if (!found) {
        diy_fail("out of memory");
        return EXIT_FAIL;
    }
    int rc = resolve_with(o, t, found);
    free(found);
    return rc;
}

int diy_connect(const struct diy_opts *o, const struct diy_target *t, struct diy_client *c)
{
    char err[160];
    if (diy_client_init(c, t->ip, t->port, o->request_ms, err, sizeof err) != 0) {
        diy_fail("%s", err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

void diy_request_for(const struct diy_target *t, enum diy_cmd cmd, struct diy_request *rq)
{
    diy_request_init(rq, cmd);
    snprintf(rq->deviceid, sizeof rq->deviceid, "%s", t->have_id ? t->deviceid : "");
}

int diy_call(const struct diy_opts *o, struct diy_client *c, const struct diy_request *rq,
             int timeout_ms, struct diy_reply *rep, int *empty)
{
    char err[512], raw[DIY_BODY_MAX + 1];
    if (empty)
        *empty = 0;
    enum diy_call r = diy_client_call(c, rq, timeout_ms, rep, raw, sizeof raw, err, sizeof err);
    if (o->verbose && r == DIY_CALL_OK)
        diy_say(o, "  %s -> %s", diy_cmd_name(rq->cmd), raw);
    switch (r) {
    case DIY_CALL_OK:
        if (rep->error == DIY_OK)
            return EXIT_OK;
        diy_explain(rq->cmd, rep->error);
        return EXIT_DEVICE;
    case DIY_CALL_EMPTY:
        if (empty) {
            *empty = 1;
            return EXIT_OK;
        }
        diy_fail("%s", err);
        return EXIT_FAIL;
    case DIY_CALL_NET:
        diy_fail("%s. Is the device on and in DIY mode at that address?", err);
        return EXIT_FAIL;
    case DIY_CALL_HTTP:
    case DIY_CALL_BAD:
        diy_fail("%s", err);
        return EXIT_DEVICE;
    }
    return EXIT_FAIL;
}

int diy_get_info(const struct diy_opts *o, struct diy_client *c, struct diy_target *t,
                 struct diy_reply *rep)
{
    struct diy_request rq;
    diy_request_for(t, DIY_CMD_INFO, &rq);
    int rc = diy_call(o, c, &rq, 0, rep, NULL);
    if (rc == EXIT_DEVICE && rep->error == DIY_E_DEVICEID && !t->have_id)
        diy_fail("no device id was known, so the request carried \"\"; give it with "
                 "--deviceid ID");
    if (rc == EXIT_OK && !t->have_id && rep->st.deviceid[0]) {
        snprintf(t->deviceid, sizeof t->deviceid, "%s", rep->st.deviceid);
        t->have_id = 1;
    }
    return rc;
}

void diy_print_info(const struct diy_opts *o, const struct diy_target *t,
                    const struct diy_reply *rep)
{
    const struct diy_state *s = &rep->st;
    diy_say(o, "device %s at %s:%d", t->have_id ? t->deviceid : "(id unknown)", t->ip, t->port);
    diy_say(o, "  protocol   %s", rep->form == DIY_DATA_STRING
            ? "v1.4 (info data as a JSON string: firmware 3.3/3.4)"
            : rep->form == DIY_DATA_OBJECT ? "v2.0 (info data as an object: firmware >= 3.5.0)"
                                           : "unknown (no info data)");
    diy_say(o, "  firmware   %s", s->fw_version[0] ? s->fw_version : "? (not reported by v1.4)");
    char pw[32] = "";
    if (s->has_pulse_width)
        snprintf(pw, sizeof pw, " (%ld ms)", s->pulse_width);
    diy_say(o, "  switch     %s   startup %s   pulse %s%s", s->sw[0] ? s->sw : "?",
            s->startup[0] ? s->startup : "?", s->pulse[0] ? s->pulse : "?", pw);
    char sig[24] = "?";
    if (s->has_signal)
        snprintf(sig, sizeof sig, "%d dBm", s->signal);
    diy_say(o, "  wifi       ssid %s   bssid %s   signal %s", s->ssid[0] ? s->ssid : "?",
            s->bssid[0] ? s->bssid : "?", sig);
    diy_say(o, "  OTA        %s", s->ota_unlock == 1 ? "unlocked"
            : s->ota_unlock == 0 ? "locked (run 'sonota diy unlock', or flash unlocks it)"
                                 : "?");
}
