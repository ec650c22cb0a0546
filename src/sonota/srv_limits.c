/* srv_limits.c - the servers' connection limits (per peer address and in total,
 * server.h: max_conns, max_conns_per_ip), their rate-limited REJECTED events, the
 * open-file limit they need, and the unacknowledged-bytes probe both servers use
 * before closing. A connection is counted from its accept (cloud: before TLS) to
 * lws's LWS_CALLBACK_WSI_DESTROY. */
#include "sonota/srv_priv.h"

#include "io/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>        /* TCP_INFO: the round trip for drain looks */
#include <sys/socket.h>
#if defined(__linux__)
#include <linux/sockios.h>      /* SIOCOUTQ */
#endif

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
        memset(m + s->fd_cap, 0, (cap - s->fd_cap) * sizeof *m);
        s->fd_slot = m;
        s->fd_cap = cap;
    }
    s->fd_slot[fd] = v;
    return 0;
}

static void release_slot(struct srv *s, int slot)
{
    if (slot < 1 || slot > s->max_conns)
        return;
    struct srv_peer *p = &s->peers[slot - 1];
    if (p->n)
        p->n--;
    if (s->n_conns)
        s->n_conns--;
}

/* Gives back the slot noted for a descriptor (0 if none). */
static void release_fd(struct srv *s, int fd)
{
    if (fd < 0 || (size_t)fd >= s->fd_cap || !s->fd_slot[fd])
        return;
    release_slot(s, s->fd_slot[fd]);
    s->fd_slot[fd] = 0;
}

int srv_conn_admit(struct srv *s, int fd, const char *ip, const char *peer)
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
    int slot = -1, free_slot = -1;
    for (int i = 0; i < s->max_conns; i++) {
        if (!s->peers[i].n) {
            if (free_slot < 0)
                free_slot = i;
        } else if (!strcmp(s->peers[i].ip, ip)) {
            slot = i;
            break;
        }
    }
    if (slot >= 0 && s->max_per_ip && s->peers[slot].n >= (unsigned)s->max_per_ip) {
        snprintf(why, sizeof why, "too many connections from %s: %u open, the limit per "
                 "address", ip, s->peers[slot].n);
        report_refusal(s, peer, why);
        return -1;
    }
    if (slot < 0) {
        if (free_slot < 0) /* cannot happen: fewer than max_conns are open */
            return -1;
        slot = free_slot;
        snprintf(s->peers[slot].ip, sizeof s->peers[slot].ip, "%s", ip);
    }
    if (fd_map_set(s, fd, slot + 1))
        return -1;
    s->peers[slot].n++;
    s->n_conns++;
    return 0;
}

int srv_conn_bind(struct srv *s, struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    if (!s || fd < 0 || (size_t)fd >= s->fd_cap || !s->fd_slot[fd])
        return -1;
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

int srv_conn_filter(struct lws *wsi, void *in)
{
    struct srv *s = srv_of(wsi);
    int fd = (int)(intptr_t)in;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[SRV_IP_MAX], peer[SRV_PEER_MAX];
    int port = 0;
    memset(&ss, 0, sizeof ss);
    ip[0] = '\0';
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        srv_sockaddr_text(&ss, ip, sizeof ip, &port);
    if (!ip[0])
        snprintf(ip, sizeof ip, "?");
    snprintf(peer, sizeof peer, "%s:%d", ip, port);
    return srv_conn_admit(s, fd, ip, peer);
}

size_t srv_unacked(struct lws *wsi)
{
#if defined(SIOCOUTQ)
    int n = 0;
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0 && ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0)
        return (size_t)n;
#else
    (void)wsi;
#endif
    return 0;
}

unsigned srv_drain_delay_ms(struct lws *wsi, unsigned attempt)
{
    unsigned rtt_ms = 1;
#if defined(TCP_INFO)
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
        ti.tcpi_rtt / 1000 > rtt_ms)
        rtt_ms = ti.tcpi_rtt / 1000;
#else
    (void)wsi;
#endif
    uint64_t d = (uint64_t)rtt_ms << (attempt > 16 ? 16 : attempt);
    return d > SRV_DRAIN_MAX_MS ? SRV_DRAIN_MAX_MS : (unsigned)d;
}

/* Makes room for max_conns descriptors (the default soft limit is often 1024, the
 * hard one much higher); lws sizes its tables from the limit at context creation.
 * If the hard limit is lower, fewer connections are admitted. */
void srv_fit_fd_limit(struct srv *s)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)s->max_conns + SRV_FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rlim_t want = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
    if (want > rl.rlim_cur) {
        struct rlimit nl = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
            rl.rlim_cur = want;
    }
    if (rl.rlim_cur < need) {
        int fit = rl.rlim_cur > 2 * SRV_FD_RESERVE ? (int)(rl.rlim_cur - SRV_FD_RESERVE)
                                                    : SRV_FD_RESERVE;
        LOG_W("the open-file limit (%llu) allows %d connections, not %d; raise it with "
              "'ulimit -n %llu'", (unsigned long long)rl.rlim_cur, fit, s->max_conns,
              (unsigned long long)need);
        if (fit < s->max_conns)
            s->max_conns = fit;
    }
}
