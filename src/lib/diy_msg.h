/* diy_msg.h - the DIY-mode REST API of ITEAD firmware 3.x (PROTOCOL.md §6; DIY14, DIY20):
 * request bodies `{"deviceid":..,"data":{..}}` for POST /zeroconf/<path>, replies
 * `{"seq":n,"error":e,"data":..}` with `data` as an object (protocol v2.0, fw >= 3.5.0) or
 * as a JSON string holding the object (v1.4, fw 3.3/3.4, ID#10), the error codes and their
 * sentences, and firmware-version rules. Pure: cJSON only; builders return malloc'd
 * NUL-terminated text the caller free()s (NULL on OOM or bad arguments). */
#ifndef SO_DIY_MSG_H
#define SO_DIY_MSG_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define DIY_API_PORT 8081          /* SRV port of _ewelink._tcp (§6) */
#define DIY_MIN_GAP_MS 200         /* minimum time between two requests (§6, DIY14) */
#define DIY_FW_MAX 520192u         /* 508 KiB: largest image ota_flash takes (§6, NJH) */
#define DIY_BODY_MAX 2048          /* request/reply bodies we accept (real ones < 400 B) */
#define DIY_ID_MAX 24              /* device ids are 10 hex chars */
#define DIY_URL_MAX 256
#define DIY_SHA256_LEN 64
#define DIY_SSID_MAX 32
#define DIY_PASSWORD_MAX 64
#define DIY_VERSION_MAX 16
#define DIY_SEQUENCE_MAX 24
#define DIY_FW_DEVICEID_REQUIRED "3.7.6" /* from here the real deviceid is required (§6) */
#define DIY_FW_PROTO_2 "3.5.0"           /* protocol v2.0 from here; v1.4 before (§6) */
#define DIY_PULSE_MIN 500                /* pulseWidth ms: multiple of 500 in 500..36000000 */
#define DIY_PULSE_MAX 36000000L

/* Error codes of the "error" field (§6). */
enum diy_error {
    DIY_OK = 0,
    DIY_E_BAD_JSON = 400,
    DIY_E_ENCRYPTED = 401,
    DIY_E_LOCKED = 403,
    DIY_E_DEVICEID = 404,
    DIY_E_PREDOWNLOAD = 408,
    DIY_E_TOO_LARGE = 413,
    DIY_E_PARAMS = 422,
    DIY_E_DOWNLOAD = 424,
    DIY_E_SHA256 = 471,
    DIY_E_UNLOCK_AUTH = 500,
    DIY_E_UNLOCK_NET = 503,
};

enum diy_proto { DIY_PROTO_UNKNOWN = 0, DIY_PROTO_1_4, DIY_PROTO_2_0 };

enum diy_cmd {
    DIY_CMD_INFO,
    DIY_CMD_SWITCH,
    DIY_CMD_STARTUP,
    DIY_CMD_SIGNAL,
    DIY_CMD_PULSE,
    DIY_CMD_WIFI,
    DIY_CMD_UNLOCK,
    DIY_CMD_FLASH,
    DIY_CMD__COUNT
};

/* "/zeroconf/info" etc.; NULL for an invalid value. */
const char *diy_cmd_path(enum diy_cmd c);
/* Short name for messages: "info", "ota_unlock", ... */
const char *diy_cmd_name(enum diy_cmd c);
/* Path (exact, case-sensitive, no query string) → command; 0, or -1 when unknown. */
int diy_cmd_from_path(const char *path, size_t n, enum diy_cmd *out);

/* Device information: the data of an info reply, of a TXT record's data1..4 or of a
 * signal_strength reply. Empty strings / has_* = 0 / -1 mean absent. */
struct diy_state {
    char sw[8];                   /* "on" / "off" */
    char startup[8];              /* "on" / "off" / "stay" */
    char pulse[8];                /* "on" / "off" */
    int has_pulse_width;
    long pulse_width;
    char ssid[DIY_SSID_MAX + 1];
    int ota_unlock;               /* -1 absent, 0, 1 */
    char fw_version[DIY_VERSION_MAX];
    char deviceid[DIY_ID_MAX];
    char bssid[24];
    int has_signal;               /* "signalStrength" (info, signal_strength) */
    int signal;
    int has_rssi;                 /* "rssi" (TXT data1) */
    int rssi;
};
void diy_state_init(struct diy_state *st);

/* Parses a JSON object of device information into st (diy_state_init first). Known keys
 * of the wrong type are SO_E_MSG_FIELD, overlong strings SO_E_TOOBIG; unknown keys are
 * ignored; otaUnlock may be a boolean or the strings "true"/"false". SO_E_JSON when the
 * text is not exactly one JSON object. */
enum so_err diy_state_parse(const char *json, size_t n, struct diy_state *st);

/* ---- requests (tool → device) ---- */
struct diy_request {
    enum diy_cmd cmd;
    int has_deviceid;
    char deviceid[DIY_ID_MAX];    /* "" is valid before fw 3.7.6 (§6) */
    char sequence[DIY_SEQUENCE_MAX]; /* optional "sequence" (epoch s as a string, ID#10) */
    int encrypt;                  /* "encrypt": -1 absent, 0 false, 1 true */
    int has_data;                 /* "data" present and an object */
    /* data, by command */
    char sw[8];                   /* switch */
    char startup[8];              /* startup */
    char pulse[8];                /* pulse */
    int has_pulse_width;
    long pulse_width;
    char ssid[DIY_SSID_MAX + 1];  /* wifi */
    char password[DIY_PASSWORD_MAX + 1];
    char download_url[DIY_URL_MAX]; /* ota_flash */
    char sha256[DIY_SHA256_LEN + 1];
};
/* A request for cmd with deviceid "" and no optional members. */
void diy_request_init(struct diy_request *r, enum diy_cmd cmd);

/* Body for r->cmd: {"deviceid":..,["sequence":..,]["encrypt":false,]"data":{..}}. Only
 * the data members of the command are written: switch {switch}, startup {startup},
 * pulse {pulse[,pulseWidth]}, wifi {ssid,password}, ota_flash {downloadUrl,sha256sum},
 * the others {}. NULL for a bad cmd. The wifi body holds the password: wipe it. */
char *diy_build_request(const struct diy_request *r);

/* Device side: parses a body for `cmd`. SO_E_JSON (→ 400): not exactly one JSON object
 * or longer than DIY_BODY_MAX. SO_E_MSG_FIELD (→ 422): "data" missing or not an object,
 * deviceid not a string, or the command's parameters missing/invalid: switch on|off;
 * startup on|off|stay; pulse on|off with pulseWidth (integer, multiple of 500 in
 * 500..36000000) when on; wifi ssid 1..32 chars, password string; ota_flash downloadUrl
 * a string starting "http://", sha256sum 64 hex digits (either case: the device compares
 * text, so uppercase fails later as 471, ID#102). SO_E_TOOBIG (→ 422) for overlong values.
 * On failure the password is wiped. */
enum so_err diy_parse_request(const char *json, size_t n, enum diy_cmd cmd,
                              struct diy_request *out);

/* ---- replies (device → tool) ---- */
enum diy_data_form { DIY_DATA_NONE = 0, DIY_DATA_OBJECT, DIY_DATA_STRING };

struct diy_reply {
    int has_seq;
    long seq;
    int error;                    /* "error" (required) */
    enum diy_data_form form;      /* how "data" came: absent, object (v2.0), string (v1.4) */
    struct diy_state st;          /* parsed data (object, or the object inside the string) */
};

/* SO_E_JSON: not one JSON object (or > DIY_BODY_MAX), or data is a string that does not
 * hold a JSON object. SO_E_MSG_FIELD: "error" missing or not an integer, seq not an
 * integer, data neither object nor string nor null, a data member of the wrong type. */
enum so_err diy_parse_reply(const char *json, size_t n, struct diy_reply *out);

/* Which members of st a reply's data carries (bit set → written when present in st). */
#define DIY_F_SWITCH 0x001u
#define DIY_F_STARTUP 0x002u
#define DIY_F_PULSE 0x004u
#define DIY_F_PULSE_WIDTH 0x008u
#define DIY_F_SSID 0x010u
#define DIY_F_OTA_UNLOCK 0x020u
#define DIY_F_FW_VERSION 0x040u
#define DIY_F_DEVICEID 0x080u
#define DIY_F_BSSID 0x100u
#define DIY_F_SIGNAL 0x200u
#define DIY_F_RSSI 0x400u
/* info data of protocol v1.4 (DIY14 §8) and v2.0 (DIY20, NJH README) */
#define DIY_F_INFO_1_4 (DIY_F_SWITCH | DIY_F_STARTUP | DIY_F_PULSE | DIY_F_PULSE_WIDTH | \
                        DIY_F_SSID | DIY_F_OTA_UNLOCK)
#define DIY_F_INFO_2_0 (DIY_F_INFO_1_4 | DIY_F_FW_VERSION | DIY_F_DEVICEID | DIY_F_BSSID | \
                        DIY_F_SIGNAL)

/* The JSON object text of st's members selected by fields, in the order of the
 * DIY_F_* bits (the devices' order). */
char *diy_build_state(const struct diy_state *st, unsigned fields);
/* {"seq":n,"error":e} plus "data" when st is not NULL: as an object (DIY_DATA_OBJECT) or
 * as a string holding the object text (DIY_DATA_STRING). */
char *diy_build_reply(long seq, int error, const struct diy_state *st, unsigned fields,
                      enum diy_data_form form);

/* ---- errors and versions ---- */
/* One or two sentences: what the code means and what to do next; unknown codes get a
 * generic sentence. Never NULL. */
const char *diy_error_text(int code);
/* "ok", "bad JSON", "encryption required", ... ; "unknown" for other codes. */
const char *diy_error_name(int code);

/* Compares dotted decimal versions ("3.7.6" vs "3.10.0"): <0, 0, >0. Missing
 * components count as 0; a non-numeric component compares as 0 from there on. */
int diy_fw_cmp(const char *a, const char *b);
/* fw >= 3.7.6: requests must carry the real deviceid (§6). Unknown ("") → 1 (safe side). */
int diy_fw_needs_deviceid(const char *fw);
/* fw < 3.5.0 → v1.4, else v2.0; "" → unknown. */
enum diy_proto diy_proto_for_fw(const char *fw);
const char *diy_proto_name(enum diy_proto p);

/* Exactly 64 lowercase hex digits (the device compares text, ID#102); NULL → 0. */
int diy_is_sha256_lower(const char *s);
/* Exactly 10 lowercase hex digits, the form of real device ids; NULL → 0. */
int diy_is_deviceid(const char *s);

#endif
