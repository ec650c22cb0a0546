/* httpc.c - one libcurl multi handle driven by socket and timer callbacks (see httpc.h). */
#include "sonota/httpc.h"

#include "io/log.h"
#include "plat/clock.h"
#include "plat/fs.h"
#include "plat/net.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* httpc_perform hands the idle function at most this many sockets: one request uses one
 * (two while libcurl tries two addresses at once) */
#define HTTPC_PERFORM_FDS 4

struct httpc_sock {
    int fd;
    short events;             /* POLLIN / POLLOUT wanted by libcurl */
};

struct httpc {
    CURLM *multi;
    struct httpc_req *reqs;   /* running requests */
    int n_reqs;
    struct httpc_sock *socks; /* sockets libcurl asked us to watch */
    int n_socks, cap_socks;
    struct pollfd *scratch;   /* httpc_step's poll set, cap_socks entries */
    int64_t timer_at;         /* libcurl's timer (monotonic ms), -1 none */
    httpc_watch_fn watch;
    void *watch_user;
};

struct httpc_req {
    struct httpc_req *next;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url, *shown, *body;   /* url and body wiped before freeing: they may hold secrets */
    size_t body_len;
    char method[8];
    int timeout_ms;
    long want_status;
    int truncate;
    /* the one body collector: bounded, NUL-terminated */
    char *buf;
    size_t cap, len;
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
    httpc_done_fn done;
    void (*release)(void *user);
    void *user;
};

int httpc_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void httpc_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- sockets and timer (libcurl callbacks) ---- */

static int sock_find(const struct httpc *h, int fd)
{
    for (int i = 0; i < h->n_socks; i++)
        if (h->socks[i].fd == fd)
            return i;
    return -1;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)socketp;
    struct httpc *h = userp;
    int fd = (int)s, i = sock_find(h, fd);
    if (what == CURL_POLL_REMOVE) {
        if (i >= 0)
            h->socks[i] = h->socks[--h->n_socks];
        if (h->watch)
            h->watch(h->watch_user, fd, 0);
        return 0;
    }
    short ev = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
                       ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    if (i < 0) {
        if (h->n_socks == h->cap_socks) {
            int cap = h->cap_socks ? h->cap_socks * 2 : 8;
            struct httpc_sock *ns = realloc(h->socks, (size_t)cap * sizeof *ns);
            if (!ns)
                return -1; /* libcurl fails the transfer */
            h->socks = ns;
            struct pollfd *np = realloc(h->scratch, (size_t)cap * sizeof *np);
            if (!np)
                return -1;
            h->scratch = np;
            h->cap_socks = cap;
        }
        i = h->n_socks++;
        h->socks[i].fd = fd;
    }
    h->socks[i].events = ev;
    if (h->watch)
        h->watch(h->watch_user, fd, ev);
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct httpc *h = userp;
    h->timer_at = timeout_ms < 0 ? -1 : plat_mono_ms() + timeout_ms;
    return 0;
}

/* ---- the body collector ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct httpc_req *r = user;
    size_t n = size * nmemb;
    if (n > r->cap - r->len) {
        r->overflow = 1;
        if (r->truncate) { /* keep the head */
            memcpy(r->buf + r->len, data, r->cap - r->len);
            r->len = r->cap;
            r->buf[r->len] = '\0';
        }
        return 0; /* aborts the transfer: a bigger answer is not the device we expect */
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return n;
}

/* ---- lifetime ---- */

struct httpc *httpc_new(void)
{
    struct httpc *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->timer_at = -1;
    return h;
}

/* The multi handle, made with the first request: a run that never asks anything
 * (--no-prov) does not load libcurl at all (io/curl_lazy.c), and one that does loads
 * it after its servers listen. */
static CURLM *multi_of(struct httpc *h)
{
    if (h->multi)
        return h->multi;
    h->multi = curl_multi_init();
    if (!h->multi)
        return NULL;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h->multi;
}

static void req_free(struct httpc_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    if (r->url)
        plat_wipe(r->url, strlen(r->url));
    if (r->body)
        plat_wipe(r->body, r->body_len);
    free(r->url);
    free(r->shown);
    free(r->body);
    free(r->buf);
    free(r);
}

/* Unlinks r from h and from the multi handle. */
static void req_detach(struct httpc *h, struct httpc_req *r)
{
    for (struct httpc_req **p = &h->reqs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            h->n_reqs--;
            break;
        }
    if (h->multi)
        curl_multi_remove_handle(h->multi, r->easy);
}

void httpc_free(struct httpc *h)
{
    if (!h)
        return;
    while (h->reqs)
        httpc_cancel(h, h->reqs);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    free(h->socks);
    free(h->scratch);
    free(h);
}

void httpc_set_watch(struct httpc *h, httpc_watch_fn fn, void *user)
{
    h->watch = fn;
    h->watch_user = user;
}

int httpc_running(const struct httpc *h)
{
    return h->n_reqs;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

struct httpc_req *httpc_start(struct httpc *h, const struct httpc_opts *o, httpc_done_fn done,
                              void *user, char *err, size_t errcap)
{
    struct httpc_req *r = calloc(1, sizeof *r);
    const char *shown = o->shown_url ? o->shown_url : o->url;
    if (!r)
        goto nomem;
    r->done = done;
    r->release = o->release;
    r->user = user;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    r->want_status = o->want_status;
    r->truncate = o->truncate;
    r->cap = o->reply_max ? o->reply_max : HTTPC_REPLY_MAX;
    snprintf(r->method, sizeof r->method, "%s", o->method ? o->method : o->body ? "POST" : "GET");
    r->url = dup_n(o->url, strlen(o->url));
    r->shown = dup_n(shown, strlen(shown));
    r->buf = malloc(r->cap + 1);
    r->easy = curl_easy_init();
    if (!r->url || !r->shown || !r->buf || !r->easy)
        goto nomem;
    r->buf[0] = '\0';
    if (o->body) {
        r->body_len = o->body_len ? o->body_len : strlen(o->body);
        if (!(r->body = dup_n(o->body, r->body_len)))
            goto nomem;
    }
    if (o->content_type) {
        char line[128];
        snprintf(line, sizeof line, "Content-Type: %s", o->content_type);
        r->hdrs = curl_slist_append(r->hdrs, line);
        if (!r->hdrs)
            goto nomem;
    }
    if (r->body) {
        struct curl_slist *n = curl_slist_append(r->hdrs, "Expect:"); /* no 100-continue */
        if (!n)
            goto nomem;
        r->hdrs = n;
    }
    CURL *c = r->easy;
    long cto = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : r->timeout_ms;
    curl_easy_setopt(c, CURLOPT_PRIVATE, r);
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* devices are on a local link or the LAN */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cto);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, o->keep_alive ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sonota/" SONOTA_VERSION);
    if (r->hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->hdrs);
    if (o->source)
        curl_easy_setopt(c, CURLOPT_INTERFACE, o->source);
    if (r->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
    }
    if (strcmp(r->method, "GET") && strcmp(r->method, "POST"))
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
    CURLM *multi = multi_of(h);
    if (!multi || curl_multi_add_handle(multi, c) != CURLM_OK) {
        snprintf(err, errcap, "%s %s: cannot start the request", r->method, r->shown);
        req_free(r);
        return NULL;
    }
    r->next = h->reqs;
    h->reqs = r;
    h->n_reqs++;
    LOG_D("%s %s started (timeout %d ms)", r->method, r->shown, r->timeout_ms);
    return r;
nomem:
    snprintf(err, errcap, "%s: cannot start an HTTP client (out of memory)", shown);
    if (r)
        req_free(r);
    return NULL;
}

void httpc_cancel(struct httpc *h, struct httpc_req *r)
{
    if (!r)
        return;
    req_detach(h, r);
    if (r->release)
        r->release(r->user);
    req_free(r);
}

/* ---- completion ---- */

static enum so_err classify(CURLcode rc, int overflow, int truncate)
{
    if (overflow)
        return truncate ? SO_OK : SO_E_NET_REPLY_TOOBIG;
    switch (rc) {
    case CURLE_OK: return SO_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_INTERFACE_FAILED:
        return SO_E_NET_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT: return SO_E_TIMEOUT;
    case CURLE_GOT_NOTHING: return SO_E_NET_EMPTY;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return SO_E_NET_BROKEN;
    case CURLE_OUT_OF_MEMORY: return SO_E_NOMEM;
    default: return SO_E_NET;
    }
}

static void finish(struct httpc *h, struct httpc_req *r, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    enum so_err e = classify(rc, r->overflow, r->truncate);
    const char *cause = e == SO_OK ? "" : curl_easy_strerror(rc);
    char detail[HTTPC_DETAIL_MAX] = "";
    switch (e) {
    case SO_OK:
        if (r->want_status && status != r->want_status) {
            e = SO_E_HTTP_STATUS;
            snprintf(detail, sizeof detail, "%s %s: HTTP status %ld instead of %ld", r->method,
                     r->shown, status, r->want_status);
        }
        break;
    case SO_E_TIMEOUT:
        snprintf(detail, sizeof detail, "%s %s: no answer within %d ms", r->method, r->shown,
                 r->timeout_ms);
        break;
    case SO_E_NET_REPLY_TOOBIG:
        snprintf(detail, sizeof detail, "%s %s: the answer is larger than %zu bytes",
                 r->method, r->shown, r->cap);
        break;
    default:
        /* errbuf may quote the URL: the shown form only (passwords masked) */
        snprintf(detail, sizeof detail, "%s %s: %s (%s)", r->method, r->shown, so_strerror(e),
                 cause);
        break;
    }
    /* errbuf names host and port, never the path that may hold a password */
    LOG_D("%s %s -> %s, HTTP %ld, %zu B%s%s", r->method, r->shown, so_strerror(e), status,
          r->len, r->errbuf[0] ? ": " : "", r->errbuf);
    req_detach(h, r);
    struct httpc_result res = {.err = e, .status = status, .body = r->buf, .len = r->len,
                               .truncated = r->overflow, .cause = cause, .detail = detail};
    if (r->done)
        r->done(r->user, &res);
    req_free(r);
}

static void drain(struct httpc *h)
{
    CURLMsg *m;
    int left;
    while (h->multi && (m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct httpc_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (r)
            finish(h, r, m->data.result);
    }
}

int httpc_step(struct httpc *h)
{
    if (!h->multi)
        return h->n_reqs; /* nothing was ever asked */
    int running, n = h->n_socks;
    if (n > 0) {
        for (int i = 0; i < n; i++)
            h->scratch[i] = (struct pollfd){.fd = h->socks[i].fd, .events = h->socks[i].events};
        if (plat_poll(h->scratch, (size_t)n, 0) > 0) {
            /* by index: a socket libcurl adds meanwhile may move the array (realloc keeps
             * the first n entries) */
            for (int i = 0; i < n; i++) {
                short re = h->scratch[i].revents;
                if (!re)
                    continue;
                int f = ((re & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
                        ((re & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                        ((re & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(h->multi, h->scratch[i].fd, f, &running);
            }
        }
    }
    if (h->timer_at >= 0 && plat_mono_ms() >= h->timer_at) {
        h->timer_at = -1;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    drain(h);
    return h->n_reqs;
}

int httpc_timeout_ms(const struct httpc *h)
{
    if (h->timer_at < 0)
        return -1;
    int64_t left = h->timer_at - plat_mono_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

int httpc_wait_ms(const struct httpc *h, int max_ms)
{
    int t = httpc_timeout_ms(h);
    return t < 0 || t > max_ms ? max_ms : t;
}

int httpc_poll_fds(const struct httpc *h, struct pollfd *out, int cap)
{
    int k = 0;
    for (int i = 0; i < h->n_socks && k < cap; i++)
        out[k++] = (struct pollfd){.fd = h->socks[i].fd, .events = h->socks[i].events};
    return k;
}

#define WAIT_FDS_MAX 16

void httpc_wait_fds(const struct pollfd *fds, size_t n, int max_ms)
{
    if (max_ms <= 0)
        return;
    if (!n) {
        plat_sleep_ms((unsigned)max_ms);
        return;
    }
    struct pollfd p[WAIT_FDS_MAX]; /* poll writes revents: a copy */
    size_t k = n < WAIT_FDS_MAX ? n : WAIT_FDS_MAX;
    memcpy(p, fds, k * sizeof *p);
    plat_poll(p, k, max_ms);
}

int httpc_wait(struct httpc *h, int max_ms)
{
    struct pollfd p[WAIT_FDS_MAX];
    int n = httpc_poll_fds(h, p, WAIT_FDS_MAX);
    httpc_wait_fds(p, (size_t)n, httpc_wait_ms(h, max_ms));
    return httpc_step(h);
}

/* ---- blocking helper ---- */

struct perform {
    struct httpc_reply *out;
    int done;
};

static void perform_done(void *user, const struct httpc_result *r)
{
    struct perform *p = user;
    struct httpc_reply *o = p->out;
    p->done = 1;
    o->err = r->err;
    o->status = r->status;
    o->truncated = r->truncated;
    snprintf(o->cause, sizeof o->cause, "%s", r->cause);
    snprintf(o->detail, sizeof o->detail, "%s", r->detail);
    char *b = dup_n(r->body, r->len);
    if (!b) {
        o->err = SO_E_NOMEM;
        snprintf(o->detail, sizeof o->detail, "out of memory");
        return;
    }
    free(o->body);
    o->body = b;
    o->len = r->len;
}

enum so_err httpc_perform(struct httpc *h, const struct httpc_opts *o, httpc_idle_fn idle,
                          void *idle_user, struct httpc_reply *out)
{
    memset(out, 0, sizeof *out);
    out->body = dup_n("", 0);
    struct httpc *own = NULL;
    if (!h && !(h = own = httpc_new())) {
        out->err = SO_E_NOMEM;
        snprintf(out->detail, sizeof out->detail, "cannot start an HTTP client (out of memory)");
        return out->err;
    }
    struct perform p = {.out = out};
    struct httpc_req *r = httpc_start(h, o, perform_done, &p, out->detail, sizeof out->detail);
    if (!r) {
        out->err = SO_E_NOMEM;
    } else {
        /* libcurl's own timeout ends the request; this bound only guards against a
         * timer that never fires */
        int64_t limit = plat_mono_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 10000) + 2000;
        while (!p.done) {
            if (plat_mono_ms() > limit) {
                httpc_cancel(h, r);
                out->err = SO_E_TIMEOUT;
                snprintf(out->detail, sizeof out->detail, "%s: no answer in time",
                         o->shown_url ? o->shown_url : o->url);
                break;
            }
            if (!idle) {
                httpc_wait(h, 100);
                continue;
            }
            struct pollfd fds[HTTPC_PERFORM_FDS];
            int n = httpc_poll_fds(h, fds, HTTPC_PERFORM_FDS);
            idle(idle_user, fds, (size_t)n, httpc_wait_ms(h, 100));
            httpc_step(h);
        }
    }
    httpc_free(own);
    if (!out->body && out->err == SO_OK) /* "" could not be allocated */
        out->err = SO_E_NOMEM;
    return out->err;
}

void httpc_reply_free(struct httpc_reply *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

void httpc_excerpt(const char *body, size_t len, size_t max, char *out, size_t cap)
{
    size_t k = 0;
    if (!cap)
        return;
    for (size_t i = 0; i < len && i < max && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)body[i];
        out[k++] = c >= 32 && c < 127 ? (char)c : '.';
    }
    out[k] = '\0';
}
