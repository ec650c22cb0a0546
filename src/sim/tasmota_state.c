/* tasmota_state.c - the simulated Tasmota's settings: defaults named after the MAC (§7:
 * tasmota_XXXXXX-####, sonoff-#### for 5.x), the settings sector in the emulated flash,
 * and the "tasmota" object of the report. Passwords are never stored or reported: only
 * whether they are set, their length and their SHA-256. */
#include "sim/tasmota_int.h"

#include "io/crypto.h"
#include "io/log.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS_MAGIC "TSIM"
#define SETTINGS_MAX (SPIFLASH_SECTOR - 8)

void tas_secret_set(struct sim_tas_secret *sec, const char *pw)
{
    memset(sec, 0, sizeof *sec);
    if (!pw || !*pw)
        return;
    sec->set = 1;
    sec->len = (int)strlen(pw);
    so_sha256_hex(pw, strlen(pw), sec->sha256);
}

void tas_default_topic(const struct tas_dev *d, char *out, size_t cap)
{
    /* MQTT_TOPIC: "sonoff" in 5.x, "tasmota_%06X" later */
    if (d->legacy)
        snprintf(out, cap, "sonoff");
    else
        snprintf(out, cap, "tasmota_%s", d->mac6);
}

void tas_default_hostname(const struct tas_dev *d, char *out, size_t cap)
{
    /* WIFI_HOSTNAME "%s-%04d" with the topic ('_' becomes '-') */
    char topic[SIM_TAS_TEXT];
    tas_default_topic(d, topic, sizeof topic);
    for (char *p = topic; *p; p++)
        if (*p == '_')
            *p = '-';
    snprintf(out, cap, "%.*s-%04u", SIM_TAS_TEXT - 6, topic, d->chip4 & 0x1FFFu);
}

void tas_defaults(struct tas_dev *d)
{
    struct sim_tasmota_state *st = d->st;
    st->ssid1[0] = '\0';
    memset(&st->pw1, 0, sizeof st->pw1);
    tas_default_hostname(d, st->hostname, sizeof st->hostname);
    st->mqtt_host[0] = '\0';
    st->mqtt_port = TASMOTA_MQTT_PORT;
    snprintf(st->mqtt_user, sizeof st->mqtt_user, "DVES_USER"); /* MQTT_USER */
    tas_secret_set(&st->mqtt_pw, "DVES_PASS"); /* MQTT_PASS */
    tas_default_topic(d, st->topic, sizeof st->topic);
    st->boot_count = 0;
}

static cJSON *secret_json(const struct sim_tas_secret *sec, int full)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "set", sec->set);
    if (sec->set) {
        cJSON_AddNumberToObject(o, "length", sec->len);
        if (full) {
            cJSON_AddStringToObject(o, "sha256", sec->sha256);
        } else {
            char pre[9];
            snprintf(pre, sizeof pre, "%.8s", sec->sha256);
            cJSON_AddStringToObject(o, "sha256_prefix", pre);
        }
    }
    return o;
}

static void secret_from(const cJSON *o, struct sim_tas_secret *sec)
{
    memset(sec, 0, sizeof *sec);
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, "set");
    const cJSON *len = cJSON_GetObjectItemCaseSensitive(o, "length");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(o, "sha256");
    if (!cJSON_IsTrue(set) || !cJSON_IsNumber(len) || !cJSON_IsString(sha) ||
        strlen(sha->valuestring) != 64)
        return;
    sec->set = 1;
    sec->len = len->valueint;
    memcpy(sec->sha256, sha->valuestring, 65);
}

static void str_from(const cJSON *root, const char *key, char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsString(v) && strlen(v->valuestring) < cap)
        memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
}

int tas_load(struct tas_dev *d)
{
    const uint8_t *p = spiflash_view(&d->s->flash, SIM_TAS_SETTINGS);
    if (memcmp(p, SETTINGS_MAGIC, 4) != 0)
        return 0;
    size_t n = (size_t)p[4] | (size_t)p[5] << 8;
    if (n == 0 || n > SETTINGS_MAX)
        return 0;
    cJSON *root = cJSON_ParseWithLength((const char *)p + 8, n);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        LOG_W("tasmota: the settings sector is corrupt: defaults");
        return 0;
    }
    struct sim_tasmota_state *st = d->st;
    str_from(root, "ssid1", st->ssid1, sizeof st->ssid1);
    secret_from(cJSON_GetObjectItemCaseSensitive(root, "password1"), &st->pw1);
    str_from(root, "hostname", st->hostname, sizeof st->hostname);
    str_from(root, "mqtt_host", st->mqtt_host, sizeof st->mqtt_host);
    str_from(root, "mqtt_user", st->mqtt_user, sizeof st->mqtt_user);
    secret_from(cJSON_GetObjectItemCaseSensitive(root, "mqtt_password"), &st->mqtt_pw);
    str_from(root, "topic", st->topic, sizeof st->topic);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "mqtt_port");
    if (cJSON_IsNumber(v) && v->valueint > 0 && v->valueint < 65536)
        st->mqtt_port = v->valueint;
    v = cJSON_GetObjectItemCaseSensitive(root, "boot_count");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0)
        st->boot_count = (long)v->valuedouble;
    cJSON_Delete(root);
    return 1;
}

int tas_save(struct tas_dev *d)
{
    const struct sim_tasmota_state *st = d->st;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return -1;
    cJSON_AddStringToObject(root, "ssid1", st->ssid1);
    cJSON_AddItemToObject(root, "password1", secret_json(&st->pw1, 1));
    cJSON_AddStringToObject(root, "hostname", st->hostname);
    cJSON_AddStringToObject(root, "mqtt_host", st->mqtt_host);
    cJSON_AddNumberToObject(root, "mqtt_port", st->mqtt_port);
    cJSON_AddStringToObject(root, "mqtt_user", st->mqtt_user);
    cJSON_AddItemToObject(root, "mqtt_password", secret_json(&st->mqtt_pw, 1));
    cJSON_AddStringToObject(root, "topic", st->topic);
    cJSON_AddNumberToObject(root, "boot_count", (double)st->boot_count);
    char *txt = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!txt)
        return -1;
    size_t n = strlen(txt);
    int rc = -1;
    uint8_t *buf = malloc(8 + n);
    if (buf && n <= SETTINGS_MAX) {
        memcpy(buf, SETTINGS_MAGIC, 4);
        buf[4] = (uint8_t)n;
        buf[5] = (uint8_t)(n >> 8);
        buf[6] = buf[7] = 0;
        memcpy(buf + 8, txt, n);
        if (spiflash_erase_sector(&d->s->flash, SIM_TAS_SETTINGS / SPIFLASH_SECTOR) == SO_OK &&
            spiflash_write(&d->s->flash, SIM_TAS_SETTINGS, buf, 8 + n) == SO_OK)
            rc = 0;
    }
    free(buf);
    free(txt);
    return rc;
}

void tas_record_cmd(struct tas_dev *d, const char *text)
{
    struct sim_tasmota_state *st = d->st;
    if (st->n_commands < SIM_TAS_CMDS)
        snprintf(st->commands[st->n_commands++], sizeof st->commands[0], "%s", text);
}

void sim_tasmota_report(const struct sim_tasmota_state *st, void *json_root)
{
    if (!st->ran || !json_root)
        return;
    cJSON *o = cJSON_AddObjectToObject(json_root, "tasmota");
    if (!o)
        return;
    cJSON_AddStringToObject(o, "version", st->version);
    cJSON_AddStringToObject(o, "ap_ssid", st->ap_ssid);
    cJSON_AddBoolToObject(o, "joined_lan", st->joined_lan);
    if (st->lan[0])
        cJSON_AddStringToObject(o, "lan", st->lan);
    cJSON_AddStringToObject(o, "ssid", st->ssid1);
    cJSON_AddItemToObject(o, "wifi_password", secret_json(&st->pw1, 0));
    cJSON_AddStringToObject(o, "hostname", st->hostname);
    cJSON_AddStringToObject(o, "mqtt_host", st->mqtt_host);
    cJSON_AddNumberToObject(o, "mqtt_port", st->mqtt_port);
    cJSON_AddStringToObject(o, "mqtt_user", st->mqtt_user);
    cJSON_AddItemToObject(o, "mqtt_password", secret_json(&st->mqtt_pw, 0));
    cJSON_AddStringToObject(o, "topic", st->topic);
    cJSON_AddNumberToObject(o, "boot_count", (double)st->boot_count);
    cJSON_AddNumberToObject(o, "restarts", st->restarts);
    cJSON_AddNumberToObject(o, "wifi_failures", st->wifi_failures);
    cJSON_AddNumberToObject(o, "ap_requests", st->ap_requests);
    cJSON_AddNumberToObject(o, "lan_requests", st->lan_requests);
    cJSON_AddNumberToObject(o, "bad_requests", st->bad_requests);
    cJSON *cmds = cJSON_AddArrayToObject(o, "commands");
    for (int i = 0; i < st->n_commands; i++)
        cJSON_AddItemToArray(cmds, cJSON_CreateString(st->commands[i]));
    cJSON *reqs = cJSON_AddArrayToObject(o, "requests");
    for (int i = 0; i < st->n_req; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "method", st->req[i].method);
        cJSON_AddStringToObject(r, "path", st->req[i].path);
        cJSON_AddNumberToObject(r, "status", st->req[i].status);
        cJSON_AddStringToObject(r, "on", st->req[i].lan ? "lan" : "ap");
        cJSON_AddItemToArray(reqs, r);
    }
}
