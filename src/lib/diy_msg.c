/* diy_msg.c - DIY REST parsers, error sentences and version rules (PROTOCOL.md §6).
 * Builders live in diy_msg_build.c. */
#include "lib/diy_msg.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

static const struct {
    const char *path;
    const char *name;
} cmds[DIY_CMD__COUNT] = {
    [DIY_CMD_INFO] = {"/zeroconf/info", "info"},
    [DIY_CMD_SWITCH] = {"/zeroconf/switch", "switch"},
    [DIY_CMD_STARTUP] = {"/zeroconf/startup", "startup"},
    [DIY_CMD_SIGNAL] = {"/zeroconf/signal_strength", "signal_strength"},
    [DIY_CMD_PULSE] = {"/zeroconf/pulse", "pulse"},
    [DIY_CMD_WIFI] = {"/zeroconf/wifi", "wifi"},
    [DIY_CMD_UNLOCK] = {"/zeroconf/ota_unlock", "ota_unlock"},
    [DIY_CMD_FLASH] = {"/zeroconf/ota_flash", "ota_flash"},
};

const char *diy_cmd_path(enum diy_cmd c)
{
    return (unsigned)c < DIY_CMD__COUNT ? cmds[c].path : NULL;
}

const char *diy_cmd_name(enum diy_cmd c)
{
    return (unsigned)c < DIY_CMD__COUNT ? cmds[c].name : "?";
}

int diy_cmd_from_path(const char *path, size_t n, enum diy_cmd *out)
{
    if (!path)
        return -1;
    for (int i = 0; i < DIY_CMD__COUNT; i++) {
        size_t k = strlen(cmds[i].path);
        if (k == n && !memcmp(path, cmds[i].path, n)) {
            *out = (enum diy_cmd)i;
            return 0;
        }
    }
    return -1;
}

/* ---- JSON helpers ---- */

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Exactly one JSON object, blanks around it allowed. */
static cJSON *parse_object(const char *json, size_t n, enum so_err *err)
{
    *err = SO_E_JSON;
    if (!json || n > DIY_BODY_MAX)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, n, &end, 0);
    if (!root)
        return NULL;
    for (const char *p = end; p && p < json + n; p++)
        if (!is_blank(*p)) {
            cJSON_Delete(root);
            return NULL;
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    *err = SO_OK;
    return root;
}

/* Absent: SO_OK, dst untouched. Not a string: SO_E_MSG_FIELD. Too long: SO_E_TOOBIG. */
static enum so_err get_str(const cJSON *o, const char *key, char *dst, size_t cap, int *found)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (found)
        *found = it != NULL;
    if (!it)
        return SO_OK;
    if (!cJSON_IsString(it) || !it->valuestring)
        return SO_E_MSG_FIELD;
    size_t k = strlen(it->valuestring);
    if (k >= cap)
        return SO_E_TOOBIG;
    memcpy(dst, it->valuestring, k + 1);
    return SO_OK;
}

/* Integral number in [lo, hi]; absent → SO_OK with *found = 0. */
static enum so_err get_long(const cJSON *o, const char *key, long lo, long hi, long *dst,
                            int *found)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *found = it != NULL;
    if (!it)
        return SO_OK;
    if (!cJSON_IsNumber(it))
        return SO_E_MSG_FIELD;
    double d = it->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
        return SO_E_MSG_FIELD;
    *dst = (long)d;
    return SO_OK;
}

#define TRY(x) do { enum so_err e_ = (x); if (e_ != SO_OK) return e_; } while (0)

void diy_state_init(struct diy_state *st)
{
    memset(st, 0, sizeof *st);
    st->ota_unlock = -1;
}

static enum so_err state_from(const cJSON *o, struct diy_state *st)
{
    TRY(get_str(o, "switch", st->sw, sizeof st->sw, NULL));
    TRY(get_str(o, "startup", st->startup, sizeof st->startup, NULL));
    TRY(get_str(o, "pulse", st->pulse, sizeof st->pulse, NULL));
    long v;
    int found;
    TRY(get_long(o, "pulseWidth", 0, DIY_PULSE_MAX, &v, &found));
    if (found) {
        st->has_pulse_width = 1;
        st->pulse_width = v;
    }
    TRY(get_str(o, "ssid", st->ssid, sizeof st->ssid, NULL));
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "otaUnlock");
    if (u) {
        if (cJSON_IsBool(u))
            st->ota_unlock = cJSON_IsTrue(u);
        else if (cJSON_IsString(u) && u->valuestring && !strcmp(u->valuestring, "true"))
            st->ota_unlock = 1;
        else if (cJSON_IsString(u) && u->valuestring && !strcmp(u->valuestring, "false"))
            st->ota_unlock = 0;
        else
            return SO_E_MSG_FIELD;
    }
    TRY(get_str(o, "fwVersion", st->fw_version, sizeof st->fw_version, NULL));
    TRY(get_str(o, "deviceid", st->deviceid, sizeof st->deviceid, NULL));
    TRY(get_str(o, "bssid", st->bssid, sizeof st->bssid, NULL));
    TRY(get_long(o, "signalStrength", -200, 200, &v, &found));
    if (found) {
        st->has_signal = 1;
        st->signal = (int)v;
    }
    TRY(get_long(o, "rssi", -200, 200, &v, &found));
    if (found) {
        st->has_rssi = 1;
        st->rssi = (int)v;
    }
    return SO_OK;
}

enum so_err diy_state_parse(const char *json, size_t n, struct diy_state *st)
{
    enum so_err e;
    cJSON *root = parse_object(json, n, &e);
    if (!root)
        return e;
    e = state_from(root, st);
    cJSON_Delete(root);
    return e;
}

/* ---- requests ---- */

void diy_request_init(struct diy_request *r, enum diy_cmd cmd)
{
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->has_deviceid = 1;
    r->encrypt = -1;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

static int is_hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    return i == DIY_SHA256_LEN;
}

static enum so_err request_data(const cJSON *d, struct diy_request *r)
{
    static const char *const on_off[] = {"on", "off", NULL};
    static const char *const on_off_stay[] = {"on", "off", "stay", NULL};
    int found;
    switch (r->cmd) {
    case DIY_CMD_SWITCH:
        TRY(get_str(d, "switch", r->sw, sizeof r->sw, &found));
        return found && one_of(r->sw, on_off) ? SO_OK : SO_E_MSG_FIELD;
    case DIY_CMD_STARTUP:
        TRY(get_str(d, "startup", r->startup, sizeof r->startup, &found));
        return found && one_of(r->startup, on_off_stay) ? SO_OK : SO_E_MSG_FIELD;
    case DIY_CMD_PULSE: {
        TRY(get_str(d, "pulse", r->pulse, sizeof r->pulse, &found));
        if (!found || !one_of(r->pulse, on_off))
            return SO_E_MSG_FIELD;
        long w = 0;
        TRY(get_long(d, "pulseWidth", DIY_PULSE_MIN, DIY_PULSE_MAX, &w, &found));
        if (found && w % DIY_PULSE_MIN)
            return SO_E_MSG_FIELD;
        if (!found && !strcmp(r->pulse, "on"))
            return SO_E_MSG_FIELD;
        r->has_pulse_width = found;
        r->pulse_width = w;
        return SO_OK;
    }
    case DIY_CMD_WIFI:
        TRY(get_str(d, "ssid", r->ssid, sizeof r->ssid, &found));
        if (!found || !r->ssid[0])
            return SO_E_MSG_FIELD;
        TRY(get_str(d, "password", r->password, sizeof r->password, &found));
        return found ? SO_OK : SO_E_MSG_FIELD;
    case DIY_CMD_FLASH:
        TRY(get_str(d, "downloadUrl", r->download_url, sizeof r->download_url, &found));
        if (!found || strncmp(r->download_url, "http://", 7) || !r->download_url[7])
            return SO_E_MSG_FIELD;
        TRY(get_str(d, "sha256sum", r->sha256, sizeof r->sha256, &found));
        return found && is_hex64(r->sha256) ? SO_OK : SO_E_MSG_FIELD;
    case DIY_CMD_INFO:
    case DIY_CMD_SIGNAL:
    case DIY_CMD_UNLOCK:
        return SO_OK;
    case DIY_CMD__COUNT:
        break;
    }
    return SO_E_ARG;
}

static enum so_err request_from(const cJSON *root, enum diy_cmd cmd, struct diy_request *out)
{
    diy_request_init(out, cmd);
    if ((unsigned)cmd >= DIY_CMD__COUNT)
        return SO_E_ARG;
    int found;
    TRY(get_str(root, "deviceid", out->deviceid, sizeof out->deviceid, &found));
    out->has_deviceid = found;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "sequence");
    if (seq) {
        /* The ITEAD tool sends a string; accept an integer number too. */
        if (cJSON_IsString(seq) && seq->valuestring) {
            if (strlen(seq->valuestring) >= sizeof out->sequence)
                return SO_E_TOOBIG;
            strcpy(out->sequence, seq->valuestring);
        } else if (!cJSON_IsNumber(seq) || seq->valuedouble != floor(seq->valuedouble) ||
                   fabs(seq->valuedouble) > 9007199254740992.0) {
            return SO_E_MSG_FIELD;
        } else {
            long long v = (long long)seq->valuedouble;
            char tmp[DIY_SEQUENCE_MAX];
            int k = 0;
            unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            do {
                tmp[k++] = (char)('0' + m % 10);
                m /= 10;
            } while (m);
            int o = 0;
            if (v < 0)
                out->sequence[o++] = '-';
            while (k)
                out->sequence[o++] = tmp[--k];
            out->sequence[o] = '\0';
        }
    }
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(root, "encrypt");
    if (enc) {
        if (!cJSON_IsBool(enc))
            return SO_E_MSG_FIELD;
        out->encrypt = cJSON_IsTrue(enc);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsObject(d))
        return SO_E_MSG_FIELD;
    out->has_data = 1;
    return request_data(d, out);
}

enum so_err diy_parse_request(const char *json, size_t n, enum diy_cmd cmd,
                              struct diy_request *out)
{
    enum so_err e;
    cJSON *root = parse_object(json, n, &e);
    if (!root) {
        diy_request_init(out, cmd);
        return e;
    }
    e = request_from(root, cmd, out);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *pw = cJSON_IsObject(d) ? cJSON_GetObjectItemCaseSensitive(d, "password") : NULL;
    if (cJSON_IsString(pw) && pw->valuestring)
        wipe(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(root);
    if (e != SO_OK)
        wipe(out->password, sizeof out->password);
    return e;
}

/* ---- replies ---- */

enum so_err diy_parse_reply(const char *json, size_t n, struct diy_reply *out)
{
    memset(out, 0, sizeof *out);
    diy_state_init(&out->st);
    enum so_err e;
    cJSON *root = parse_object(json, n, &e);
    if (!root)
        return e;
    long v;
    int found;
    e = get_long(root, "error", -1000000, 1000000, &v, &found);
    if (e == SO_OK && !found)
        e = SO_E_MSG_FIELD;
    if (e != SO_OK)
        goto out;
    out->error = (int)v;
    e = get_long(root, "seq", -2147483647L, 2147483647L, &v, &found);
    if (e != SO_OK)
        goto out;
    out->has_seq = found;
    out->seq = found ? v : 0;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!d || cJSON_IsNull(d)) {
        out->form = DIY_DATA_NONE;
    } else if (cJSON_IsObject(d)) {
        out->form = DIY_DATA_OBJECT;
        e = state_from(d, &out->st);
    } else if (cJSON_IsString(d) && d->valuestring) {
        /* fw 3.3 sends the object as a JSON string (ID#10). */
        out->form = DIY_DATA_STRING;
        e = diy_state_parse(d->valuestring, strlen(d->valuestring), &out->st);
    } else {
        e = SO_E_MSG_FIELD;
    }
out:
    cJSON_Delete(root);
    return e;
}

/* ---- errors ---- */

const char *diy_error_name(int code)
{
    switch (code) {
    case DIY_OK: return "ok";
    case DIY_E_BAD_JSON: return "bad JSON";
    case DIY_E_ENCRYPTED: return "encryption required";
    case DIY_E_LOCKED: return "OTA locked";
    case DIY_E_DEVICEID: return "unknown device id";
    case DIY_E_PREDOWNLOAD: return "pre-download timeout";
    case DIY_E_TOO_LARGE: return "firmware too large";
    case DIY_E_PARAMS: return "invalid parameters";
    case DIY_E_DOWNLOAD: return "download failed";
    case DIY_E_SHA256: return "SHA-256 mismatch";
    case DIY_E_UNLOCK_AUTH: return "unlock refused";
    case DIY_E_UNLOCK_NET: return "unlock service unreachable";
    }
    return "unknown";
}

const char *diy_error_text(int code)
{
    switch (code) {
    case DIY_OK:
        return "The device accepted the request.";
    case DIY_E_BAD_JSON:
        return "The device could not parse the request body as JSON. sonota always sends "
               "valid JSON, so something between us and the device altered it; retry, and "
               "report it if it persists.";
    case DIY_E_ENCRYPTED:
        return "The device wants encrypted requests: it has LAN encryption enabled (eWeLink "
               "LAN mode rather than DIY mode). sonota speaks only the unencrypted DIY API; put "
               "the device into DIY mode (`sonota diy --help` says how) and try again.";
    case DIY_E_LOCKED:
        return "OTA is not unlocked on this device. Run 'sonota diy unlock' first (the device "
               "needs Internet access for it); 'sonota diy flash' does this unless --no-unlock.";
    case DIY_E_DEVICEID:
        return "The device does not answer to this device id. Firmware 3.7.6 and later need "
               "the device's real id in every request: pass --deviceid ID (shown by 'sonota "
               "diy discover').";
    case DIY_E_PREDOWNLOAD:
        return "The device timed out pre-downloading the firmware: it reached the download "
               "server too slowly or not at all. Check that the device can reach the serving "
               "address and port (firewall), then try again.";
    case DIY_E_TOO_LARGE:
        return "The firmware is larger than the device accepts (508 KiB = 520192 bytes). Use "
               "a smaller build such as tasmota-lite.bin, then upgrade from Tasmota itself.";
    case DIY_E_PARAMS:
        return "The device rejected the request parameters (an unsupported field or value, "
               "e.g. a download URL that is not plain http://).";
    case DIY_E_DOWNLOAD:
        return "The device could not download the firmware: the URL was unreachable, the file "
               "did not exist, or the server does not support Range requests. Check that the "
               "device can reach the serving address and port (firewall, same subnet).";
    case DIY_E_SHA256:
        return "The downloaded firmware does not match its SHA-256: the transfer was "
               "corrupted (or the digest was not lowercase). Do NOT power-cycle the device - "
               "restarting it now may brick it; run the flash again.";
    case DIY_E_UNLOCK_AUTH:
        return "ITEAD's OTA unlock service refused this device (device id or API key not "
               "authenticated). Nothing sonota can change; the device cannot be unlocked "
               "over the air.";
    case DIY_E_UNLOCK_NET:
        return "The device could not reach ITEAD's OTA unlock service: it needs Internet "
               "access (check the router, DNS and firewall) while 'ota_unlock' runs, or the "
               "service is down; try again later.";
    }
    return "The device answered with an error code the DIY protocol does not document.";
}

/* ---- versions and identifiers ---- */

int diy_fw_cmp(const char *a, const char *b)
{
    a = a ? a : "";
    b = b ? b : "";
    for (;;) {
        unsigned long x = 0, y = 0;
        for (; *a >= '0' && *a <= '9'; a++)
            if (x < 100000000UL)
                x = x * 10 + (unsigned long)(*a - '0');
        for (; *b >= '0' && *b <= '9'; b++)
            if (y < 100000000UL)
                y = y * 10 + (unsigned long)(*b - '0');
        if (x != y)
            return x < y ? -1 : 1;
        /* the next component, or "" (zeros) at the end or after a non-numeric one */
        int ma = *a == '.', mb = *b == '.';
        if (!ma && !mb)
            return 0;
        a = ma ? a + 1 : "";
        b = mb ? b + 1 : "";
    }
}

int diy_fw_needs_deviceid(const char *fw)
{
    if (!fw || !fw[0])
        return 1;
    return diy_fw_cmp(fw, DIY_FW_DEVICEID_REQUIRED) >= 0;
}

enum diy_proto diy_proto_for_fw(const char *fw)
{
    if (!fw || !fw[0])
        return DIY_PROTO_UNKNOWN;
    return diy_fw_cmp(fw, DIY_FW_PROTO_2) < 0 ? DIY_PROTO_1_4 : DIY_PROTO_2_0;
}

const char *diy_proto_name(enum diy_proto p)
{
    switch (p) {
    case DIY_PROTO_1_4: return "1.4";
    case DIY_PROTO_2_0: return "2.0";
    case DIY_PROTO_UNKNOWN: break;
    }
    return "?";
}

int diy_is_sha256_lower(const char *s)
{
    if (!s)
        return 0;
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == DIY_SHA256_LEN;
}

int diy_is_deviceid(const char *s)
{
    if (!s)
        return 0;
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 10;
}
