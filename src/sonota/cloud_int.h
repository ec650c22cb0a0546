/* cloud_int.h - what cloud.c (connections, HTTP, dispatch) and cloud_ws.c
 * (WebSocket handshake, frames, session) share; the connection itself is a
 * struct srv_conn (srv_conn.h). Not for other modules. */
#ifndef SONOTA_CLOUD_INT_H
#define SONOTA_CLOUD_INT_H

#include "lib/cloud_fsm.h"
#include "lib/ewl_msg.h"
#include "lib/http_head.h"
#include "sonota/cloud.h"
#include "sonota/srv_conn.h"

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct ws_conn {
    struct cloud_sess sess;
    char msg[EWL_JSON_MAX + 1];     /* a fragmented text message being put together */
    size_t msg_len;
    int in_msg;                     /* a message's first fragment came, its last not yet */
    uint64_t opened_ms;             /* monotonic: the handshake */
    uint64_t last_rx_ms;            /* monotonic: any byte from the device */
};

/* ---- cloud.c ---- */
/* Queues one write (copied); gap-spaced from the previous one. -1 when the queue
 * is full (the caller decides) or out of memory. */
int cc_queue(struct lws *wsi, struct srv_conn *c, const void *data, size_t n, int frame);
/* Drops the queued WebSocket frames not written yet (HTTP replies stay). */
void cc_drop_frames(struct srv_conn *c);
/* Refuses a request: REJECTED event, a short text reply, close after it. */
void cc_http_error(struct lws *wsi, struct srv_conn *c, int code, const char *reason,
                   const char *what, const char *extra_headers);
/* Computes and sets the connection's next timer. */
void cc_arm_timer(struct lws *wsi, struct srv_conn *c);
/* No more input is looked at; the connection closes once its queue is written. */
void cc_begin_close(struct srv_conn *c);
/* The address we tell the device: the configured one, else the one it reached. */
void cc_our_ip(struct lws *wsi, const struct srv *s, char *ip, size_t cap);
/* Emits a server event for this connection. */
void cc_emit(struct srv_conn *c, enum srv_event_type t, const struct cloud_sess *sess,
             int error, int paced, const char *detail);

/* ---- cloud_ws.c ---- */
/* GET /api/ws with Upgrade: checks the handshake (RFC 6455 §4.2.1), queues the 101
 * and opens the session; or refuses with 400/426. */
int cws_handshake(struct lws *wsi, struct srv_conn *c, const struct so_http_head *h);
/* Decodes and handles the complete frames in c->in. -1 to close at once. */
int cws_process(struct lws *wsi, struct srv_conn *c);
/* Timer duties: register deadline, idle, re-issue. -1 to close at once. */
int cws_timer(struct lws *wsi, struct srv_conn *c, uint64_t now);
/* The earliest monotonic time cws_timer has something to do (0 = nothing). */
uint64_t cws_next_deadline(const struct srv_conn *c);
/* Sends a close frame with this code and reason, then closes; REJECTED event
 * (code >= 1002) with the reason. */
void cws_fail(struct lws *wsi, struct srv_conn *c, int code, const char *reason);
/* The connection is gone: WS_CLOSED event, session end, frees c->ws. */
void cws_closed(struct srv_conn *c);

#endif
