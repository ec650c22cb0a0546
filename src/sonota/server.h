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

struct pollfd; /* plat/net.h; not included here: windows.h would come along */

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
    /* 206 replies say "Content-Range: bytes=a-b/total", the form ITEAD's own DIY tool
     * server sends and DIY devices accept (§6), instead of RFC 9110's "bytes a-b/total". */
    int content_range_equals;
    /* Connection limits over all ports (0 = the default; docs/TESTING.md). A refused
     * connection gets "503" on the file server (two at a time; more are closed at
     * accept) and is closed at once on the cloud ports. max_conns is lowered to what
     * the open-file limit allows (srv_priv.h: SRV_FD_RESERVE). Loopback tests that run many simulated devices from one address must
     * raise max_conns_per_ip (or give each device its own 127.x.y.z source). */
    int max_conns;              /* open connections in total (SRV_CONN_MAX_DEFAULT) */
    int max_conns_per_ip;       /* per peer address (SRV_CONN_PER_IP_DEFAULT); -1 = no limit */
    /* A WebSocket that receives nothing (not even a ping) for this long is closed
     * (1001). 0 = two heartbeat intervals + 10 s (300 s); shorter values cut real
     * devices (they ping every 145 s) and exist for tests. */
    int ws_idle_timeout_s;
    /* The files' bytes and digests come later, with srv_set_files (names given now):
     * the ports listen at once while the caller still checks the images. Nothing is
     * served before srv_set_files (srv_run_once refuses); connections wait in the
     * kernel's queue. */
    int files_later;
};

/* 500 stock devices at once each hold a WebSocket and a download connection
 * (plus a short dispatch): 2048 leaves room for that. srv_create raises the
 * process's open-file limit (RLIMIT_NOFILE) as far as the hard limit allows. */
#define SRV_CONN_MAX_DEFAULT 2048
/* A device needs at most three at once (WebSocket, download, a dispatch retry). */
#define SRV_CONN_PER_IP_DEFAULT 16

/* Event semantics (what server.c, fileserv.c and cloud.c implement):
 * - Events are delivered synchronously from inside srv_create (LISTENING) and
 *   srv_run_once; the pointers in struct srv_event are valid only during the call.
 *   None are delivered from srv_destroy. Do not call srv_destroy from the callback.
 * - TLS_CLIENT: once per TLS connection. error 0: handshake done, detail
 *   "TLSv1.1 AES128-SHA (ClientHello 0x0302, 2 suites, AES128-SHA offered)".
 *   error != 0: the handshake failed with that TLS alert number (RFC 5246 §7.2; -1 when
 *   the client closed the connection or there was none), detail says who sent it,
 *   e.g. 48 unknown CA from a pinning firmware (§2).
 *   tls_cert_refused: the client received our certificate and then ended the handshake
 *   (a certificate alert, or closing the connection): what pinning firmware does.
 * - DISPATCH: after the reply to POST /dispatch/device is queued; detail
 *   "sent IP <ip> port <port>". deviceid/model/rom_version NULL if the body had none.
 * - WS_OPEN / WS_CLOSED: per /api/ws connection; WS_CLOSED detail = the session's
 *   last state (wait-register, ready, upgrade-sent, downloading, retry-wait, done,
 *   failed, closed).
 * - Who earned an event: REGISTER, UPGRADE_*, ERROR and WS_CLOSED of a registered
 *   session carry its identity (ident, trusted). Acks and attempt counts belong to that
 *   identity only; a session that never registered produces none of these.
 * - REGISTER: the register reply is queued; paced = this device's whole-body
 *   downloads are paced (it acked 404 before, or pace SLOW).
 * - UPGRADE_SENT: the upgrade command is queued (after the first update reply of a
 *   session, or again 3 s after an ack 404 in the same session); detail = its
 *   sequence. At most 4 per device over all sessions, then ERROR (lib/cloud_fsm.h:
 *   CLOUD_REISSUE_DELAY_MS, CLOUD_UPGRADE_ATTEMPTS_MAX).
 * - UPGRADE_ACK: a device message without action whose sequence is the last upgrade's;
 *   error = its "error" (0 if absent). With pace AUTO an ack 404 has already marked the
 *   device and its address paced when this event arrives (paced = 1).
 * - UPGRADE_STATE: an update carrying params.upgradeState (it is answered as usual).
 * - DOWNLOAD_START: first request of a download of a file by a peer address: any
 *   whole-body GET, or a Range request when no download of that (address, file) is
 *   under way, or one starting at byte 0 after some bytes were sent. offset = first
 *   byte requested; detail = the request target.
 * - DOWNLOAD_PROGRESS: offset = bytes of the file sent to that address so far (union
 *   of 4 KiB chunks), about every 10 % (4..64 KiB steps).
 * - DOWNLOAD_DONE: every 4 KiB chunk of the file went to that address (by Range
 *   replies, any order and connections, or one whole body) AND the peer's TCP
 *   acknowledged the last reply. Once per download.
 * - DOWNLOAD_ABORT: the connection closed while a reply body was unsent or
 *   unacknowledged; offset = file bytes the peer acknowledged.
 * - REJECTED: error = the HTTP status we answered (400, 404, 405, 408 head or body
 *   too slow, 411, 413, 416, 426, 431, 503 connection limit, or 404 for a WebSocket
 *   upgrade outside /api/ws), or the WebSocket close code we sent (1002 protocol
 *   error, also a received close code no peer may send, 1003 binary frame, 1007
 *   text or close reason not valid UTF-8, 1008 flooding, 1009 message over 2 KiB);
 *   detail = "<code> <request line or reason>". Connection-limit refusals are
 *   reported at most once a second (detail counts the ones in between).
 * - ERROR: detail = a sentence (e.g. a device ran out of upgrade attempts).
 * - DIY_RESULT: see below. */
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
    SRV_EV_REJECTED,            /* peer, error, detail: request or frame refused, limits */
    SRV_EV_ERROR,               /* detail */
    SRV_EV_DIY_RESULT,          /* peer, detail: body a DIY device POSTed to /api/device/otaFlash
                                   (§6), error: its "error" number or -1 if none */
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
    int tls_cert_refused;       /* TLS_CLIENT: see above (pin_watch.h) */
    uint64_t offset;
    uint64_t total;
    /* Cloud events of a registered session: the identity it registered as (deviceid +
     * factory apikey, never 0; one number per identity for the server's lifetime) and
     * whether that identity was provisioned in this run (srv_trust). 0 otherwise. */
    unsigned ident;
    int trusted;
    /* File-server events (DOWNLOAD_*, REJECTED, DIY_RESULT): 1 when the connection
     * came in on the FinalStage listener (srv_listen_final), else 0. */
    int final_listener;
};

typedef void (*srv_event_cb)(const struct srv_event *ev, void *user);

struct srv;

/* The functions below that can fail explain why in err, a buffer of errcap > 0 bytes
 * that every caller passes. */

/* Starts listening. On failure returns NULL with a sentence in err (what failed and
 * what to do, e.g. "port 8443 is in use; pass --https-port"). */
struct srv *srv_create(const struct srv_config *cfg, srv_event_cb cb, void *user,
                       char *err, size_t errcap);
/* Adds the FinalStage listener (PROTOCOL.md §4: E2A fetches from 192.168.4.2:8080
 * only) to the running server: the file server alone on bind_addr:port, a vhost of
 * the same libwebsockets context, so one srv_run_once serves it with the rest. It
 * serves the same files with the same pacing, download tracking and connection
 * limits, and lives until srv_destroy (the socket stays bound while the address is
 * away, and serves again when it returns). LISTENING event "http <addr>:<port>".
 * 0 (also when it already listens), or -1 with a sentence in err. */
int srv_listen_final(struct srv *s, const char *bind_addr, int port, char *err,
                     size_t errcap);
/* The bytes and digests of a server created with files_later: the same names in the
 * same order (the data must outlive the server). 0, or -1 with a sentence in err. */
int srv_set_files(struct srv *s, const struct srv_file *files, size_t n, char *err,
                  size_t errcap);
/* 1 while a server created with files_later waits for srv_set_files. */
int srv_files_pending(const struct srv *s);
/* Services the loop for at most timeout_ms. Returns 0, or -1 on a fatal error (also
 * while the files of files_later are still missing). */
int srv_run_once(struct srv *s, int timeout_ms);
/* Another client's sockets (libcurl's: fd and POLLIN/POLLOUT) the loop also waits on:
 * srv_run_once then returns when one is ready, and the caller lets its client do the
 * I/O. The set replaces the one before (n = 0: none). Returns 1 when every socket is
 * watched, 0 when some cannot be (no copy of a socket on Windows, or more than
 * SRV_WATCH_MAX): the caller then keeps waking up to look itself. */
int srv_watch(struct srv *s, const struct pollfd *fds, size_t n);
/* srv_watch(fds, n), then srv_run_once: one wait for the servers and the other client.
 * Where the sockets cannot be watched, the wait is cut to SRV_WATCH_LOOK_MS, so the
 * client's answer waits that long at worst. */
#define SRV_WATCH_LOOK_MS 10
int srv_run_watching(struct srv *s, const struct pollfd *fds, size_t n, int timeout_ms);
/* The client is about to close fd: its watch ends now, before the number can come back
 * as another socket (a watch holds a copy, which would keep the old one alive). */
void srv_watch_forget(struct srv *s, int fd);
/* Milliseconds until the server's earliest timer (a connection's deadline, pacing,
 * a WebSocket's re-issue), rounded up; -1 when none is set. A loop that waits on
 * more than this server can bound its wait with it instead of a fixed tick. */
int srv_next_timer_ms(struct srv *s);
/* Forces paced serving for a peer IP (e.g. after an ack 404 seen elsewhere). */
/* (Whole-body downloads only; paced = 0 removes the mark. No effect with SRV_PACE_FAST;
 * SRV_PACE_SLOW paces every whole body anyway. peer_ip is an IPv4 text address.) */
void srv_set_paced(struct srv *s, const char *peer_ip, int paced);
/* The device stage 1 provisioned (GET /device: id and factory apikey, §1.2): its
 * sessions' events say trusted = 1 (lib/cloud_fsm.h cloud_trust). No effect without a
 * cloud. 0, or -1 (malformed, too many, or before srv_set_files of a files_later
 * server, which builds the cloud afresh). */
int srv_trust(struct srv *s, const char *deviceid, const char *factory_apikey);
/* The port a listener really uses: which = "http", "https", "plain" or "final". Useful when
 * a port of 0 was configured (the kernel picks a free one). 0 if not listening. */
int srv_port(const struct srv *s, const char *which);
/* 1 once the TLS certificate (generated while the server starts) is ready, so a
 * handshake would not wait for it; callers hold back what makes a device call. */
int srv_tls_ready(struct srv *s);
/* Stops listening and frees everything; accepts NULL. Not from inside the event callback. */
void srv_destroy(struct srv *s);

#endif
