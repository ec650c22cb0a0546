/* srv_priv.h - what server.c, fileserv.c and cloud.c share: the server struct, the
 * limits and timeouts both servers apply, connection accounting and small helpers.
 * Not for other modules: they use server.h. */
#ifndef SONOTA_SRV_PRIV_H
#define SONOTA_SRV_PRIV_H

#include "io/tls.h"
#include "lib/cloud_fsm.h"
#include "lib/http_head.h"
#include "sonota/fileserv.h"
#include "sonota/server.h"
#include "plat/net.h"

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_NAME_MAX 64         /* file names and option strings we copy */
/* Peer addresses marked paced: as many as devices the cloud remembers, so a fleet
 * run (500 devices) never forgets a device that acked 404. */
#define SRV_PACED_MAX CLOUD_DEVICES_MAX
#define SRV_PEER_MAX 64         /* "ip:port" */
#define SRV_IP_MAX 46

/* ---- limits and timeouts of both servers (docs/TESTING.md: value and test) ----
 * A request head (and for TLS: after the handshake) must be complete this long
 * after the connection opened or after its first byte arrived; else 408 and close.
 * A device sends its whole head in one packet; 10 s covers a slow WiFi retry. */
#define SRV_HEAD_TIMEOUT_MS 10000
/* A request body (DIY result, dispatch JSON: both <= 4 KiB) must arrive this long
 * after its head; else 408 and close (slowloris bodies). */
#define SRV_BODY_TIMEOUT_MS 10000
/* An idle keep-alive connection (no request under way) is closed after this long.
 * A stock device pauses 75-120 ms between its 4 KiB Range requests (PROTOCOL.md
 * §1.5); Espressif2Arduino waits at most 5 s for a reply (§4). */
#define SRV_IDLE_TIMEOUT_MS 30000
/* A reply the peer does not read: closed when no byte could be written (or, while
 * flushing, acknowledged) for this long. */
#define SRV_SEND_STALL_MS 30000
/* The TLS handshake must finish this long after the TCP connection (lws's
 * accept timeout on the cloud vhost): covers garbage, half ClientHellos and
 * records announced but never sent. axTLS needs ~1-2 s for RSA-2048. */
#define SRV_TLS_HANDSHAKE_TIMEOUT_S 10
/* The descriptor budget (srv_fit_fd_limit, issue 13): connections are limited to
 * the open-file limit minus what is open when the server starts, minus this
 * server's own (listeners <= 4 with FinalStage's, lws's event pipe 2, the spare 1,
 * refusals in flight SRV_REFUSE_INFLIGHT_MAX) and minus SRV_FD_RESERVE for the
 * rest of the program after start (log and state files, libcurl's sockets, address
 * scans). Never fewer than SRV_CONN_MIN: one device needs three. */
#define SRV_FD_OWN 9
#define SRV_FD_RESERVE 16
#define SRV_CONN_MIN 4
/* File-server connections over a limit that still get their 503 at once; more
 * are closed at accept, so refusals cannot use up descriptors. */
#define SRV_REFUSE_INFLIGHT_MAX 2
/* Accepts that failed for want of descriptors (EMFILE/ENFILE) are reported (log
 * and REJECTED) at most this often, with a count. */
#define SRV_FD_REPORT_MS 5000
#define SRV_LISTEN_MAX 4        /* http, https, plain, final */
#define SRV_WATCH_MAX 8         /* another client's sockets in our poll set (srv_watch) */
#define SRV_WATCH_PROTOCOL "sonota-watch"
/* TLS handshakes under way (io/tls.h: so_tls_handshakes) above which the HTTPS listener
 * stops accepting until half are done: each holds about 40 KB of OpenSSL buffers, and
 * 500 devices calling at once held 20 MB (issue 15: peak RSS). A pause ends after
 * SRV_ACCEPT_PAUSE_MAX_MS in any case, so a miscount or peers that stall their
 * handshakes delay new devices by that much at most. */
#define SRV_TLS_HANDSHAKES_MAX 32
#define SRV_ACCEPT_PAUSE_MAX_MS 200
/* Connection-limit refusals are reported as REJECTED at most this often (the
 * ones in between are counted into the next report). */
#define SRV_REFUSE_REPORT_MS 1000
/* Closing after an error reply: how long to wait for the peer's TCP to
 * acknowledge it before closing anyway (closing earlier could reset it away). */
#define SRV_CLOSE_LINGER_MS 2000
/* While waiting for acknowledgements, look again after about one round trip, then
 * twice as long each time up to this (srv_drain_delay_ms): a few wake-ups per
 * reply, where a fixed 10 ms look cost one wake-up per 10 ms (issue 13). */
#define SRV_DRAIN_MAX_MS 200

/* Open connections per peer address (the limit's bookkeeping). */
struct srv_peer {
    char ip[SRV_IP_MAX];
    unsigned n;                 /* 0 = free slot */
    int next;                   /* next slot in its hash bucket, index + 1 (0: none) */
};

struct srv_ev;

struct srv {
    /* our copies of the configuration (the caller's strings may go away) */
    struct srv_config cfg;
    char bind_addr[SRV_IP_MAX];
    char serving_ip[SRV_IP_MAX];
    char names[SRV_FILES_MAX][SRV_NAME_MAX];
    char version[EWL_VERSION_MAX];
    int cloud_enabled;
    int files_pending;  /* created with files_later, srv_set_files not yet called */
    int http_port, https_port, plain_port;      /* actual listening ports */

    srv_event_cb cb;
    void *user;
    int destroying;                             /* no events while tearing down */

    struct lws_context *ctx;
    struct lws_vhost *vh_http, *vh_https, *vh_plain;
    struct lws_vhost *vh_final;                 /* srv_listen_final, or NULL */
    char final_addr[SRV_IP_MAX];
    int final_port;
    struct lws_protocols proto_files[3];        /* files, the watch (srv_watch.c) */
    struct srv_watch_ent {
        int fd;                                 /* the client's descriptor */
        short events;                           /* POLLIN / POLLOUT asked for */
        struct lws *wsi;                        /* lws's raw-file wsi of our copy */
    } watch[SRV_WATCH_MAX];
    size_t n_watch;
    struct lws_protocols proto_cloud[2];
    lws_sorted_usec_list_t wake;                /* bounds srv_run_once's wait */
    struct srv_ev *ev;                          /* libev's loop, if used (srv_loop.c) */
    const lws_dll2_owner_t *sul_owner;          /* lws's sorted timer list (srv_loop.c) */
    struct lws *tls_listen;                     /* the HTTPS listener while paused */
    lws_sorted_usec_list_t accept_resume;       /* ends a pause (SRV_ACCEPT_PAUSE_MAX_MS) */

    struct so_tls_cert *cert;
    char tls_err[160];                          /* set if the SSL_CTX setup failed */
    struct cloud cloud;
    struct fileserv fs;

    char paced[SRV_PACED_MAX][SRV_IP_MAX];
    size_t n_paced;

    uint64_t ws_idle_ms;                        /* cfg.ws_idle_timeout_s or the default */

    /* connection limits */
    int max_conns;                              /* effective (after RLIMIT_NOFILE) */
    int max_per_ip;                             /* 0 = no limit */
    int n_conns;
    struct srv_peer *peers;                     /* max_conns slots */
    int *peer_bucket;                           /* by address: first slot, index + 1 */
    size_t n_buckets;                           /* a power of two >= 2 * max_conns */
    int *peer_free;                             /* stack of free slot indexes */
    int n_peer_free;
    int *fd_slot;                               /* per descriptor: peers index + 1 */
    uint16_t *fd_port;                          /* per descriptor: peer port at accept */
    size_t fd_cap;
    uint64_t refuse_report_ms;                  /* last REJECTED for a limit */
    unsigned refused_unreported;
    char refuse_why[120];                       /* of the last refusal */
    char refuse_peer[SRV_PEER_MAX];
    int n_refusing;                             /* file-server 503s in flight */
    long fd_limit;                              /* RLIMIT_NOFILE when created */

    /* descriptors exhausted (EMFILE): our listening sockets, and the spare closed
     * to accept-and-close what lws could not accept */
    int listen_fd[SRV_LISTEN_MAX];
    int n_listen;
    int spare_fd;                               /* -1 if none */
    unsigned fd_dropped;                        /* connections dropped since the report */
    uint64_t fd_report_ms;
};

/* ---- srv_http.c: request rules shared by every listener ---- */
/* Whether the connection stays open after this request's reply (HTTP/1.1: unless
 * "Connection: close"; HTTP/1.0: only with "Connection: keep-alive"). */
int srv_http_keep_alive(const struct so_http_head *h);
/* The request's body length: 0 with has_len/clen set, or -1 (a bad or repeated
 * Content-Length, or any Transfer-Encoding): answer 400. */
int srv_http_framing(const struct so_http_head *h, int *has_len, uint64_t *clen);
/* "METHOD target" (cut to 10 and 150 bytes) for REJECTED details and logs. */
void srv_http_what(const struct so_http_head *h, char *buf, size_t cap);
/* The REJECTED event of a refused request; file: index of the file it named, or -1. */
void srv_http_rejected(struct srv *s, const char *peer, int code, const char *detail,
                       int file, int final_listener);

/* At adoption (LWS_CALLBACK_RAW_ADOPT), for every listener: notes the peer's
 * "ip:port" and "ip", sets TCP_NODELAY (each write is its own segment: one frame
 * or paced piece per packet, §1.4-1.5) and ties the limit slot to the wsi
 * (srv_conn_bind): -1 when the connection was let through over a limit. */
int srv_adopt(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap);

/* Delivers an event to the caller (dropped while destroying). */
void srv_emit(struct srv *s, const struct srv_event *ev);
/* Whether a whole-body download to this peer address is paced (config + marks). */
int srv_whole_body_paced(const struct srv *s, const char *ip);
void srv_mark_paced(struct srv *s, const char *ip, int paced);
/* The struct srv behind any wsi of our context. */
struct srv *srv_of(struct lws *wsi);
/* "ip:port" and "ip" of the remote side (IPv4-mapped IPv6 shown as IPv4); once the
 * peer has gone, the address noted at accept (srv_noted_peer), else "?:0". */
void srv_peer_of(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap);
/* Our address on this connection (what the device dialled); 0 or -1. */
int srv_local_ip(struct lws *wsi, char *ip, size_t cap);
/* Unix time in ms (dates, sequences) and a monotonic ms clock (pacing, timeouts). */
uint64_t srv_wall_ms(void);
uint64_t srv_mono_ms(void);

/* The per-address bookkeeping for max_conns connections (after srv_fit_fd_limit).
 * 0, or -1 out of memory. srv_limits_free accepts a server without it. */
int srv_limits_init(struct srv *s);
void srv_limits_free(struct srv *s);
/* Counts a new connection (socket fd) from ip against the limits. Returns 0 when
 * admitted, or -1 when over a limit: a REJECTED event (rate-limited) was emitted.
 * The slot is noted by descriptor until srv_conn_bind ties it to the wsi. */
int srv_conn_admit(struct srv *s, int fd, const char *ip, int port, const char *peer);
/* The "ip:port" noted when wsi's socket was accepted: a peer that already closed has
 * no address for getpeername (a TLS client leaving after our certificate). 0, or -1
 * when none was noted (a connection let through over a limit). */
int srv_noted_peer(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap);
/* Moves the slot noted for the wsi's descriptor to the wsi itself (lws opaque
 * user data): lws does not always report the descriptor at WSI_DESTROY. 0, or -1. */
int srv_conn_bind(struct srv *s, struct lws *wsi);
/* At LWS_CALLBACK_WSI_DESTROY (always delivered, also for connections lws gave up
 * before adopting them): gives back the wsi's slot, or its descriptor's. */
void srv_conn_release(struct lws *wsi);
/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION (in = the accepted fd): srv_conn_admit
 * before lws does anything with the socket, so a refused TLS client costs no
 * handshake. Nonzero: lws closes it. With can_refuse_later (the file server) a
 * refused connection is let through, marked, for its 503, while fewer than
 * SRV_REFUSE_INFLIGHT_MAX are; srv_conn_bind then fails for it. */
int srv_conn_filter(struct lws *wsi, void *in, int can_refuse_later);
/* Raises RLIMIT_NOFILE for max_conns, or lowers max_conns to the descriptor budget
 * (SRV_FD_OWN, SRV_FD_RESERVE) with a warning; where one wait holds few sockets
 * (plat_wait_sockets_max: Windows), to that minus SRV_FD_OWN. Before
 * lws_create_context. */
void srv_fit_fd_limit(struct srv *s);
/* The HTTPS listener accepts again once at most half of SRV_TLS_HANDSHAKES_MAX
 * handshakes are under way (each loop turn, and at every handshake's end). */
void srv_tls_accept_check(struct srv *s);
/* Before lws_context_destroy: no pause timer left. */
void srv_tls_accept_stop(struct srv *s);
/* The lws protocol of the watched sockets (srv_watch.c). */
int srv_watch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                       void *in, size_t len);
/* Reports refusals counted since the last REJECTED once SRV_REFUSE_REPORT_MS passed. */
void srv_flush_refusals(struct srv *s);
/* After srv_create made its listeners: notes their descriptors and opens the spare. */
void srv_fd_guard_init(struct srv *s);
/* lws failed n accepts for want of descriptors: with the spare closed, accepts and
 * closes what waits on our listeners (else poll() reports them again at once, a busy
 * loop), and reports it at most every SRV_FD_REPORT_MS with a count. */
void srv_fd_exhausted(struct srv *s, unsigned n);
/* Reports the connections dropped since the last report once SRV_FD_REPORT_MS
 * passed (srv_run_once calls it, so the last ones of a burst are reported too). */
void srv_fd_report(struct srv *s);
/* Notes the descriptor of a listener added later (srv_listen_final). */
void srv_fd_guard_listener(struct srv *s, const char *addr, int port);
/* Closes the spare descriptor. */
void srv_fd_guard_free(struct srv *s);
/* ---- srv_loop.c: waiting for the next event ---- */
/* Before lws_create_context: with use_ev (and libev built in), lws will run on a
 * libev loop of ours (epoll). 0, or -1 out of memory. */
int srv_loop_prepare(struct srv *s, struct lws_context_creation_info *ci, int use_ev);
int srv_loop_uses_ev(const struct srv *s);
/* Once the context exists. */
void srv_loop_started(struct srv *s);
/* After lws_context_destroy (or when the plugin failed to load). */
void srv_loop_free(struct srv *s);
/* Waits up to timeout_ms (0: not at all) for socket events and due timers and runs
 * them. 0, or -1 when the context failed. */
int srv_loop_turn(struct srv *s, int timeout_ms);

/* "ip" and port of a socket address (IPv4-mapped IPv6 shown as IPv4). */
void srv_sockaddr_text(const struct sockaddr_storage *ss, char *ip, size_t ipcap, int *port);
/* "ip" and port of the peer of socket fd (getpeername). 0, or -1 (ip "", port 0) when it
 * has none (closed, or not a connected socket). */
int srv_fd_peer(int fd, char *ip, size_t ipcap, int *port);
/* Bytes written to the socket that the peer's TCP has not acknowledged (Linux
 * SIOCOUTQ; counts TLS records too). 0 where unknown. */
size_t srv_unacked(struct lws *wsi);
/* How long to wait before the attempt-th look (0, 1, ...) at srv_unacked: the
 * connection's smoothed round trip (at least 1 ms) doubled per attempt, at most
 * SRV_DRAIN_MAX_MS. */
unsigned srv_drain_delay_ms(struct lws *wsi, unsigned attempt);

#endif
