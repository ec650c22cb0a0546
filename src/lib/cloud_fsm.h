/* cloud_fsm.h - the fake eWeLink cloud's per-device WebSocket session, without I/O
 * (PROTOCOL.md §1.4, §1.5, §10.4). The caller feeds each received text message
 * (with the wall-clock time and fresh random bytes) and executes the returned
 * actions: send a text frame, report an event, mark a peer paced, log, close.
 * A `struct cloud` holds the configuration, a small per-device memory that
 * outlives sessions (owner key, paced flag, upgrade attempts) and a count of live
 * sessions. */
#ifndef SO_CLOUD_FSM_H
#define SO_CLOUD_FSM_H

#include "lib/err.h"
#include "lib/ewl_msg.h"

#include <stddef.h>
#include <stdint.h>

/* Devices remembered across sessions (least recently seen replaced): a fleet run
 * of 500 devices at once must not forget one between its register and its ack.
 * A device is an identity, deviceid + factory apikey (docs/DESIGN.md "Who may steer a
 * run"): the id alone is public (the pairing SSID), the factory key is not. */
#define CLOUD_DEVICES_MAX 1024
/* Identities provisioned in this run (cloud_trust) are never replaced; at most this
 * many, so strangers always find room. */
#define CLOUD_TRUSTED_MAX (CLOUD_DEVICES_MAX / 2)
#define CLOUD_ACTIONS_MAX 8         /* actions one input can produce */
#define CLOUD_HB_INTERVAL 145       /* register reply "hbInterval", seconds (§1.4, VP) */
/* Every server frame must arrive as one packet in the device's 2 KiB buffer (§1.4). */
#define CLOUD_FRAME_MAX 1400
/* After an ack 404 the same session gets the upgrade again after this delay,
 * now served paced in AUTO mode (SonOTA needed a restart for that, §1.5). */
#define CLOUD_REISSUE_DELAY_MS 3000
/* Upgrade commands per device over all its sessions before we give up. */
#define CLOUD_UPGRADE_ATTEMPTS_MAX 4
#define CLOUD_IP_MAX 46
#define CLOUD_FILE_MAX 64
#define CLOUD_LOG_MAX 200

enum cloud_pace { CLOUD_PACE_AUTO, CLOUD_PACE_FAST, CLOUD_PACE_SLOW };

struct cloud_cfg {
    int http_port;                          /* port of the /ota/ file server */
    enum cloud_pace pace;
    char version[EWL_VERSION_MAX];          /* upgrade "version", e.g. "99.99.99" */
    /* bins[0] = user1 (0x01000), bins[1] = user2 (0x81000): sent in this order (§1.5) */
    char file[2][CLOUD_FILE_MAX];           /* names served under /ota/ */
    char digest[2][EWL_DIGEST_LEN + 1];     /* lowercase sha256 hex */
};

/* What the cloud remembers about a device (one identity) between its sessions. */
struct cloud_device {
    char deviceid[EWL_DEVICEID_MAX];
    char factory_apikey[EWL_UUID_LEN + 1];  /* as its register carried it ("" if none) */
    unsigned ident;                         /* unique per identity in this cloud, never 0 */
    int trusted;                            /* provisioned in this run (cloud_trust) */
    char owner_apikey[EWL_UUID_LEN + 1];    /* the key of the last register reply */
    char model[EWL_MODEL_MAX];
    char peer_ip[CLOUD_IP_MAX];
    int paced;                              /* acked 404 in AUTO mode */
    int upgrades;                           /* upgrade commands sent, all its sessions */
    int has_ack, last_ack;
    uint64_t last_seen_ms;
};

struct cloud {
    struct cloud_cfg cfg;
    struct cloud_device devices[CLOUD_DEVICES_MAX];
    size_t n_devices;
    size_t n_trusted;
    unsigned last_ident;
    unsigned live_sessions;                 /* cloud_sess_init minus cloud_sess_end */
};

enum cloud_sess_state {
    DEV_WAIT_REGISTER,  /* connected, nothing (valid) received yet */
    DEV_READY,          /* registered: answering date/update/query */
    DEV_UPGRADE_SENT,   /* upgrade command out, waiting for the ack */
    DEV_DOWNLOADING,    /* ack 0: the device fetches the image over HTTP */
    DEV_RETRY_WAIT,     /* ack 404: upgrade goes out again at reissue_at_ms */
    DEV_DONE,           /* the device reported upgradeState 0 */
    DEV_FAILED,         /* ack or upgradeState error we cannot fix, or out of attempts */
    DEV_CLOSED,         /* oversize input: the caller closes the connection */
};

struct cloud_sess {
    struct cloud *cloud;
    enum cloud_sess_state state;
    char peer_ip[CLOUD_IP_MAX];
    char host[EWL_HOST_MAX];                /* our address as the device reaches it */
    char deviceid[EWL_DEVICEID_MAX];
    char factory_apikey[EWL_UUID_LEN + 1];
    char apikey[EWL_UUID_LEN + 1];          /* owner key we gave it; on every reply */
    char model[EWL_MODEL_MAX];
    char rom_version[EWL_VERSION_MAX];
    unsigned ident;                         /* the identity it registered as (0: none yet) */
    int trusted;                            /* that identity was provisioned in this run */
    char sequence[EWL_SEQ_MAX];             /* of the last upgrade command */
    int updates;                            /* update messages answered */
    int upgrades;                           /* upgrade commands in this session */
    uint64_t last_seq_ms;                   /* keeps sequences increasing */
    uint64_t reissue_at_ms;                 /* 0 = nothing scheduled */
};

enum cloud_act_type {
    CLOUD_ACT_SEND,         /* text: one WebSocket text frame (malloc'd, < CLOUD_FRAME_MAX) */
    CLOUD_ACT_EVENT,        /* ev (+ error, paced) */
    CLOUD_ACT_SET_PACED,    /* serve whole-body downloads to peer_ip paced */
    CLOUD_ACT_LOG,          /* level + msg: for the log only */
    CLOUD_ACT_CLOSE,        /* close the connection (after sending what is queued) */
};

enum cloud_ev {
    CLOUD_EV_REGISTER,      /* deviceid, model, rom_version now known */
    CLOUD_EV_UPGRADE_SENT,  /* paced: whether whole-body downloads will be paced */
    CLOUD_EV_UPGRADE_ACK,   /* error = the device's ack code */
    CLOUD_EV_UPGRADE_STATE, /* error = upgradeState reported by the device */
    CLOUD_EV_ERROR,         /* msg says what went wrong */
};

enum cloud_log_level { CLOUD_LOG_WARN, CLOUD_LOG_INFO, CLOUD_LOG_DEBUG };

struct cloud_action {
    enum cloud_act_type type;
    char *text;                             /* CLOUD_ACT_SEND: owned by the action list */
    enum cloud_ev ev;
    int error;
    int paced;
    enum cloud_log_level level;
    char msg[CLOUD_LOG_MAX];                /* LOG and EV_ERROR */
};

struct cloud_actions {
    size_t n;
    struct cloud_action a[CLOUD_ACTIONS_MAX];
};

/* cfg is copied. SO_E_ARG if a file name/digest is missing or malformed. */
enum so_err cloud_init(struct cloud *c, const struct cloud_cfg *cfg);

/* The device that stage 1 provisioned in this run (deviceid and factory apikey from
 * its GET /device, §1.2): sessions that register as it are `trusted`; a register with
 * its id and another key is someone else, with its own memory and attempt budget.
 * SO_E_ARG for a malformed id or key, SO_E_NOMEM past CLOUD_TRUSTED_MAX. */
enum so_err cloud_trust(struct cloud *c, const char *deviceid, const char *factory_apikey);

/* A new WebSocket connection from peer_ip, which reached us at host (IPv4 text). */
void cloud_sess_init(struct cloud_sess *s, struct cloud *c, const char *peer_ip,
                  const char *host);
/* The connection is gone; the device memory stays in the cloud. */
void cloud_sess_end(struct cloud_sess *s);

/* One complete text message. now_ms = Unix time in ms (date replies, sequences);
 * rnd = 16 fresh random bytes (the owner key, if this is a register).
 * Always returns SO_OK unless an action could not be allocated (SO_E_NOMEM);
 * malformed or unknown input produces LOG actions only; more than EWL_JSON_MAX
 * bytes produces CLOSE. */
enum so_err cloud_sess_on_text(struct cloud_sess *s, const char *json, size_t len,
                            uint64_t now_ms, const uint8_t rnd[16],
                            struct cloud_actions *out);
/* Time passed: sends a scheduled re-issue when due. */
enum so_err cloud_sess_on_tick(struct cloud_sess *s, uint64_t now_ms, struct cloud_actions *out);
/* When cloud_sess_on_tick wants to run next (Unix ms), or 0 for never. */
uint64_t cloud_sess_next_deadline(const struct cloud_sess *s);

/* Whether whole-body downloads for this session's device are paced. */
int cloud_sess_paced(const struct cloud_sess *s);
/* A remembered identity with this id (the trusted one first), or NULL. */
const struct cloud_device *cloud_find_device(const struct cloud *c, const char *deviceid);
/* The remembered identity ident, or NULL. */
const struct cloud_device *cloud_find_ident(const struct cloud *c, unsigned ident);

/* Frees the texts and empties the list; call before each reuse. */
void cloud_actions_clear(struct cloud_actions *a);

const char *cloud_sess_state_name(enum cloud_sess_state st);

#endif
