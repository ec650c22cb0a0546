/* server.c - one lws context with up to three vhosts (PROTOCOL.md §1.6), all in
 * lws's raw-socket role so every byte in and out is ours to check and build:
 *   "files"  plain HTTP file server (fileserv.c), http_port
 *   "cloud"  TLS: dispatch + WebSocket (cloud.c), https_port
 *   "legacy" the same cloud in plain text, plain_port (with legacy)
 * plus configuration checks, port probing for clear errors and event plumbing.
 * Every connection is one struct srv_conn (srv_conn.h: head reading, the router,
 * refusals); the connection limits are in srv_limits.c. */
#include "sonota/server.h"

#include "io/crypto.h"
#include "io/log.h"
#include "sonota/cloud.h"
#include "sonota/fileserv.h"
#include "sonota/srv_conn.h"
#include "plat/clock.h"
#include "plat/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared with fileserv.c and cloud.c ---- */

/* The servers keep unsigned times (the clocks never go below 0). */
uint64_t srv_wall_ms(void)
{
    return (uint64_t)plat_wall_ms();
}

uint64_t srv_mono_ms(void)
{
    return (uint64_t)plat_mono_ms();
}

struct srv *srv_of(struct lws *wsi)
{
    struct lws_context *ctx = wsi ? lws_get_context(wsi) : NULL;
    return ctx ? lws_context_user(ctx) : NULL;
}

void srv_emit(struct srv *s, const struct srv_event *ev)
{
    if (s && s->cb && !s->destroying)
        s->cb(ev, s->user);
}

void srv_sockaddr_text(const struct sockaddr_storage *ss, char *ip, size_t ipcap, int *port)
{
    ip[0] = '\0';
    *port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t)ipcap);
        *port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, (socklen_t)ipcap);
        else
            inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)ipcap);
        *port = ntohs(a->sin6_port);
    }
}

int srv_fd_peer(int fd, char *ip, size_t ipcap, int *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    ip[0] = '\0';
    *port = 0;
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        srv_sockaddr_text(&ss, ip, ipcap, port);
    return ip[0] ? 0 : -1;
}

void srv_peer_of(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap)
{
    /* noted at accept (srv_conn_filter): no second getpeername */
    if (srv_noted_peer(wsi, peer, peercap, ip, ipcap) == 0)
        return;
    int port;
    if (srv_fd_peer(lws_get_socket_fd(wsi), ip, ipcap, &port) == 0) {
        snprintf(peer, peercap, "%s:%d", ip, port);
        return;
    }
    snprintf(ip, ipcap, "?");
    snprintf(peer, peercap, "%s:0", ip);
}

int srv_adopt(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap)
{
    srv_peer_of(wsi, peer, peercap, ip, ipcap);
    /* TCP_NODELAY: lws set it at accept (lws_plat_set_socket_options) */
    return srv_conn_bind(srv_of(wsi), wsi);
}

int srv_local_ip(struct lws *wsi, char *ip, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int port;
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    srv_sockaddr_text(&ss, ip, cap, &port);
    return ip[0] ? 0 : -1;
}

int srv_whole_body_paced(const struct srv *s, const char *ip)
{
    if (s->cfg.pace == SRV_PACE_SLOW)
        return 1;
    if (s->cfg.pace == SRV_PACE_FAST)
        return 0;
    for (size_t i = 0; i < s->n_paced; i++)
        if (!strcmp(s->paced[i], ip))
            return 1;
    return 0;
}

void srv_mark_paced(struct srv *s, const char *ip, int paced)
{
    if (!s || !ip || !ip[0])
        return;
    for (size_t i = 0; i < s->n_paced; i++) {
        if (!strcmp(s->paced[i], ip)) {
            if (!paced) {
                memmove(s->paced[i], s->paced[i + 1], (s->n_paced - i - 1) * sizeof s->paced[0]);
                s->n_paced--;
            }
            return;
        }
    }
    if (!paced)
        return;
    if (s->n_paced == SRV_PACED_MAX) { /* forget the oldest mark */
        memmove(s->paced[0], s->paced[1], (SRV_PACED_MAX - 1) * sizeof s->paced[0]);
        s->n_paced--;
    }
    snprintf(s->paced[s->n_paced++], sizeof s->paced[0], "%s", ip);
    LOG_D("whole-body downloads to %s will be paced", ip);
}

/* ---- public API ---- */

void srv_set_paced(struct srv *s, const char *peer_ip, int paced)
{
    srv_mark_paced(s, peer_ip, paced);
}

int srv_trust(struct srv *s, const char *deviceid, const char *factory_apikey)
{
    if (!s || !s->cloud_enabled)
        return 0;
    if (s->files_pending) /* srv_set_files builds the cloud afresh: it would be lost */
        return -1;
    return cloud_trust(&s->cloud, deviceid, factory_apikey) == SO_OK ? 0 : -1;
}

/* ---- who the log lines are about (io/log.h rate limit, issue 13 item 5) ---- */

/* The connection's peer address; asked by the log only for a line it will write. */
static const char *wsi_peer_ip(void *ctx, char *buf, size_t cap)
{
    /* noted at adoption: one getpeername per connection, not one per logged event */
    const struct srv_conn *c = lws_wsi_user((struct lws *)ctx);
    if (c && c->srv && c->ip[0]) {
        snprintf(buf, cap, "%s", c->ip);
        return buf;
    }
    int port;
    return srv_fd_peer(lws_get_socket_fd((struct lws *)ctx), buf, cap, &port) == 0 ? buf : NULL;
}

/* One entry for the connections of every listener (the router): what they share
 * is done here, the rest goes to the listener's protocol handler, with every line
 * logged (and every event shown) while it runs scoped to the connection's peer, so
 * one peer's flood is limited without touching the call sites (io/log.h). */
static int route(lws_callback_function *handler, int can_refuse_later, struct lws *wsi,
                 enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        /* The limits at accept (srv_limits.c), before lws starts TLS on the socket:
         * a refused TLS client costs no handshake. The file server answers a few
         * refused ones with 503; the rest are closed at once. */
        return srv_conn_filter(wsi, in, can_refuse_later) ? -1 : 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* Always delivered, also when RAW_CLOSE is not (a failed TLS accept), and
         * without per-connection data: only the limit slot is given back. */
        srv_conn_release(wsi);
        return 0;
    default:
        break;
    }
    so_log_peer_fn prev_fn;
    void *prev_ctx;
    so_log_set_peer(wsi ? wsi_peer_ip : NULL, wsi, &prev_fn, &prev_ctx);
    int rc = handler(wsi, reason, user, in, len);
    so_log_set_peer(prev_fn, prev_ctx, NULL, NULL);
    return rc;
}

static int files_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len)
{
    return route(fileserv_callback, 1, wsi, reason, user, in, len);
}

static int cloud_route_callback(struct lws *wsi, enum lws_callback_reasons reason,
                                void *user, void *in, size_t len)
{
    return route(cloud_callback, 0, wsi, reason, user, in, len);
}

/* Accepts lws could not make (EMFILE, ENFILE): counted here, where lws reports
 * them, and handled by srv_run_once (srv_fd_exhausted): one lws error line per
 * failed accept would otherwise flood the log while poll() spins (issue 13). */
static unsigned g_accept_failures;

static void lws_log_sink(int level, const char *line)
{
    if (level == LLL_ERR && (!strncmp(line, "accept:", 7) || strstr(line, "Too many fds"))) {
        g_accept_failures++;
        return;
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    /* lws's own errors are mostly about single connections (failed handshakes);
     * ours are the sentences that matter, so keep lws's at debug. */
    so_log(SO_LOG_DEBUG, "lws%s: %.*s", level == LLL_ERR ? " error" : "", (int)n, line);
}

static int name_ok(const char *n)
{
    if (!n || !n[0] || n[0] == '.' || strlen(n) >= SRV_NAME_MAX)
        return 0;
    for (const char *p = n; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static int find_name(const struct srv *s, const char *n)
{
    for (size_t i = 0; i < s->cfg.n_files; i++)
        if (!strcmp(s->names[i], n))
            return (int)i;
    return -1;
}

/* Binds a throw-away socket to give a precise sentence before lws tries. */
static int probe_port(const char *bind_addr, int port, const char *option, char *err,
                      size_t errcap)
{
    if (port == 0)
        return 0; /* the kernel picks a free one */
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind_addr && bind_addr[0] && inet_pton(AF_INET, bind_addr, &a.sin_addr) != 1) {
        snprintf(err, errcap, "the bind address '%s' is not an IPv4 address", bind_addr);
        return -1;
    }
    int fd = plat_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errcap, "cannot create a socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    plat_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    int e = rc == 0 ? 0 : plat_sock_errno();
    plat_sock_close(fd);
    if (rc == 0)
        return 0;
    const char *where = bind_addr && bind_addr[0] ? bind_addr : "0.0.0.0";
    if (e == EADDRINUSE)
        snprintf(err, errcap, "port %d on %s is in use by another program; stop it or "
                 "choose another port with %s", port, where, option);
    else if (e == EACCES || e == EPERM)
        snprintf(err, errcap, "no permission to listen on port %d (ports below 1024 need "
                 "root, or 'setcap cap_net_bind_service=+ep' on the sonota binary); or "
                 "choose another port with %s", port, option);
    else if (e == EADDRNOTAVAIL)
        snprintf(err, errcap, "the address %s is not on this machine; check --bind", where);
    else
        snprintf(err, errcap, "cannot listen on %s port %d: %s", where, port, strerror(e));
    return -1;
}

static int check_config(struct srv *s, const struct srv_config *cfg, char *err, size_t errcap)
{
    if (cfg->max_conns < 0 || cfg->max_conns_per_ip < -1 || cfg->ws_idle_timeout_s < 0) {
        snprintf(err, errcap, "connection limits and timeouts must be positive (0: the "
                 "default)");
        return -1;
    }
    if (cfg->n_files > SRV_FILES_MAX) {
        snprintf(err, errcap, "at most %d files can be served", SRV_FILES_MAX);
        return -1;
    }
    if (cfg->http_port < 0 || cfg->http_port > 65535 || cfg->https_port < 0 ||
        cfg->https_port > 65535 || cfg->plain_port < 0 || cfg->plain_port > 65535) {
        snprintf(err, errcap, "ports must be between 1 and 65535 (or 0: any free port)");
        return -1;
    }
    s->cfg = *cfg;
    for (size_t i = 0; i < cfg->n_files; i++) {
        const struct srv_file *f = &cfg->files[i];
        if (!name_ok(f->name)) {
            snprintf(err, errcap, "file name '%s' cannot be served: use letters, digits, "
                     "'.', '_' and '-' only", f->name ? f->name : "");
            return -1;
        }
        if (!f->data && f->len) {
            snprintf(err, errcap, "file '%s' has no data", f->name);
            return -1;
        }
        snprintf(s->names[i], sizeof s->names[i], "%s", f->name);
        if (find_name(s, f->name) != (int)i) {
            snprintf(err, errcap, "file name '%s' is given twice", f->name);
            return -1;
        }
        s->cfg.files[i].name = s->names[i];
    }
    s->cloud_enabled = cfg->user1_name != NULL;
    if (s->cloud_enabled) {
        if (!cfg->user2_name || find_name(s, cfg->user1_name) < 0 ||
            find_name(s, cfg->user2_name) < 0) {
            snprintf(err, errcap, "the upgrade needs both user1 and user2 images among the "
                     "served files");
            return -1;
        }
    }
    if (cfg->bind_addr && cfg->bind_addr[0]) {
        struct in_addr tmp;
        if (inet_pton(AF_INET, cfg->bind_addr, &tmp) != 1) {
            snprintf(err, errcap, "the bind address '%s' is not an IPv4 address",
                     cfg->bind_addr);
            return -1;
        }
        snprintf(s->bind_addr, sizeof s->bind_addr, "%s", cfg->bind_addr);
    }
    if (cfg->serving_ip && cfg->serving_ip[0]) {
        if (strlen(cfg->serving_ip) >= sizeof s->serving_ip) {
            snprintf(err, errcap, "the serving address '%s' is too long", cfg->serving_ip);
            return -1;
        }
        snprintf(s->serving_ip, sizeof s->serving_ip, "%s", cfg->serving_ip);
    }
    snprintf(s->version, sizeof s->version, "%s",
             cfg->upgrade_version && cfg->upgrade_version[0] ? cfg->upgrade_version
                                                             : "99.99.99");
    s->cfg.bind_addr = s->bind_addr[0] ? s->bind_addr : NULL;
    s->cfg.serving_ip = s->serving_ip[0] ? s->serving_ip : NULL;
    s->cfg.upgrade_version = s->version;
    s->cfg.user1_name = s->cloud_enabled ? s->names[find_name(s, cfg->user1_name)] : NULL;
    s->cfg.user2_name = s->cloud_enabled ? s->names[find_name(s, cfg->user2_name)] : NULL;
    return 0;
}

static struct lws_vhost *make_vhost(struct srv *s, const char *name, const char *iface,
                                    int port, int tls, int raw,
                                    const struct lws_protocols *protos)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = name;
    info.port = port;
    info.iface = iface && iface[0] ? iface : NULL;
    info.protocols = protos;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    /* The only lws timeout left on our raw connections: the TLS accept. Heads,
     * bodies, idle and stalled connections are timed by fileserv.c and cloud.c. */
    info.timeout_secs = SRV_TLS_HANDSHAKE_TIMEOUT_S;
    if (raw) {
        info.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
        info.listen_accept_role = "raw-skt";
        info.listen_accept_protocol = protos[0].name;
    }
    if (tls) {
        /* The certificate is installed by cloud.c at
         * LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: nothing on disk. */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                        LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
        /* LOOP and EXIT too: cloud.c tells a client that refuses our certificate
         * (pinning) from a handshake we refused (§2). */
        info.ssl_info_event_mask = SSL_CB_HANDSHAKE_DONE | SSL_CB_ALERT | SSL_CB_LOOP |
                                   SSL_CB_EXIT;
        /* HTTP/1.1 only: the device speaks nothing else, and our replies are built
         * as raw HTTP/1.1 (one write each). It must be set: with lws's default
         * ("h2,http/1.1") a client offering h2 would be moved off our raw role. */
        info.alpn = "http/1.1";
    }
    return lws_create_vhost(s->ctx, &info);
}

static void listening(struct srv *s, const char *what, const char *addr, int port)
{
    char detail[96];
    snprintf(detail, sizeof detail, "%s %s:%d", what, addr && addr[0] ? addr : "0.0.0.0", port);
    LOG_D("listening: %s", detail);
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SRV_EV_LISTENING;
    ev.detail = detail;
    srv_emit(s, &ev);
}

static int setup_cloud(struct srv *s, char *err, size_t errcap)
{
    struct cloud_cfg cc;
    memset(&cc, 0, sizeof cc);
    cc.http_port = s->http_port;
    cc.pace = s->cfg.pace == SRV_PACE_SLOW ? CLOUD_PACE_SLOW
              : s->cfg.pace == SRV_PACE_FAST ? CLOUD_PACE_FAST : CLOUD_PACE_AUTO;
    snprintf(cc.version, sizeof cc.version, "%s", s->version);
    const char *names[2] = {s->cfg.user1_name, s->cfg.user2_name};
    for (int i = 0; i < 2; i++) {
        int k = find_name(s, names[i]);
        snprintf(cc.file[i], sizeof cc.file[i], "%s", names[i]);
        const char *d = s->cfg.files[k].sha256;
        if (ewl_is_digest(d)) {
            memcpy(cc.digest[i], d, EWL_DIGEST_LEN + 1);
        } else { /* not given (or not lowercase): compute it; the device compares lowercase */
            so_sha256_hex(s->cfg.files[k].data, s->cfg.files[k].len, cc.digest[i]);
        }
    }
    if (cloud_init(&s->cloud, &cc) != SO_OK) {
        snprintf(err, errcap, "the upgrade command cannot be built from this configuration "
                 "(version '%s')", s->version);
        return -1;
    }
    return 0;
}

struct srv *srv_create(const struct srv_config *cfg, srv_event_cb cb, void *user,
                       char *err, size_t errcap)
{
    err[0] = '\0';
    if (!cfg) {
        snprintf(err, errcap, "no server configuration");
        return NULL;
    }
    struct srv *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->cb = cb;
    s->user = user;
    s->spare_fd = -1;
    if (check_config(s, cfg, err, errcap))
        goto fail;
    s->max_conns = cfg->max_conns ? cfg->max_conns : SRV_CONN_MAX_DEFAULT;
    s->max_per_ip = cfg->max_conns_per_ip == -1 ? 0
                    : cfg->max_conns_per_ip ? cfg->max_conns_per_ip : SRV_CONN_PER_IP_DEFAULT;
    s->ws_idle_ms = cfg->ws_idle_timeout_s ? (uint64_t)cfg->ws_idle_timeout_s * 1000
                                           : CLOUD_WS_IDLE_TIMEOUT_MS;
    srv_fit_fd_limit(s);
    if (srv_limits_init(s)) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (probe_port(s->cfg.bind_addr, cfg->http_port, "--http-port", err, errcap))
        goto fail;
    if (s->cloud_enabled) {
        if (probe_port(s->cfg.bind_addr, cfg->https_port, "--https-port", err, errcap))
            goto fail;
        if (cfg->legacy && probe_port(s->cfg.bind_addr, cfg->plain_port, "--plain-port",
                                      err, errcap))
            goto fail;
        /* Generated on a worker from the TLS listener's setup on (so_tls_server_setup:
         * the last listener, after the heavy part of the start-up); the first handshake
         * waits if need be. */
        if (so_tls_cert_prepare(&s->cert, err, errcap) != SO_OK)
            goto fail;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_sink);
    s->proto_files[0] = (struct lws_protocols){
        .name = "sonota-files", .callback = files_callback,
        /* no tx_packet_size: the file server writes to its sockets itself */
        .per_session_data_size = sizeof(struct srv_conn), .rx_buffer_size = 0};
    s->proto_files[1] = (struct lws_protocols){.name = SRV_WATCH_PROTOCOL,
                                               .callback = srv_watch_callback};
    s->proto_cloud[0] = (struct lws_protocols){
        .name = "sonota-cloud", .callback = cloud_route_callback,
        .per_session_data_size = sizeof(struct srv_conn), .rx_buffer_size = 4096,
        .tx_packet_size = CLOUD_WRITE_MAX};

    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (s->cloud_enabled)
        ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.user = s;
    ci.timeout_secs = SRV_TLS_HANDSHAKE_TIMEOUT_S;
    /* Windows: lws's wait holds at most 63 sockets (lws adds 2 to the number it is
     * given). A hard bound only: srv_fit_fd_limit keeps our connections below it, so
     * lws never reaches it (there it would stop accepting). */
    int wait_max = plat_wait_sockets_max();
    if (wait_max > 2)
        ci.fd_limit_per_thread = (unsigned int)wait_max - 2;
    /* SONOTA_LOOP=poll: lws's own poll() loop, as in the static builds (tests) */
    const char *loop = getenv("SONOTA_LOOP");
    if (srv_loop_prepare(s, &ci, !(loop && !strcmp(loop, "poll")))) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    s->ctx = lws_create_context(&ci);
    if (!s->ctx && srv_loop_uses_ev(s)) {
        /* lws's libev plugin did not load: its own poll() loop then */
        LOG_D("libwebsockets' libev plugin is missing; waiting with poll()");
        srv_loop_free(s);
        ci.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        ci.foreign_loops = NULL;
        s->ctx = lws_create_context(&ci);
    }
    if (!s->ctx) {
        snprintf(err, errcap, "cannot start the network event loop (libwebsockets)");
        goto fail;
    }
    srv_loop_started(s);
    s->vh_http = make_vhost(s, "files", s->bind_addr, cfg->http_port, 0, 1, s->proto_files);
    if (!s->vh_http) {
        snprintf(err, errcap, "cannot listen for HTTP on port %d; choose another with "
                 "--http-port", cfg->http_port);
        goto fail;
    }
    s->http_port = lws_get_vhost_listen_port(s->vh_http);
    if (s->cloud_enabled) {
        s->vh_https = make_vhost(s, "cloud", s->bind_addr, cfg->https_port, 1, 1, s->proto_cloud);
        if (!s->vh_https) {
            if (s->tls_err[0])
                snprintf(err, errcap, "TLS setup failed: %s", s->tls_err);
            else
                snprintf(err, errcap, "cannot listen for HTTPS on port %d; choose another "
                         "with --https-port", cfg->https_port);
            goto fail;
        }
        s->https_port = lws_get_vhost_listen_port(s->vh_https);
        if (cfg->legacy) {
            s->vh_plain = make_vhost(s, "legacy", s->bind_addr, cfg->plain_port, 0, 1, s->proto_cloud);
            if (!s->vh_plain) {
                snprintf(err, errcap, "cannot listen for the legacy plain cloud on port %d; "
                         "choose another with --plain-port", cfg->plain_port);
                goto fail;
            }
            s->plain_port = lws_get_vhost_listen_port(s->vh_plain);
        }
    }
    s->files_pending = cfg->files_later;
    if (s->cloud_enabled && !s->files_pending && setup_cloud(s, err, errcap))
        goto fail;
    /* Begun by the TLS vhost's setup already (so_tls_cert_begin is then a no-op): on
     * two cores a worker started earlier competed with the start-up (most with musl's
     * one malloc lock). */
    if (s->cert) {
        if (so_tls_cert_begin(s->cert, err, errcap) != SO_OK)
            goto fail;
        LOG_D("TLS certificate: RSA-%d, CN %s, being generated", SO_TLS_RSA_BITS, SO_TLS_CN);
    }
    srv_fd_guard_init(s);
    listening(s, "http", s->bind_addr, s->http_port);
    if (s->vh_https)
        listening(s, "https", s->bind_addr, s->https_port);
    if (s->vh_plain)
        listening(s, "plain", s->bind_addr, s->plain_port);
    return s;
fail:
    LOG_D("srv_create: %s", err);
    srv_destroy(s);
    return NULL;
}

int srv_listen_final(struct srv *s, const char *bind_addr, int port, char *err, size_t errcap)
{
    err[0] = '\0';
    if (!s || !s->ctx || !bind_addr || !bind_addr[0]) {
        snprintf(err, errcap, "no server to add the FinalStage listener to");
        return -1;
    }
    if (s->vh_final)
        return 0; /* one for the run: the socket stays bound if the address goes */
    if (port < 0 || port > 65535 || strlen(bind_addr) >= sizeof s->final_addr) {
        snprintf(err, errcap, "cannot listen on %s port %d", bind_addr, port);
        return -1;
    }
    if (probe_port(bind_addr, port, "--http-port", err, errcap))
        return -1;
    /* the file server's protocol: same files, pacing, tracks and limits */
    s->vh_final = make_vhost(s, "final", bind_addr, port, 0, 1, s->proto_files);
    if (!s->vh_final) {
        snprintf(err, errcap, "cannot listen for HTTP on %s port %d; choose another with "
                 "--http-port", bind_addr, port);
        return -1;
    }
    snprintf(s->final_addr, sizeof s->final_addr, "%s", bind_addr);
    s->final_port = lws_get_vhost_listen_port(s->vh_final);
    srv_fd_guard_listener(s, s->final_addr, s->final_port);
    listening(s, "http", s->final_addr, s->final_port);
    return 0;
}

int srv_tls_ready(struct srv *s)
{
    return !s || so_tls_cert_ready(s->cert);
}

int srv_set_files(struct srv *s, const struct srv_file *files, size_t n, char *err,
                  size_t errcap)
{
    err[0] = '\0';
    if (!s || !s->files_pending || n != s->cfg.n_files) {
        snprintf(err, errcap, "the server does not wait for these files");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!files[i].name || strcmp(files[i].name, s->names[i]) || (!files[i].data &&
                                                                      files[i].len)) {
            snprintf(err, errcap, "file %zu is not the '%s' the server was created with", i,
                     s->names[i]);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        s->cfg.files[i].data = files[i].data;
        s->cfg.files[i].len = files[i].len;
        memcpy(s->cfg.files[i].sha256, files[i].sha256, sizeof s->cfg.files[i].sha256);
    }
    if (s->cloud_enabled && setup_cloud(s, err, errcap))
        return -1;
    s->files_pending = 0;
    return 0;
}

int srv_files_pending(const struct srv *s)
{
    return s && s->files_pending;
}

int srv_run_once(struct srv *s, int timeout_ms)
{
    if (!s || !s->ctx)
        return -1;
    if (s->files_pending) { /* a caller's bug: serving before the files are known */
        LOG_E("the server was asked to serve before its files were set");
        return -1;
    }
    int n = srv_loop_turn(s, timeout_ms);
    srv_tls_accept_check(s); /* handshakes that ended with their connection */
    if (g_accept_failures) {
        unsigned failed = g_accept_failures;
        g_accept_failures = 0;
        srv_fd_exhausted(s, failed);
    }
    srv_fd_report(s);
    srv_flush_refusals(s);
    return n;
}

int srv_port(const struct srv *s, const char *which)
{
    if (!s || !which)
        return 0;
    if (!strcmp(which, "http"))
        return s->http_port;
    if (!strcmp(which, "https"))
        return s->https_port;
    if (!strcmp(which, "plain"))
        return s->plain_port;
    if (!strcmp(which, "final"))
        return s->final_port;
    return 0;
}

void srv_destroy(struct srv *s)
{
    if (!s)
        return;
    s->destroying = 1;
    srv_tls_accept_stop(s);
    if (s->ctx)
        lws_context_destroy(s->ctx);
    s->ctx = NULL;
    srv_loop_free(s);
    fileserv_free(&s->fs);
    srv_fd_guard_free(s);
    so_tls_cert_free(s->cert);
    srv_limits_free(s);
    free(s);
}
