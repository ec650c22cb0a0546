/* srv_conn.h - the one connection struct of every listener (file server, FinalStage
 * vhost, TLS cloud, legacy plain cloud; the DIY callback is a route of the file
 * listeners), in the spirit of mongoose's single mg_connection: what every
 * connection has (peer, limit slot via srv_adopt, input buffer and its head
 * reading, request deadline, keep-alive, the state) plus a small per-route part.
 * The request router (srv_route_pick) chooses a route from listener + method +
 * path; the routes' handlers stay in cloud.c, cloud_ws.c and fileserv.c.
 * Not for other modules: they use server.h. */
#ifndef SONOTA_SRV_CONN_H
#define SONOTA_SRV_CONN_H

#include "lib/ewl_msg.h"
#include "lib/http_head.h"
#include "sonota/cloud.h"
#include "sonota/fileserv.h"
#include "sonota/srv_priv.h"

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

/* Input kept per connection. The cloud keeps one request head, or a head's
 * dispatch body, or one WebSocket frame (14 header bytes + 2 KiB) and whatever
 * followed it; the file server only a head (in_cap = SO_HTTP_HEAD_MAX). */
#define SRV_CONN_IN_MAX (SO_HTTP_HEAD_MAX + EWL_JSON_MAX + 64)
#define FS_POST_MAX 4096        /* DIY result body (§6): larger is 413 */

/* Which listener accepted the connection. */
enum srv_listener {
    SRV_LISTENER_FILES,         /* http_port: files + DIY result */
    SRV_LISTENER_FINAL,         /* srv_listen_final: the same, on the FinalStage address */
    SRV_LISTENER_CLOUD,         /* https_port (TLS) or plain_port (legacy) */
};

/* One state for every route. */
enum srv_conn_state {
    SC_HEAD,    /* reading a request head (or idle between requests) */
    SC_BODY,    /* reading a request body (dispatch JSON, DIY result) */
    SC_SEND,    /* files: writing a reply */
    SC_FLUSH,   /* files: reply written; waiting until the peer's TCP acknowledged it */
    SC_LINGER,  /* files: closing reply delivered, our side shut down: reading and
                   dropping what the peer still sends, then close (SRV_CLOSE_LINGER_MS) */
    SC_WS,      /* cloud: WebSocket frames */
    SC_CLOSING, /* cloud: input ignored; close once the queue is written and acknowledged */
};

/* One cloud write: an HTTP reply or one WebSocket frame, LWS_PRE bytes before data. */
struct cc_out {
    unsigned char *buf;
    size_t len;
    int frame;                      /* a WebSocket frame (else an HTTP reply) */
};

struct ws_conn;

struct srv_conn {
    /* ---- every connection ---- */
    struct srv *srv;                /* NULL: not adopted, or closed */
    char peer[SRV_PEER_MAX];        /* "ip:port" */
    char ip[SRV_IP_MAX];
    enum srv_listener listener;
    int final_listener;             /* listener == SRV_LISTENER_FINAL (event field) */
    enum srv_conn_state st;
    int keep_alive;                 /* of the request being answered */
    char *in;                       /* grown on demand up to in_cap (srv_conn_take) */
    size_t in_len, in_cap, in_alloc;
    uint64_t req_deadline;          /* monotonic: head or body must be complete; 0 = none */
    uint64_t timer_at;              /* monotonic: when the armed lws timer fires; 0 = none */
    unsigned drain_checks;          /* looks at unacknowledged bytes for this reply */
    /* ---- the route's part ---- */
    union {
        struct { /* cloud: dispatch, WebSocket (cloud.c, cloud_ws.c) */
            int replying;           /* an HTTP reply is queued: hold further input */
            int close_after;        /* close once the queue is written and acknowledged */
            int lws_timeout_set;    /* TLS: lws's own timeout to clear after the accept */
            int tls_ready;          /* TLS: the handshake is done (clear lws's timeout) */
            size_t body_need;       /* SC_BODY */
            uint64_t idle_deadline; /* monotonic: keep-alive idle (no byte of a request) */
            uint64_t close_deadline;/* monotonic: SC_CLOSING gives up waiting for ACKs */
            uint64_t drain_next;    /* monotonic: next look whether the peer ACKed all */
            struct cc_out q[CLOUD_WS_QUEUE_MAX + 2]; /* + a close frame, + a pong */
            size_t qh, qn;
            uint64_t last_write_ms; /* monotonic */
            int rx_since_write;     /* the device sent bytes after our last write */
            uint64_t progress_ms;   /* monotonic: last write, or when the queue filled */
            struct ws_conn *ws;
        };
        struct { /* files: GET/HEAD with Range, DIY result POST (fileserv.c) */
            int discard;            /* a closing reply is under way: input is dropped */
            uint64_t body_left;     /* POST body */
            char *body;             /* FS_POST_MAX + 1, allocated by the DIY route only */
            size_t body_len;
            char head[FS_HEAD_OUT_MAX];
            size_t head_len;        /* head not sent yet (0 once sent) */
            size_t head_off;        /* of it, bytes the socket already took */
            int file;               /* -1: no file body */
            const unsigned char *body_src; /* small non-file bodies */
            uint64_t first, pos, end; /* file bytes [first, end), next = pos */
            int paced, whole, head_only;
            int track;
            int lead_done;
            int done_pending;       /* this reply completed the file's coverage */
            uint64_t tx_total;      /* bytes the socket took on this connection */
            uint64_t reply_start;   /* tx_total when this reply's head was written */
            size_t head_sent;       /* head bytes of this reply */
            int unconfirmed;        /* SC_HEAD: the last file reply may be unacknowledged */
            uint64_t active_ms;     /* monotonic: last byte read or written (idle, stall) */
            uint64_t due_ms;        /* monotonic: SC_SEND paced write, SC_FLUSH look at
                                     * the ACKs, SC_LINGER close; 0 = none */
        };
    };
};

/* At LWS_CALLBACK_RAW_ADOPT: resets c, notes the server, the listener, the peer and
 * the input capacity, and ties the limit slot to the wsi (srv_adopt). Returns 0,
 * 1 when the connection was let through over a limit (it gets a 503), or -1. */
int srv_conn_adopt(struct lws *wsi, struct srv_conn *c);

/* Appends input. Returns the bytes taken (less than len when in_cap is reached, 0
 * out of memory). The buffer grows with what arrives: most requests and frames are
 * a few hundred bytes, and 500 devices' connections each holding in_cap would be
 * megabytes. */
size_t srv_conn_take(struct srv_conn *c, const void *in, size_t len);
/* At LWS_CALLBACK_RAW_CLOSE: the input buffer. */
void srv_conn_free_input(struct srv_conn *c);
/* Drops the first n bytes of the input. */
void srv_conn_consume(struct srv_conn *c, size_t n);

/* The one head reader: parses the request head at the start of c->in. SO_OK: h is
 * complete (views into c->in; the caller consumes h->head_len), the request
 * deadline is cleared and keep_alive is the request's. SO_AGAIN: not complete yet.
 * Else a malformed (400) or oversized (431) head: *code, *reason and *what say so. */
enum so_err srv_conn_read_head(struct srv_conn *c, struct so_http_head *h, int *code,
                               const char **reason, const char **what);

/* Arms the connection's timer for the monotonic time at (0: nothing to arm), unless
 * it is armed to fire no later. lws keeps timers in a sorted list, one walk over every
 * connection's timer per arming; a connection re-arming on each request made that
 * walk a tenth of the server's CPU with 100 devices. A later deadline is instead
 * found when the earlier timer fires: the handler must call srv_conn_fired() first,
 * tolerate finding nothing due, and arm its next deadline again. */
void srv_conn_arm(struct lws *wsi, struct srv_conn *c, uint64_t at);
/* At LWS_CALLBACK_TIMER: the armed timer is spent. */
void srv_conn_fired(struct srv_conn *c);

/* The request deadline: the head (or body) must be complete ms from now. */
void srv_conn_deadline(struct srv_conn *c, uint64_t ms);
/* Called before input is taken: the first byte of a request (on a new connection's
 * clock-less state or after a keep-alive pause) starts the head's deadline
 * (SRV_HEAD_TIMEOUT_MS, slowloris). Returns 1 when it did. */
int srv_conn_request_starts(struct srv_conn *c);
/* While a head or body is read: NULL before the request deadline (or without one),
 * else the 408's detail. */
const char *srv_conn_overdue(const struct srv_conn *c, uint64_t now);

/* The routes of a request (srv_route_pick). */
enum srv_route {
    SRV_ROUTE_REFUSE,           /* answer code/reason (+ extra headers) and close/keep */
    SRV_ROUTE_FILE,             /* files: GET/HEAD /ota/<name> (file: its index) */
    SRV_ROUTE_DIY_RESULT,       /* files: POST /api/device/otaFlash, body follows */
    SRV_ROUTE_DISPATCH,         /* cloud: POST /dispatch/device, body follows */
    SRV_ROUTE_WS_UPGRADE,       /* cloud: GET /api/ws with Upgrade */
};

struct srv_route_pick {
    enum srv_route route;
    int code;                   /* SRV_ROUTE_REFUSE */
    const char *reason;
    const char *extra;          /* extra header lines, or NULL */
    const char *what;           /* detail instead of "METHOD target", or NULL */
    int close;                  /* close after the refusal even if kept alive */
    int file;                   /* SRV_ROUTE_FILE */
    int has_len;                /* the request's framing (srv_http_framing) */
    uint64_t clen;
};

/* The one router: the route of a parsed request from the listener, the method, the
 * path, Upgrade and the framing (refusals included: 400, 404, 405, 411, 413, 426). */
void srv_route_pick(const struct srv_conn *c, const struct so_http_head *h,
                    struct srv_route_pick *r);

/* The one refusal: REJECTED event ("<code> <what>"; file: the file it named, or -1)
 * and a debug line, then the head of the short reply into buf ("Connection" from
 * c->keep_alive; extra: more header lines). Returns the head's length, 0 if it did
 * not fit. The caller sends the head and body_len bytes of body its own way. */
size_t srv_conn_refuse(struct srv_conn *c, char *buf, size_t cap, int code,
                       const char *reason, const char *what, int file, const char *extra,
                       size_t body_len);
/* The head of any short reply (also a refusal's): status, extra lines, type,
 * length, Connection. Returns its length, 0 if it did not fit. */
size_t srv_conn_reply_head(const struct srv_conn *c, char *buf, size_t cap, int code,
                           const char *reason, const char *ctype, size_t body_len,
                           const char *extra);

#endif
