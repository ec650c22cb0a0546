/* ui_summary.c - the end of a `sonota flash` run: the summary of one device (with what
 * --configure set), or the table of every device of a --fleet run (docs/EVENTS.md). */
#include "sonota/ui.h"

#include "sonota/ui_int.h"

#include <stdio.h>
#include <string.h>

static void fmt_secs(double s, char *out, size_t cap)
{
    if (s < 0)
        snprintf(out, cap, "skipped");
    else
        snprintf(out, cap, "%d:%02d", (int)s / 60, (int)s % 60);
}

static double tenths(double s)
{
    return (double)(int64_t)(s * 10.0) / 10.0;
}

static void configured_json(cJSON *o, const struct ui_configured *c)
{
    if (!c) {
        cJSON_AddNullToObject(o, "configure");
        return;
    }
    cJSON *j = cJSON_AddObjectToObject(o, "configure");
    ui_add_str(j, "tasmota", c->tasmota);
    ui_add_bool(j, "legacy", c->legacy);
    ui_add_bool(j, "wifi", c->wifi);
    ui_add_str(j, "ssid", c->ssid);
    ui_add_str(j, "mqttHost", c->mqtt_host);
    ui_add_str(j, "hostname", c->hostname);
    ui_add_str(j, "lan", c->lan);
    ui_add_str(j, "ip", c->ip);
}

static void done_json(struct ui *u, const struct ui_summary *s)
{
    static const char *const names[3] = {"provision", "cloud", "final"};
    cJSON *o = ui_ev_new(u, "done");
    ui_add_str(o, "deviceid", s->deviceid);
    ui_add_str(o, "model", s->model);
    ui_add_str(o, "romVersion", s->rom_version);
    cJSON *imgs = o ? cJSON_AddArrayToObject(o, "images") : NULL;
    for (size_t i = 0; imgs && i < s->n_images; i++) {
        cJSON *im = cJSON_CreateObject();
        ui_add_str(im, "role", s->images[i].role);
        ui_add_str(im, "file", s->images[i].name);
        ui_add_num(im, "size", (double)s->images[i].size);
        ui_add_str(im, "sha256", s->images[i].sha256);
        ui_add_bool(im, "valid", s->images[i].valid);
        cJSON_AddItemToArray(imgs, im);
    }
    cJSON *st = o ? cJSON_AddObjectToObject(o, "stages") : NULL;
    for (int i = 0; st && i < 3; i++) {
        if (s->stage_s[i] < 0)
            cJSON_AddNullToObject(st, names[i]);
        else
            ui_add_num(st, names[i], tenths(s->stage_s[i]));
    }
    if (st && s->configured)
        ui_add_num(st, "configure", tenths(s->configure_s));
    else if (st)
        cJSON_AddNullToObject(st, "configure");
    if (o)
        configured_json(o, s->configured);
    ui_add_num(o, "elapsed", tenths(s->total_s));
    ui_ev_emit(u, o);
}

void ui_done(struct ui *u, const struct ui_summary *s)
{
    if (u->json) {
        done_json(u, s);
        return;
    }
    const struct ui_configured *c = s->configured;
    char text[UI_TEXT_MAX * 2];
    size_t n = 0;
    char tas[64], ip[96]; /* Tasmota's own answers */
    if (c)
        n += (size_t)snprintf(text, sizeof text,
            "\n== Done ==\n"
            "  Tasmota %s%s runs on the device and has your settings: WiFi \"%s\"%s%s%s%s.\n"
            "  %s%s%s\n",
            ui_esc(tas, sizeof tas, c->tasmota), c->legacy ? " (5.x)" : "",
            c->ssid ? c->ssid : "?", c->mqtt_host ? ", MQTT broker " : "",
            c->mqtt_host ? c->mqtt_host : "", c->hostname ? ", host name " : "",
            c->hostname ? c->hostname : "",
            c->lan ? "It answers on your network at " : "Reconnect this computer to your WiFi; "
            "the device is on it in a minute",
            c->lan ? (c->ip ? ui_esc(ip, sizeof ip, c->ip) : c->lan) : "", c->lan ? "." : ".");
    else
        n += (size_t)snprintf(text, sizeof text,
            "\n== Done ==\n"
            "  The final image was sent completely. The device now writes it and restarts\n"
            "  (about a minute); then the new firmware's WiFi appears (Tasmota: "
            "tasmota_XXXXXX-####\n"
            "  or sonoff-####, web page at http://192.168.4.1). `sonota configure` (or\n"
            "  --configure next time) gives it your WiFi and MQTT settings.\n");
    if (n < sizeof text) { /* three strings from the device: no newline of theirs */
        char id[96], model[96], rom[96];
        n += (size_t)snprintf(text + n, sizeof text - n, "  device %s  model %s  firmware %s\n",
                              ui_esc(id, sizeof id, s->deviceid),
                              ui_esc(model, sizeof model, s->model),
                              ui_esc(rom, sizeof rom, s->rom_version));
    }
    for (size_t i = 0; i < s->n_images && n < sizeof text; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "  %-5s %s  %zu B  sha256 %.16s%s\n",
                              s->images[i].role, s->images[i].name, s->images[i].size,
                              s->images[i].sha256 ? s->images[i].sha256 : "?",
                              s->images[i].valid ? "" : "  (failed validation, forced)");
    char a[16], b[16], f[16], t[16], k[16];
    fmt_secs(s->stage_s[0], a, sizeof a);
    fmt_secs(s->stage_s[1], b, sizeof b);
    fmt_secs(s->stage_s[2], f, sizeof f);
    fmt_secs(s->total_s, t, sizeof t);
    fmt_secs(c ? s->configure_s : -1, k, sizeof k);
    if (n < sizeof text)
        snprintf(text + n, sizeof text - n, "  time: provision %s, cloud %s, final %s%s%s, "
                 "total %s", a, b, f, c ? ", configure " : "", c ? k : "", t);
    ui_say(u, u->out, C_GREEN, text);
}

void ui_fleet_device(struct ui *u, const struct ui_fleet_row *row, size_t n_done, int want)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "fleet-device");
        ui_add_str(o, "deviceid", row->deviceid);
        ui_add_str(o, "state", row->stage);
        ui_add_str(o, "model", row->model);
        ui_add_str(o, "romVersion", row->rom_version);
        ui_add_str(o, "slot", row->slot);
        ui_add_str(o, "detail", row->detail);
        ui_add_num(o, "done", (double)n_done);
        ui_ev_emit(u, o);
        return;
    }
    if (u->quiet)
        return;
    char line[UI_TEXT_MAX], of[32] = "";
    if (want > 0)
        snprintf(of, sizeof of, " of %d", want);
    snprintf(line, sizeof line, "  [fleet] device %s: %s (%zu%s done)", row->deviceid,
             row->stage, n_done, of);
    ui_say_line(u, u->out, C_BOLD, line);
}

static void fleet_json(struct ui *u, const struct ui_fleet_row *rows, size_t n, double total_s,
                       size_t n_done)
{
    cJSON *o = ui_ev_new(u, "fleet-done");
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "devices") : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *d = cJSON_CreateObject();
        ui_add_str(d, "deviceid", rows[i].deviceid);
        ui_add_str(d, "model", rows[i].model);
        ui_add_str(d, "romVersion", rows[i].rom_version);
        ui_add_str(d, "slot", rows[i].slot);
        ui_add_str(d, "result", rows[i].result);
        ui_add_str(d, "stage", rows[i].stage);
        ui_add_str(d, "detail", rows[i].detail);
        ui_add_num(d, "seconds", tenths(rows[i].seconds));
        cJSON_AddItemToArray(arr, d);
    }
    ui_add_num(o, "done", (double)n_done);
    ui_add_num(o, "total", (double)n);
    ui_add_num(o, "elapsed", tenths(total_s));
    ui_ev_emit(u, o);
}

void ui_fleet_done(struct ui *u, const struct ui_fleet_row *rows, size_t n, double total_s)
{
    size_t n_done = 0;
    for (size_t i = 0; i < n; i++)
        n_done += !strcmp(rows[i].result, "done");
    if (u->json) {
        fleet_json(u, rows, n, total_s, n_done);
        return;
    }
    char t[16];
    fmt_secs(total_s, t, sizeof t);
    char line[UI_TEXT_MAX];
    snprintf(line, sizeof line, "\n== Fleet: %zu of %zu device%s flashed (%s) ==\n"
             "  %-12s %-12s %-8s %-6s %-11s %6s  %s", n_done, n, n == 1 ? "" : "s", t,
             "device", "model", "firmware", "slot", "result", "time", "stage / detail");
    ui_say(u, u->out, n_done == n && n ? C_GREEN : C_BOLD, line);
    for (size_t i = 0; i < n; i++) {
        const struct ui_fleet_row *r = &rows[i];
        char secs[16];
        fmt_secs(r->seconds, secs, sizeof secs);
        snprintf(line, sizeof line, "  %-12s %-12s %-8s %-6s %-11s %6s  %s%s%s",
                 r->deviceid ? r->deviceid : "?", r->model ? r->model : "?",
                 r->rom_version ? r->rom_version : "?", r->slot ? r->slot : "-", r->result,
                 secs, r->stage ? r->stage : "-", r->detail ? ": " : "",
                 r->detail ? r->detail : "");
        ui_say_line(u, u->out, !strcmp(r->result, "done") ? NULL : C_YELLOW, line);
    }
    if (!n)
        ui_say(u, u->out, NULL, "  (no device called)");
}
