/* diy_msg_build.c - DIY REST request and reply builders (PROTOCOL.md §6). */
#include "lib/diy_msg.h"

#include <cJSON.h>
#include <string.h>

static char *print_and_free(cJSON *root)
{
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

/* Adds key:string; 0, or -1 on OOM. */
static int add_str(cJSON *o, const char *key, const char *v)
{
    return cJSON_AddStringToObject(o, key, v) ? 0 : -1;
}

static int add_num(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) ? 0 : -1;
}

static int request_data(const struct diy_request *r, cJSON *d)
{
    switch (r->cmd) {
    case DIY_CMD_SWITCH: return add_str(d, "switch", r->sw);
    case DIY_CMD_STARTUP: return add_str(d, "startup", r->startup);
    case DIY_CMD_PULSE:
        if (add_str(d, "pulse", r->pulse))
            return -1;
        return r->has_pulse_width ? add_num(d, "pulseWidth", (double)r->pulse_width) : 0;
    case DIY_CMD_WIFI:
        if (add_str(d, "ssid", r->ssid))
            return -1;
        return add_str(d, "password", r->password);
    case DIY_CMD_FLASH:
        if (add_str(d, "downloadUrl", r->download_url))
            return -1;
        return add_str(d, "sha256sum", r->sha256);
    case DIY_CMD_INFO:
    case DIY_CMD_SIGNAL:
    case DIY_CMD_UNLOCK:
        return 0;
    case DIY_CMD__COUNT:
        break;
    }
    return -1;
}

/* Overwrites the password inside a cJSON tree before it is freed. */
static void wipe_tree_password(cJSON *root)
{
    cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
    cJSON *pw = d ? cJSON_GetObjectItemCaseSensitive(d, "password") : NULL;
    if (cJSON_IsString(pw) && pw->valuestring) {
        volatile char *p = pw->valuestring;
        while (*p)
            *p++ = 0;
    }
}

char *diy_build_request(const struct diy_request *r)
{
    if (!r || (unsigned)r->cmd >= DIY_CMD__COUNT)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    int bad = add_str(root, "deviceid", r->has_deviceid ? r->deviceid : "");
    if (!bad && r->sequence[0])
        bad = add_str(root, "sequence", r->sequence);
    if (!bad && r->encrypt >= 0)
        bad = !cJSON_AddBoolToObject(root, "encrypt", r->encrypt);
    cJSON *d = bad ? NULL : cJSON_AddObjectToObject(root, "data");
    if (!d || request_data(r, d)) {
        wipe_tree_password(root);
        cJSON_Delete(root);
        return NULL;
    }
    char *s = cJSON_PrintUnformatted(root);
    wipe_tree_password(root);
    cJSON_Delete(root);
    return s;
}

static cJSON *state_object(const struct diy_state *st, unsigned f)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int bad = 0;
    if ((f & DIY_F_SWITCH) && st->sw[0])
        bad |= add_str(o, "switch", st->sw);
    if ((f & DIY_F_STARTUP) && st->startup[0])
        bad |= add_str(o, "startup", st->startup);
    if ((f & DIY_F_PULSE) && st->pulse[0])
        bad |= add_str(o, "pulse", st->pulse);
    if ((f & DIY_F_PULSE_WIDTH) && st->has_pulse_width)
        bad |= add_num(o, "pulseWidth", (double)st->pulse_width);
    if ((f & DIY_F_SSID) && st->ssid[0])
        bad |= add_str(o, "ssid", st->ssid);
    if ((f & DIY_F_OTA_UNLOCK) && st->ota_unlock >= 0)
        bad |= !cJSON_AddBoolToObject(o, "otaUnlock", st->ota_unlock);
    if ((f & DIY_F_FW_VERSION) && st->fw_version[0])
        bad |= add_str(o, "fwVersion", st->fw_version);
    if ((f & DIY_F_DEVICEID) && st->deviceid[0])
        bad |= add_str(o, "deviceid", st->deviceid);
    if ((f & DIY_F_BSSID) && st->bssid[0])
        bad |= add_str(o, "bssid", st->bssid);
    if ((f & DIY_F_SIGNAL) && st->has_signal)
        bad |= add_num(o, "signalStrength", st->signal);
    if ((f & DIY_F_RSSI) && st->has_rssi)
        bad |= add_num(o, "rssi", st->rssi);
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *diy_build_state(const struct diy_state *st, unsigned fields)
{
    if (!st)
        return NULL;
    return print_and_free(state_object(st, fields));
}

char *diy_build_reply(long seq, int error, const struct diy_state *st, unsigned fields,
                      enum diy_data_form form)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    if (add_num(root, "seq", (double)seq) || add_num(root, "error", error)) {
        cJSON_Delete(root);
        return NULL;
    }
    if (st && form != DIY_DATA_NONE) {
        cJSON *o = state_object(st, fields);
        if (!o) {
            cJSON_Delete(root);
            return NULL;
        }
        if (form == DIY_DATA_STRING) {
            /* fw 3.3: the data object travels as a JSON string (ID#10). */
            char *inner = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            int bad = !inner || add_str(root, "data", inner);
            cJSON_free(inner);
            if (bad) {
                cJSON_Delete(root);
                return NULL;
            }
        } else if (!cJSON_AddItemToObject(root, "data", o)) {
            cJSON_Delete(o);
            cJSON_Delete(root);
            return NULL;
        }
    }
    return print_and_free(root);
}
