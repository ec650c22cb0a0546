/* cloud_ws.c - the cloud's WebSocket (PROTOCOL.md §1.4, RFC 6455): the opening
 * handshake, strict frame decoding with lib/ws_frame, and the glue to the
 * per-device session of lib/cloud_fsm. What the device may send: masked text
 * frames (key 00 00 00 00) of at most 2 KiB, pings; anything else is a protocol
 * error answered with a close frame and a REJECTED event. */
#include "io/crypto.h"
#include "io/log.h"
#include "lib/utf8.h"
#include "lib/ws_frame.h"
#include "sonota/cloud_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 §1.3 */
#define WS_KEY_LEN 24                                  /* base64 of 16 bytes */
#define WS_CLOSE_REASON_MAX 123                        /* control payload 125 - code */

/* ---- handshake (RFC 6455 §4.2.1) ---- */

/* Whether a comma-separated header value holds tok (case-insensitive). */
static int has_token(const struct so_http_header *hd, const char *tok)
{
    if (!hd)
        return 0;
    size_t tl = strlen(tok);
    const char *p = hd->value.p, *end = p + hd->value.n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        struct so_str t = so_str_trim((struct so_str){p, (size_t)(e - p)});
        if (t.n == tl && !strncasecmp(t.p, tok, tl))
            return 1;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

static int key_ok(struct so_str k)
{
    if (k.n != WS_KEY_LEN || k.p[22] != '=' || k.p[23] != '=')
        return 0;
    for (size_t i = 0; i < 22; i++) {
        char ch = k.p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return 0;
    }
    return 1;
}

/* base64(SHA-1(key + GUID)): 28 characters. */
static int accept_value(struct so_str key, char out[29])
{
    char in[WS_KEY_LEN + sizeof WS_GUID];
    memcpy(in, key.p, WS_KEY_LEN);
    memcpy(in + WS_KEY_LEN, WS_GUID, sizeof WS_GUID - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(in, WS_KEY_LEN + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL) ||
        mdlen != 20)
        return -1;
    return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28 ? 0 : -1;
}

int cws_handshake(struct lws *wsi, struct srv_conn *c, const struct so_http_head *h)
{
    const struct so_http_header *key = so_http_find(h, "Sec-WebSocket-Key");
    const struct so_http_header *ver = so_http_find(h, "Sec-WebSocket-Version");
    const char *bad = NULL;
    if (!so_str_eq(h->method, "GET") || h->version_minor < 1)
        bad = "WebSocket handshake not a GET over HTTP/1.1";
    else if (!has_token(so_http_find(h, "Upgrade"), "websocket"))
        bad = "WebSocket handshake without Upgrade: websocket";
    else if (!has_token(so_http_find(h, "Connection"), "upgrade"))
        bad = "WebSocket handshake without Connection: upgrade";
    else if (!key || so_http_count(h, "Sec-WebSocket-Key") != 1 || !key_ok(key->value))
        bad = "WebSocket handshake without a valid Sec-WebSocket-Key";
    if (bad) {
        cc_http_error(wsi, c, 400, "Bad Request", bad, NULL);
        return 0;
    }
    if (!ver || !so_str_eq(ver->value, "13")) {
        cc_http_error(wsi, c, 426, "Upgrade Required", "WebSocket version other than 13",
                      "Sec-WebSocket-Version: 13\r\n");
        return 0;
    }
    char acc[29];
    if (accept_value(key->value, acc))
        return -1;
    char reply[160];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
    if (n <= 0 || (size_t)n >= sizeof reply || cc_queue(wsi, c, reply, (size_t)n, 0))
        return -1;
    c->ws = calloc(1, sizeof *c->ws);
    if (!c->ws)
        return -1;
    struct ws_conn *w = c->ws;
    w->opened_ms = w->last_rx_ms = srv_mono_ms();
    char host[SRV_IP_MAX];
    cc_our_ip(wsi, c->srv, host, sizeof host);
    cloud_sess_init(&w->sess, &c->srv->cloud, c->ip, host);
    c->st = SC_WS;
    c->req_deadline = c->idle_deadline = 0;
    LOG_D("cloud %s: WebSocket open", c->peer);
    cc_emit(c, SRV_EV_WS_OPEN, NULL, 0, 0, NULL);
    return 0;
}

/* ---- frames out ---- */

void cws_fail(struct lws *wsi, struct srv_conn *c, int code, const char *reason)
{
    if (c->st == SC_CLOSING)
        return;
    char detail[200];
    snprintf(detail, sizeof detail, "%d %s", code, reason);
    LOG_D("cloud %s: closing the WebSocket: %s", c->peer, detail);
    if (code >= 1002)
        cc_emit(c, SRV_EV_REJECTED, c->ws ? &c->ws->sess : NULL, code, 0, detail);
    uint8_t pl[2 + WS_CLOSE_REASON_MAX], fr[4 + sizeof pl];
    size_t rl = strlen(reason);
    if (rl > WS_CLOSE_REASON_MAX)
        rl = WS_CLOSE_REASON_MAX;
    pl[0] = (uint8_t)(code >> 8);
    pl[1] = (uint8_t)(code & 0xff);
    memcpy(pl + 2, reason, rl);
    size_t n = so_ws_encode(fr, sizeof fr, SO_WS_CLOSE, pl, 2 + rl, NULL);
    /* The frames not yet written go (a flood's answers, replies to a peer that
     * broke the protocol): the close is the last word, at once. */
    cc_drop_frames(c);
    if (n)
        cc_queue(wsi, c, fr, n, 1);
    cc_begin_close(c);
}

/* Queues one text frame; a device that lets answers pile up is closed (1008). */
static int send_text(struct lws *wsi, struct srv_conn *c, const char *text)
{
    if (c->qn >= CLOUD_WS_QUEUE_MAX) {
        cws_fail(wsi, c, 1008, "answers pile up unread: the device sends faster than it reads");
        return 0;
    }
    uint8_t fr[4 + CLOUD_FRAME_MAX];
    /* One unfragmented, unmasked text frame (§1.4); the FSM keeps texts < 1400 B. */
    size_t n = so_ws_encode(fr, sizeof fr, SO_WS_TEXT, (const uint8_t *)text, strlen(text),
                            NULL);
    if (!n)
        return -1;
    return cc_queue(wsi, c, fr, n, 1);
}

/* ---- session glue ---- */

static int run_actions(struct lws *wsi, struct srv_conn *c, struct cloud_actions *a)
{
    struct cloud_sess *s = &c->ws->sess;
    int rc = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct cloud_action *x = &a->a[i];
        switch (x->type) {
        case CLOUD_ACT_SEND:
            LOG_D("cloud %s: -> %s", c->peer, x->text);
            if (c->st == SC_WS && send_text(wsi, c, x->text))
                rc = -1;
            break;
        case CLOUD_ACT_EVENT:
            switch (x->ev) {
            case CLOUD_EV_REGISTER:
                LOG_D("cloud %s: register %s model %s rom %s", c->peer, s->deviceid,
                      s->model, s->rom_version);
                cc_emit(c, SRV_EV_REGISTER, s, 0, x->paced, NULL);
                break;
            case CLOUD_EV_UPGRADE_SENT:
                LOG_D("cloud %s: upgrade sent to %s (sequence %s%s)", c->peer, s->deviceid,
                      s->sequence, x->paced ? ", paced" : "");
                cc_emit(c, SRV_EV_UPGRADE_SENT, s, 0, x->paced, s->sequence);
                break;
            case CLOUD_EV_UPGRADE_ACK:
                LOG_D("cloud %s: %s acked the upgrade with error %d", c->peer, s->deviceid,
                      x->error);
                cc_emit(c, SRV_EV_UPGRADE_ACK, s, x->error, x->paced, s->sequence);
                break;
            case CLOUD_EV_UPGRADE_STATE:
                LOG_D("cloud %s: %s reports upgradeState %d", c->peer, s->deviceid, x->error);
                cc_emit(c, SRV_EV_UPGRADE_STATE, s, x->error, x->paced, NULL);
                break;
            case CLOUD_EV_ERROR:
                LOG_W("cloud %s: %s", c->peer, x->msg);
                cc_emit(c, SRV_EV_ERROR, s, 0, 0, x->msg);
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
            cws_fail(wsi, c, 1009, "message over 2048 bytes");
            break;
        }
    }
    cloud_actions_clear(a);
    return rc;
}

static int deliver(struct lws *wsi, struct srv_conn *c, const char *text, size_t n)
{
    if (!so_utf8_valid((const uint8_t *)text, n)) { /* RFC 6455 §8.1 */
        cws_fail(wsi, c, 1007, "text message is not valid UTF-8");
        return 0;
    }
    uint8_t rnd[16];
    if (so_random_bytes(rnd, sizeof rnd) != SO_OK)
        return -1;
    struct cloud_actions a;
    a.n = 0;
    LOG_D("cloud %s: <- %.*s", c->peer, (int)n, text);
    enum so_err e = cloud_sess_on_text(&c->ws->sess, text, n, srv_wall_ms(), rnd, &a);
    int rc = run_actions(wsi, c, &a);
    return e == SO_OK ? rc : -1;
}

/* ---- frames in ---- */

static int on_frame(struct lws *wsi, struct srv_conn *c, const struct so_ws_frame *f,
                    const uint8_t *p, size_t n)
{
    struct ws_conn *w = c->ws;
    switch (f->opcode) {
    case SO_WS_TEXT:
        if (w->in_msg) {
            cws_fail(wsi, c, 1002, "a new message inside a fragmented one");
            return 0;
        }
        if (f->fin)
            return deliver(wsi, c, (const char *)p, n);
        memcpy(w->msg, p, n); /* n <= EWL_JSON_MAX: the decoder's limit */
        w->msg_len = n;
        w->in_msg = 1;
        return 0;
    case SO_WS_CONT:
        if (!w->in_msg) {
            cws_fail(wsi, c, 1002, "continuation frame without a message");
            return 0;
        }
        if (n > EWL_JSON_MAX - w->msg_len) {
            cws_fail(wsi, c, 1009, "message over 2048 bytes");
            return 0;
        }
        memcpy(w->msg + w->msg_len, p, n);
        w->msg_len += n;
        if (!f->fin)
            return 0;
        w->in_msg = 0;
        return deliver(wsi, c, w->msg, w->msg_len);
    case SO_WS_BINARY:
        cws_fail(wsi, c, 1003, "binary frame (the device sends text only)");
        return 0;
    case SO_WS_CLOSE: {
        if (n == 1) {
            cws_fail(wsi, c, 1002, "close frame with a 1-byte payload");
            return 0;
        }
        if (n >= 2 && !so_ws_close_code_valid((unsigned)(p[0] << 8 | p[1]))) {
            /* RFC 6455 §7.4: a code no peer may send (999, 1005, 1006, ...) is a
             * protocol error, never echoed */
            cws_fail(wsi, c, 1002, "close frame with an invalid status code");
            return 0;
        }
        if (n > 2 && !so_utf8_valid(p + 2, n - 2)) {
            cws_fail(wsi, c, 1007, "close reason is not valid UTF-8");
            return 0;
        }
        /* Echo the status code (RFC 6455 §5.5.1), then close. */
        uint8_t fr[4];
        size_t fl = so_ws_encode(fr, sizeof fr, SO_WS_CLOSE, p, n >= 2 ? 2 : 0, NULL);
        LOG_D("cloud %s: the device closes the WebSocket (%d)", c->peer,
              n >= 2 ? (p[0] << 8 | p[1]) : 1005);
        if (fl)
            cc_queue(wsi, c, fr, fl, 1);
        cc_begin_close(c);
        return 0;
    }
    case SO_WS_PING: {
        /* The device's ping is 89 80 00 00 00 00; the pong must be exactly 8A 00. */
        if (c->qn >= CLOUD_WS_QUEUE_MAX) {
            cws_fail(wsi, c, 1008, "pings pile up unanswered: the device does not read");
            return 0;
        }
        uint8_t fr[2 + 125];
        size_t fl = so_ws_encode(fr, sizeof fr, SO_WS_PONG, p, n, NULL);
        return fl ? cc_queue(wsi, c, fr, fl, 1) : -1;
    }
    case SO_WS_PONG:
        return 0;
    }
    return 0;
}

int cws_process(struct lws *wsi, struct srv_conn *c)
{
    while (c->st == SC_WS && c->in_len) {
        struct so_ws_frame f;
        enum so_err e = so_ws_decode((const uint8_t *)c->in, c->in_len, EWL_JSON_MAX, &f);
        if (e == SO_AGAIN)
            return 0; /* a frame fits in c->in whole: more bytes will come */
        if (e == SO_E_TOOBIG) {
            cws_fail(wsi, c, 1009, "frame over 2048 bytes");
            return 0;
        }
        if (e != SO_OK) {
            cws_fail(wsi, c, 1002, "malformed frame (reserved opcode, RSV bits, a long or "
                     "fragmented control frame, or a non-minimal length)");
            return 0;
        }
        if (!f.masked) { /* RFC 6455 §5.1: the server must close */
            cws_fail(wsi, c, 1002, "unmasked frame from the client");
            return 0;
        }
        size_t n = (size_t)f.payload_len;
        uint8_t *p = (uint8_t *)c->in + f.header_len;
        so_ws_unmask(p, p, n, f.mask, 0);
        int rc = on_frame(wsi, c, &f, p, n);
        if (c->st != SC_WS)
            return rc;
        srv_conn_consume(c, f.header_len + n);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- time ---- */

uint64_t cws_next_deadline(const struct srv_conn *c)
{
    const struct ws_conn *w = c->ws;
    if (!w || c->st != SC_WS)
        return 0;
    uint64_t next = w->last_rx_ms + c->srv->ws_idle_ms;
    if (w->sess.state == DEV_WAIT_REGISTER && w->opened_ms + CLOUD_WS_REGISTER_TIMEOUT_MS < next)
        next = w->opened_ms + CLOUD_WS_REGISTER_TIMEOUT_MS;
    uint64_t dl = cloud_sess_next_deadline(&w->sess);
    if (dl) {
        uint64_t wall = srv_wall_ms(), now = srv_mono_ms();
        uint64_t at = now + (dl > wall ? dl - wall : 0);
        if (at < next)
            next = at;
    }
    return next;
}

int cws_timer(struct lws *wsi, struct srv_conn *c, uint64_t now)
{
    struct ws_conn *w = c->ws;
    if (!w)
        return 0;
    if (w->sess.state == DEV_WAIT_REGISTER && now >= w->opened_ms + CLOUD_WS_REGISTER_TIMEOUT_MS) {
        cws_fail(wsi, c, 1008, "no register within 30 s of the handshake");
        return 0;
    }
    if (now >= w->last_rx_ms + c->srv->ws_idle_ms) {
        char why[80];
        snprintf(why, sizeof why, "nothing received for %llu s (not even a ping)",
                 (unsigned long long)(c->srv->ws_idle_ms / 1000));
        cws_fail(wsi, c, 1001, why);
        return 0;
    }
    struct cloud_actions a;
    a.n = 0;
    if (cloud_sess_on_tick(&w->sess, srv_wall_ms(), &a) != SO_OK) {
        cloud_actions_clear(&a);
        return -1;
    }
    return run_actions(wsi, c, &a);
}

void cws_closed(struct srv_conn *c)
{
    struct ws_conn *w = c->ws;
    if (!w)
        return;
    LOG_D("cloud %s: WebSocket closed (%s, state %s)", c->peer,
          w->sess.deviceid[0] ? w->sess.deviceid : "no register", cloud_sess_state_name(w->sess.state));
    cc_emit(c, SRV_EV_WS_CLOSED, &w->sess, 0, 0, cloud_sess_state_name(w->sess.state));
    cloud_sess_end(&w->sess);
    free(w);
    c->ws = NULL;
}
