#include "sonota/fileserv.h"

#include "io/log.h"
#include "lib/http_head.h"
#include "lib/http_range.h"
#include "sonota/srv_conn.h"
#include "plat/net.h"
#include "plat/tcpinfo.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No request byte (between requests) or no progress writing a reply for this long:
 * close silently (srv_priv.h: SRV_IDLE_TIMEOUT_MS, SRV_SEND_STALL_MS). */
#define FS_IDLE_MS SRV_IDLE_TIMEOUT_MS

/* ---- the connection's deadlines: one lazily armed timer (srv_conn_arm) ---- */

static uint64_t next_deadline(const struct srv_conn *c)
{
    if (c->st == SC_LINGER)
        return c->due_ms;
    uint64_t next = c->active_ms + FS_IDLE_MS;
    if ((c->st == SC_HEAD || c->st == SC_BODY) && c->req_deadline && c->req_deadline < next)
        next = c->req_deadline;
    if ((c->st == SC_SEND || c->st == SC_FLUSH) && c->due_ms && c->due_ms < next)
        next = c->due_ms;
    return next;
}

static void arm(struct lws *wsi, struct srv_conn *c)
{
    srv_conn_arm(wsi, c, next_deadline(c));
}

/* Something was read or written: the idle clock starts again (no re-arming: the
 * timer finds the later deadline when it fires). */
static void active(struct srv_conn *c)
{
    c->active_ms = srv_mono_ms();
}

/* A deadline of this state ms from now. */
static void due_in(struct lws *wsi, struct srv_conn *c, uint64_t ms)
{
    c->due_ms = srv_mono_ms() + ms;
    arm(wsi, c);
}

/* ---- coverage and download events ---- */

static void emit_dl(struct srv *s, enum srv_event_type t, const struct srv_conn *c, int file,
                    uint64_t offset, int paced, const char *detail)
{
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.peer = c->peer;
    ev.final_listener = c->final_listener;
    ev.file = file >= 0 ? s->names[file] : NULL;
    ev.total = file >= 0 ? s->cfg.files[file].len : 0;
    ev.offset = offset;
    ev.paced = paced;
    ev.detail = detail;
    srv_emit(s, &ev);
}

/* Marks the chunks wholly inside [from, to) as sent and reports progress/done. */
static void track_mark(struct srv *s, struct srv_conn *c, uint64_t from, uint64_t to)
{
    if (c->track < 0)
        return;
    switch (fs_track_mark(s, c->track, c->file, c->ip, from, to)) {
    case FS_MARK_NONE:
        return;
    case FS_MARK_DONE: /* reported once the peer acknowledged the bytes (on_flushed) */
        c->done_pending = 1;
        return;
    case FS_MARK_PROGRESS:
        emit_dl(s, SRV_EV_DOWNLOAD_PROGRESS, c, c->file, s->fs.tracks[c->track].covered,
                c->paced, NULL);
        return;
    }
}

/* ---- replies ---- */

static void begin_reply(struct srv_conn *c)
{
    c->st = SC_SEND;
    c->unconfirmed = 0;
    c->lead_done = 0;
    c->done_pending = 0;
    c->reply_start = c->tx_total;
    c->head_sent = c->head_len;
    c->head_off = 0;
    c->drain_checks = 0;
    c->due_ms = 0;
}

/* Sends a small body after the head the caller put in c->head (errors, the DIY
 * result answer); with close_after (or no keep-alive) the connection closes after. */
static void reply_small(struct srv_conn *c, const char *body, int close_after)
{
    if (close_after)
        c->keep_alive = 0;
    if (!c->keep_alive)
        c->discard = 1;
    c->file = -1;
    c->body_src = (const unsigned char *)body;
    c->first = c->pos = 0;
    c->end = c->head_only ? 0 : strlen(body);
    c->paced = c->whole = 0;
    c->track = -1;
    begin_reply(c);
}

/* A small complete reply; extra: more header lines. */
static void reply_simple(struct srv_conn *c, int code, const char *reason, const char *ctype,
                         const char *body, int close_after, const char *extra)
{
    if (close_after)
        c->keep_alive = 0;
    c->head_len = srv_conn_reply_head(c, c->head, sizeof c->head, code, reason, ctype,
                                      strlen(body), extra);
    reply_small(c, body, close_after);
}

/* Refuses a request (srv_conn_refuse: REJECTED event, log, head), then a short reply
 * (404 keeps the connection). */
static void reject_ex(struct lws *wsi, struct srv_conn *c, int code, const char *reason,
                      const char *what, int file, const char *extra)
{
    (void)wsi;
    static const char body[] = "not served\n";
    if (code != 404)
        c->keep_alive = 0;
    c->head_len = srv_conn_refuse(c, c->head, sizeof c->head, code, reason, what, file,
                                  extra, sizeof body - 1);
    reply_small(c, body, code != 404);
}

static void reject(struct lws *wsi, struct srv_conn *c, int code, const char *reason,
                   const char *what)
{
    reject_ex(wsi, c, code, reason, what, -1, NULL);
}

/* Refuses a parsed request, named by its method and target (formatted only here:
 * a served request pays nothing for it). */
static void reject_req(struct lws *wsi, struct srv_conn *c, int code, const char *reason,
                       const struct so_http_head *h)
{
    char what[200];
    srv_http_what(h, what, sizeof what);
    reject(wsi, c, code, reason, what);
}

static void serve_file(struct lws *wsi, struct srv_conn *c, int file,
                       const struct so_http_head *h, struct so_str target)
{
    struct srv *s = c->srv;
    uint64_t size = s->cfg.files[file].len;
    const struct so_http_header *rh = so_http_find(h, "Range");
    struct so_range r = {0, size ? size - 1 : 0};
    int ranged = 0;
    if (rh && so_http_count(h, "Range") == 1) {
        enum so_err e = so_range_parse(rh->value.p, rh->value.n, size, &r);
        if (e == SO_E_RANGE) { /* 416 names the size (RFC 9110 §15.5.17) */
            char extra[64], what[160];
            snprintf(extra, sizeof extra, "Content-Range: bytes */%" PRIu64 "\r\n", size);
            snprintf(what, sizeof what, "Range %.*s of %s (%" PRIu64 " bytes)",
                     (int)(rh->value.n > 64 ? 64 : rh->value.n), rh->value.p,
                     s->names[file], size);
            reject_ex(wsi, c, 416, "Range Not Satisfiable", what, file, extra);
            return;
        }
        ranged = e == SO_OK; /* malformed or multi-range: ignored, whole body (RFC 9110) */
    }
    if (!size)
        ranged = 0;
    c->file = file;
    c->body_src = NULL;
    c->whole = !ranged;
    c->first = c->pos = ranged ? r.first : 0;
    c->end = c->head_only ? c->first : (ranged ? r.last + 1 : size);
    c->paced = !ranged && !c->head_only && srv_whole_body_paced(s, c->ip);
    int n;
    if (ranged) {
        char cr[80];
        so_content_range_format(cr, sizeof cr, r, size, s->cfg.content_range_equals);
        n = snprintf(c->head, sizeof c->head,
                     "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %" PRIu64 "\r\nContent-Range: %s\r\n"
                     "Accept-Ranges: bytes\r\nConnection: %s\r\n\r\n",
                     r.last - r.first + 1, cr, c->keep_alive ? "keep-alive" : "close");
    } else {
        /* SonOTA's slowstream head (§1.5) minus the Express branding. */
        n = snprintf(c->head, sizeof c->head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %" PRIu64 "\r\nAccept-Ranges: bytes\r\n"
                     "Content-Disposition: attachment; filename=\"%s\"\r\n"
                     "Cache-Control: public, max-age=0\r\nConnection: %s\r\n\r\n",
                     size, s->names[file], c->keep_alive ? "keep-alive" : "close");
    }
    c->head_len = n > 0 && (size_t)n < sizeof c->head ? (size_t)n : 0;
    c->track = -1;
    if (!c->head_only && size) {
        c->track = fs_track_get(s, c->ip, file);
        if (c->track >= 0) {
            struct fs_track *t = &s->fs.tracks[c->track];
            /* A whole-body GET, a Range from 0 or one after DONE starts a download. */
            if (c->whole || !t->active || (c->first == 0 && t->covered)) {
                fs_track_reset(t);
                t->active = 1;
                char detail[200];
                snprintf(detail, sizeof detail, "%.*s%s", (int)(target.n > 150 ? 150 : target.n),
                         target.p, ranged ? " (Range)" : "");
                emit_dl(s, SRV_EV_DOWNLOAD_START, c, file, c->first, c->paced, detail);
            }
        }
    }
    LOG_D("http %s: %s %s %" PRIu64 "-%" PRIu64 "/%" PRIu64 "%s", c->peer,
          ranged ? "206" : "200", s->names[file], c->first, c->end, size,
          c->paced ? " paced" : "");
    begin_reply(c);
}

/* The DIY firmware posts its result here after ota_flash (§6). */
static void diy_result(struct lws *wsi, struct srv_conn *c)
{
    c->body[c->body_len] = '\0';
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SRV_EV_DIY_RESULT;
    ev.peer = c->peer;
    ev.final_listener = c->final_listener;
    ev.detail = c->body;
    ev.error = -1;
    cJSON *j = cJSON_ParseWithLength(c->body, c->body_len);
    const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
    if (cJSON_IsNumber(e))
        ev.error = (int)e->valuedouble;
    cJSON_Delete(j);
    LOG_D("http %s: DIY result %s", c->peer, c->body);
    srv_emit(c->srv, &ev);
    reply_simple(c, 200, "OK", "application/json", "{\"error\":0}", 0, NULL);
}

/* Handles one parsed request head (views into c->in) by its route (srv_route_pick). */
static void on_request(struct lws *wsi, struct srv_conn *c, const struct so_http_head *h)
{
    c->head_only = so_str_eq(h->method, "HEAD");
    struct srv_route_pick r;
    srv_route_pick(c, h, &r);
    switch (r.route) {
    case SRV_ROUTE_FILE:
        serve_file(wsi, c, r.file, h, h->target);
        return;
    case SRV_ROUTE_DIY_RESULT:
        if (!c->body && !(c->body = malloc(FS_POST_MAX + 1))) {
            c->keep_alive = 0;
            reject_req(wsi, c, 503, "Service Unavailable", h);
            return;
        }
        c->body_left = r.clen;
        c->body_len = 0;
        c->st = SC_BODY;
        srv_conn_deadline(c, SRV_BODY_TIMEOUT_MS);
        arm(wsi, c);
        return;
    default: /* a refusal (the cloud's routes are not on this listener) */
        if (r.close)
            c->keep_alive = 0;
        reject_req(wsi, c, r.code, r.reason, h);
        return;
    }
}

/* The first byte of a request head arrived (or the connection opened): the head
 * must be complete within SRV_HEAD_TIMEOUT_MS (slowloris). */
static void start_head_clock(struct lws *wsi, struct srv_conn *c)
{
    srv_conn_deadline(c, SRV_HEAD_TIMEOUT_MS);
    arm(wsi, c);
}

static int write_turn(struct lws *wsi, struct srv_conn *c);

/* Consumes buffered input while we are not busy replying. Returns -1 to close. */
static int process_input(struct lws *wsi, struct srv_conn *c)
{
    enum srv_conn_state was = c->st;
    while (c->in_len && (c->st == SC_HEAD || c->st == SC_BODY)) {
        if (c->st == SC_BODY) {
            size_t n = c->in_len < c->body_left ? c->in_len : (size_t)c->body_left;
            memcpy(c->body + c->body_len, c->in, n); /* body_left <= FS_POST_MAX */
            c->body_len += n;
            c->body_left -= n;
            srv_conn_consume(c, n);
            if (!c->body_left)
                diy_result(wsi, c);
            continue;
        }
        struct so_http_head h;
        int code;
        const char *reason, *what;
        enum so_err e = srv_conn_read_head(c, &h, &code, &reason, &what);
        if (e == SO_AGAIN)
            return 0;
        if (e != SO_OK) {
            c->in_len = 0;
            reject(wsi, c, code, reason, what);
            break;
        }
        size_t used = h.head_len;
        on_request(wsi, c, &h); /* copies what it needs out of c->in */
        srv_conn_consume(c, used);
    }
    if (c->st == SC_BODY && !c->body_left)
        diy_result(wsi, c);
    /* A reply was just built: its first write goes out now, from the callback that
     * read the request, instead of one more wait for a writable callback (most
     * replies are one 4 KiB Range piece). */
    if (c->st == SC_SEND && was != SC_SEND)
        return write_turn(wsi, c);
    return 0;
}

static int on_flushed(struct lws *wsi, struct srv_conn *c);

/* One write: what is left of the head plus as much body as this turn allows, in one
 * gathered send straight from the head buffer and the image in memory. Nothing is
 * copied or queued here: what the socket does not take now goes at its next
 * writable callback. */
static int write_turn(struct lws *wsi, struct srv_conn *c)
{
    struct srv *s = c->srv;
    size_t room = FS_PIECE;
    if (c->paced)
        room = c->lead_done ? FS_PACE_CHUNK : FS_PACE_LEAD_BYTES;
    uint64_t left = c->end - c->pos;
    size_t take = left < room ? (size_t)left : room;
    const unsigned char *src = NULL;
    if (take)
        src = c->file >= 0 ? s->cfg.files[c->file].data + c->pos : c->body_src + c->pos;
    size_t head_left = c->head_len - c->head_off;
    ssize_t n = 0;
    if (head_left + take) {
        n = plat_send2(lws_get_socket_fd(wsi), c->head + c->head_off, head_left, src, take);
        if (n < 0) {
            int e = plat_sock_errno();
            if (!plat_sock_would_block(e)) {
                LOG_D("http %s: send failed: %s", c->peer, strerror(e));
                return -1;
            }
            n = 0;
        }
    }
    c->tx_total += (size_t)n;
    size_t body_sent = 0;
    if ((size_t)n < head_left) {
        c->head_off += (size_t)n;
    } else {
        body_sent = (size_t)n - head_left;
        c->head_len = c->head_off = 0;
    }
    c->pos += body_sent;
    if (n)
        active(c);
    if (c->file >= 0 && body_sent)
        track_mark(s, c, c->first, c->pos);
    if ((size_t)n < head_left + take) {
        lws_callback_on_writable(wsi); /* the socket is full: the rest when it drains */
    } else if (c->pos >= c->end) {
        c->st = SC_FLUSH;
        return on_flushed(wsi, c);
    } else if (c->paced) {
        due_in(wsi, c, c->lead_done ? FS_PACE_INTERVAL_MS : FS_PACE_LEAD_MS);
        c->lead_done = 1;
    } else {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* Bytes of this reply the peer's TCP has not acknowledged (the kernel's acknowledged-
 * bytes counter, plat/tcpinfo.h; on Linux it survives a reset, unlike the send queue).
 * 0 where unknown: the download then counts as done once written (DESIGN.md
 * "Platform layer"). */
static uint64_t unacked(struct lws *wsi, const struct srv_conn *c)
{
    uint64_t acked = 0;
    if (plat_tcp_bytes_acked(lws_get_socket_fd(wsi), &acked) != 0)
        return 0;
    return acked >= c->tx_total ? 0 : c->tx_total - acked;
}

static void emit_done(struct srv_conn *c)
{
    struct srv *s = c->srv;
    c->done_pending = 0;
    struct fs_track *t = c->track >= 0 ? &s->fs.tracks[c->track] : NULL;
    if (t && t->used && t->file == c->file && !strcmp(t->ip, c->ip) && t->active) {
        t->active = 0;
        emit_dl(s, SRV_EV_DOWNLOAD_DONE, c, c->file, s->cfg.files[c->file].len, c->paced,
                NULL);
    }
}

/* A refused request may still be arriving (a 413's body): closing now, with unread
 * bytes, would send a reset that can destroy our reply before the peer reads it. So
 * our side shuts down (the peer sees the end of the reply), what still comes is read
 * and dropped, and the connection closes at the peer's EOF or after
 * SRV_CLOSE_LINGER_MS (RFC 9112 §9.6). */
static int linger(struct lws *wsi, struct srv_conn *c)
{
    if (shutdown(lws_get_socket_fd(wsi), PLAT_SHUT_WR) != 0)
        return -1;
    c->st = SC_LINGER;
    c->in_len = 0;
    due_in(wsi, c, SRV_CLOSE_LINGER_MS);
    return 0;
}

/* The reply is with lws's socket; DONE only once the peer's TCP has it all, so an
 * image is not "done" while most of it still sits in our send buffer. */
static int on_flushed(struct lws *wsi, struct srv_conn *c)
{
    /* A kept-alive reply that completes nothing (one Range piece of many) is not
     * waited for: the next request may be read at once, and a close before the
     * peer's TCP acknowledged it is still an ABORT (unconfirmed, RAW_CLOSE). */
    int quiet = c->keep_alive && !c->done_pending;
    if (!quiet) {
        if (unacked(wsi, c)) {
            /* look again after about a round trip, then less often (srv_priv.h); a
             * new request from the peer also makes us look: it carries the ACK */
            due_in(wsi, c, srv_drain_delay_ms(wsi, c->drain_checks++));
            return 0;
        }
        if (c->done_pending)
            emit_done(c);
        if (!c->keep_alive)
            return c->discard ? linger(wsi, c) : -1;
    }
    c->st = SC_HEAD;
    c->unconfirmed = quiet && c->file >= 0;
    if (!c->unconfirmed)
        c->file = -1;
    c->track = -1;
    c->due_ms = 0;
    active(c);
    c->req_deadline = 0;
    if (c->in_len) /* a pipelined request: its head is timed from now */
        start_head_clock(wsi, c);
    return process_input(wsi, c);
}

/* The connection's timer fired: whatever is due now, then the next deadline. */
static int on_timer(struct lws *wsi, struct srv_conn *c)
{
    srv_conn_fired(c);
    uint64_t now = srv_mono_ms();
    if (c->st == SC_LINGER) {
        if (now >= c->due_ms)
            return -1;
    } else if (now >= c->active_ms + FS_IDLE_MS) {
        LOG_D("http %s: nothing read or written for %d s; closing", c->peer,
              FS_IDLE_MS / 1000);
        return -1;
    } else if ((c->st == SC_SEND || c->st == SC_FLUSH) && c->due_ms && now >= c->due_ms) {
        c->due_ms = 0;
        if (c->st == SC_FLUSH)
            return on_flushed(wsi, c); /* another look at the ACKs */
        lws_callback_on_writable(wsi);  /* pacing: the next write is due */
    } else {
        const char *late = srv_conn_overdue(c, now);
        if (late) {
            c->in_len = 0;
            c->req_deadline = 0;
            reject(wsi, c, 408, "Request Timeout", late);
            c->keep_alive = 0;
            lws_callback_on_writable(wsi);
        }
    }
    arm(wsi, c);
    return 0;
}

int fileserv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len)
{
    struct srv_conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT: {
        int over = srv_conn_adopt(wsi, c);
        if (over < 0)
            return -1;
        active(c);
        if (over) { /* admitted or not at the filter below */
            /* Over a limit: a short 503 and close (not counted; the REJECTED event
             * came from srv_conn_admit, rate-limited). */
            static const char busy[] = "too many connections\n";
            reply_simple(c, 503, "Service Unavailable", "text/plain", busy, 1,
                         "Retry-After: 1\r\n");
            c->discard = 0; /* no lingering: the descriptor is wanted back at once */
            arm(wsi, c);
            lws_callback_on_writable(wsi);
            return 0;
        }
        start_head_clock(wsi, c);
        LOG_D("http %s: connected", c->peer);
        return 0;
    }
    case LWS_CALLBACK_RAW_RX:
        if (!c || !c->srv)
            return -1;
        if (c->discard) { /* a closing reply is on its way: nothing more is read */
            if (c->st == SC_FLUSH)
                return on_flushed(wsi, c);
            return 0;
        }
        if (len > c->in_cap - c->in_len) {
            if (c->st == SC_HEAD) {
                /* Take what fits; the parser reports an oversized head. */
                srv_conn_take(c, in, len);
                return process_input(wsi, c);
            }
            LOG_D("http %s: too much pipelined input; closing", c->peer);
            return -1;
        }
        if (srv_conn_request_starts(c)) /* first byte after a keep-alive pause */
            arm(wsi, c);
        srv_conn_take(c, in, len);
        if (c->st == SC_HEAD || c->st == SC_BODY)
            active(c);
        if (c->st == SC_FLUSH)
            return on_flushed(wsi, c);
        return process_input(wsi, c);
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (!c || !c->srv)
            return 0;
        if (c->st == SC_SEND)
            return write_turn(wsi, c);
        if (c->st == SC_FLUSH)
            return on_flushed(wsi, c);
        return 0;
    case LWS_CALLBACK_TIMER:
        if (!c || !c->srv)
            return 0;
        return on_timer(wsi, c);
    case LWS_CALLBACK_RAW_CLOSE:
        if (!c || !c->srv)
            return 0;
        if (c->file >= 0 && (c->st == SC_SEND || c->st == SC_FLUSH ||
                             (c->st == SC_HEAD && c->unconfirmed))) {
            uint64_t left = unacked(wsi, c);
            if (c->st != SC_SEND && !left) {
                /* it all arrived before the peer hung up (curl does exactly that) */
                if (c->done_pending)
                    emit_done(c);
                goto closed;
            }
            /* offset: file bytes the peer acknowledged */
            uint64_t acked = c->tx_total - left - c->reply_start;
            acked = acked > c->head_sent ? acked - c->head_sent : 0;
            uint64_t at = c->first + acked;
            if (at > c->pos)
                at = c->pos;
            emit_dl(c->srv, SRV_EV_DOWNLOAD_ABORT, c, c->file, at, c->paced,
                    "the peer closed the connection mid-body");
            LOG_D("http %s: %s aborted near %" PRIu64 " of %zu", c->peer,
                  c->srv->names[c->file], at, c->srv->cfg.files[c->file].len);
        }
    closed:
        srv_conn_free_input(c);
        free(c->body);
        c->body = NULL;
        c->srv = NULL;
        return 0;
    default:
        return 0;
    }
}
