/* ui_net.c - the user-facing side of networks: addresses seen and lost, what a run
 * detected at its start (stage, earlier run), firewall findings, a device that pins the
 * cloud certificate (docs/EVENTS.md). */
#include "sonota/ui.h"

#include "sonota/fwcheck.h"
#include "sonota/ui_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void ui_address(struct ui *u, const char *kind, const char *ip, const char *ifname)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "address");
        ui_add_str(o, "kind", kind);
        ui_add_str(o, "ip", ip);
        ui_add_str(o, "interface", ifname);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        char line[UI_LINE_MAX];
        snprintf(line, sizeof line, "  this computer has %s on %s (%s)", ip,
                 ifname ? ifname : "?", kind);
        ui_line(u, 0, 0, line);
    }
}

void ui_address_lost(struct ui *u, const char *kind, const char *ip, const char *what_next)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "address-lost");
        ui_add_str(o, "kind", kind);
        ui_add_str(o, "ip", ip);
        ui_add_str(o, "message", what_next);
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        char line[UI_LINE_MAX];
        snprintf(line, sizeof line, "  %s is gone from this computer: %s", ip, what_next);
        ui_line(u, 0, 0, line);
    }
}

void ui_detected(struct ui *u, const struct ui_detect *d)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "detected");
        ui_add_str(o, "start", d->start);
        ui_add_str(o, "stage", d->stage);
        ui_add_str(o, "message", d->message);
        ui_add_str(o, "stateFile", d->state_file);
        if (d->rec_stage) {
            cJSON *r = cJSON_AddObjectToObject(o, "record");
            if (r) {
                ui_add_str(r, "stage", d->rec_stage);
                ui_add_str(r, "deviceid", d->rec_deviceid && *d->rec_deviceid ? d->rec_deviceid
                                                                           : NULL);
                ui_add_str(r, "servingIp", d->rec_serving_ip);
                if (d->rec_age_s >= 0)
                    cJSON_AddNumberToObject(r, "ageSeconds", (double)d->rec_age_s);
                else
                    cJSON_AddNullToObject(r, "ageSeconds");
            }
        } else if (o) {
            cJSON_AddNullToObject(o, "record");
        }
        ui_ev_emit(u, o);
    } else if (!u->quiet) {
        ui_line(u, 0, 1, d->message);
    }
}

void ui_firewall(struct ui *u, const char *tool, const struct fw_finding *f,
                 const char *ports)
{
    char text[UI_LINE_MAX];
    if (f->advice) /* Windows, macOS: what blocks and what to do, in words */
        snprintf(text, sizeof text, "%s may block the device's connections to TCP %s (%s: "
                 "%s). The device then never reaches this computer. %c%s.", tool, ports,
                 f->where, f->rule, f->fix[0] ? toupper((unsigned char)f->fix[0]) : '?',
                 f->fix[0] ? f->fix + 1 : "");
    else
        snprintf(text, sizeof text, "the firewall (%s, %s) may drop the device's connections "
                 "to TCP %s: %s \"%s\". The device then never reaches this computer. Allow "
                 "them, e.g.: %s", tool, f->where, ports, f->policy ? "chain policy" : "rule",
                 f->rule, f->fix);
    if (u->json) {
        cJSON *o = ui_ev_new(u, "warning");
        ui_add_str(o, "code", "firewall");
        ui_add_str(o, "message", text);
        ui_add_str(o, "tool", tool);
        ui_add_str(o, "chain", f->where);
        ui_add_str(o, "rule", f->rule);
        ui_add_str(o, "ports", ports);
        ui_add_str(o, "fix", f->fix);
        ui_add_bool(o, "advice", f->advice);
        ui_ev_emit(u, o);
        return;
    }
    char line[UI_LINE_MAX + 16];
    snprintf(line, sizeof line, "warning: %s", text);
    ui_line(u, 1, 0, line);
}

void ui_pinned(struct ui *u, const char *peer_ip, int handshakes, const char *how)
{
    if (u->json) {
        cJSON *o = ui_ev_new(u, "pinned");
        ui_add_str(o, "peer", peer_ip);
        ui_add_num(o, "handshakes", handshakes);
        ui_add_str(o, "how", how);
        ui_ev_emit(u, o);
    }
    /* Human output: the error that follows says it all. */
}
