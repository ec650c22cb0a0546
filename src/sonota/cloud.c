/* cloud.c - the cloud's connections: input buffering, the write queue, timers and
 * limits, strict HTTP/1.x (lib/http_head) and POST /dispatch/device (PROTOCOL.md
 * §1.3). The WebSocket side is in cloud_ws.c. */
#include "sonota/cloud.h"

#include "io/log.h"
#include "io/tls.h"
#include "sonota/cloud_int.h"
#include "plat/net.h"

#include <cJSON.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPATCH_REPLY_MAX 512

void cc_emit(struct srv_conn *c, enum srv_event_type t, const struct cloud_sess *sess,
             int error, int paced, const char *detail)
{
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.peer = c->peer;
    if (sess && sess->deviceid[0]) {
        ev.deviceid = sess->deviceid;
        ev.model = sess->model[0] ? sess->model : NULL;
        ev.rom_version = sess->rom_version[0] ? sess->rom_version : NULL;
        ev.ident = sess->ident;
        ev.trusted = sess->trusted;
    }
    ev.error = error;
    ev.paced = paced;
    ev.detail = detail;
    srv_emit(c->srv, &ev);
}

void cc_our_ip(struct lws *wsi, const struct srv *s, char *ip, size_t cap)
{
    if (s->serving_ip[0] || srv_local_ip(wsi, ip, cap) != 0)
        snprintf(ip, cap, "%s", s->serving_ip[0] ? s->serving_ip : "0.0.0.0");
}

/* ---- output: one queued item per write, spaced by CLOUD_WS_FRAME_GAP_MS ---- */

int cc_queue(struct lws *wsi, struct srv_conn *c, const void *data, size_t n, int frame)
{
    if (c->qn == sizeof c->q / sizeof c->q[0] || n > CLOUD_WRITE_MAX)
        return -1;
    unsigned char *b = malloc(LWS_PRE + n);
    if (!b)
        return -1;
    memcpy(b + LWS_PRE, data, n);
    if (!c->qn)
        c->progress_ms = srv_mono_ms();
    struct cc_out *o = &c->q[(c->qh + c->qn++) % (sizeof c->q / sizeof c->q[0])];
    o->buf = b;
    o->len = n;
    o->frame = frame;
    lws_callback_on_writable(wsi);
    return 0;
}

void cc_drop_frames(struct srv_conn *c)
{
    size_t cap = sizeof c->q / sizeof c->q[0], kept = 0;
    for (size_t i = 0; i < c->qn; i++) {
        struct cc_out o = c->q[(c->qh + i) % cap];
        if (o.frame)
            free(o.buf);
        else
            c->q[(c->qh + kept++) % cap] = o;
    }
    c->qn = kept;
}

static void queue_free(struct srv_conn *c)
{
    size_t cap = sizeof c->q / sizeof c->q[0];
    while (c->qn) {
        free(c->q[c->qh].buf);
        c->q[c->qh].buf = NULL;
        c->qh = (c->qh + 1) % cap;
        c->qn--;
    }
}

void cc_begin_close(struct srv_conn *c)
{
    c->close_after = 1;
    c->st = SC_CLOSING;
    c->in_len = 0;
}

void cc_http_error(struct lws *wsi, struct srv_conn *c, int code, const char *reason,
                   const char *what, const char *extra_headers)
{
    c->keep_alive = 0; /* every refusal of the cloud closes */
    char buf[512];
    size_t blen = strlen(reason) + 1;
    size_t n = srv_conn_refuse(c, buf, sizeof buf, code, reason, what, -1, extra_headers,
                               blen);
    if (n && n + blen < sizeof buf) {
        snprintf(buf + n, sizeof buf - n, "%s\n", reason);
        cc_queue(wsi, c, buf, n + blen, 0);
    }
    c->replying = 1;
    cc_begin_close(c);
}

/* ---- dispatch (§1.3) ---- */

static void salvage_str(const cJSON *o, const char *key, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(it) && it->valuestring)
        snprintf(dst, cap, "%s", it->valuestring);
}

/* The identifying strings of a dispatch body the strict parser refused. */
static void salvage(const char *body, size_t n, struct ewl_dispatch_req *req)
{
    memset(req, 0, sizeof *req);
    cJSON *j = cJSON_ParseWithLength(body, n);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return;
    }
    salvage_str(j, "deviceid", req->deviceid, sizeof req->deviceid);
    salvage_str(j, "model", req->model, sizeof req->model);
    salvage_str(j, "romVersion", req->rom_version, sizeof req->rom_version);
    cJSON_Delete(j);
}

/* Builds the whole reply (status line, headers, JSON) for one write: the device
 * looks for "HTTP/1.1 200 OK\r\n", the blank line and the {...} in what it got.
 * The body is answered even when not understood: we are the only cloud it reaches. */
static int dispatch_reply(struct lws *wsi, struct srv_conn *c, const char *body, size_t blen)
{
    struct srv *s = c->srv;
    struct ewl_dispatch_req req;
    memset(&req, 0, sizeof req);
    enum so_err pe = ewl_parse_dispatch_req(body, blen, &req);
    if (pe != SO_OK) {
        salvage(body, blen, &req);
        LOG_W("cloud %s: dispatch body not understood (%s): %.*s", c->peer,
              so_strerror(pe), (int)(blen > 300 ? 300 : blen), body);
    }
    struct ewl_dispatch_reply r;
    memset(&r, 0, sizeof r);
    cc_our_ip(wsi, s, r.ip, sizeof r.ip);
    r.port = lws_get_vhost_listen_port(lws_get_vhost(wsi));
    char *json = ewl_build_dispatch_reply(&r);
    if (!json)
        return -1;
    char buf[DISPATCH_REPLY_MAX];
    size_t jl = strlen(json);
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 200 OK\r\nServer: sonota\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s", jl,
                     c->keep_alive ? "" : "Connection: close\r\n", json);
    free(json);
    if (n <= 0 || (size_t)n >= sizeof buf || cc_queue(wsi, c, buf, (size_t)n, 0))
        return -1;
    c->replying = 1;
    if (!c->keep_alive)
        cc_begin_close(c);

    struct cloud_sess info;
    memset(&info, 0, sizeof info);
    snprintf(info.deviceid, sizeof info.deviceid, "%s", req.deviceid);
    snprintf(info.model, sizeof info.model, "%s", req.model);
    snprintf(info.rom_version, sizeof info.rom_version, "%s", req.rom_version);
    char detail[120];
    snprintf(detail, sizeof detail, "sent IP %s port %d%s", r.ip, r.port,
             pe != SO_OK ? " (request body not understood)" : "");
    LOG_D("cloud %s: dispatch from %s (%s, rom %s): %s", c->peer,
          req.deviceid[0] ? req.deviceid : "?", req.model, req.rom_version, detail);
    cc_emit(c, SRV_EV_DISPATCH, &info, 0, 0, detail);
    return 0;
}

/* ---- HTTP requests ---- */

/* Handles one parsed head (views into c->in, consumed by the caller afterwards)
 * by its route (srv_route_pick). */
static int on_request(struct lws *wsi, struct srv_conn *c, const struct so_http_head *h)
{
    struct srv_route_pick r;
    srv_route_pick(c, h, &r);
    switch (r.route) {
    case SRV_ROUTE_WS_UPGRADE:
        return cws_handshake(wsi, c, h);
    case SRV_ROUTE_DISPATCH:
        c->body_need = (size_t)r.clen;
        c->st = SC_BODY;
        srv_conn_deadline(c, SRV_BODY_TIMEOUT_MS);
        return 0;
    default: { /* a refusal (the file routes are not on this listener) */
        char what[200];
        if (!r.what)
            srv_http_what(h, what, sizeof what);
        cc_http_error(wsi, c, r.code, r.reason, r.what ? r.what : what, r.extra);
        return 0;
    }
    }
}

/* Works through buffered input as far as the state allows. -1 to close at once. */
static int process(struct lws *wsi, struct srv_conn *c)
{
    for (;;) {
        switch (c->st) {
        case SC_CLOSING:
        case SC_SEND: /* the file routes' states: never on a cloud connection */
        case SC_FLUSH:
        case SC_LINGER:
            c->in_len = 0;
            return 0;
        case SC_WS:
            return cws_process(wsi, c);
        case SC_BODY: {
            if (c->in_len < c->body_need)
                return 0;
            size_t n = c->body_need;
            c->st = SC_HEAD;
            c->req_deadline = 0;
            if (dispatch_reply(wsi, c, c->in, n))
                return -1;
            if (c->st != SC_CLOSING)
                srv_conn_consume(c, n);
            continue;
        }
        case SC_HEAD: {
            if (c->replying || !c->in_len)
                return 0;
            struct so_http_head h;
            int code;
            const char *reason, *what;
            enum so_err e = srv_conn_read_head(c, &h, &code, &reason, &what);
            if (e == SO_AGAIN)
                return 0;
            if (e != SO_OK) {
                cc_http_error(wsi, c, code, reason, what, NULL);
                continue;
            }
            size_t used = h.head_len;
            if (on_request(wsi, c, &h))
                return -1;
            if (c->st != SC_CLOSING)
                srv_conn_consume(c, used);
            continue;
        }
        }
        return 0;
    }
}

static int on_rx(struct lws *wsi, struct srv_conn *c, const char *in, size_t len)
{
    c->rx_since_write = 1;
    uint64_t now = srv_mono_ms();
    if (c->st == SC_CLOSING)
        return 0;
    if (c->ws)
        c->ws->last_rx_ms = now;
    if (srv_conn_request_starts(c)) /* the first byte after an idle keep-alive pause */
        c->idle_deadline = 0;
    while (len) {
        size_t n = srv_conn_take(c, in, len);
        if (!n) { /* input piles up while a reply is held back */
            LOG_D("cloud %s: too much input ahead of our reply; closing", c->peer);
            return -1;
        }
        in += n;
        len -= n;
        if (process(wsi, c))
            return -1;
        if (c->st == SC_CLOSING)
            break;
    }
    cc_arm_timer(wsi, c);
    return 0;
}

/* ---- writing, closing, timers ---- */

/* The queue is empty and close_after is set: close once the peer's TCP has
 * acknowledged everything, or after SRV_CLOSE_LINGER_MS. */
static int flush_then_close(struct lws *wsi, struct srv_conn *c)
{
    uint64_t now = srv_mono_ms();
    if (!c->close_deadline)
        c->close_deadline = now + SRV_CLOSE_LINGER_MS;
    if (!srv_unacked(wsi) || now >= c->close_deadline)
        return -1;
    c->drain_next = now + srv_drain_delay_ms(wsi, c->drain_checks++);
    cc_arm_timer(wsi, c);
    return 0;
}

/* Only frames written back to back can share a TCP packet: once the device has sent
 * something after our last write (it answered it), the next frame goes out at once. */
static int needs_gap(const struct srv_conn *c)
{
    return c->last_write_ms && !c->rx_since_write;
}

static int on_writable(struct lws *wsi, struct srv_conn *c)
{
    if (!c->qn)
        return c->close_after ? flush_then_close(wsi, c) : 0;
    uint64_t now = srv_mono_ms();
    if (needs_gap(c) && now < c->last_write_ms + CLOUD_WS_FRAME_GAP_MS) {
        cc_arm_timer(wsi, c);
        return 0;
    }
    size_t cap = sizeof c->q / sizeof c->q[0];
    struct cc_out o = c->q[c->qh];
    c->q[c->qh].buf = NULL;
    c->qh = (c->qh + 1) % cap;
    c->qn--;
    /* One frame or reply per write (§1.4): lws sends it whole or keeps the rest
     * and finishes it before the next writable callback. */
    int wr = lws_write(wsi, o.buf + LWS_PRE, o.len, LWS_WRITE_RAW);
    free(o.buf);
    if (wr < (int)o.len)
        return -1;
    c->last_write_ms = now;
    c->rx_since_write = 0;
    c->progress_ms = now;
    if (c->qn) {
        cc_arm_timer(wsi, c);
        return 0;
    }
    if (c->close_after) {
        if (lws_partial_buffered(wsi)) { /* lws sends the rest at the next POLLOUT */
            lws_callback_on_writable(wsi);
            return 0;
        }
        return flush_then_close(wsi, c);
    }
    if (c->replying && (c->st == SC_HEAD || c->st == SC_BODY)) {
        /* An HTTP reply went out: keep-alive idle, then any pipelined request. */
        c->replying = 0;
        c->req_deadline = 0;
        c->idle_deadline = now + SRV_IDLE_TIMEOUT_MS;
        if (c->in_len) {
            c->req_deadline = now + SRV_HEAD_TIMEOUT_MS;
            c->idle_deadline = 0;
            if (process(wsi, c))
                return -1;
        }
    }
    cc_arm_timer(wsi, c);
    return 0;
}

void cc_arm_timer(struct lws *wsi, struct srv_conn *c)
{
    uint64_t now = srv_mono_ms(), next = 0;
#define CONSIDER(t) do { uint64_t t_ = (t); if (t_ && (!next || t_ < next)) next = t_; } while (0)
    if (c->st == SC_HEAD || c->st == SC_BODY) {
        CONSIDER(c->req_deadline);
        CONSIDER(c->in_len ? 0 : c->idle_deadline);
    }
    if (c->st == SC_WS)
        CONSIDER(cws_next_deadline(c));
    if (c->qn) {
        CONSIDER(c->progress_ms + SRV_SEND_STALL_MS);
        if (needs_gap(c))
            CONSIDER(c->last_write_ms + CLOUD_WS_FRAME_GAP_MS);
    }
    if (c->close_after && !c->qn)
        CONSIDER(c->drain_next ? c->drain_next : now + 1);
    /* Once, right after the handshake: lws armed its own timeout then (on_ssl_info).
     * Not while the handshake is under way: lws's accept timeout and req_deadline
     * end a silent peer then, one event each, and it costs nothing till then. */
    if (c->lws_timeout_set && c->tls_ready)
        CONSIDER(now + 1);
#undef CONSIDER
    srv_conn_arm(wsi, c, next); /* a timer armed earlier stays: on_timer re-arms */
}

static int tls_pending(struct lws *wsi)
{
    SSL *ssl = lws_get_ssl(wsi);
    return ssl && !SSL_is_init_finished(ssl);
}

static int on_timer(struct lws *wsi, struct srv_conn *c)
{
    srv_conn_fired(c);
    uint64_t now = srv_mono_ms();
    if (c->lws_timeout_set && !tls_pending(wsi)) {
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        c->lws_timeout_set = 0;
    }
    if (c->close_after && !c->qn)
        return flush_then_close(wsi, c);
    if (c->qn && now >= c->progress_ms + SRV_SEND_STALL_MS) {
        LOG_D("cloud %s: the peer reads nothing for %d s; closing", c->peer,
              SRV_SEND_STALL_MS / 1000);
        return -1;
    }
    const char *late = srv_conn_overdue(c, now);
    if (late) {
        if (tls_pending(wsi)) /* lws's accept timeout handles a stuck handshake */
            return -1;
        cc_http_error(wsi, c, 408, "Request Timeout", late, NULL);
    } else if (c->st == SC_HEAD && !c->in_len && c->idle_deadline && now >= c->idle_deadline) {
        LOG_D("cloud %s: idle for %d s; closing", c->peer, SRV_IDLE_TIMEOUT_MS / 1000);
        return -1;
    } else if (c->st == SC_WS) {
        if (cws_timer(wsi, c, now))
            return -1;
    }
    if (c->qn)
        lws_callback_on_writable(wsi);
    cc_arm_timer(wsi, c);
    return 0;
}

/* ---- TLS diagnostics (§2) ---- */

static void emit_tls(struct srv *s, const char *peer, int error, int cert_refused,
                     const char *detail)
{
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SRV_EV_TLS_CLIENT;
    ev.peer = peer;
    ev.error = error;
    ev.tls_cert_refused = cert_refused;
    ev.detail = detail;
    srv_emit(s, &ev);
}

/* A handshake that ended before it was done. Pinning firmware (>= 1.6) receives our
 * certificate and then sends a certificate alert or just closes (§2, S#58); a refusal of
 * ours (no shared suite or version) comes before our certificate, and a bare
 * connect-and-close sends no ClientHello, so neither counts as pinning. */
static void report_failure(struct srv *s, const char *peer, SSL *ssl, const struct lws_ssl_info *si)
{
    int client_alert = (si->where & SSL_CB_ALERT) && (si->where & SSL_CB_READ);
    int code = (si->where & SSL_CB_ALERT) ? si->ret & 0xff : 0;
    int eof = so_tls_failed_on_eof();
    if (!(si->where & SSL_CB_ALERT) && !eof)
        return; /* an exit that is only "want more bytes" */
    if (!so_tls_first_report(ssl))
        return;
    int refused = so_tls_cert_sent(ssl) &&
                  (client_alert ? so_tls_alert_refuses_cert(code) : eof);
    char hello[120] = "", what[120], detail[320];
    unsigned ver, nc;
    int aes;
    if (so_tls_hello_info(ssl, &ver, &nc, &aes))
        snprintf(hello, sizeof hello, "; ClientHello 0x%04x, %u suites%s", ver, nc,
                 aes ? ", AES128-SHA offered" : "");
    else
        snprintf(hello, sizeof hello, "; no ClientHello");
    if (client_alert)
        snprintf(what, sizeof what, "the client sent alert %s",
                 SSL_alert_desc_string_long(si->ret));
    else if (eof)
        snprintf(what, sizeof what, "the client closed the connection%s",
                 so_tls_cert_sent(ssl) ? " after our certificate" : "");
    else
        snprintf(what, sizeof what, "we sent alert %s", SSL_alert_desc_string_long(si->ret));
    snprintf(detail, sizeof detail, "handshake failed: %s%s%s", what, hello,
             refused ? " (the device rejects our certificate: firmware >= 1.6 pins the "
                       "cloud certificate)" : "");
    LOG_D("tls %s: %s", peer, detail);
    /* On a close OpenSSL answers with decode_error: not worth reporting as the alert. */
    emit_tls(s, peer, !client_alert && eof ? -1 : code ? code : -1, refused, detail);
}

static void on_ssl_info(struct lws *wsi, const struct lws_ssl_info *si)
{
    struct srv *s = srv_of(wsi);
    SSL *ssl = lws_get_ssl(wsi);
    if (!s || !ssl)
        return;
    if (si->where & SSL_CB_LOOP) {
        so_tls_note_state(ssl);
        return;
    }
    char peer[SRV_PEER_MAX], ip[SRV_IP_MAX];
    /* The address noted at accept: a peer that has closed no longer has one. */
    const struct srv_conn *known = lws_wsi_user(wsi);
    if (known && known->srv && known->peer[0])
        snprintf(peer, sizeof peer, "%s", known->peer);
    else
        srv_peer_of(wsi, peer, sizeof peer, ip, sizeof ip);
    char detail[320];
    if (si->where & SSL_CB_HANDSHAKE_DONE) {
        so_tls_handshake_done(ssl);
        srv_tls_accept_check(s);
        if (!so_tls_first_report(ssl))
            return;
        /* The head timeout starts now. Right after this callback lws arms its
         * own "establish" timeout, meant for the h1 role: our timer clears it
         * (lws_timeout_set) once the accept has returned. */
        struct srv_conn *c = lws_wsi_user(wsi);
        if (c && c->srv) {
            if (c->st == SC_HEAD && !c->in_len)
                srv_conn_deadline(c, SRV_HEAD_TIMEOUT_MS);
            c->lws_timeout_set = 1;
            c->tls_ready = 1;
            cc_arm_timer(wsi, c);
        }
        so_tls_describe(ssl, detail, sizeof detail);
        LOG_D("tls %s: %s", peer, detail);
        emit_tls(s, peer, 0, 0, detail);
        return;
    }
    /* An alert during the handshake, or the handshake stopped (ACCEPT_EXIT): the
     * latter catches a close whose alert from our side could not be written. */
    if ((si->where & (SSL_CB_ALERT | SSL_CB_EXIT)) && !SSL_is_init_finished(ssl))
        report_failure(s, peer, ssl, si);
}

/* ---- the lws protocol ---- */

static int on_adopt(struct lws *wsi, struct srv_conn *c)
{
    /* admitted at LWS_CALLBACK_FILTER_NETWORK_CONNECTION (never let through over a
     * limit: can_refuse_later = 0); the slot follows the wsi */
    if (srv_conn_adopt(wsi, c) < 0)
        return -1;
    srv_conn_deadline(c, SRV_HEAD_TIMEOUT_MS);
    /* lws's accept timeout stays armed while TLS is under way (it is the handshake
     * timeout); once the connection is usable our own timers take over. */
    if (!tls_pending(wsi))
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    else
        c->lws_timeout_set = 1; /* cleared by on_timer after the handshake */
    cc_arm_timer(wsi, c);
    LOG_D("cloud %s: connected", c->peer);
    return 0;
}

int cloud_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                   void *in, size_t len)
{
    struct srv_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: {
        /* Our own certificate and the legacy profile on the TLS vhost's SSL_CTX. */
        struct srv *s = srv_of(wsi);
        if (!s || !s->cert)
            return 1;
        if (so_tls_server_setup((SSL_CTX *)user, s->cert, s->tls_err,
                                sizeof s->tls_err) != SO_OK)
            return 1;
        return 0;
    }
    case LWS_CALLBACK_SSL_INFO:
        on_ssl_info(wsi, in);
        return 0;
    case LWS_CALLBACK_RAW_ADOPT:
        return c ? on_adopt(wsi, c) : -1;
    case LWS_CALLBACK_RAW_RX:
        if (!c || !c->srv)
            return -1;
        return on_rx(wsi, c, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        return c && c->srv ? on_writable(wsi, c) : 0;
    case LWS_CALLBACK_TIMER:
        return c && c->srv ? on_timer(wsi, c) : 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (c && c->srv) {
            cws_closed(c);
            queue_free(c);
            srv_conn_free_input(c);
            c->srv = NULL;
        }
        return 0;
    default:
        return 0;
    }
}
