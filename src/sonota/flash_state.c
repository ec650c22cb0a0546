#include "sonota/flash_state.h"

#include "io/file.h"
#include "plat/fs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The stages a record holds (the others are never saved). */
static const enum flash_stage record_stages[] = {STAGE_NONE, STAGE_PROVISIONED, STAGE_CLOUD,
                                                 STAGE_FINAL};

char *flash_record_encode(const struct flash_record *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    /* Every Add* tolerates a NULL parent left by an earlier failure; Print then fails. */
    cJSON_AddNumberToObject(o, "version", FLASH_STATE_VERSION);
    cJSON_AddStringToObject(o, "stage", stage_name(r->stage));
    cJSON_AddStringToObject(o, "deviceid", r->deviceid);
    cJSON_AddStringToObject(o, "servingIp", r->serving_ip);
    cJSON_AddNumberToObject(o, "httpsPort", r->https_port);
    cJSON_AddStringToObject(o, "ssid", r->ssid);
    cJSON_AddNumberToObject(o, "updated", (double)r->updated);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

static int copy_str(const cJSON *o, const char *key, char *out, size_t cap, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || !v->valuestring)
        return required ? -1 : 0;
    if (strlen(v->valuestring) >= cap)
        return -1;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

int flash_record_decode(const char *text, size_t len, struct flash_record *out)
{
    memset(out, 0, sizeof *out);
    if (!text || len == 0 || len > FLASH_STATE_MAX)
        return -1;
    cJSON *o = cJSON_ParseWithLength(text, len);
    int rc = -1;
    if (!cJSON_IsObject(o))
        goto done;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "version");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != FLASH_STATE_VERSION)
        goto done;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stage");
    if (!cJSON_IsString(st) || !st->valuestring)
        goto done;
    int found = 0;
    for (size_t i = 0; i < sizeof record_stages / sizeof record_stages[0]; i++)
        if (!strcmp(st->valuestring, stage_name(record_stages[i]))) {
            out->stage = record_stages[i];
            found = 1;
        }
    if (!found)
        goto done;
    uint32_t ip;
    if (copy_str(o, "deviceid", out->deviceid, sizeof out->deviceid, 0) ||
        copy_str(o, "servingIp", out->serving_ip, sizeof out->serving_ip, 1) ||
        netif_parse_ipv4(out->serving_ip, &ip) != 0 ||
        copy_str(o, "ssid", out->ssid, sizeof out->ssid, 0))
        goto done;
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "httpsPort");
    if (!cJSON_IsNumber(port) || port->valuedouble < 1 || port->valuedouble > 65535)
        goto done;
    out->https_port = (int)port->valuedouble;
    const cJSON *upd = cJSON_GetObjectItemCaseSensitive(o, "updated");
    if (cJSON_IsNumber(upd) && upd->valuedouble > 0 && upd->valuedouble < 1e13)
        out->updated = (int64_t)upd->valuedouble;
    rc = 0;
done:
    cJSON_Delete(o);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int flash_state_path_in(const char *dir, char *out, size_t cap)
{
    if (!dir || !dir[0])
        return -1;
    /* "/" also separates on Windows, so one spelling serves every OS */
    int n = snprintf(out, cap, "%s/" FLASH_STATE_NAME, dir);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int flash_record_load(const char *path, struct flash_record *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    unsigned char *data = NULL;
    size_t len = 0;
    enum so_err e = so_read_file(path, FLASH_STATE_MAX, &data, &len);
    if (e == SO_E_IO && errno == ENOENT)
        return 0;
    if (e != SO_OK) {
        snprintf(err, errcap, "cannot read %s: %s", path,
                 e == SO_E_IO ? strerror(errno) : so_strerror(e));
        return -1;
    }
    int rc = flash_record_decode((const char *)data, len, out);
    free(data);
    if (rc != 0) {
        snprintf(err, errcap, "%s is not a sonota state file (ignored)", path);
        return -1;
    }
    return 1;
}

int flash_record_save(const char *path, struct flash_record *r, char *err, size_t errcap)
{
    r->updated = (int64_t)time(NULL);
    char *text = flash_record_encode(r);
    if (!text) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int rc = 0;
    if (plat_mkdir_parents(path) != 0 || so_write_file(path, text, strlen(text), 0600) != SO_OK) {
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(text);
    return rc;
}

int flash_record_remove(const char *path)
{
    errno = 0;
    if (remove(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}
