/* tasmota_cmd.c - the simulated Tasmota's commands (PROTOCOL.md §7, TD Commands): Backlog
 * (queued, one command every --tasmota-backlog-ms), Status 0/1/2/5/6, and the settings
 * SSID1, Password1, MqttHost, MqttPort, MqttUser, MqttPassword, Topic, Hostname. Names are
 * case-insensitive; without an argument a setting is only shown; "1" means the default
 * and "0" clears (SC_DEFAULT / SC_CLEAR); a changed setting restarts the device once the
 * Backlog is done (restart_flag 2). Answers are the JSON the firmware logs. */
#include "sim/tasmota_int.h"

#include "io/log.h"
#include "lib/tasmota_msg.h"
#include "sim/netio.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* HandleHttpCommand when the command logged no JSON (Backlog runs later) [?] */
#define NO_RESPONSE "{\"WARNING\":\"Enable weblog 2 if response expected\"}"
#define UNKNOWN "{\"Command\":\"Unknown\"}"

enum kind { K_TEXT, K_SECRET, K_TOPIC, K_HOST, K_PORT };

struct setting {
    const char *name;
    enum kind kind;
    size_t off;                 /* offsetof into struct sim_tasmota_state */
};

#define OFF(f) offsetof(struct sim_tasmota_state, f)
static const struct setting settings[] = {
    {"SSId1", K_TEXT, OFF(ssid1)},
    {"Password1", K_SECRET, OFF(pw1)},
    {"MqttHost", K_TEXT, OFF(mqtt_host)},
    {"MqttPort", K_PORT, OFF(mqtt_port)},
    {"MqttUser", K_TEXT, OFF(mqtt_user)},
    {"MqttPassword", K_SECRET, OFF(mqtt_pw)},
    {"Topic", K_TOPIC, OFF(topic)},
    {"Hostname", K_HOST, OFF(hostname)},
};

static char *dup_json(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *one(const char *name, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, name, value);
    return dup_json(o);
}

static void uptime(const struct tas_dev *d, char *out, size_t cap)
{
    long long s = (plat_mono_ms() - d->booted) / 1000;
    if (s < 0)
        s = 0;
    snprintf(out, cap, "%lldT%02lld:%02lld:%02lld", s / 86400, s / 3600 % 24, s / 60 % 60,
             s % 60);
}

/* {"StatusFWR":{..}} etc. for Status n (0 = all); malloc'd. */
static char *tas_status_json(struct tas_dev *d, int n)
{
    const struct sim_tasmota_state *st = d->st;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    if (n == 0 || n == -1) {
        cJSON *o = cJSON_AddObjectToObject(root, "Status");
        cJSON_AddNumberToObject(o, "Module", 1);
        cJSON_AddStringToObject(o, "DeviceName", "Tasmota");
        cJSON *fn = cJSON_AddArrayToObject(o, "FriendlyName");
        cJSON_AddItemToArray(fn, cJSON_CreateString("Tasmota"));
        cJSON_AddStringToObject(o, "Topic", st->topic);
        cJSON_AddStringToObject(o, "ButtonTopic", "0");
        cJSON_AddNumberToObject(o, "Power", 0);
        cJSON_AddNumberToObject(o, "PowerOnState", 3);
    }
    if (n == 0 || n == 1) {
        char up[32];
        uptime(d, up, sizeof up);
        cJSON *o = cJSON_AddObjectToObject(root, "StatusPRM");
        cJSON_AddNumberToObject(o, "Baudrate", 115200);
        cJSON_AddStringToObject(o, "GroupTopic", d->legacy ? "sonoffs" : "tasmotas");
        cJSON_AddStringToObject(o, "Uptime", up);
        cJSON_AddNumberToObject(o, "BootCount", (double)st->boot_count);
        cJSON_AddStringToObject(o, "RestartReason",
                                st->boot_count > 1 ? "Software/System restart" : "Power on");
    }
    if (n == 0 || n == 2) {
        char ver[48];
        snprintf(ver, sizeof ver, "%s(sim)", st->version);
        cJSON *o = cJSON_AddObjectToObject(root, "StatusFWR");
        cJSON_AddStringToObject(o, "Version", ver);
        cJSON_AddStringToObject(o, "BuildDateTime", "2021-01-01T00:00:00");
        cJSON_AddStringToObject(o, "Core", "2_7_4_9");
        cJSON_AddStringToObject(o, "SDK", "2.2.2-dev(38a443e)");
        cJSON_AddStringToObject(o, "Hardware", "ESP8266EX");
    }
    if (n == 0 || n == 5) {
        cJSON *o = cJSON_AddObjectToObject(root, "StatusNET");
        cJSON_AddStringToObject(o, "Hostname", st->hostname);
        cJSON_AddStringToObject(o, "IPAddress", d->lan ? d->lan_addr : "0.0.0.0");
        cJSON_AddStringToObject(o, "Mac", d->s->o->mac);
        cJSON_AddNumberToObject(o, "Webserver", 2);
        cJSON_AddNumberToObject(o, "WifiConfig", 4);
    }
    if (n == 0 || n == 6) {
        char client[24];
        snprintf(client, sizeof client, "DVES_%s", d->mac6);
        cJSON *o = cJSON_AddObjectToObject(root, "StatusMQT");
        cJSON_AddStringToObject(o, "MqttHost", st->mqtt_host);
        cJSON_AddNumberToObject(o, "MqttPort", st->mqtt_port);
        cJSON_AddStringToObject(o, "MqttClientMask", "DVES_%06X");
        cJSON_AddStringToObject(o, "MqttClient", client);
        cJSON_AddStringToObject(o, "MqttUser", st->mqtt_user);
        cJSON_AddNumberToObject(o, "MqttCount", 0);
    }
    return dup_json(root);
}

/* MakeValidMqtt for a topic: '+', '#', ' ' and '/' become '_'. */
static void valid_topic(char *s)
{
    for (; *s; s++)
        if (*s == '+' || *s == '#' || *s == ' ' || *s == '/')
            *s = '_';
}

static char *do_setting(struct tas_dev *d, const struct setting *k, struct so_str arg)
{
    struct sim_tasmota_state *st = d->st;
    char *field = (char *)st + k->off;
    char v[TASMOTA_CMND_MAX + 1];
    if (so_str_copy(arg, v, sizeof v) != 0)
        v[0] = '\0';
    if (!arg.n) { /* show */
        if (k->kind == K_SECRET)
            return one(k->name, "****");
        if (k->kind == K_PORT) {
            char p[8];
            snprintf(p, sizeof p, "%d", st->mqtt_port);
            return one(k->name, p);
        }
        return one(k->name, field);
    }
    int dflt = !strcmp(v, "1"), clear = !strcmp(v, "0");
    switch (k->kind) {
    case K_SECRET:
        /* CmndPassword: only "0" (clear) or more than 4 bytes change it */
        if (!clear && strlen(v) <= 4)
            return one(k->name, "****");
        tas_secret_set((struct sim_tas_secret *)field, clear ? "" : v);
        break;
    case K_PORT: {
        long p = dflt ? TASMOTA_MQTT_PORT : strtol(v, NULL, 10);
        if (p < 1 || p > 65535)
            return one(k->name, "Invalid");
        st->mqtt_port = (int)p;
        break;
    }
    case K_TOPIC:
        if (dflt || clear)
            tas_default_topic(d, field, SIM_TAS_TEXT);
        else
            snprintf(field, SIM_TAS_TEXT, "%s", v);
        valid_topic(field);
        break;
    case K_HOST:
        if (dflt || clear || strchr(v, '%'))
            tas_default_hostname(d, field, SIM_TAS_TEXT);
        else
            snprintf(field, SIM_TAS_TEXT, "%s", v);
        break;
    case K_TEXT:
        if (dflt && k->off == OFF(mqtt_user))
            snprintf(field, SIM_TAS_TEXT, "DVES_USER");
        else
            snprintf(field, SIM_TAS_TEXT, "%s", dflt || clear ? "" : v);
        break;
    }
    if (strlen(v) >= SIM_TAS_TEXT && !dflt && !clear)
        sim_note(d->s, "tasmota: %s was cut to %d bytes", k->name, SIM_TAS_TEXT - 1);
    d->restart_flag = 1;
    if (k->kind == K_SECRET)
        return one(k->name, "****");
    if (k->kind == K_PORT) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, k->name, st->mqtt_port);
        return dup_json(o);
    }
    return one(k->name, field);
}

static char *do_backlog(struct tas_dev *d, struct so_str list)
{
    if (!list.n) { /* CmndBacklog without data: clears the queue */
        if (d->q_len)
            sim_note(d->s, "tasmota: an empty Backlog cleared %d queued command(s)", d->q_len);
        d->q_len = 0;
        d->q_next = 0;
        tas_record_cmd(d, "Backlog (cleared)");
        return strdup(NO_RESPONSE);
    }
    int room = TASMOTA_BACKLOG_MAX - d->q_len;
    size_t i = 0;
    int added = 0, dropped = 0;
    while (i <= list.n && list.p) {
        size_t j = i;
        while (j < list.n && list.p[j] != ';')
            j++;
        struct so_str c = so_str_trim((struct so_str){list.p + i, j - i});
        if (c.n) {
            if (added < room) {
                int slot = (d->q_head + d->q_len) % TASMOTA_BACKLOG_MAX;
                so_str_copy(c, d->queue[slot], sizeof d->queue[slot]);
                d->q_len++;
                added++;
            } else {
                dropped++;
            }
        }
        i = j + 1;
    }
    if (dropped)
        sim_note(d->s, "tasmota: Backlog full (%d commands): %d dropped", TASMOTA_BACKLOG_MAX,
                 dropped);
    if (added && d->q_next == 0)
        d->q_next = plat_mono_ms(); /* the first one at once */
    char rec[96];
    snprintf(rec, sizeof rec, "Backlog (%d commands)", added);
    tas_record_cmd(d, rec);
    LOG_I("tasmota: Backlog of %d command(s) queued", added);
    return strdup(NO_RESPONSE);
}

char *tas_exec(struct tas_dev *d, struct so_str cmnd, int from_backlog)
{
    char name[TASMOTA_NAME_MAX];
    struct so_str arg;
    if (tasmota_cmnd_parse(cmnd, name, sizeof name, &arg) != SO_OK) {
        tas_record_cmd(d, "(unparsable command)");
        return strdup(UNKNOWN);
    }
    if (!strcasecmp(name, "Backlog"))
        return do_backlog(d, arg);
    char rec[96];
    const struct setting *k = NULL;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (!strcasecmp(name, settings[i].name))
            k = &settings[i];
    if (k && k->kind == K_SECRET && arg.n)
        snprintf(rec, sizeof rec, "%s " TASMOTA_MASK, k->name);
    else
        snprintf(rec, sizeof rec, "%s%s%.*s", k ? k->name : name, arg.n ? " " : "",
                 (int)(arg.n > 80 ? 80 : arg.n), arg.p);
    tas_record_cmd(d, rec);
    LOG_I("tasmota: %s%s", from_backlog ? "(backlog) " : "", rec);
    if (k)
        return do_setting(d, k, arg);
    if (!strcasecmp(name, "Status")) {
        if (!arg.n)
            return tas_status_json(d, -1);
        if (so_str_eq(arg, "0") || so_str_eq(arg, "1") || so_str_eq(arg, "2") ||
            so_str_eq(arg, "5") || so_str_eq(arg, "6"))
            return tas_status_json(d, arg.p[0] - '0');
    }
    return strdup(UNKNOWN);
}
