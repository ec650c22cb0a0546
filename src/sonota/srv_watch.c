/* srv_watch.c - sockets of another client (libcurl's, sonota/httpc.c) in the servers'
 * poll set, so one wait covers both: srv_run_once returns when one of them is ready,
 * and the caller lets its client read or write. Each is watched through a copy of its
 * descriptor (plat_sock_dup) adopted by lws as a raw file: lws polls and closes the
 * copy, the client keeps and closes its own. Nothing is read or written here. */
#include "sonota/srv_priv.h"

#include "io/log.h"
#include "plat/net.h"

#include <string.h>

static struct srv_watch_ent *find_fd(struct srv *s, int fd)
{
    for (size_t i = 0; i < s->n_watch; i++)
        if (s->watch[i].fd == fd)
            return &s->watch[i];
    return NULL;
}

/* Stops watching entry i: lws closes its copy of the descriptor now (the client may
 * close the socket right after; a copy left open would keep the connection alive). */
static void drop(struct srv *s, size_t i)
{
    struct lws *w = s->watch[i].wsi;
    s->watch[i] = s->watch[--s->n_watch];
    if (w)
        lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static struct srv_watch_ent *add(struct srv *s, int fd)
{
    if (s->n_watch >= SRV_WATCH_MAX || !s->vh_http)
        return NULL;
    int copy = plat_sock_dup(fd);
    if (copy < 0)
        return NULL;
    lws_sock_file_fd_type u;
    memset(&u, 0, sizeof u);
    u.filefd = (lws_filefd_type)(intptr_t)copy;
    struct lws *w = lws_adopt_descriptor_vhost(s->vh_http, LWS_ADOPT_RAW_FILE_DESC, u,
                                               SRV_WATCH_PROTOCOL, NULL);
    if (!w) {
        plat_sock_close(copy); /* lws closes only sockets it failed to adopt */
        return NULL;
    }
    struct srv_watch_ent *e = &s->watch[s->n_watch++];
    e->fd = fd;
    e->events = POLLIN;       /* lws watches a raw file for input from the start */
    e->wsi = w;
    return e;
}

int srv_watch(struct srv *s, const struct pollfd *fds, size_t n)
{
    if (!s || !s->ctx)
        return 0;
    for (size_t i = s->n_watch; i-- > 0;) {
        int wanted = 0;
        for (size_t k = 0; k < n && !wanted; k++)
            wanted = (int)fds[k].fd == s->watch[i].fd && fds[k].events;
        if (!wanted || !s->watch[i].wsi)
            drop(s, i);
    }
    int all = 1;
    for (size_t k = 0; k < n; k++) {
        short want = fds[k].events & (POLLIN | POLLOUT);
        if (!want)
            continue;
        struct srv_watch_ent *e = find_fd(s, (int)fds[k].fd);
        if (!e && !(e = add(s, (int)fds[k].fd))) {
            all = 0;
            continue;
        }
        if ((want & POLLIN) != (e->events & POLLIN))
            lws_rx_flow_control(e->wsi, (want & POLLIN) ? 1 : 0);
        /* a writable callback comes once per request: asked again each turn while the
         * client still waits to write (connecting) */
        if (want & POLLOUT)
            lws_callback_on_writable(e->wsi);
        e->events = want;
    }
    return all;
}

int srv_run_watching(struct srv *s, const struct pollfd *fds, size_t n, int timeout_ms)
{
    if (!srv_watch(s, fds, n) && n > 0 && timeout_ms > SRV_WATCH_LOOK_MS)
        timeout_ms = SRV_WATCH_LOOK_MS;
    return srv_run_once(s, timeout_ms);
}

void srv_watch_forget(struct srv *s, int fd)
{
    struct srv_watch_ent *e = s ? find_fd(s, fd) : NULL;
    if (e)
        drop(s, (size_t)(e - s->watch));
}

int srv_watch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    if (reason != LWS_CALLBACK_RAW_CLOSE_FILE)
        return 0; /* ready: the loop's turn returns and the client does the I/O */
    struct srv *s = srv_of(wsi);
    for (size_t i = 0; s && i < s->n_watch; i++)
        if (s->watch[i].wsi == wsi)
            s->watch[i].wsi = NULL; /* closed by lws (a hang-up): dropped at the next call */
    return 0;
}
