/* ewl_msg.c - eWeLink JSON parsers and text helpers (PROTOCOL.md §1.2-§1.5).
 * Builders live in ewl_msg_build.c. Parsers are strict on types like the stock
 * firmware (IG): a field of the wrong type is an error, unknown keys are ignored. */
#include "lib/ewl_msg.h"
#include "lib/ewl_msg_int.h"

#include <cJSON.h>
#include <limits.h>
#include <string.h>

/* ---- shared with ewl_msg_build.c ---- */

void ewl_wipe(void *p, size_t n)
{
    /* volatile so the compiler keeps the stores to a buffer about to be freed. */
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

void ewl_wipe_json_string(cJSON *obj, const char *key)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(it) && it->valuestring)
        ewl_wipe(it->valuestring, strlen(it->valuestring));
}

/* ---- parsing helpers ---- */

static int is_json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The whole input must be one JSON object (blanks around it allowed). */
static cJSON *parse_object(const char *json, size_t n, enum so_err *err)
{
    if (!json) {
        *err = SO_E_ARG;
        return NULL;
    }
    if (n > EWL_JSON_MAX) {
        *err = SO_E_TOOBIG;
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, n, &end, 0);
    if (!root) {
        *err = SO_E_JSON;
        return NULL;
    }
    for (const char *p = end; p && p < json + n; p++) {
        if (!is_json_blank(*p)) {
            cJSON_Delete(root);
            *err = SO_E_JSON;
            return NULL;
        }
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *err = SO_E_JSON;
        return NULL;
    }
    *err = SO_OK;
    return root;
}

/* Absent: SO_OK (or SO_E_MSG_FIELD when required), dst untouched.
 * Not a string: SO_E_MSG_FIELD. Does not fit cap with its NUL: SO_E_TOOBIG. */
static enum so_err get_str(const cJSON *o, const char *key, int required, char *dst,
                           size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it)
        return required ? SO_E_MSG_FIELD : SO_OK;
    if (!cJSON_IsString(it) || !it->valuestring)
        return SO_E_MSG_FIELD;
    size_t k = strlen(it->valuestring);
    if (k >= cap)
        return SO_E_TOOBIG;
    memcpy(dst, it->valuestring, k + 1);
    return SO_OK;
}

/* An integral JSON number within [min, max]. *has (may be NULL) tells presence. */
static enum so_err get_num(const cJSON *o, const char *key, int required, double min,
                           double max, double *dst, int *has)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (has)
        *has = 0;
    if (!it)
        return required ? SO_E_MSG_FIELD : SO_OK;
    if (!cJSON_IsNumber(it))
        return SO_E_MSG_FIELD;
    double d = it->valuedouble;
    /* The range test also refuses inf and NaN; the cast is then defined. */
    if (!(d >= min && d <= max) || (double)(long long)d != d)
        return SO_E_MSG_FIELD;
    *dst = d;
    if (has)
        *has = 1;
    return SO_OK;
}

static enum so_err get_int(const cJSON *o, const char *key, int required, int min, int max,
                           int *dst, int *has)
{
    double d = 0;
    int h = 0;
    enum so_err e = get_num(o, key, required, min, max, &d, &h);
    if (e == SO_OK && h)
        *dst = (int)d;
    if (has)
        *has = h;
    return e;
}

#define TRY(x)                                                                             \
    do {                                                                                   \
        err = (x);                                                                         \
        if (err != SO_OK)                                                                  \
            goto done;                                                                     \
    } while (0)

/* ---- AP mode (§1.2) ---- */

enum so_err ewl_parse_device_info(const char *json, size_t n, struct ewl_device_info *out)
{
    enum so_err err;
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(json, n, &err);
    if (!root)
        return err;
    TRY(get_str(root, "deviceid", 1, out->deviceid, sizeof out->deviceid));
    TRY(get_str(root, "apikey", 1, out->apikey, sizeof out->apikey));
done:
    cJSON_Delete(root);
    return err;
}

enum so_err ewl_parse_ap_config(const char *json, size_t n, struct ewl_ap_config *out)
{
    enum so_err err;
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(json, n, &err);
    if (!root)
        return err;
    TRY(get_int(root, "version", 1, INT_MIN, INT_MAX, &out->version, NULL));
    TRY(get_str(root, "ssid", 1, out->ssid, sizeof out->ssid));
    TRY(get_str(root, "password", 1, out->password, sizeof out->password));
    TRY(get_str(root, "serverName", 1, out->server, sizeof out->server));
    TRY(get_int(root, "port", 1, 1, 65535, &out->port, NULL));
done:
    /* The WiFi password must not linger in freed heap memory. */
    ewl_wipe_json_string(root, "password");
    cJSON_Delete(root);
    if (err != SO_OK)
        ewl_wipe(out->password, sizeof out->password);
    return err;
}

enum so_err ewl_parse_error_reply(const char *json, size_t n, int *error)
{
    enum so_err err;
    if (!error)
        return SO_E_ARG;
    *error = 0;
    cJSON *root = parse_object(json, n, &err);
    if (!root)
        return err;
    TRY(get_int(root, "error", 1, INT_MIN, INT_MAX, error, NULL));
done:
    cJSON_Delete(root);
    return err;
}

/* ---- dispatch (§1.3) ---- */

enum so_err ewl_parse_dispatch_req(const char *json, size_t n, struct ewl_dispatch_req *out)
{
    enum so_err err;
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(json, n, &err);
    if (!root)
        return err;
    double ts = 0;
    TRY(get_str(root, "deviceid", 1, out->deviceid, sizeof out->deviceid));
    TRY(get_str(root, "apikey", 1, out->apikey, sizeof out->apikey));
    TRY(get_str(root, "model", 0, out->model, sizeof out->model));
    TRY(get_str(root, "romVersion", 0, out->rom_version, sizeof out->rom_version));
    TRY(get_str(root, "accept", 0, out->accept, sizeof out->accept));
    TRY(get_int(root, "version", 0, INT_MIN, INT_MAX, &out->version, NULL));
    TRY(get_num(root, "ts", 0, 0, UINT32_MAX, &ts, NULL));
    out->ts = (uint32_t)ts;
done:
    cJSON_Delete(root);
    return err;
}

enum so_err ewl_parse_dispatch_reply(const char *json, size_t n, struct ewl_dispatch_reply *out)
{
    enum so_err err;
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(json, n, &err);
    if (!root)
        return err;
    /* IG: error must be a number; IP a string and port a number when error is 0. */
    TRY(get_int(root, "error", 1, INT_MIN, INT_MAX, &out->error, NULL));
    int ok = out->error == 0;
    TRY(get_str(root, "IP", ok, out->ip, sizeof out->ip));
    TRY(get_int(root, "port", ok, 1, 65535, &out->port, NULL));
done:
    cJSON_Delete(root);
    return err;
}

/* ---- WebSocket messages (§1.4, §1.5) ---- */

static const struct {
    const char *name;
    enum ewl_action act;
} actions[] = {
    {"register", EWL_ACT_REGISTER}, {"date", EWL_ACT_DATE},         {"update", EWL_ACT_UPDATE},
    {"query", EWL_ACT_QUERY},       {"upgrade", EWL_ACT_UPGRADE},   {"restart", EWL_ACT_RESTART},
    {"redirect", EWL_ACT_REDIRECT}, {"notify", EWL_ACT_NOTIFY},
};

/* Decimal text of an integral value, |v| <= 2^53 (exact in a double). */
static void format_i64(long long v, char *dst)
{
    char tmp[24];
    size_t k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *dst++ = '-';
    while (k)
        *dst++ = tmp[--k];
    *dst = '\0';
}

/* "sequence": a string (as sent by the app and the cloud), or an integer number. */
static enum so_err get_sequence(const cJSON *o, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "sequence");
    if (!it || cJSON_IsString(it))
        return get_str(o, "sequence", 0, dst, cap);
    double d = 0;
    /* 2^53: beyond that a double no longer holds every integer. */
    enum so_err e = get_num(o, "sequence", 1, -9007199254740992.0, 9007199254740992.0, &d,
                            NULL);
    if (e != SO_OK)
        return e;
    char tmp[24];
    format_i64((long long)d, tmp);
    if (strlen(tmp) >= cap)
        return SO_E_TOOBIG;
    memcpy(dst, tmp, strlen(tmp) + 1);
    return SO_OK;
}

static enum so_err get_bins(const cJSON *params, struct ewl_msg *out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(params, "binList");
    if (!list)
        return SO_OK;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > 2)
        return SO_E_MSG_FIELD;
    const cJSON *b;
    cJSON_ArrayForEach(b, list)
    {
        if (!cJSON_IsObject(b))
            return SO_E_MSG_FIELD;
        struct ewl_bin *bin = &out->bins[out->n_bins];
        enum so_err e = get_str(b, "downloadUrl", 1, bin->url, sizeof bin->url);
        if (e == SO_OK)
            e = get_str(b, "digest", 1, bin->digest, sizeof bin->digest);
        if (e == SO_OK)
            e = get_str(b, "name", 1, bin->name, sizeof bin->name);
        if (e != SO_OK)
            return e;
        out->n_bins++;
    }
    return SO_OK;
}

enum so_err ewl_parse_msg(const char *json, size_t n, struct ewl_msg *out)
{
    enum so_err err;
    if (!out)
        return SO_E_ARG;
    memset(out, 0, sizeof *out);
    cJSON *root = parse_object(json, n, &err);
    if (!root)
        return err;
    /* Identity and sequence first: after a later field error they are still set,
     * so a device can ack the command with the right sequence (IG acks 400). */
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "action");
    if (act) {
        TRY(get_str(root, "action", 1, out->action_name, sizeof out->action_name));
        out->action = EWL_ACT_UNKNOWN;
        for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
            if (strcmp(actions[i].name, out->action_name) == 0)
                out->action = actions[i].act;
    }
    TRY(get_str(root, "deviceid", 0, out->deviceid, sizeof out->deviceid));
    TRY(get_str(root, "apikey", 0, out->apikey, sizeof out->apikey));
    TRY(get_str(root, "userAgent", 0, out->user_agent, sizeof out->user_agent));
    TRY(get_sequence(root, out->sequence, sizeof out->sequence));
    TRY(get_int(root, "error", 0, INT_MIN, INT_MAX, &out->error, &out->has_error));
    TRY(get_str(root, "model", 0, out->model, sizeof out->model));
    TRY(get_str(root, "romVersion", 0, out->rom_version, sizeof out->rom_version));
    TRY(get_str(root, "date", 0, out->date, sizeof out->date));

    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (cfg) {
        if (!cJSON_IsObject(cfg))
            TRY(SO_E_MSG_FIELD);
        out->has_config = 1;
        TRY(get_int(cfg, "hb", 0, INT_MIN, INT_MAX, &out->hb, NULL));
        TRY(get_int(cfg, "hbInterval", 0, INT_MIN, INT_MAX, &out->hb_interval, NULL));
    }

    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    out->has_params = params != NULL;
    if (out->action == EWL_ACT_UPDATE && cJSON_IsObject(params)) {
        TRY(get_str(params, "fwVersion", 0, out->fw_version, sizeof out->fw_version));
        TRY(get_int(params, "upgradeState", 0, INT_MIN, INT_MAX, &out->upgrade_state,
                    &out->has_upgrade_state));
    }
    if (out->action == EWL_ACT_UPGRADE && params) {
        if (!cJSON_IsObject(params))
            TRY(SO_E_MSG_FIELD);
        TRY(get_bins(params, out));
        TRY(get_str(params, "model", 0, out->upgrade_model, sizeof out->upgrade_model));
        TRY(get_str(params, "version", 0, out->upgrade_version, sizeof out->upgrade_version));
        TRY(get_int(params, "autoRestart", 0, INT_MIN, INT_MAX, &out->auto_restart,
                    &out->has_auto_restart));
    }
done:
    cJSON_Delete(root);
    return err;
}

/* ---- helpers ---- */

static const char hexdig[] = "0123456789abcdef";

void ewl_format_uuid(const uint8_t rnd[16], char out[EWL_UUID_LEN + 1])
{
    uint8_t b[16];
    memcpy(b, rnd, 16);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 (RFC 4122 §4.4) */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10x */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hexdig[b[i] >> 4];
        out[o++] = hexdig[b[i] & 0xf];
    }
    out[o] = '\0';
}

static int is_hex(char c, int lower_only)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
        return 1;
    return !lower_only && c >= 'A' && c <= 'F';
}

int ewl_is_uuid(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < EWL_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!is_hex(s[i], 0)) {
            return 0; /* also stops at the NUL of a short string */
        }
    }
    return s[EWL_UUID_LEN] == '\0';
}

int ewl_is_digest(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < EWL_DIGEST_LEN; i++)
        if (!is_hex(s[i], 1))
            return 0;
    return s[EWL_DIGEST_LEN] == '\0';
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void ewl_format_date(int64_t unix_seconds, int millis, char out[25])
{
    /* Keep the year within 0000..9999 so the text stays 24 characters. */
    const int64_t min_s = -62167219200LL; /* 0000-01-01T00:00:00Z */
    const int64_t max_s = 253402300799LL; /* 9999-12-31T23:59:59Z */
    if (unix_seconds < min_s)
        unix_seconds = min_s;
    if (unix_seconds > max_s)
        unix_seconds = max_s;
    if (millis < 0)
        millis = 0;
    if (millis > 999)
        millis = 999;
    int64_t days = unix_seconds / 86400;
    int64_t sod = unix_seconds % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    /* civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));

    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, (int)(sod / 3600));
    out[13] = ':';
    put2(out + 14, (int)(sod / 60 % 60));
    out[16] = ':';
    put2(out + 17, (int)(sod % 60));
    out[19] = '.';
    out[20] = (char)('0' + millis / 100);
    put2(out + 21, millis % 100);
    out[23] = 'Z';
    out[24] = '\0';
}
