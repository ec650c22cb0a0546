/* ewl_msg.h - eWeLink stock-firmware JSON messages, both directions (PROTOCOL.md §1.2-§1.5).
 * Parsers copy what they need into fixed fields (truncation = SO_E_TOOBIG); the
 * input must be exactly one JSON object (blanks around it allowed, else SO_E_JSON);
 * a known field of the wrong type, or a non-integral number where an integer is
 * expected, is SO_E_MSG_FIELD; unknown keys are ignored; keys are case-sensitive.
 * Builders return a malloc'd NUL-terminated string the caller free()s (NULL on OOM
 * or when a string argument is NULL); key order and JSON types follow §1.2-§1.5. */
#ifndef SO_EWL_MSG_H
#define SO_EWL_MSG_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define EWL_JSON_MAX 2048       /* device RX buffer (§1.4); larger input is refused */
#define EWL_DEVICEID_MAX 24     /* real ids are 10 hex chars */
#define EWL_UUID_LEN 36
#define EWL_MODEL_MAX 32
#define EWL_VERSION_MAX 16
#define EWL_SEQ_MAX 24
#define EWL_URL_MAX 160         /* device keeps ~100 B of path (§1.5) */
#define EWL_DIGEST_LEN 64
#define EWL_SSID_MAX 32
#define EWL_PASSWORD_MAX 64
#define EWL_HOST_MAX 64

/* ---- AP mode (§1.2) ---- */
struct ewl_device_info {
    char deviceid[EWL_DEVICEID_MAX];
    char apikey[EWL_UUID_LEN + 1];   /* factory key */
};
/* GET /device reply; needs deviceid and apikey strings. */
enum so_err ewl_parse_device_info(const char *json, size_t n, struct ewl_device_info *out);
char *ewl_build_device_info(const struct ewl_device_info *in);

struct ewl_ap_config {
    int version;                      /* 4 */
    char ssid[EWL_SSID_MAX + 1];
    char password[EWL_PASSWORD_MAX + 1];
    char server[EWL_HOST_MAX];        /* serverName: IPv4 or host name */
    int port;
};
/* POST /ap body; strict: version (number), ssid, password, serverName (strings),
 * port (number 1..65535), all required. The password is wiped from cJSON's copies,
 * and from out on failure. */
enum so_err ewl_parse_ap_config(const char *json, size_t n, struct ewl_ap_config *out);
/* {"version":V,"ssid":..,"password":..,"serverName":..,"port":N}; no copy of the
 * password is left in freed memory (only in the returned string: wipe it too). */
char *ewl_build_ap_config(const struct ewl_ap_config *in);

/* {"error":N} (the /ap reply). */
enum so_err ewl_parse_error_reply(const char *json, size_t n, int *error);
char *ewl_build_error_reply(int error);

/* ---- dispatch (§1.3) ---- */
struct ewl_dispatch_req {
    char deviceid[EWL_DEVICEID_MAX];
    char apikey[EWL_UUID_LEN + 1];
    char model[EWL_MODEL_MAX];
    char rom_version[EWL_VERSION_MAX];
    char accept[16];                  /* "ws;2" */
    int version;                      /* 2 */
    uint32_t ts;
};
/* deviceid and apikey (strings) required; model, romVersion, accept (strings),
 * version (number) and ts (number 0..2^32-1) optional but type-checked. */
enum so_err ewl_parse_dispatch_req(const char *json, size_t n, struct ewl_dispatch_req *out);
/* {"accept":..,"version":N,"ts":N,"deviceid":..,"apikey":..,"model":..,"romVersion":..} */
char *ewl_build_dispatch_req(const struct ewl_dispatch_req *in);

struct ewl_dispatch_reply {
    int error;
    char ip[EWL_HOST_MAX];
    int port;
};
/* Like the firmware: error must be a number, IP a string, port a number (1..65535).
 * IP and port are required when error is 0, optional (type-checked) otherwise. */
enum so_err ewl_parse_dispatch_reply(const char *json, size_t n, struct ewl_dispatch_reply *out);
/* {"error":0,"reason":"ok","IP":"..","port":N} (reason "error" when error != 0) */
char *ewl_build_dispatch_reply(const struct ewl_dispatch_reply *in);

/* ---- WebSocket messages (§1.4, §1.5) ---- */
enum ewl_action {
    EWL_ACT_NONE = 0,   /* no "action": a reply (server→device) or an ack (device→server) */
    EWL_ACT_REGISTER,
    EWL_ACT_DATE,
    EWL_ACT_UPDATE,
    EWL_ACT_QUERY,
    EWL_ACT_UPGRADE,
    EWL_ACT_RESTART,
    EWL_ACT_REDIRECT,
    EWL_ACT_NOTIFY,
    EWL_ACT_UNKNOWN,    /* an "action" string we do not know; action_name holds it */
};

struct ewl_bin {
    char url[EWL_URL_MAX];
    char digest[EWL_DIGEST_LEN + 1];
    char name[16];                    /* "user1.bin" / "user2.bin" */
};

/* Every field a message of either direction may carry; has_* say what was present. */
struct ewl_msg {
    enum ewl_action action;
    char action_name[16];
    char deviceid[EWL_DEVICEID_MAX];
    char apikey[EWL_UUID_LEN + 1];
    char user_agent[16];
    char sequence[EWL_SEQ_MAX];       /* numbers are accepted and printed as digits */
    int has_error, error;
    /* register */
    char model[EWL_MODEL_MAX];
    char rom_version[EWL_VERSION_MAX];
    /* replies */
    int has_params;                   /* "params" present (query reply must have it) */
    char date[32];                    /* date reply */
    int has_config, hb, hb_interval;  /* register reply */
    /* update params from the device */
    char fw_version[EWL_VERSION_MAX];
    int has_upgrade_state, upgrade_state;
    /* upgrade command */
    int n_bins;
    struct ewl_bin bins[2];
    char upgrade_model[EWL_MODEL_MAX];
    char upgrade_version[EWL_VERSION_MAX];
    int has_auto_restart, auto_restart;
};

/* Parses any WebSocket JSON message. SO_E_JSON when not a JSON object,
 * SO_E_TOOBIG when n > EWL_JSON_MAX or a field overflows, SO_E_MSG_FIELD when a
 * known field has the wrong type or an upgrade has more than 2 / malformed bins.
 * Every field is optional. "action" must be a string (unknown → EWL_ACT_UNKNOWN;
 * action_name is set for known ones too); "sequence" a string or an integer number
 * (|n| <= 2^53, stored as digits); "error", config.hb, config.hbInterval,
 * params.upgradeState, params.autoRestart integer numbers; "config" an object.
 * params.fwVersion/upgradeState are read for "update" (when params is an object);
 * params.binList/model/version/autoRestart for "upgrade" (params must then be an
 * object; binList, when present, an array of at most 2 objects each with
 * downloadUrl, digest and name strings; the digest's form is not checked here).
 * On an error the fields read before it stay set; action, deviceid, apikey,
 * userAgent and sequence are read first, so a device can still ack the sequence. */
enum so_err ewl_parse_msg(const char *json, size_t n, struct ewl_msg *out);

/* Device → server. */
char *ewl_build_register(const char *deviceid, const char *factory_apikey, const char *model,
                         const char *rom_version, uint32_t ts);
/* action is "date", or "query" (params ["timers"]); any other action gets no params. */
char *ewl_build_dev_simple(const char *action, const char *deviceid, const char *apikey);
/* update with params {switch, fwVersion, rssi, staMac, startup}. */
char *ewl_build_dev_update(const char *deviceid, const char *apikey, const char *fw_version,
                           const char *mac, int rssi, int switch_on);
/* update {"params":{"upgradeState":state}} sent after an upgrade finished (IG variant). */
char *ewl_build_dev_upgrade_state(const char *deviceid, const char *apikey, int state);
/* ack {"error":E,"userAgent":"device","apikey":..,"deviceid":..,"sequence":..} */
char *ewl_build_ack(const char *deviceid, const char *apikey, const char *sequence, int error);

/* Server → device. */
/* {"error":0,"deviceid":..,"apikey":..,"config":{"hb":1,"hbInterval":N}}; the
 * config object only when hb_interval > 0. */
char *ewl_build_register_reply(const char *deviceid, const char *new_apikey, int hb_interval);
/* date_iso is "YYYY-MM-DDTHH:MM:SS.mmmZ" (see ewl_format_date). */
char *ewl_build_date_reply(const char *deviceid, const char *apikey, const char *date_iso);
/* {"error":0,"deviceid":..,"apikey":..} */
char *ewl_build_update_reply(const char *deviceid, const char *apikey);
/* {"error":0,"deviceid":..,"apikey":..,"params":0} */
char *ewl_build_query_reply(const char *deviceid, const char *apikey);

struct ewl_upgrade {
    char deviceid[EWL_DEVICEID_MAX];
    char apikey[EWL_UUID_LEN + 1];    /* the owner uuid sent in the register reply */
    char sequence[EWL_SEQ_MAX];       /* ms epoch as a string */
    char model[EWL_MODEL_MAX];        /* the device's own model */
    char version[EWL_VERSION_MAX];    /* "99.99.99" */
    int auto_restart;                 /* 1 */
    int n_bins;                       /* 2: user1 first */
    struct ewl_bin bins[2];
};
/* {"action":"upgrade","deviceid":..,"apikey":..,"userAgent":"app","sequence":"..","ts":0,
 *  "params":{"binList":[{"downloadUrl":..,"digest":..,"name":..},..],"model":..,
 *  "version":..,"autoRestart":N}}; NULL when n_bins is not 0..2. */
char *ewl_build_upgrade(const struct ewl_upgrade *in);
/* Cosmetic switch command {"action":"update",...,"params":{"switch":"on|off"}}. */
char *ewl_build_switch(const char *deviceid, const char *apikey, const char *sequence, int on);

/* ---- helpers ---- */
/* RFC 4122 version-4 text form of 16 random bytes (sets version/variant bits). */
void ewl_format_uuid(const uint8_t rnd[16], char out[EWL_UUID_LEN + 1]);
/* 36 chars, 8-4-4-4-12 hex groups (either case); NULL → 0. */
int ewl_is_uuid(const char *s);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for a UTC time; out needs 25 bytes. Pure arithmetic
 * (proleptic Gregorian); seconds are clamped to years 0000..9999, millis to 0..999. */
void ewl_format_date(int64_t unix_seconds, int millis, char out[25]);
/* Exactly 64 lowercase hex chars (IG compares with lowercase hex, §1.5); NULL → 0. */
int ewl_is_digest(const char *s);

#endif
