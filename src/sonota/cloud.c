#include "sonota/cloud.h"

#include "io/crypto.h"
#include "io/log.h"
#include "io/tls.h"
#include "lib/cloud_fsm.h"
#include "lib/ewl_msg.h"
#include "sonota/srv_priv.h"

#include <cJSON.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DISPATCH_REPLY_MAX 512

struct ws_conn {
    struct dev_session sess;
    char rx[EWL_JSON_MAX + 1];
    size_t rx_len;
    size_t rx_total;            /* bytes of the current message, kept or not */
    int rx_over;                /* current message exceeded EWL_JSON_MAX */
    char *q[CLOUD_WS_QUEUE_MAX];
    size_t qh, qn;
    int close_pending;
    uint64_t last_write_ms;     /* monotonic */
};

enum cconn_kind { CC_NONE, CC_HTTP, CC_WS };

struct cconn {
    struct srv *srv;
    enum cconn_kind kind;
    char peer[SRV_PEER_MAX];
    char ip[SRV_IP_MAX];
    /* dispatch */
    char body[EWL_JSON_MAX + 1];
    size_t body_len;
    int body_over;
    unsigned char *reply;       /* LWS_PRE + head + body */
    size_t reply_len;
    /* WebSocket */
    struct ws_conn *ws;
};

size_t cloud_pss_size(void)
{
    return sizeof(struct cconn);
}

static void emit(struct srv *s, enum srv_event_type t, const struct cconn *c,
                 const struct dev_session *sess, int error, int paced, const char *detail)
{
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.peer = c ? c->peer : NULL;
    if (sess && sess->deviceid[0]) {
        ev.deviceid = sess->deviceid;
        ev.model = sess->model[0] ? sess->model : NULL;
        ev.rom_version = sess->rom_version[0] ? sess->rom_version : NULL;
    }
    ev.error = error;
    ev.paced = paced;
    ev.detail = detail;
    srv_emit(s, &ev);
}

static void conn_init(struct lws *wsi, struct cconn *c, enum cconn_kind kind)
{
    if (c->srv && c->kind == kind)
        return;
    struct ws_conn *keep = c->ws;
    unsigned char *reply = c->reply;
    memset(c, 0, sizeof *c);
    c->ws = keep;
    c->reply = reply;
    c->srv = srv_of(wsi);
    c->kind = kind;
    srv_peer_of(wsi, c->peer, sizeof c->peer, c->ip, sizeof c->ip);
}

/* The address we tell the device: the configured one, else the one it reached. */
static void our_ip(struct lws *wsi, const struct srv *s, char *ip, size_t cap)
{
    if (s->serving_ip[0] || srv_local_ip(wsi, ip, cap) != 0)
        snprintf(ip, cap, "%s", s->serving_ip[0] ? s->serving_ip : "0.0.0.0");
}

/* ---- TLS diagnostics (§2) ---- */

static void on_ssl_info(struct lws *wsi, const struct lws_ssl_info *si)
{
    struct srv *s = srv_of(wsi);
    SSL *ssl = lws_get_ssl(wsi);
    if (!s || !ssl)
        return;
    struct cconn tmp;
    memset(&tmp, 0, sizeof tmp);
    srv_peer_of(wsi, tmp.peer, sizeof tmp.peer, tmp.ip, sizeof tmp.ip);
    char detail[320];
    if (si->where & SSL_CB_HANDSHAKE_DONE) {
        if (!so_tls_first_report(ssl))
            return;
        so_tls_describe(ssl, detail, sizeof detail);
        LOG_D("tls %s: %s", tmp.peer, detail);
        emit(s, SRV_EV_TLS_CLIENT, &tmp, NULL, 0, 0, detail);
        return;
    }
    if ((si->where & SSL_CB_ALERT) && !SSL_is_init_finished(ssl)) {
        if (!so_tls_first_report(ssl))
            return;
        int code = si->ret & 0xff;
        const char *who = (si->where & SSL_CB_READ) ? "the client sent" : "we sent";
        char hello[120] = "";
        unsigned ver, nc;
        int aes;
        if (so_tls_hello_info(ssl, &ver, &nc, &aes))
            snprintf(hello, sizeof hello, "; ClientHello 0x%04x, %u suites%s", ver, nc,
                     aes ? ", AES128-SHA offered" : "");
        const char *hint = "";
        if ((si->where & SSL_CB_READ) && (code == 42 || code == 43 || code == 46 || code == 48))
            hint = " (the device rejects our certificate: firmware >= 1.6 pins the "
                   "cloud certificate, see PROTOCOL.md §2)";
        snprintf(detail, sizeof detail, "handshake failed: %s alert %s%s%s", who,
                 SSL_alert_desc_string_long(si->ret), hello, hint);
        LOG_D("tls %s: %s", tmp.peer, detail);
        emit(s, SRV_EV_TLS_CLIENT, &tmp, NULL, code ? code : -1, 0, detail);
    }
}

/* ---- dispatch (§1.3) ---- */

static int http_finish(struct lws *wsi)
{
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_reject(struct lws *wsi, struct cconn *c, int code, const char *what)
{
    char detail[200];
    snprintf(detail, sizeof detail, "%d %s", code, what);
    LOG_D("cloud %s: %s", c->peer, detail);
    emit(c->srv, SRV_EV_REJECTED, c, NULL, code, 0, detail);
    if (lws_return_http_status(wsi, (unsigned)code, NULL))
        return -1;
    return http_finish(wsi);
}

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
 * looks for "HTTP/1.1 200 OK\r\n", the blank line and the {...} in what it got. */
static int dispatch_reply(struct lws *wsi, struct cconn *c)
{
    struct srv *s = c->srv;
    if (c->body_over)
        return http_reject(wsi, c, 413, "dispatch body over 2 KiB");
    struct ewl_dispatch_req req;
    memset(&req, 0, sizeof req);
    enum so_err pe = ewl_parse_dispatch_req(c->body, c->body_len, &req);
    if (pe != SO_OK) {
        /* Answer anyway: we are the only cloud it can reach. Keep what we can read. */
        salvage(c->body, c->body_len, &req);
        LOG_W("cloud %s: dispatch body not understood (%s): %.*s", c->peer,
              so_strerror(pe), (int)(c->body_len > 300 ? 300 : c->body_len), c->body);
    }
    struct ewl_dispatch_reply r;
    memset(&r, 0, sizeof r);
    our_ip(wsi, s, r.ip, sizeof r.ip);
    r.port = lws_get_vhost_listen_port(lws_get_vhost(wsi));
    char *json = ewl_build_dispatch_reply(&r);
    if (!json)
        return -1;
    size_t jl = strlen(json);
    free(c->reply);
    c->reply = malloc(LWS_PRE + DISPATCH_REPLY_MAX + jl);
    if (!c->reply) {
        free(json);
        return -1;
    }
    char *p = (char *)c->reply + LWS_PRE;
    int n = snprintf(p, DISPATCH_REPLY_MAX,
                     "HTTP/1.1 200 OK\r\nServer: sonota\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", jl);
    if (n <= 0 || n >= DISPATCH_REPLY_MAX) {
        free(json);
        return -1;
    }
    memcpy(p + n, json, jl);
    c->reply_len = (size_t)n + jl;
    free(json);

    struct dev_session info;
    memset(&info, 0, sizeof info);
    snprintf(info.deviceid, sizeof info.deviceid, "%s", req.deviceid);
    snprintf(info.model, sizeof info.model, "%s", req.model);
    snprintf(info.rom_version, sizeof info.rom_version, "%s", req.rom_version);
    char detail[120];
    snprintf(detail, sizeof detail, "sent IP %s port %d%s", r.ip, r.port,
             pe != SO_OK ? " (request body not understood)" : "");
    LOG_D("cloud %s: dispatch from %s (%s, rom %s): %s", c->peer,
          req.deviceid[0] ? req.deviceid : "?", req.model, req.rom_version, detail);
    emit(s, SRV_EV_DISPATCH, c, &info, 0, 0, detail);
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_http(struct lws *wsi, struct cconn *c, const char *uri)
{
    conn_init(wsi, c, CC_HTTP);
    c->body_len = 0;
    c->body_over = 0;
    int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    if (post && !strcmp(uri, "/dispatch/device")) {
        char cl[24] = "";
        if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
            !strcmp(cl, "0"))
            return dispatch_reply(wsi, c); /* no body to wait for */
        return 0;
    }
    char what[160];
    snprintf(what, sizeof what, "%s %.140s", post ? "POST" : "GET", uri);
    return http_reject(wsi, c, 404, what);
}

/* ---- WebSocket (§1.4) ---- */

static void arm_timer(struct lws *wsi, struct ws_conn *w)
{
    int64_t us = -1;
    if (w->qn) {
        uint64_t now = srv_mono_ms(), due = w->last_write_ms + CLOUD_WS_FRAME_GAP_MS;
        if (now >= due)
            lws_callback_on_writable(wsi);
        else
            us = (int64_t)(due - now) * 1000;
    }
    uint64_t dl = session_next_deadline(&w->sess);
    if (dl) {
        uint64_t now = srv_wall_ms();
        int64_t d = dl > now ? (int64_t)(dl - now) * 1000 : 1000;
        if (us < 0 || d < us)
            us = d;
    }
    if (us >= 0)
        lws_set_timer_usecs(wsi, us < 1000 ? 1000 : us);
    else
        lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
}

static int run_actions(struct lws *wsi, struct cconn *c, struct cloud_actions *a)
{
    struct ws_conn *w = c->ws;
    struct dev_session *s = &w->sess;
    for (size_t i = 0; i < a->n; i++) {
        struct cloud_action *x = &a->a[i];
        switch (x->type) {
        case CLOUD_ACT_SEND:
            if (w->qn == CLOUD_WS_QUEUE_MAX) {
                LOG_W("cloud %s: send queue full; frame dropped", c->peer);
                break;
            }
            LOG_D("cloud %s: -> %s", c->peer, x->text);
            w->q[(w->qh + w->qn++) % CLOUD_WS_QUEUE_MAX] = x->text;
            x->text = NULL;
            break;
        case CLOUD_ACT_EVENT:
            switch (x->ev) {
            case CLOUD_EV_REGISTER:
                LOG_D("cloud %s: register %s model %s rom %s", c->peer, s->deviceid,
                      s->model, s->rom_version);
                emit(c->srv, SRV_EV_REGISTER, c, s, 0, x->paced, NULL);
                break;
            case CLOUD_EV_UPGRADE_SENT:
                LOG_D("cloud %s: upgrade sent to %s (sequence %s%s)", c->peer, s->deviceid,
                      s->sequence, x->paced ? ", paced" : "");
                emit(c->srv, SRV_EV_UPGRADE_SENT, c, s, 0, x->paced, s->sequence);
                break;
            case CLOUD_EV_UPGRADE_ACK:
                LOG_D("cloud %s: %s acked the upgrade with error %d", c->peer, s->deviceid,
                      x->error);
                emit(c->srv, SRV_EV_UPGRADE_ACK, c, s, x->error, x->paced, s->sequence);
                break;
            case CLOUD_EV_UPGRADE_STATE:
                LOG_D("cloud %s: %s reports upgradeState %d", c->peer, s->deviceid, x->error);
                emit(c->srv, SRV_EV_UPGRADE_STATE, c, s, x->error, x->paced, NULL);
                break;
            case CLOUD_EV_ERROR:
                LOG_W("cloud %s: %s", c->peer, x->msg);
                emit(c->srv, SRV_EV_ERROR, c, s, 0, 0, x->msg);
                break;
            }
            break;
        case CLOUD_ACT_SET_PACED:
            srv_mark_paced(c->srv, s->peer_ip, 1);
            break;
        case CLOUD_ACT_LOG:
            /* events tell the user what happened; the log keeps the details */
            so_log(x->level == CLOUD_LOG_WARN ? SO_LOG_WARN : SO_LOG_DEBUG,
                   "cloud %s: %s", c->peer, x->msg);
            break;
        case CLOUD_ACT_CLOSE:
            w->close_pending = 1;
            break;
        }
    }
    cloud_actions_clear(a);
    if (w->close_pending && !w->qn)
        lws_callback_on_writable(wsi);
    arm_timer(wsi, w);
    return 0;
}

static int on_ws_open(struct lws *wsi, struct cconn *c)
{
    conn_init(wsi, c, CC_WS);
    if (!c->ws)
        c->ws = calloc(1, sizeof *c->ws);
    if (!c->ws)
        return -1;
    int one = 1; /* one frame, one packet (§1.4) */
    setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char host[SRV_IP_MAX];
    our_ip(wsi, c->srv, host, sizeof host);
    session_init(&c->ws->sess, &c->srv->cloud, c->ip, host);
    LOG_D("cloud %s: WebSocket open", c->peer);
    emit(c->srv, SRV_EV_WS_OPEN, c, NULL, 0, 0, NULL);
    return 0;
}

static int on_ws_rx(struct lws *wsi, struct cconn *c, const void *in, size_t len)
{
    struct ws_conn *w = c->ws;
    if (!w)
        return -1;
    if (lws_frame_is_binary(wsi)) {
        LOG_D("cloud %s: binary frame ignored", c->peer);
        return 0;
    }
    w->rx_total += len;
    if (!w->rx_over && len <= sizeof w->rx - 1 - w->rx_len) {
        memcpy(w->rx + w->rx_len, in, len);
        w->rx_len += len;
    } else {
        w->rx_over = 1;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    uint8_t rnd[16];
    if (so_random_bytes(rnd, sizeof rnd) != SO_OK)
        return -1;
    struct cloud_actions a;
    a.n = 0;
    /* Oversize: the FSM only needs the length to refuse it. */
    size_t n = w->rx_over ? w->rx_total : w->rx_len;
    w->rx[w->rx_len] = '\0';
    LOG_D("cloud %s: <- %s", c->peer, w->rx_over ? "(oversize message)" : w->rx);
    enum so_err e = session_on_text(&w->sess, w->rx, n, srv_wall_ms(), rnd, &a);
    w->rx_len = 0;
    w->rx_total = 0;
    w->rx_over = 0;
    int rc = run_actions(wsi, c, &a);
    return e == SO_OK ? rc : -1;
}

static int on_ws_writable(struct lws *wsi, struct cconn *c)
{
    struct ws_conn *w = c->ws;
    if (!w)
        return 0;
    if (!w->qn) {
        if (w->close_pending) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
            return -1;
        }
        return 0;
    }
    uint64_t now = srv_mono_ms();
    if (w->last_write_ms && now < w->last_write_ms + CLOUD_WS_FRAME_GAP_MS) {
        arm_timer(wsi, w);
        return 0;
    }
    char *text = w->q[w->qh];
    w->q[w->qh] = NULL;
    w->qh = (w->qh + 1) % CLOUD_WS_QUEUE_MAX;
    w->qn--;
    size_t n = strlen(text);
    unsigned char *buf = malloc(LWS_PRE + n);
    if (!buf) {
        free(text);
        return -1;
    }
    memcpy(buf + LWS_PRE, text, n);
    free(text);
    /* One unfragmented, unmasked text frame in one write (§1.4). */
    int wr = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    free(buf);
    if (wr < (int)n)
        return -1;
    w->last_write_ms = now;
    if (w->qn)
        arm_timer(wsi, w);
    else if (w->close_pending)
        lws_callback_on_writable(wsi);
    return 0;
}

static int on_ws_timer(struct lws *wsi, struct cconn *c)
{
    struct ws_conn *w = c->ws;
    if (!w)
        return 0;
    struct cloud_actions a;
    a.n = 0;
    if (session_on_tick(&w->sess, srv_wall_ms(), &a) != SO_OK) {
        cloud_actions_clear(&a);
        return -1;
    }
    return run_actions(wsi, c, &a);
}

static void on_ws_closed(struct cconn *c)
{
    struct ws_conn *w = c->ws;
    if (!w)
        return;
    LOG_D("cloud %s: WebSocket closed (%s, state %s)", c->peer,
          w->sess.deviceid[0] ? w->sess.deviceid : "no register", dev_state_name(w->sess.state));
    emit(c->srv, SRV_EV_WS_CLOSED, c, &w->sess, 0, 0, dev_state_name(w->sess.state));
    session_end(&w->sess);
    while (w->qn) {
        free(w->q[w->qh]);
        w->qh = (w->qh + 1) % CLOUD_WS_QUEUE_MAX;
        w->qn--;
    }
    free(w);
    c->ws = NULL;
}

int cloud_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                   void *in, size_t len)
{
    struct cconn *c = user;
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
    case LWS_CALLBACK_HTTP:
        return c ? on_http(wsi, c, in ? in : "") : -1;
    case LWS_CALLBACK_HTTP_BODY:
        if (!c || !c->srv)
            return -1;
        if (!c->body_over && len <= EWL_JSON_MAX - c->body_len) {
            memcpy(c->body + c->body_len, in, len);
            c->body_len += len;
        } else {
            c->body_over = 1;
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return c && c->srv ? dispatch_reply(wsi, c) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!c || !c->reply || !c->reply_len)
            return 0;
        if (lws_write(wsi, c->reply + LWS_PRE, c->reply_len, LWS_WRITE_HTTP_HEADERS) <
            (int)c->reply_len)
            return -1;
        c->reply_len = 0;
        return http_finish(wsi);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c) {
            free(c->reply);
            c->reply = NULL;
            c->reply_len = 0;
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
            strcmp(uri, "/api/ws")) {
            struct cconn tmp;
            memset(&tmp, 0, sizeof tmp);
            srv_peer_of(wsi, tmp.peer, sizeof tmp.peer, tmp.ip, sizeof tmp.ip);
            emit(srv_of(wsi), SRV_EV_REJECTED, &tmp, NULL, 404,
                 0, "404 WebSocket upgrade outside /api/ws");
            return 1;
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        return c ? on_ws_open(wsi, c) : -1;
    case LWS_CALLBACK_RECEIVE:
        return c ? on_ws_rx(wsi, c, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? on_ws_writable(wsi, c) : 0;
    case LWS_CALLBACK_TIMER:
        return c && c->kind == CC_WS ? on_ws_timer(wsi, c) : 0;
    case LWS_CALLBACK_CLOSED:
        if (c) {
            on_ws_closed(c);
            free(c->reply);
            c->reply = NULL;
        }
        return 0;
    default:
        return 0;
    }
}
