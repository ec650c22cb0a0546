#include "sonota/ui.h"

#include "io/log.h"
#include "lib/str.h"
#include "lib/text_esc.h"
#include "sonota/ui_int.h"
#include "plat/clock.h"
#include "plat/console.h"
#include "lib/fmt_attr.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UI_REDRAW_MS 200      /* terminal progress redraw interval */
#define UI_JSON_EVERY_MS 1000 /* at most one JSON progress line per second per file... */
#define UI_JSON_STEP 10       /* ...unless another 10 % was sent */
#define UI_PLAIN_STEP 25      /* non-terminal progress lines every 25 % */


void ui_init(struct ui *u, FILE *out, FILE *err, int json, int quiet, int verbose,
             int no_color)
{
    memset(u, 0, sizeof *u);
    u->out = out;
    u->err = err;
    u->json = json;
    u->quiet = quiet;
    u->verbose = verbose;
    u->tty = plat_isatty(out);
    /* a console that cannot take ANSI sequences (old Windows) gets plain text */
    u->color = !json && !no_color && u->tty && plat_console_prepare(out);
    if (u->color)
        plat_console_prepare(err);
    u->t0_ms = plat_mono_ms();
}

/* ---- JSON ---- */

cJSON *ui_ev_new(struct ui *u, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "event", name);
    cJSON_AddNumberToObject(o, "t", (double)(plat_mono_ms() - u->t0_ms) / 1000.0);
    return o;
}

void ui_add_str(cJSON *o, const char *k, const char *v)
{
    if (!o)
        return;
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void ui_add_num(cJSON *o, const char *k, double v)
{
    if (o)
        cJSON_AddNumberToObject(o, k, v);
}

void ui_add_bool(cJSON *o, const char *k, int v)
{
    if (o)
        cJSON_AddBoolToObject(o, k, v != 0);
}

void ui_ev_emit(struct ui *u, cJSON *o)
{
    if (!o)
        return;
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return;
    size_t n = strlen(s);
    char *safe = malloc(TEXT_ESC_CAP(n));
    if (safe) {
        text_esc_json(safe, TEXT_ESC_CAP(n), s, n, NULL);
        fprintf(u->out, "%s\n", safe);
        if (!u->defer_flush)
            fflush(u->out);
        so_log_nolimit(SO_LOG_TRACE, "event %s", safe);
        free(safe);
    }
    free(s);
}

void ui_flush(struct ui *u)
{
    if (u && u->out)
        fflush(u->out);
}

int ui_admit(const void *kind, const char *label)
{
    return so_log_admit(kind, label);
}

const char *ui_esc(char *buf, size_t cap, const char *s)
{
    if (!s)
        s = "?";
    text_esc(buf, cap, s, strlen(s), 0, NULL);
    return buf;
}

/* ---- human text ---- */

static void close_line(struct ui *u)
{
    if (u->line_open) {
        fputc('\n', u->out);
        u->line_open = 0;
    }
}

/* One or more lines to f, coloured as a whole when colour is on; escaped first. */
static void say(struct ui *u, FILE *f, const char *color, const char *text, unsigned flags)
{
    char safe[UI_TEXT_MAX * 2];
    int cut = 0;
    text_esc(safe, sizeof safe, text, strlen(text), flags, &cut);
    close_line(u);
    int use = color && u->color && (f == u->out || plat_isatty(f));
    fprintf(f, "%s%s%s%s\n", use ? color : "", safe, cut ? " [cut]" : "", use ? C_OFF : "");
    fflush(f);
    so_log_nolimit(SO_LOG_TRACE, "ui %s", text);
}

void ui_say(struct ui *u, FILE *f, const char *color, const char *text)
{
    say(u, f, color, text, TEXT_ESC_KEEP_NL);
}

void ui_say_line(struct ui *u, FILE *f, const char *color, const char *text)
{
    say(u, f, color, text, 0);
}

void ui_line(struct ui *u, int to_err, int bold, const char *text)
{
    ui_say(u, to_err ? u->err : u->out, to_err ? C_YELLOW : bold ? C_BOLD : NULL, text);
}

/* Formats into text (cap bytes). A newline that an argument brought (not the format)
 * becomes the two characters \n, so that say() can keep the others: the text is
 * formatted again with each newline of the format replaced by 0x01, and a newline that
 * is still there came from an argument (issue 13, item 4). */
SO_PRINTF(3, 0) __attribute__((nonnull(1, 3)))
static void ui_vfmt(char *text, size_t cap, const char *fmt, va_list ap)
{
    int ours = strchr(fmt, '\n') != NULL;
    va_list ap2;
    va_copy(ap2, ap);
    vsnprintf(text, cap, fmt, ap);
    char fmt2[UI_TEXT_MAX], marked[UI_TEXT_MAX], out[UI_TEXT_MAX];
    size_t fn = strlen(fmt);
    /* Without a newline of the format's own (or too long to mark), every newline came
     * from an argument. */
    int all_args = !ours || fn >= sizeof fmt2 || cap > sizeof out;
    if (!all_args) {
        for (size_t i = 0; i <= fn; i++)
            fmt2[i] = fmt[i] == '\n' ? '\x01' : fmt[i];
        /* fmt2 is fmt with its own newlines marked: the same conversions, checked in fmt */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        vsnprintf(marked, sizeof marked, fmt2, ap2);
#pragma GCC diagnostic pop
    }
    va_end(ap2);
    if (all_args && !strchr(text, '\n'))
        return;
    if (all_args && cap > sizeof out)
        cap = sizeof out; /* the rewrite below fits out[] (it cuts, never overflows) */
    size_t o = 0;
    for (size_t i = 0; text[i] && o + 3 < cap; i++) {
        if (text[i] == '\n' && (all_args || marked[i] != '\x01')) {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = text[i];
        }
    }
    out[o] = '\0';
    memcpy(text, out, o + 1);
}

/* Formats the caller's variadic arguments into text (a char array). */
#define UI_VFMT(text, fmt)                                                                  \
    do {                                                                                    \
        va_list ap_;                                                                        \
        va_start(ap_, fmt);                                                                 \
        ui_vfmt(text, sizeof text, fmt, ap_);                                               \
        va_end(ap_);                                                                        \
    } while (0)

void ui_info(struct ui *u, const char *fmt, ...)
{
    if (!ui_admit(fmt, fmt))
        return;
    char text[UI_TEXT_MAX];
    UI_VFMT(text, fmt);
    if (u->json) {
        cJSON *o = ui_ev_new(u, "info");
        ui_add_str(o, "message", text);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        say(u, u->out, NULL, text, TEXT_ESC_KEEP_NL);
    } else {
        so_log_nolimit(SO_LOG_TRACE, "ui %s", text);
    }
}

void ui_detail(struct ui *u, const char *fmt, ...)
{
    if (!ui_admit(fmt, fmt))
        return;
    char text[UI_TEXT_MAX];
    UI_VFMT(text, fmt);
    if (u->verbose && u->json) {
        cJSON *o = ui_ev_new(u, "info");
        ui_add_str(o, "message", text);
        ui_add_bool(o, "verbose", 1);
        ui_ev_emit(u, o);
    } else if (u->verbose && !u->quiet) {
        say(u, u->out, NULL, text, TEXT_ESC_KEEP_NL);
    } else {
        so_log_nolimit(SO_LOG_DEBUG, "%s", text);
    }
}

void ui_warn(struct ui *u, const char *code, const char *fmt, ...)
{
    if (!ui_admit(fmt, fmt))
        return;
    char text[UI_TEXT_MAX];
    UI_VFMT(text, fmt);
    if (u->json) {
        cJSON *o = ui_ev_new(u, "warning");
        ui_add_str(o, "code", code);
        ui_add_str(o, "message", text);
        ui_ev_emit(u, o);
        return;
    }
    char line[UI_TEXT_MAX + 16];
    snprintf(line, sizeof line, "warning: %s", text);
    say(u, u->err, C_YELLOW, line, TEXT_ESC_KEEP_NL);
}

void ui_error(struct ui *u, const char *code, int exit_status, const char *fmt, ...)
{
    if (!ui_admit(fmt, fmt))
        return;
    char text[UI_TEXT_MAX];
    UI_VFMT(text, fmt);
    if (u->json) {
        cJSON *o = ui_ev_new(u, "error");
        ui_add_str(o, "code", code);
        ui_add_str(o, "message", text);
        ui_add_num(o, "exit", exit_status);
        ui_ev_emit(u, o);
        return;
    }
    char line[UI_TEXT_MAX + 16];
    snprintf(line, sizeof line, "error: %s", text);
    say(u, u->err, C_RED, line, TEXT_ESC_KEEP_NL);
}

void ui_text(struct ui *u, FILE *f, const char *color, const char *fmt, ...)
{
    char text[UI_TEXT_MAX];
    UI_VFMT(text, fmt);
    size_t n = strlen(text);
    if (n && text[n - 1] == '\n')
        text[n - 1] = '\0'; /* say() ends the line */
    say(u, f, color, text, TEXT_ESC_KEEP_NL);
}

/* ---- structured events ---- */

void ui_start(struct ui *u, const char *version, const struct ui_ctx *c, const char *pace)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "start");
        ui_add_str(o, "version", version);
        ui_add_str(o, "servingIp", c->serving_ip);
        ui_add_num(o, "httpPort", c->http_port);
        ui_add_num(o, "httpsPort", c->https_port);
        ui_add_bool(o, "legacy", c->legacy);
        if (c->legacy)
            ui_add_num(o, "plainPort", c->plain_port);
        ui_add_str(o, "pace", pace);
        ui_add_str(o, "bindIp", c->bind_ip ? c->bind_ip : "0.0.0.0");
        ui_ev_emit(u, o);
        return;
    }
    if (u->quiet)
        return;
    char line[UI_TEXT_MAX];
    snprintf(line, sizeof line, "sonota %s: serving on %s (firmware http %d, cloud https %d%s), "
             "listening on %s", version, c->serving_ip ? c->serving_ip : "(none)", c->http_port,
             c->https_port, c->legacy ? ", plain legacy port too" : "",
             c->bind_ip ? c->bind_ip : "0.0.0.0 (every interface)");
    ui_say(u, u->out, C_BOLD, line);
}

void ui_image(struct ui *u, const struct ui_image *img, const char *problem, int forced)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "image");
        ui_add_str(o, "role", img->role);
        ui_add_str(o, "file", img->name);
        ui_add_str(o, "path", img->path);
        ui_add_num(o, "size", (double)img->size);
        ui_add_str(o, "sha256", img->sha256);
        ui_add_bool(o, "valid", img->valid);
        if (problem)
            ui_add_str(o, "problem", problem);
        if (forced)
            ui_add_bool(o, "forced", 1);
        ui_ev_emit(u, o);
        return;
    }
    if (u->quiet)
        return;
    char line[UI_TEXT_MAX];
    snprintf(line, sizeof line, "  %-5s %s (%zu B, sha256 %.12s…)%s", img->role, img->path,
             img->size, img->sha256 ? img->sha256 : "?", img->valid ? " ok" : " INVALID");
    ui_say(u, u->out, NULL, line);
}

void ui_stage(struct ui *u, const char *stage)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "stage");
        ui_add_str(o, "stage", stage);
        ui_ev_emit(u, o);
        return;
    }
    if (u->quiet)
        return;
    const char *title = !strcmp(stage, "provision") ? "Stage 1/3: give the device your WiFi"
                        : !strcmp(stage, "cloud")   ? "Stage 2/3: fake eWeLink cloud"
                        : !strcmp(stage, "final")   ? "Stage 3/3: final image"
                        : !strcmp(stage, "configure") ? "After the flash: configure Tasmota"
                        : !strcmp(stage, "fleet") ? "Fleet: one device after another"
                                                    : stage;
    char line[UI_TEXT_MAX];
    snprintf(line, sizeof line, "\n== %s ==", title);
    ui_say(u, u->out, C_CYAN, line);
}

static void action_text(enum ui_action a, const struct ui_ctx *c, char *t, size_t cap)
{
    char id[96]; /* the deviceid came from the device (or its record) */
    switch (a) {
    case UI_ACT_JOIN_AP:
        snprintf(t, cap,
                 "  1. Hold the device's button for 5-7 s until the LED blinks fast (pairing\n"
                 "     mode; some firmware needs a second long press).\n"
                 "  2. Connect this computer to the WiFi network ITEAD-%s (password 12345678).\n"
                 "  Waiting for an address in 10.10.7.0/24 (checking every 2 s)...",
                 c->deviceid ? ui_esc(id, sizeof id, c->deviceid) : "<deviceid>");
        break;
    case UI_ACT_TALK_DEVICE:
        snprintf(t, cap, "  Contacting the device at %s (it must be in pairing mode and this "
                 "computer on its ITEAD-<deviceid> WiFi)...", c->device_url);
        break;
    case UI_ACT_RECONNECT_HOME:
        snprintf(t, cap,
                 "  The device now leaves its pairing WiFi and joins \"%s\".\n"
                 "  Reconnect this computer to \"%s\" now: it must have the address %s again.%s",
                 c->ssid ? c->ssid : "your WiFi", c->ssid ? c->ssid : "your WiFi",
                 c->serving_ip, c->check_ip ? "\n  Waiting for that address..." : "");
        break;
    case UI_ACT_WAIT_DEVICE: {
        char plain[32] = "";
        if (c->legacy)
            snprintf(plain, sizeof plain, ", plain %d", c->plain_port);
        snprintf(t, cap,
                 "  Waiting for the device to call this computer (%s, https %d%s; firmware\n"
                 "  on http %d). Allow incoming TCP on these ports in your firewall.",
                 c->serving_ip ? c->serving_ip : "all addresses", c->https_port, plain,
                 c->http_port);
        break;
    }
    case UI_ACT_JOIN_FINAL:
        snprintf(t, cap,
                 "  The device rebooted into the intermediate firmware, which opened the open\n"
                 "  WiFi network \"FinalStage\" (no password).\n"
                 "  1. Join the open WiFi network FinalStage with this computer.\n"
                 "  2. Your computer must get 192.168.4.2: if a phone or another computer took\n"
                 "     it, disconnect that one from FinalStage and reconnect this computer.\n"
                 "  3. Allow incoming connections on TCP port %d in your firewall (Windows: mark\n"
                 "     FinalStage as a Private network).\n"
                 "  The device asks for its files every half second; keep this running.",
                 c->http_port);
        break;
    }
}

static const char *action_name(enum ui_action a)
{
    switch (a) {
    case UI_ACT_JOIN_AP: return "join-ap";
    case UI_ACT_TALK_DEVICE: return "contact-device";
    case UI_ACT_RECONNECT_HOME: return "reconnect-home";
    case UI_ACT_WAIT_DEVICE: return "wait-device";
    case UI_ACT_JOIN_FINAL: return "join-final";
    }
    return "?";
}

void ui_action(struct ui *u, enum ui_action a, const struct ui_ctx *c)
{
    char text[UI_TEXT_MAX];
    action_text(a, c, text, sizeof text);
    if (u->json) {
        cJSON *o = ui_ev_new(u, "action");
        ui_add_str(o, "action", action_name(a));
        ui_add_str(o, "message", text);
        if (a == UI_ACT_RECONNECT_HOME)
            ui_add_str(o, "ssid", c->ssid);
        if (a == UI_ACT_JOIN_FINAL)
            ui_add_str(o, "ssid", "FinalStage");
        if (a == UI_ACT_JOIN_AP)
            ui_add_str(o, "password", "12345678"); /* the device's fixed AP password (§1.2) */
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        ui_say(u, u->out, C_BOLD, text);
    }
}

void ui_device(struct ui *u, const char *source, const char *deviceid, const char *model,
               const char *rom_version)
{
    if (!ui_admit("ui-device", "device"))
        return;
    if (u->json) {
        cJSON *o = ui_ev_new(u, "device");
        ui_add_str(o, "source", source);
        ui_add_str(o, "deviceid", deviceid);
        ui_add_str(o, "model", model);
        ui_add_str(o, "romVersion", rom_version);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        char line[UI_TEXT_MAX];
        if (model || rom_version)
            snprintf(line, sizeof line, "  device %s: model %s, firmware %s (from %s)",
                     deviceid ? deviceid : "?", model ? model : "?",
                     rom_version ? rom_version : "?", source);
        else
            snprintf(line, sizeof line, "  device %s answered%s", deviceid ? deviceid : "?",
                     !strcmp(source, "ap") ? " on its pairing WiFi" : "");
        ui_say_line(u, u->out, C_BOLD, line);
    }
}

void ui_provisioned(struct ui *u, const char *ssid, const char *server, int port)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "provisioned");
        ui_add_str(o, "ssid", ssid);
        ui_add_str(o, "serverName", server);
        ui_add_num(o, "port", port);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        char line[UI_TEXT_MAX];
        snprintf(line, sizeof line, "  the device accepted WiFi \"%s\" and server %s:%d", ssid,
                 server, port);
        ui_say_line(u, u->out, C_GREEN, line);
    }
}

void ui_listening(struct ui *u, const char *detail)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "listening");
        ui_add_str(o, "detail", detail);
        ui_ev_emit(u, o);
    } else if (u->verbose && !u->quiet) {
        char line[UI_TEXT_MAX];
        snprintf(line, sizeof line, "  listening: %s", detail);
        ui_say(u, u->out, NULL, line);
    }
}

void ui_upgrade(struct ui *u, const char *deviceid, int paced)
{
    if (!ui_admit("ui-upgrade", "upgrade"))
        return;
    if (u->json) {
        cJSON *o = ui_ev_new(u, "upgrade");
        ui_add_str(o, "deviceid", deviceid);
        ui_add_bool(o, "paced", paced);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        char line[UI_TEXT_MAX];
        snprintf(line, sizeof line, "  upgrade command sent to %s%s", deviceid ? deviceid : "?",
                 paced ? " (whole-file downloads will be paced)" : "");
        ui_say_line(u, u->out, NULL, line);
    }
}

void ui_ack(struct ui *u, const char *kind, const char *deviceid, int error, const char *meaning)
{
    if (!ui_admit("ui-ack", "ack"))
        return;
    if (u->json) {
        cJSON *o = ui_ev_new(u, "ack");
        ui_add_str(o, "kind", kind);
        ui_add_str(o, "deviceid", deviceid);
        ui_add_num(o, "error", error);
        ui_add_str(o, "meaning", meaning);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        char line[UI_TEXT_MAX];
        snprintf(line, sizeof line, "  device %s %s %d: %s", deviceid ? deviceid : "?",
                 !strcmp(kind, "state") ? "reported upgrade state" : "answered the upgrade with",
                 error, meaning);
        ui_say_line(u, u->out, error ? NULL : C_GREEN, line);
    }
}

/* ---- downloads ---- */

/* The length of the address part of "ip:port" (the port changes per connection). */
static size_t peer_ip_len(const char *peer)
{
    const char *colon = strrchr(peer, ':');
    return colon ? (size_t)(colon - peer) : strlen(peer);
}

static int same_device(const struct ui_dl *d, const char *peer)
{
    if (!peer || !d->peer[0])
        return 1;
    size_t n = peer_ip_len(peer);
    return n == peer_ip_len(d->peer) && !strncmp(d->peer, peer, n);
}

/* Where a download's slot search starts: FNV-1a of the file and the address. */
static size_t dl_home(const char *file, const char *peer)
{
    uint32_t h = so_fnv1a(SO_FNV1A_INIT, file, strlen(file));
    if (peer)
        h = so_fnv1a(h, peer, peer_ip_len(peer));
    return h & (UI_DL_MAX - 1);
}

/* A download is one file to one device address (several devices at once in --fleet).
 * Open addressing: a slot once used keeps its file name, so a search walks past ended
 * downloads and stops at a slot never used. A new download takes the first ended slot
 * on its way; with every slot busy, the one that moved least recently. */
static struct ui_dl *dl_slot(struct ui *u, const char *file, const char *peer)
{
    struct ui_dl *d = NULL;
    size_t i = dl_home(file, peer);
    for (size_t k = 0; k < UI_DL_MAX; k++, i = (i + 1) & (UI_DL_MAX - 1)) {
        struct ui_dl *e = &u->dl[i];
        if (!e->file[0]) {
            if (!d)
                d = e;
            break;
        }
        if (e->active && !strcmp(e->file, file) && same_device(e, peer))
            return e;
        if (!e->active && !d)
            d = e;
    }
    if (!d) {
        d = &u->dl[0];
        for (size_t k = 1; k < UI_DL_MAX; k++)
            if (u->dl[k].last_ms < d->last_ms)
                d = &u->dl[k];
    }
    memset(d, 0, sizeof *d);
    snprintf(d->file, sizeof d->file, "%s", file[0] ? file : "?");
    d->active = 1;
    d->start_ms = d->last_ms = plat_mono_ms();
    d->last_step = -1;
    return d;
}

static double rate_kbs(const struct ui_dl *d, int64_t now)
{
    double secs = (double)(now - d->start_ms) / 1000.0;
    return (double)d->offset / 1024.0 / (secs > 0.001 ? secs : 0.001);
}

/* Seconds left at the rate so far; -1 when unknown (nothing sent yet). */
static double eta_secs(const struct ui_dl *d, int64_t now)
{
    double rate = rate_kbs(d, now) * 1024.0;
    if (!d->offset || !d->total || rate <= 0 || d->offset > d->total)
        return -1;
    return (double)(d->total - d->offset) / rate;
}

/* "[#######.............]" for pct (0..100). */
static void bar(int pct, char *out, size_t cap)
{
    enum { W = 20 };
    if (cap < W + 3)
        return;
    int full = pct * W / 100;
    out[0] = '[';
    for (int i = 0; i < W; i++)
        out[1 + i] = i < full ? '#' : '.';
    out[W + 1] = ']';
    out[W + 2] = '\0';
}

/* One progress line: redrawn in place on a terminal, one line per step otherwise. */
static void dl_bar_line(struct ui *u, struct ui_dl *d, int pct, int64_t now)
{
    char line[UI_TEXT_MAX], b[32], eta[24] = "";
    bar(pct, b, sizeof b);
    double left = pct < 100 ? eta_secs(d, now) : -1;
    if (left >= 0)
        snprintf(eta, sizeof eta, "  ETA %d:%02d", (int)left / 60, (int)left % 60);
    snprintf(line, sizeof line, "  %s %s %3d%%  %llu/%llu B  %.1f KiB/s%s", d->file, b, pct,
             (unsigned long long)d->offset, (unsigned long long)d->total, rate_kbs(d, now),
             eta);
    if (u->tty) {
        char safe[UI_TEXT_MAX * 2];
        text_esc(safe, sizeof safe, line, strlen(line), 0, NULL);
        fprintf(u->out, "\r%s\033[K", safe);
        fflush(u->out);
        u->line_open = 1;
    } else {
        ui_say_line(u, u->out, NULL, line);
    }
    d->last_step = pct;
    d->last_ms = now;
}

static void dl_json(struct ui *u, const char *state, const struct ui_dl *d, int64_t now)
{
    cJSON *o = ui_ev_new(u, "download");
    ui_add_str(o, "state", state);
    ui_add_str(o, "file", d->file);
    ui_add_str(o, "peer", d->peer);
    ui_add_num(o, "offset", (double)d->offset);
    ui_add_num(o, "total", (double)d->total);
    ui_add_bool(o, "paced", d->paced);
    ui_add_num(o, "rateKiBs", (double)(int64_t)(rate_kbs(d, now) * 10.0) / 10.0);
    double eta = eta_secs(d, now);
    if (eta >= 0)
        ui_add_num(o, "etaSeconds", (double)(int64_t)(eta * 10.0) / 10.0);
    else if (o)
        cJSON_AddNullToObject(o, "etaSeconds");
    ui_ev_emit(u, o);
}

void ui_download(struct ui *u, const char *state, const char *file, const char *peer,
                 uint64_t offset, uint64_t total, int paced)
{
    int64_t now = plat_mono_ms();
    int start = !strcmp(state, "start");
    /* A peer can start and drop downloads as often as it likes; progress and done
     * lines are bounded by the bytes it must take. */
    if (start && !ui_admit("ui-download-start", "download start"))
        return;
    if (!strcmp(state, "abort") && !ui_admit("ui-download-abort", "download abort"))
        return;
    struct ui_dl *d = dl_slot(u, file ? file : "?", peer);
    if (start) {
        d->start_ms = now;
        d->last_step = -1;
    }
    if (peer)
        snprintf(d->peer, sizeof d->peer, "%s", peer);
    if (total)
        d->total = total;
    d->offset = offset;
    d->paced |= paced;
    int pct = d->total ? (int)(d->offset * 100 / d->total) : 0;
    int end = !strcmp(state, "done") || !strcmp(state, "abort");

    if (u->json) {
        if (start || end || pct / UI_JSON_STEP > d->last_step / UI_JSON_STEP ||
            now - d->last_ms >= UI_JSON_EVERY_MS) {
            dl_json(u, state, d, now);
            d->last_step = pct;
            d->last_ms = now;
        }
    } else if (!u->quiet) {
        char line[UI_TEXT_MAX];
        if (start) {
            snprintf(line, sizeof line, "  %s: sending %s (%llu B%s)", d->peer, d->file,
                     (unsigned long long)d->total, d->paced ? ", paced" : "");
            ui_say_line(u, u->out, NULL, line);
            d->last_step = 0;
            d->last_ms = now;
        } else if (end) {
            /* The bar ends full: the last step drawn was below 100 % (issue 12). */
            if (!strcmp(state, "done") && d->last_step < 100)
                dl_bar_line(u, d, 100, now);
            double secs = (double)(now - d->start_ms) / 1000.0;
            if (!strcmp(state, "done"))
                snprintf(line, sizeof line, "  %s: %s sent completely, %llu B in %.1f s "
                         "(%.1f KiB/s)", d->peer, d->file, (unsigned long long)d->total, secs,
                         rate_kbs(d, now));
            else
                snprintf(line, sizeof line, "  %s: the device dropped %s at %llu/%llu B "
                         "(it retries by itself)", d->peer, d->file,
                         (unsigned long long)d->offset, (unsigned long long)d->total);
            ui_say_line(u, u->out, !strcmp(state, "done") ? C_GREEN : NULL, line);
        } else if (u->tty ? now - d->last_ms >= UI_REDRAW_MS
                          : pct / UI_PLAIN_STEP > d->last_step / UI_PLAIN_STEP) {
            dl_bar_line(u, d, pct, now);
        }
    }
    if (end)
        d->active = 0;
}
