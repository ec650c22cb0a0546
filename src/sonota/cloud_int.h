/* cloud_int.h - what cloud.c (connections, HTTP, dispatch) and cloud_ws.c
 * (WebSocket handshake, frames, session) share. Not for other modules. */
#ifndef SONOTA_CLOUD_INT_H
#define SONOTA_CLOUD_INT_H

#include "lib/cloud_fsm.h"
#include "lib/ewl_msg.h"
#include "lib/http_head.h"
#include "sonota/cloud.h"
#include "sonota/srv_priv.h"

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

/* Input kept per connection: one request head, or a head's dispatch body, or one
 * WebSocket frame (14 header bytes + 2 KiB) and whatever followed it. */
#define CLOUD_IN_MAX (SO_HTTP_HEAD_MAX + EWL_JSON_MAX + 64)

enum cc_state {
    CC_HEAD,    /* reading a request head (or idle between requests) */
    CC_BODY,    /* reading a dispatch body of body_need bytes */
    CC_WS,      /* WebSocket frames */
    CC_CLOSING, /* input ignored; close once the queue is written and acknowledged */
};

/* One write: an HTTP reply or one WebSocket frame, LWS_PRE bytes before data. */
struct cc_out {
    unsigned char *buf;
    size_t len;
    int frame;                      /* a WebSocket frame (else an HTTP reply) */
};

struct ws_conn {
    struct dev_session sess;
    char msg[EWL_JSON_MAX + 1];     /* a fragmented text message being put together */
    size_t msg_len;
    int in_msg;                     /* a message's first fragment came, its last not yet */
    uint64_t opened_ms;             /* monotonic: the handshake */
    uint64_t last_rx_ms;            /* monotonic: any byte from the device */
};

struct cconn {
    struct srv *srv;
    char peer[SRV_PEER_MAX];
    char ip[SRV_IP_MAX];
    enum cc_state st;
    int keep_alive;                 /* of the request being answered */
    int replying;                   /* an HTTP reply is queued: hold further input */
    int close_after;                /* close once the queue is written and acknowledged */
    int lws_timeout_set;            /* TLS: lws's own timeout to clear after the accept */
    int tls_ready;                  /* TLS: the handshake is done (clear lws's timeout) */
    char in[CLOUD_IN_MAX];
    size_t in_len;
    size_t body_need;               /* CC_BODY */
    uint64_t req_deadline;          /* monotonic: head or body must be complete */
    uint64_t idle_deadline;         /* monotonic: keep-alive idle (no byte of a request) */
    uint64_t close_deadline;        /* monotonic: CC_CLOSING gives up waiting for ACKs */
    uint64_t drain_next;            /* monotonic: next look whether the peer ACKed all */
    unsigned drain_checks;          /* looks so far (the next waits twice as long) */
    struct cc_out q[CLOUD_WS_QUEUE_MAX + 2]; /* + a close frame, + a pong */
    size_t qh, qn;
    uint64_t last_write_ms;         /* monotonic */
    int rx_since_write;             /* the device sent bytes after our last write */
    uint64_t progress_ms;           /* monotonic: last write, or when the queue filled */
    struct ws_conn *ws;
};

/* ---- cloud.c ---- */
/* Queues one write (copied); gap-spaced from the previous one. -1 when the queue
 * is full (the caller decides) or out of memory. */
int cc_queue(struct lws *wsi, struct cconn *c, const void *data, size_t n, int frame);
/* Drops the queued WebSocket frames not written yet (HTTP replies stay). */
void cc_drop_frames(struct cconn *c);
/* Refuses a request: REJECTED event, a short text reply, close after it. */
void cc_http_error(struct lws *wsi, struct cconn *c, int code, const char *reason,
                   const char *what, const char *extra_headers);
/* Computes and sets the connection's next timer. */
void cc_arm_timer(struct lws *wsi, struct cconn *c);
/* No more input is looked at; the connection closes once its queue is written. */
void cc_begin_close(struct cconn *c);
/* Drops the first n bytes of c->in. */
void cc_consume(struct cconn *c, size_t n);
/* The address we tell the device: the configured one, else the one it reached. */
void cc_our_ip(struct lws *wsi, const struct srv *s, char *ip, size_t cap);
/* Emits a server event for this connection. */
void cc_emit(struct cconn *c, enum srv_event_type t, const struct dev_session *sess,
             int error, int paced, const char *detail);

/* ---- cloud_ws.c ---- */
/* GET /api/ws with Upgrade: checks the handshake (RFC 6455 §4.2.1), queues the 101
 * and opens the session; or refuses with 400/426. */
int cws_handshake(struct lws *wsi, struct cconn *c, const struct so_http_head *h);
/* Decodes and handles the complete frames in c->in. -1 to close at once. */
int cws_process(struct lws *wsi, struct cconn *c);
/* Timer duties: register deadline, idle, re-issue. -1 to close at once. */
int cws_timer(struct lws *wsi, struct cconn *c, uint64_t now);
/* The earliest monotonic time cws_timer has something to do (0 = nothing). */
uint64_t cws_next_deadline(const struct cconn *c);
/* Sends a close frame with this code and reason, then closes; REJECTED event
 * (code >= 1002) with the reason. */
void cws_fail(struct lws *wsi, struct cconn *c, int code, const char *reason);
/* The connection is gone: WS_CLOSED event, session end, frees c->ws. */
void cws_closed(struct cconn *c);

#endif
