/* srv_limits.c - the servers' connection limits (per peer address and in total,
 * server.h: max_conns, max_conns_per_ip), their rate-limited REJECTED events, the
 * open-file limit they need, and the unacknowledged-bytes probe both servers use
 * before closing. A connection is counted from its accept (cloud: before TLS) to
 * lws's LWS_CALLBACK_WSI_DESTROY. */
#include "sonota/srv_priv.h"

#include "io/log.h"
#include "io/tls.h"
#include "lib/str.h"
#include "plat/fdlimit.h"
#include "plat/net.h"
#include "plat/tcpinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Emits the REJECTED event for the refusals counted so far (the last one's words). */
static void flush_refusals(struct srv *s, uint64_t now)
{
    char detail[240];
    if (s->refused_unreported > 1)
        snprintf(detail, sizeof detail, "503 %s (%u connections refused since the last "
                 "report)", s->refuse_why, s->refused_unreported);
    else
        snprintf(detail, sizeof detail, "503 %s", s->refuse_why);
    s->refuse_report_ms = now;
    s->refused_unreported = 0;
    LOG_D("refused %s: %s", s->refuse_peer, detail);
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SRV_EV_REJECTED;
    ev.peer = s->refuse_peer;
    ev.error = 503;
    ev.detail = detail;
    srv_emit(s, &ev);
}

void srv_flush_refusals(struct srv *s)
{
    uint64_t now = srv_mono_ms();
    if (s->refused_unreported && now >= s->refuse_report_ms + SRV_REFUSE_REPORT_MS)
        flush_refusals(s, now);
}

/* A flood of refusals is one event a second; the ones in between are counted and
 * reported with the next (srv_run_once flushes them). */
static void report_refusal(struct srv *s, const char *peer, const char *why)
{
    uint64_t now = srv_mono_ms();
    s->refused_unreported++;
    snprintf(s->refuse_why, sizeof s->refuse_why, "%s", why);
    snprintf(s->refuse_peer, sizeof s->refuse_peer, "%s", peer);
    if (s->refuse_report_ms && now < s->refuse_report_ms + SRV_REFUSE_REPORT_MS)
        return;
    flush_refusals(s, now);
}

/* fd_slot value of a file-server connection let through for its 503 */
#define FD_REFUSING (-1)

/* Remembers which peer slot the descriptor fd holds (0 = none). */
static int fd_map_set(struct srv *s, int fd, int v)
{
    if (fd < 0)
        return -1;
    if ((size_t)fd >= s->fd_cap) {
        size_t cap = s->fd_cap ? s->fd_cap : 256;
        while (cap <= (size_t)fd)
            cap *= 2;
        int *m = realloc(s->fd_slot, cap * sizeof *m);
        if (!m)
            return -1;
        s->fd_slot = m;
        uint16_t *ports = realloc(s->fd_port, cap * sizeof *ports);
        if (!ports)
            return -1; /* fd_slot grew, fd_cap did not: the next call retries */
        s->fd_port = ports;
        memset(m + s->fd_cap, 0, (cap - s->fd_cap) * sizeof *m);
        memset(ports + s->fd_cap, 0, (cap - s->fd_cap) * sizeof *ports);
        s->fd_cap = cap;
    }
    s->fd_slot[fd] = v;
    return 0;
}

int srv_limits_init(struct srv *s)
{
    s->n_buckets = 16;
    while (s->n_buckets < 2 * (size_t)s->max_conns)
        s->n_buckets *= 2;
    s->peers = calloc((size_t)s->max_conns, sizeof *s->peers);
    s->peer_bucket = calloc(s->n_buckets, sizeof *s->peer_bucket);
    s->peer_free = calloc((size_t)s->max_conns, sizeof *s->peer_free);
    if (!s->peers || !s->peer_bucket || !s->peer_free)
        return -1;
    for (int i = 0; i < s->max_conns; i++) /* slot 0 on top */
        s->peer_free[i] = s->max_conns - 1 - i;
    s->n_peer_free = s->max_conns;
    return 0;
}

void srv_limits_free(struct srv *s)
{
    free(s->peers);
    free(s->peer_bucket);
    free(s->peer_free);
    free(s->fd_slot);
    free(s->fd_port);
    s->peers = NULL;
    s->peer_bucket = NULL;
    s->peer_free = NULL;
    s->fd_slot = NULL;
    s->fd_port = NULL;
}

/* FNV-1a: the address's bucket, so an accept finds its slot without a scan of all. */
static int *peer_bucket_of(const struct srv *s, const char *ip)
{
    uint32_t h = so_fnv1a(SO_FNV1A_INIT, ip, strlen(ip));
    return &s->peer_bucket[h & (s->n_buckets - 1)];
}

static void release_slot(struct srv *s, int slot)
{
    if (slot < 1 || slot > s->max_conns)
        return;
    struct srv_peer *p = &s->peers[slot - 1];
    if (s->n_conns)
        s->n_conns--;
    if (!p->n || --p->n)
        return;
    /* the address's last connection: the slot leaves its bucket for the free stack */
    int *link = peer_bucket_of(s, p->ip);
    while (*link && *link != slot)
        link = &s->peers[*link - 1].next;
    if (*link)
        *link = p->next;
    p->next = 0;
    s->peer_free[s->n_peer_free++] = slot - 1;
}

/* Gives back the slot noted for a descriptor (0 if none). */
static void release_fd(struct srv *s, int fd)
{
    if (fd < 0 || (size_t)fd >= s->fd_cap || !s->fd_slot[fd])
        return;
    if (s->fd_slot[fd] == FD_REFUSING) {
        if (s->n_refusing)
            s->n_refusing--;
    } else {
        release_slot(s, s->fd_slot[fd]);
    }
    s->fd_slot[fd] = 0;
}

int srv_conn_admit(struct srv *s, int fd, const char *ip, int port, const char *peer)
{
    if (!s || !s->peers || fd < 0)
        return -1;
    /* A descriptor number comes back only after its socket closed: an entry still
     * there belongs to a connection lws dropped before it was bound. */
    release_fd(s, fd);
    char why[120];
    if (s->n_conns >= s->max_conns) {
        snprintf(why, sizeof why, "too many connections: %d open, the limit in total",
                 s->n_conns);
        report_refusal(s, peer, why);
        return -1;
    }
    int *bucket = peer_bucket_of(s, ip), slot = -1;
    for (int k = *bucket; k; k = s->peers[k - 1].next) {
        if (!strcmp(s->peers[k - 1].ip, ip)) {
            slot = k - 1;
            break;
        }
    }
    if (slot >= 0 && s->max_per_ip && s->peers[slot].n >= (unsigned)s->max_per_ip) {
        snprintf(why, sizeof why, "too many connections from %s: %u open, the limit per "
                 "address", ip, s->peers[slot].n);
        report_refusal(s, peer, why);
        return -1;
    }
    int fresh = slot < 0;
    if (fresh) {
        if (!s->n_peer_free) /* cannot happen: fewer than max_conns are open */
            return -1;
        slot = s->peer_free[s->n_peer_free - 1];
    }
    if (fd_map_set(s, fd, slot + 1))
        return -1;
    s->fd_port[fd] = (uint16_t)port;
    if (fresh) {
        s->n_peer_free--;
        struct srv_peer *p = &s->peers[slot];
        snprintf(p->ip, sizeof p->ip, "%s", ip);
        p->next = *bucket;
        *bucket = slot + 1;
    }
    s->peers[slot].n++;
    s->n_conns++;
    return 0;
}

int srv_conn_bind(struct srv *s, struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    if (!s || fd < 0 || (size_t)fd >= s->fd_cap || s->fd_slot[fd] <= 0)
        return -1; /* not admitted, or let through for its 503 (released by fd) */
    lws_set_opaque_user_data(wsi, (void *)(uintptr_t)s->fd_slot[fd]);
    s->fd_slot[fd] = 0;
    return 0;
}

void srv_conn_release(struct lws *wsi)
{
    struct srv *s = srv_of(wsi);
    if (!s || !s->peers)
        return;
    uintptr_t v = (uintptr_t)lws_get_opaque_user_data(wsi);
    if (v) {
        lws_set_opaque_user_data(wsi, NULL);
        release_slot(s, (int)v);
        return;
    }
    release_fd(s, lws_get_socket_fd(wsi));
}

int srv_noted_peer(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap)
{
    struct srv *s = srv_of(wsi);
    int fd = lws_get_socket_fd(wsi);
    if (!s || !s->peers || fd < 0 || (size_t)fd >= s->fd_cap)
        return -1;
    /* bound: the slot moved to the wsi (srv_conn_bind); before that, by descriptor */
    int slot = (int)(uintptr_t)lws_get_opaque_user_data(wsi);
    if (!slot)
        slot = s->fd_slot[fd];
    if (slot < 1 || slot > s->max_conns || !s->peers[slot - 1].n)
        return -1;
    snprintf(ip, ipcap, "%s", s->peers[slot - 1].ip);
    snprintf(peer, peercap, "%s:%u", ip, (unsigned)s->fd_port[fd]);
    return 0;
}

/* ---- TLS handshakes under way: the HTTPS listener pauses above a bound ---- */

static void accept_resume(struct srv *s)
{
    if (!s->tls_listen)
        return;
    lws_sul_cancel(&s->accept_resume);
    lws_rx_flow_control(s->tls_listen, 1);
    s->tls_listen = NULL;
}

static void accept_resume_cb(lws_sorted_usec_list_t *sul)
{
    accept_resume(lws_container_of(sul, struct srv, accept_resume));
}

/* A connection was admitted on the HTTPS listener (lws calls the filter with the
 * listener's wsi): once SRV_TLS_HANDSHAKES_MAX are under way its POLLIN is switched
 * off, which also ends lws's loop of accepts for this wake-up. */
static void tls_accepted(struct srv *s, struct lws *listener)
{
    so_tls_handshake_accepted();
    if (s->tls_listen || so_tls_handshakes() < SRV_TLS_HANDSHAKES_MAX)
        return;
    s->tls_listen = listener;
    lws_rx_flow_control(listener, 0);
    lws_sul_schedule(s->ctx, 0, &s->accept_resume, accept_resume_cb,
                     (lws_usec_t)SRV_ACCEPT_PAUSE_MAX_MS * 1000);
}

void srv_tls_accept_check(struct srv *s)
{
    if (!s || !s->tls_listen)
        return;
    if (so_tls_handshakes() <= SRV_TLS_HANDSHAKES_MAX / 2) {
        accept_resume(s);
        return;
    }
    /* Still paused. lws switches POLLIN back on for every listener whenever a socket
     * closes (lws_accept_modulation), which its flow-control state does not see: the
     * pause is set again, before the next wait. */
    lws_rx_flow_control(s->tls_listen, 1);
    lws_rx_flow_control(s->tls_listen, 0);
}

void srv_tls_accept_stop(struct srv *s)
{
    if (s && s->tls_listen) {
        lws_sul_cancel(&s->accept_resume);
        s->tls_listen = NULL;
    }
}

int srv_conn_filter(struct lws *wsi, void *in, int can_refuse_later)
{
    struct srv *s = srv_of(wsi);
    int fd = (int)(intptr_t)in;
    char ip[SRV_IP_MAX], peer[SRV_PEER_MAX];
    int port;
    if (srv_fd_peer(fd, ip, sizeof ip, &port) != 0)
        snprintf(ip, sizeof ip, "?");
    snprintf(peer, sizeof peer, "%s:%d", ip, port);
    if (srv_conn_admit(s, fd, ip, port, peer) == 0) {
        if (lws_get_vhost(wsi) == s->vh_https)
            tls_accepted(s, wsi);
        return 0;
    }
    if (!s || !can_refuse_later || s->n_refusing >= SRV_REFUSE_INFLIGHT_MAX ||
        fd_map_set(s, fd, FD_REFUSING))
        return -1;
    s->n_refusing++;
    return 0;
}

size_t srv_unacked(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    long n = fd >= 0 ? plat_tcp_unsent(fd) : -1;
    return n > 0 ? (size_t)n : 0; /* unknown: close at once, as before the probe existed */
}

unsigned srv_drain_delay_ms(struct lws *wsi, unsigned attempt)
{
    unsigned rtt_ms = 1; /* unknown round trip: the looks start at 1 ms and double */
    int fd = lws_get_socket_fd(wsi);
    long rtt = fd >= 0 ? plat_tcp_rtt_ms(fd) : -1;
    if (rtt > (long)rtt_ms)
        rtt_ms = rtt > SRV_DRAIN_MAX_MS ? SRV_DRAIN_MAX_MS : (unsigned)rtt;
    uint64_t d = (uint64_t)rtt_ms << (attempt > 16 ? 16 : attempt);
    return d > SRV_DRAIN_MAX_MS ? SRV_DRAIN_MAX_MS : (unsigned)d;
}

/* Makes room for max_conns descriptors if the hard limit allows (the default soft
 * limit is often 1024, the hard one much higher); lws sizes its tables from the
 * limit at context creation. Otherwise fewer connections are admitted: what fits
 * beside the descriptors already open and those the program needs later. */
void srv_fit_fd_limit(struct srv *s)
{
    /* Windows: one lws wait holds 63 sockets. Connections stay below that, listeners
     * and refusals included, so lws never reaches its own limit: there it stops
     * accepting, and under Wine it was never seen to accept again. Beyond, a caller
     * gets our 503 and retries (the firmware does). */
    int wait_max = plat_wait_sockets_max();
    if (wait_max > SRV_FD_OWN + SRV_CONN_MIN && s->max_conns > wait_max - SRV_FD_OWN) {
        LOG_D("at most %d connections at once on this platform (one wait holds %d "
              "sockets)", wait_max - SRV_FD_OWN, wait_max);
        s->max_conns = wait_max - SRV_FD_OWN;
    }

    int open_now = plat_fd_open_count();
    if (open_now < 0)
        open_now = 8; /* stdio, log, and a little more: the reserve covers the rest */
    long need = (long)s->max_conns + open_now + SRV_FD_OWN + SRV_FD_RESERVE;
    long lim = plat_fd_limit_raise(need);
    s->fd_limit = lim;
    if (lim < 0 || lim >= need)
        return;
    long fit = lim - open_now - SRV_FD_OWN - SRV_FD_RESERVE;
    if (fit < SRV_CONN_MIN)
        fit = SRV_CONN_MIN;
    if (fit >= s->max_conns)
        return;
    LOG_W("the open-file limit (%ld, %d already open) allows %ld connections, not %d; "
          "raise it with 'ulimit -n %ld'", lim, open_now, fit, s->max_conns, need);
    s->max_conns = (int)fit;
}

/* Finds our listening sockets on addr (NULL: any) with one of these ports. */
static void note_listeners(struct srv *s, const char *addr, const int *ports, int nports)
{
    struct in_addr want;
    want.s_addr = htonl(INADDR_ANY);
    if (addr && addr[0])
        inet_pton(AF_INET, addr, &want);
    long lim = s->fd_limit > 0 && s->fd_limit < 65536 ? s->fd_limit : 65536;
    int want_n = s->n_listen; /* those found by an earlier call, and these ports */
    for (int k = 0; k < nports; k++)
        want_n += ports[k] != 0;
    /* Stop once every port is found: they are among the first descriptors, and a scan
     * of the whole limit (65536 getsockopt calls with a raised limit) took 30 ms of
     * start-up (issue 15). */
    for (int fd = 0; fd < lim && s->n_listen < SRV_LISTEN_MAX && s->n_listen < want_n; fd++) {
        int acc = 0;
        size_t al = sizeof acc;
        struct sockaddr_in a;
        socklen_t sl = sizeof a;
        if (plat_getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) != 0 || !acc ||
            getsockname(fd, (struct sockaddr *)&a, &sl) != 0 || a.sin_family != AF_INET ||
            a.sin_addr.s_addr != want.s_addr)
            continue;
        for (int k = 0; k < nports; k++)
            if (ports[k] && ntohs(a.sin_port) == ports[k])
                s->listen_fd[s->n_listen++] = fd;
    }
}

void srv_fd_guard_init(struct srv *s)
{
    s->n_listen = 0;
    s->spare_fd = plat_fd_spare_open();
    if (s->fd_limit < 0)
        return; /* no descriptor limit (Windows): no EMFILE to recover from, nothing to find */
    int ports[3] = {s->http_port, s->https_port, s->plain_port};
    note_listeners(s, s->bind_addr, ports, 3);
}

void srv_fd_guard_listener(struct srv *s, const char *addr, int port)
{
    if (s->fd_limit >= 0)
        note_listeners(s, addr, &port, 1);
}

void srv_fd_guard_free(struct srv *s)
{
    plat_fd_spare_close(s->spare_fd);
    s->spare_fd = -1;
}

void srv_fd_exhausted(struct srv *s, unsigned n)
{
    s->fd_dropped += n;
    plat_fd_spare_close(s->spare_fd);
    s->spare_fd = -1;
    /* the freed slot takes one waiting connection at a time, closed at once; a
     * bounded number per turn, the rest wait for the next */
    for (int i = 0; i < s->n_listen; i++) {
        for (int k = 0; k < 64; k++) {
            struct pollfd p = {s->listen_fd[i], POLLIN, 0};
            if (plat_poll(&p, 1, 0) != 1)
                break;
            int fd = accept(s->listen_fd[i], NULL, NULL);
            if (fd < 0)
                break;
            plat_sock_close(fd);
            s->fd_dropped++;
        }
    }
    s->spare_fd = plat_fd_spare_open();
    srv_fd_report(s);
}

void srv_fd_report(struct srv *s)
{
    uint64_t now = srv_mono_ms();
    if (!s->fd_dropped || (s->fd_report_ms && now < s->fd_report_ms + SRV_FD_REPORT_MS))
        return;
    s->fd_report_ms = now;
    char why[120];
    snprintf(why, sizeof why, "out of file descriptors (open-file limit %ld): %u connections "
             "dropped at accept", s->fd_limit, s->fd_dropped);
    LOG_W("%s; raise the limit with 'ulimit -n'", why);
    s->fd_dropped = 0;
    report_refusal(s, "?", why);
}
