#include "lib/tasmota_msg.h"

#include <cjson/cJSON.h>

#include <string.h>

/* Copies obj.key (a string) into dst; sets bit on success. */
static void take_str(const cJSON *obj, const char *key, char *dst, size_t cap, unsigned bit,
                     unsigned *have)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) >= cap)
        return;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    *have |= bit;
}

enum so_err tasmota_status_parse(const char *json, size_t n, struct tasmota_status *out)
{
    memset(out, 0, sizeof *out);
    if (n > TASMOTA_REPLY_MAX)
        return SO_E_TOOBIG;
    cJSON *root = cJSON_ParseWithLength(json, n);
    if (!root)
        return SO_E_JSON;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return SO_E_JSON;
    }
    /* Status 2 answers {"StatusFWR":{"Version":..}} (FWR: firmware release), in 5.x too. */
    const cJSON *fw = cJSON_GetObjectItemCaseSensitive(root, "StatusFWR");
    if (cJSON_IsObject(fw))
        take_str(fw, "Version", out->version, sizeof out->version, TASMOTA_ST_VERSION,
                 &out->have);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "Status");
    if (cJSON_IsObject(st))
        take_str(st, "Topic", out->topic, sizeof out->topic, TASMOTA_ST_TOPIC, &out->have);
    const cJSON *net = cJSON_GetObjectItemCaseSensitive(root, "StatusNET");
    if (cJSON_IsObject(net)) {
        take_str(net, "Hostname", out->hostname, sizeof out->hostname, TASMOTA_ST_HOSTNAME,
                 &out->have);
        take_str(net, "IPAddress", out->ip, sizeof out->ip, TASMOTA_ST_IP, &out->have);
    }
    const cJSON *mqt = cJSON_GetObjectItemCaseSensitive(root, "StatusMQT");
    if (cJSON_IsObject(mqt)) {
        take_str(mqt, "MqttHost", out->mqtt_host, sizeof out->mqtt_host,
                 TASMOTA_ST_MQTT_HOST, &out->have);
        take_str(mqt, "MqttUser", out->mqtt_user, sizeof out->mqtt_user,
                 TASMOTA_ST_MQTT_USER, &out->have);
    }
    const cJSON *prm = cJSON_GetObjectItemCaseSensitive(root, "StatusPRM");
    if (cJSON_IsObject(prm)) {
        const cJSON *bc = cJSON_GetObjectItemCaseSensitive(prm, "BootCount");
        if (cJSON_IsNumber(bc) && bc->valuedouble >= 0 && bc->valuedouble < 2e9) {
            out->boot_count = (long)bc->valuedouble;
            out->have |= TASMOTA_ST_BOOTCOUNT;
        }
    }
    take_str(root, "WARNING", out->warning, sizeof out->warning, TASMOTA_ST_WARNING,
             &out->have);
    cJSON_Delete(root);
    return SO_OK;
}

int tasmota_version_major(const char *v)
{
    if (!v || *v < '0' || *v > '9')
        return -1;
    int m = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        m = m * 10 + (*v - '0');
        if (m > 1000)
            return -1;
    }
    return m;
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

static struct so_str trim(struct so_str s)
{
    while (s.n && blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

enum so_err tasmota_cmnd_parse(struct so_str s, char *name, size_t ncap, struct so_str *arg)
{
    s = trim(s);
    size_t i = 0;
    while (i < s.n && ((s.p[i] >= 'A' && s.p[i] <= 'Z') || (s.p[i] >= 'a' && s.p[i] <= 'z') ||
                       (s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '_'))
        i++;
    if (ncap)
        name[0] = '\0';
    *arg = SO_STR_NULL;
    if (i == 0 || i >= ncap || i >= TASMOTA_NAME_MAX || (i < s.n && !blank(s.p[i])))
        return SO_E_SYNTAX;
    memcpy(name, s.p, i);
    name[i] = '\0';
    *arg = trim((struct so_str){s.p + i, s.n - i});
    if (!arg->n)
        arg->p = s.p + s.n;
    return SO_OK;
}

int tasmota_backlog_split(struct so_str list, int max,
                          void (*each)(struct so_str cmd, void *user), void *user)
{
    if (!list.p)
        return 0;
    for (int pass = 0; pass < 2; pass++) {
        int count = 0;
        size_t i = 0;
        while (i <= list.n) {
            size_t j = i;
            while (j < list.n && list.p[j] != ';')
                j++;
            struct so_str c = trim((struct so_str){list.p + i, j - i});
            if (c.n) {
                count++;
                if (pass == 1)
                    each(c, user);
            }
            i = j + 1;
        }
        if (pass == 0 && count > max)
            return -1;
        if (pass == 1 || !each)
            return count;
    }
    return 0;
}
