/* srv_conn.c - the one connection of every listener (srv_conn.h): adoption, input,
 * the head reader, the request deadline, the router and the refusal replies. */
#include "sonota/srv_conn.h"

#include "io/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int srv_conn_adopt(struct lws *wsi, struct srv_conn *c)
{
    memset(c, 0, sizeof *c);
    c->srv = srv_of(wsi);
    if (!c->srv)
        return -1;
    struct srv *s = c->srv;
    struct lws_vhost *vh = lws_get_vhost(wsi);
    if (vh == s->vh_https || vh == s->vh_plain) {
        c->listener = SRV_LISTENER_CLOUD;
        c->in_cap = SRV_CONN_IN_MAX;
    } else {
        c->listener = s->vh_final && vh == s->vh_final ? SRV_LISTENER_FINAL
                                                       : SRV_LISTENER_FILES;
        c->final_listener = c->listener == SRV_LISTENER_FINAL;
        c->in_cap = SO_HTTP_HEAD_MAX;
        c->file = -1;
        c->track = -1;
    }
    c->st = SC_HEAD;
    return srv_adopt(wsi, c->peer, sizeof c->peer, c->ip, sizeof c->ip) ? 1 : 0;
}

/* The first allocation: a typical request head or WebSocket frame fits. */
#define SRV_CONN_IN_FIRST 512

size_t srv_conn_take(struct srv_conn *c, const void *in, size_t len)
{
    size_t room = c->in_cap - c->in_len;
    size_t n = len < room ? len : room;
    if (c->in_len + n > c->in_alloc) {
        size_t want = c->in_alloc ? c->in_alloc : SRV_CONN_IN_FIRST;
        while (want < c->in_len + n)
            want *= 2;
        if (want > c->in_cap)
            want = c->in_cap;
        char *p = realloc(c->in, want);
        if (!p)
            return 0;
        c->in = p;
        c->in_alloc = want;
    }
    memcpy(c->in + c->in_len, in, n);
    c->in_len += n;
    return n;
}

void srv_conn_free_input(struct srv_conn *c)
{
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_alloc = 0;
}

void srv_conn_consume(struct srv_conn *c, size_t n)
{
    if (!n)
        return; /* c->in may not exist yet */
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

void srv_conn_arm(struct lws *wsi, struct srv_conn *c, uint64_t at)
{
    if (!at || (c->timer_at && c->timer_at <= at))
        return;
    uint64_t now = srv_mono_ms();
    uint64_t ms = at > now ? at - now : 1;
    lws_set_timer_usecs(wsi, (lws_usec_t)ms * 1000);
    c->timer_at = now + ms;
}

void srv_conn_fired(struct srv_conn *c)
{
    c->timer_at = 0;
}

void srv_conn_deadline(struct srv_conn *c, uint64_t ms)
{
    c->req_deadline = srv_mono_ms() + ms;
}

int srv_conn_request_starts(struct srv_conn *c)
{
    if (c->st != SC_HEAD || c->in_len || c->req_deadline)
        return 0;
    srv_conn_deadline(c, SRV_HEAD_TIMEOUT_MS);
    return 1;
}

const char *srv_conn_overdue(const struct srv_conn *c, uint64_t now)
{
    if ((c->st != SC_HEAD && c->st != SC_BODY) || !c->req_deadline || now < c->req_deadline)
        return NULL;
    return c->st == SC_BODY ? "request body not complete within 10 s"
                            : "request head not complete within 10 s";
}

enum so_err srv_conn_read_head(struct srv_conn *c, struct so_http_head *h, int *code,
                               const char **reason, const char **what)
{
    enum so_err e = so_http_parse_request(c->in, c->in_len, h);
    if (e == SO_AGAIN)
        return e;
    if (e != SO_OK) {
        int big = e == SO_E_TOOBIG;
        *code = big ? 431 : 400;
        *reason = big ? "Request Header Fields Too Large" : "Bad Request";
        *what = big ? "request head over 4096 bytes or 32 headers" : "malformed request head";
        c->keep_alive = 0;
        return e;
    }
    c->req_deadline = 0;
    c->keep_alive = srv_http_keep_alive(h);
    return SO_OK;
}

/* /ota/<name> with a configured name, exactly; anything else is not ours. */
static int find_file(const struct srv *s, struct so_str path)
{
    static const char prefix[] = "/ota/";
    size_t pl = sizeof prefix - 1;
    if (path.n <= pl || memcmp(path.p, prefix, pl))
        return -1;
    struct so_str name = {path.p + pl, path.n - pl};
    if (name.p[0] == '.')
        return -1;
    for (size_t i = 0; i < name.n; i++) {
        char ch = name.p[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) /* '%' (any encoding), '/', '\\', controls... */
            return -1;
    }
    for (size_t i = 0; i < s->cfg.n_files; i++)
        if (so_str_eq(name, s->names[i]))
            return (int)i;
    return -1;
}

static void refuse(struct srv_route_pick *r, int code, const char *reason, int close)
{
    r->route = SRV_ROUTE_REFUSE;
    r->code = code;
    r->reason = reason;
    r->close = close;
}

/* The file listeners (http_port, FinalStage): GET/HEAD of a served file, the DIY
 * result POST (§6). Only a 404 for a GET/HEAD keeps the connection. */
static void route_files(const struct srv_conn *c, const struct so_http_head *h,
                        struct so_str path, struct srv_route_pick *r)
{
    if (so_str_eq(h->method, "POST")) {
        if (!so_str_eq(path, "/api/device/otaFlash"))
            refuse(r, 404, "Not Found", 1); /* its body is not read: close */
        else if (r->clen > FS_POST_MAX)
            refuse(r, 413, "Content Too Large", 1);
        else
            r->route = SRV_ROUTE_DIY_RESULT;
        return;
    }
    if (r->has_len && r->clen) {
        refuse(r, 400, "Bad Request", 1);
        return;
    }
    if (!so_str_eq(h->method, "GET") && !so_str_eq(h->method, "HEAD")) {
        refuse(r, 405, "Method Not Allowed", 1);
        return;
    }
    r->file = find_file(c->srv, path);
    if (r->file < 0)
        refuse(r, 404, "Not Found", 0);
    else
        r->route = SRV_ROUTE_FILE;
}

/* The cloud listeners (TLS, legacy plain): dispatch (§1.3) and the WebSocket (§1.4).
 * Every refusal closes. */
static void route_cloud(const struct so_http_head *h, struct so_str path,
                        struct srv_route_pick *r)
{
    if (so_http_find(h, "Upgrade")) {
        if (!so_str_eq(path, "/api/ws")) {
            refuse(r, 404, "Not Found", 1);
            r->what = "WebSocket upgrade outside /api/ws";
        } else if (r->has_len && r->clen) {
            refuse(r, 400, "Bad Request", 1);
        } else {
            r->route = SRV_ROUTE_WS_UPGRADE;
        }
        return;
    }
    if (so_str_eq(path, "/dispatch/device")) {
        if (!so_str_eq(h->method, "POST")) {
            refuse(r, 405, "Method Not Allowed", 1);
            r->extra = "Allow: POST\r\n";
        } else if (!r->has_len) {
            refuse(r, 411, "Length Required", 1);
        } else if (r->clen > EWL_JSON_MAX) { /* refused before a byte of it is read */
            refuse(r, 413, "Content Too Large", 1);
        } else {
            r->route = SRV_ROUTE_DISPATCH;
        }
        return;
    }
    if (so_str_eq(path, "/api/ws")) {
        refuse(r, 426, "Upgrade Required", 1);
        r->extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
        return;
    }
    refuse(r, 404, "Not Found", 1);
}

void srv_route_pick(const struct srv_conn *c, const struct so_http_head *h,
                    struct srv_route_pick *r)
{
    memset(r, 0, sizeof *r);
    r->file = -1;
    /* Framing first, for every route (srv_http_framing: request smuggling). */
    if (srv_http_framing(h, &r->has_len, &r->clen)) {
        refuse(r, 400, "Bad Request", 1);
        return;
    }
    struct so_str path = so_http_target_path(h->target);
    if (c->listener == SRV_LISTENER_CLOUD)
        route_cloud(h, path, r);
    else
        route_files(c, h, path, r);
}

size_t srv_conn_reply_head(const struct srv_conn *c, char *buf, size_t cap, int code,
                           const char *reason, const char *ctype, size_t body_len,
                           const char *extra)
{
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n\r\n", code, reason, extra ? extra : "", ctype,
                     body_len, c->keep_alive ? "keep-alive" : "close");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t srv_conn_refuse(struct srv_conn *c, char *buf, size_t cap, int code,
                       const char *reason, const char *what, int file, const char *extra,
                       size_t body_len)
{
    char detail[256];
    snprintf(detail, sizeof detail, "%d %s", code, what);
    srv_http_rejected(c->srv, c->peer, code, detail, file, c->final_listener);
    LOG_D("%s %s: %s", c->listener == SRV_LISTENER_CLOUD ? "cloud" : "http", c->peer,
          detail);
    return srv_conn_reply_head(c, buf, cap, code, reason, "text/plain", body_len, extra);
}
