/* server.h - sonota's listening side, on one libwebsockets context:
 *   - the firmware file server (plain HTTP, default :8080, /ota/<name> only),
 *   - the fake eWeLink cloud: HTTPS POST /dispatch/device + WSS /api/ws (default :8443),
 *   - with `legacy`: HTTPS on 443 and plain dispatch + WS on 8081 (PROTOCOL.md §1.6).
 * The caller owns the loop: call srv_run_once() until done. Events report progress. */
#ifndef SONOTA_SERVER_H
#define SONOTA_SERVER_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

enum srv_pace {
    SRV_PACE_AUTO,  /* Range and whole-body fast; paced whole-body for a device that acked 404 */
    SRV_PACE_FAST,  /* never paced */
    SRV_PACE_SLOW,  /* every whole-body download paced */
};

/* One image offered under /ota/<name>. Data is borrowed: it must outlive the server. */
struct srv_file {
    const char *name;           /* e.g. "image_user1-0x01000.bin" */
    const unsigned char *data;
    size_t len;
    char sha256[65];            /* lowercase hex */
};

#define SRV_FILES_MAX 4

struct srv_config {
    const char *bind_addr;      /* NULL = all interfaces */
    const char *serving_ip;     /* put in the dispatch reply and in download URLs */
    int http_port;              /* 8080 */
    int https_port;             /* 8443, or 443 with legacy */
    int legacy;                 /* also plain dispatch + WS on plain_port */
    int plain_port;             /* 8081 */
    enum srv_pace pace;
    size_t n_files;
    struct srv_file files[SRV_FILES_MAX];
    /* Which files the upgrade command offers (user1 first, §1.5); NULL = no cloud
     * (the file server alone, e.g. for FinalStage or DIY). */
    const char *user1_name;
    const char *user2_name;
    const char *upgrade_version; /* "99.99.99" */
};

enum srv_event_type {
    SRV_EV_LISTENING,           /* detail: "http 0.0.0.0:8080" etc. */
    SRV_EV_TLS_CLIENT,          /* peer, detail: negotiated protocol + cipher */
    SRV_EV_DISPATCH,            /* deviceid, model, rom_version, peer */
    SRV_EV_WS_OPEN,             /* peer */
    SRV_EV_REGISTER,            /* deviceid, model, rom_version */
    SRV_EV_UPGRADE_SENT,        /* deviceid, paced (whether this device will get paced serving) */
    SRV_EV_UPGRADE_ACK,         /* deviceid, error (0, 400, 404, 406, 409, 410, ...) */
    SRV_EV_UPGRADE_STATE,       /* deviceid, error = upgradeState the device reported */
    SRV_EV_WS_CLOSED,           /* deviceid (may be NULL), peer */
    SRV_EV_DOWNLOAD_START,      /* peer, file, total, paced, offset (Range start) */
    SRV_EV_DOWNLOAD_PROGRESS,   /* peer, file, offset = bytes of the file sent so far, total */
    SRV_EV_DOWNLOAD_DONE,       /* peer, file, total: every byte of the file has been sent
                                   (for Range downloads: the union of ranges covers the file) */
    SRV_EV_DOWNLOAD_ABORT,      /* peer, file, offset: the peer went away mid-body */
    SRV_EV_REJECTED,            /* peer, detail: request refused (404, 400, 416, limits) */
    SRV_EV_ERROR,               /* detail */
};

struct srv_event {
    enum srv_event_type type;
    const char *peer;           /* "ip:port" of the remote side */
    const char *deviceid;
    const char *model;
    const char *rom_version;
    const char *file;
    const char *detail;
    int error;
    int paced;
    uint64_t offset;
    uint64_t total;
};

typedef void (*srv_event_cb)(const struct srv_event *ev, void *user);

struct srv;

/* Starts listening. On failure returns NULL with a sentence in err (what failed and
 * what to do, e.g. "port 8443 is in use; pass --https-port"). */
struct srv *srv_create(const struct srv_config *cfg, srv_event_cb cb, void *user,
                       char *err, size_t errcap);
/* Services the loop for at most timeout_ms. Returns 0, or -1 on a fatal error. */
int srv_run_once(struct srv *s, int timeout_ms);
/* Forces paced serving for a peer IP (e.g. after an ack 404 seen elsewhere). */
void srv_set_paced(struct srv *s, const char *peer_ip, int paced);
/* Stops listening and frees everything; accepts NULL. */
void srv_destroy(struct srv *s);

#endif
