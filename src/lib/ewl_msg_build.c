/* ewl_msg_build.c - eWeLink JSON builders, key order and types as in the captures
 * of PROTOCOL.md §1.2-§1.5 (VP, S). Every builder returns a malloc'd string the
 * caller free()s, or NULL when out of memory or given a NULL string argument. */
#include "lib/ewl_msg.h"
#include "lib/ewl_msg_int.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Each add_* does nothing once *ok is 0, so a builder checks once at the end. */
static void add_str(cJSON *o, const char *key, const char *v, int *ok)
{
    if (*ok && (!o || !v || !cJSON_AddStringToObject(o, key, v)))
        *ok = 0;
}

static void add_num(cJSON *o, const char *key, double v, int *ok)
{
    if (*ok && (!o || !cJSON_AddNumberToObject(o, key, v)))
        *ok = 0;
}

static cJSON *add_obj(cJSON *o, const char *key, int *ok)
{
    cJSON *c = *ok && o ? cJSON_AddObjectToObject(o, key) : NULL;
    if (!c)
        *ok = 0;
    return c;
}

static char *finish(cJSON *root, int ok)
{
    char *s = (ok && root) ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

/* ---- AP mode (§1.2) ---- */

char *ewl_build_device_info(const struct ewl_device_info *in)
{
    if (!in)
        return NULL;
    int ok = 1;
    cJSON *r = cJSON_CreateObject();
    add_str(r, "deviceid", in->deviceid, &ok);
    add_str(r, "apikey", in->apikey, &ok);
    add_str(r, "accept", "post", &ok);
    return finish(r, ok);
}

char *ewl_build_ap_config(const struct ewl_ap_config *in)
{
    if (!in)
        return NULL;
    int ok = 1;
    cJSON *r = cJSON_CreateObject();
    add_num(r, "version", in->version, &ok);
    add_str(r, "ssid", in->ssid, &ok);
    add_str(r, "password", in->password, &ok);
    add_str(r, "serverName", in->server, &ok);
    add_num(r, "port", in->port, &ok);
    /* Printed into one buffer of ours (cJSON_PrintUnformatted would realloc and
     * leave copies of the password in freed memory). Worst case every character
     * is escaped as \uXXXX: 6 * (32 + 64 + 63) + keys and numbers < 2 KiB. */
    const int cap = 2 * EWL_JSON_MAX;
    char *s = ok ? malloc((size_t)cap) : NULL;
    if (s && !cJSON_PrintPreallocated(r, s, cap, 0)) {
        ewl_wipe(s, (size_t)cap);
        free(s);
        s = NULL;
    }
    ewl_wipe_json_string(r, "password");
    cJSON_Delete(r);
    return s;
}

char *ewl_build_error_reply(int error)
{
    int ok = 1;
    cJSON *r = cJSON_CreateObject();
    add_num(r, "error", error, &ok);
    return finish(r, ok);
}

/* ---- dispatch (§1.3) ---- */

char *ewl_build_dispatch_req(const struct ewl_dispatch_req *in)
{
    if (!in)
        return NULL;
    int ok = 1;
    cJSON *r = cJSON_CreateObject();
    add_str(r, "accept", in->accept, &ok);
    add_num(r, "version", in->version, &ok);
    add_num(r, "ts", in->ts, &ok);
    add_str(r, "deviceid", in->deviceid, &ok);
    add_str(r, "apikey", in->apikey, &ok);
    add_str(r, "model", in->model, &ok);
    add_str(r, "romVersion", in->rom_version, &ok);
    return finish(r, ok);
}

char *ewl_build_dispatch_reply(const struct ewl_dispatch_reply *in)
{
    if (!in)
        return NULL;
    int ok = 1;
    cJSON *r = cJSON_CreateObject();
    add_num(r, "error", in->error, &ok);
    add_str(r, "reason", in->error == 0 ? "ok" : "error", &ok);
    add_str(r, "IP", in->ip, &ok);
    add_num(r, "port", in->port, &ok);
    return finish(r, ok);
}

/* ---- device → server (§1.4) ---- */

/* {"userAgent":"device","apikey":..,"deviceid":..,"action":..} */
static cJSON *dev_head(const char *action, const char *deviceid, const char *apikey, int *ok)
{
    cJSON *r = cJSON_CreateObject();
    add_str(r, "userAgent", "device", ok);
    add_str(r, "apikey", apikey, ok);
    add_str(r, "deviceid", deviceid, ok);
    add_str(r, "action", action, ok);
    return r;
}

char *ewl_build_register(const char *deviceid, const char *factory_apikey, const char *model,
                         const char *rom_version, uint32_t ts)
{
    int ok = 1;
    cJSON *r = dev_head("register", deviceid, factory_apikey, &ok);
    add_num(r, "version", 2, &ok);
    add_str(r, "romVersion", rom_version, &ok);
    add_str(r, "model", model, &ok);
    add_num(r, "ts", ts, &ok);
    return finish(r, ok);
}

char *ewl_build_dev_simple(const char *action, const char *deviceid, const char *apikey)
{
    int ok = 1;
    cJSON *r = dev_head(action, deviceid, apikey, &ok);
    if (ok && strcmp(action, "query") == 0) {
        const char *timers[] = {"timers"};
        cJSON *p = cJSON_CreateStringArray(timers, 1);
        if (!p || !cJSON_AddItemToObject(r, "params", p)) {
            cJSON_Delete(p);
            ok = 0;
        }
    }
    return finish(r, ok);
}

char *ewl_build_dev_update(const char *deviceid, const char *apikey, const char *fw_version,
                           const char *mac, int rssi, int switch_on)
{
    int ok = 1;
    cJSON *r = dev_head("update", deviceid, apikey, &ok);
    cJSON *p = add_obj(r, "params", &ok);
    add_str(p, "switch", switch_on ? "on" : "off", &ok);
    add_str(p, "fwVersion", fw_version, &ok);
    add_num(p, "rssi", rssi, &ok);
    add_str(p, "staMac", mac, &ok);
    add_str(p, "startup", "off", &ok);
    return finish(r, ok);
}

char *ewl_build_dev_upgrade_state(const char *deviceid, const char *apikey, int state)
{
    int ok = 1;
    cJSON *r = dev_head("update", deviceid, apikey, &ok);
    cJSON *p = add_obj(r, "params", &ok);
    add_num(p, "upgradeState", state, &ok);
    return finish(r, ok);
}

char *ewl_build_ack(const char *deviceid, const char *apikey, const char *sequence, int error)
{
    int ok = 1;
    cJSON *r = cJSON_CreateObject();
    add_num(r, "error", error, &ok);
    add_str(r, "userAgent", "device", &ok);
    add_str(r, "apikey", apikey, &ok);
    add_str(r, "deviceid", deviceid, &ok);
    add_str(r, "sequence", sequence, &ok);
    return finish(r, ok);
}

/* ---- server → device (§1.4, §1.5) ---- */

/* {"error":0,"deviceid":..,"apikey":..} */
static cJSON *reply_head(const char *deviceid, const char *apikey, int *ok)
{
    cJSON *r = cJSON_CreateObject();
    add_num(r, "error", 0, ok);
    add_str(r, "deviceid", deviceid, ok);
    add_str(r, "apikey", apikey, ok);
    return r;
}

char *ewl_build_register_reply(const char *deviceid, const char *new_apikey, int hb_interval)
{
    int ok = 1;
    cJSON *r = reply_head(deviceid, new_apikey, &ok);
    if (hb_interval > 0) {
        cJSON *c = add_obj(r, "config", &ok);
        add_num(c, "hb", 1, &ok);
        add_num(c, "hbInterval", hb_interval, &ok);
    }
    return finish(r, ok);
}

char *ewl_build_date_reply(const char *deviceid, const char *apikey, const char *date_iso)
{
    int ok = 1;
    cJSON *r = reply_head(deviceid, apikey, &ok);
    add_str(r, "date", date_iso, &ok);
    return finish(r, ok);
}

char *ewl_build_update_reply(const char *deviceid, const char *apikey)
{
    int ok = 1;
    cJSON *r = reply_head(deviceid, apikey, &ok); /* before reading ok: */
    return finish(r, ok);                          /* argument order is unspecified */
}

char *ewl_build_query_reply(const char *deviceid, const char *apikey)
{
    int ok = 1;
    cJSON *r = reply_head(deviceid, apikey, &ok);
    add_num(r, "params", 0, &ok); /* the number 0, as the cloud sends (§1.4 rule c) */
    return finish(r, ok);
}

/* {"action":..,"deviceid":..,"apikey":..,"userAgent":"app","sequence":..,"ts":0} */
static cJSON *app_head(const char *action, const char *deviceid, const char *apikey,
                       const char *sequence, int *ok)
{
    cJSON *r = cJSON_CreateObject();
    add_str(r, "action", action, ok);
    add_str(r, "deviceid", deviceid, ok);
    add_str(r, "apikey", apikey, ok);
    add_str(r, "userAgent", "app", ok);
    add_str(r, "sequence", sequence, ok);
    add_num(r, "ts", 0, ok);
    return r;
}

char *ewl_build_upgrade(const struct ewl_upgrade *in)
{
    if (!in || in->n_bins < 0 || in->n_bins > 2)
        return NULL;
    int ok = 1;
    cJSON *r = app_head("upgrade", in->deviceid, in->apikey, in->sequence, &ok);
    cJSON *p = add_obj(r, "params", &ok);
    cJSON *list = ok ? cJSON_AddArrayToObject(p, "binList") : NULL;
    if (!list)
        ok = 0;
    for (int i = 0; ok && i < in->n_bins; i++) {
        cJSON *b = cJSON_CreateObject();
        if (!b || !cJSON_AddItemToArray(list, b)) {
            cJSON_Delete(b);
            ok = 0;
            break;
        }
        add_str(b, "downloadUrl", in->bins[i].url, &ok);
        add_str(b, "digest", in->bins[i].digest, &ok);
        add_str(b, "name", in->bins[i].name, &ok);
    }
    add_str(p, "model", in->model, &ok);
    add_str(p, "version", in->version, &ok);
    add_num(p, "autoRestart", in->auto_restart, &ok);
    return finish(r, ok);
}

char *ewl_build_switch(const char *deviceid, const char *apikey, const char *sequence, int on)
{
    int ok = 1;
    cJSON *r = app_head("update", deviceid, apikey, sequence, &ok);
    cJSON *p = add_obj(r, "params", &ok);
    add_str(p, "switch", on ? "on" : "off", &ok);
    add_str(r, "from", "app", &ok);
    return finish(r, ok);
}
