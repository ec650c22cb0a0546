#include "sim/netio.h"

#include "io/log.h"
#include "plat/clock.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_fd(int fd, short ev, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    for (;;) {
        int r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        return r > 0;
    }
}

static int remaining(long long deadline)
{
    long long r = deadline - plat_mono_ms();
    return r < 0 ? 0 : (int)r;
}

/* The one source address of all outgoing connections (netio_set_source). */
static struct sockaddr_in source_sa;
static int have_source;

int netio_set_source(const char *addr, char *err, size_t errcap)
{
    if (!addr) {
        have_source = 0;
        return 0;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, errcap, "not an IPv4 address: %s", addr);
        return -1;
    }
    source_sa = sa;
    have_source = 1;
    return 0;
}

/* Binds fd to the --source-addr address (port chosen at connect time). 0 or -1 with err. */
static int bind_source(int fd, char *err, size_t errcap)
{
    if (!have_source)
        return 0;
#ifdef IP_BIND_ADDRESS_NO_PORT
    /* the ephemeral port is picked by connect(), per destination: no early port use */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    if (bind(fd, (const struct sockaddr *)&source_sa, sizeof source_sa) != 0) {
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &source_sa.sin_addr, ip, sizeof ip);
        snprintf(err, errcap, "cannot bind the source address %s: %s", ip, strerror(errno));
        return -1;
    }
    return 0;
}

/* The only connect() of the sim: every outgoing TCP connection comes through here. */
static int tcp_connect(const char *host, int port, int rcvbuf, long long deadline, char *err,
                       size_t errcap)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0) {
        snprintf(err, errcap, "cannot resolve %s: %s", host, gai_strerror(g));
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "socket: %s", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }
    if (bind_source(fd, err, errcap) != 0) {
        close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    if (rcvbuf > 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (r != 0 && errno != EINPROGRESS) {
        snprintf(err, errcap, "connect to %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    if (r != 0) {
        int w = wait_fd(fd, POLLOUT, remaining(deadline));
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (w <= 0) {
            snprintf(err, errcap, "connect to %s:%d: timed out", host, port);
            close(fd);
            return -2;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            snprintf(err, errcap, "connect to %s:%d: %s", host, port, strerror(soerr));
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* --pinning: fw ≥ 1.6 checks the server certificate against a CA it carries and drops the
 * connection right after ServerHello/Certificate (§2, S#58). No sonota certificate can
 * pass, so the callback refuses every chain. */
static int pinning_verify(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct netio_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (c) {
        c->pinning_dropped = 1;
        /* --pinning close: the connection goes before OpenSSL can send its alert
         * (that write then fails; SIGPIPE is ignored). */
        if (c->pinning_close)
            shutdown(c->fd, SHUT_RDWR);
    }
    return 0;
}

static SSL_CTX *make_ctx(const struct netio_params *p, char *err, size_t errcap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errcap, "SSL_CTX_new failed");
        return NULL;
    }
    int ver = p->tls == SIM_TLS_10 ? TLS1_VERSION
              : p->tls == SIM_TLS_11 ? TLS1_1_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, ver);
    SSL_CTX_set_max_proto_version(ctx, ver);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
    if (p->tls != SIM_TLS_12) {
        /* axTLS 1.4 in the NONOS SDK: TLS 1.0/1.1, RSA key exchange, AES128-SHA first
         * (§2). OpenSSL 3 refuses these at security level ≥ 1. */
        SSL_CTX_set_security_level(ctx, 0);
        if (SSL_CTX_set_cipher_list(ctx, "AES128-SHA") != 1) {
            snprintf(err, errcap, "this OpenSSL lacks AES128-SHA");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    /* ≤ 1.5.x never verifies the server certificate (§2). */
    SSL_CTX_set_verify(ctx, p->pinning ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                       p->pinning ? pinning_verify : NULL);
    return ctx;
}

static void ssl_errstr(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, cap);
    else
        snprintf(buf, cap, "%s", errno ? strerror(errno) : "connection closed");
    ERR_clear_error();
}

enum so_err netio_open(struct netio_conn *c, const char *host, int port,
                       const struct netio_params *p, char *err, size_t errcap)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    long long deadline = plat_mono_ms() + p->timeout_ms;
    int fd = tcp_connect(host, port, p->rcvbuf, deadline, err, errcap);
    if (fd < 0)
        return fd == -2 ? SO_E_TIMEOUT : SO_E_IO;
    c->fd = fd;
    if (p->tls == SIM_TLS_NONE)
        return SO_OK;
    SSL_CTX *ctx = make_ctx(p, err, errcap);
    if (!ctx) {
        netio_close(c);
        return SO_E_TLS;
    }
    c->ctx = ctx;
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        snprintf(err, errcap, "SSL_new failed");
        netio_close(c);
        return SO_E_TLS;
    }
    c->ssl = ssl;
    c->pinning_close = p->pinning == SIM_PIN_CLOSE;
    SSL_set_app_data(ssl, c);
    SSL_set_fd(ssl, fd); /* no SNI: SSL_set_tlsext_host_name is never called (§2) */
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_connect(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                            remaining(deadline));
            if (w <= 0) {
                snprintf(err, errcap, "TLS handshake with %s timed out", c->peer);
                netio_close(c);
                return SO_E_TIMEOUT;
            }
            continue;
        }
        char es[200];
        ssl_errstr(es, sizeof es);
        if (c->pinning_dropped) {
            snprintf(err, errcap,
                     "certificate pinning (fw >= 1.6): dropped the TLS handshake with %s "
                     "after the server certificate",
                     c->peer);
        } else {
            snprintf(err, errcap, "TLS handshake with %s failed: %s", c->peer, es);
        }
        int pd = c->pinning_dropped;
        netio_close(c);
        c->pinning_dropped = pd;
        return SO_E_TLS;
    }
    /* axTLS/IG use a 4 KiB SSL buffer (§2, §11): a large chain may not fit. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    int der = 0;
    for (int i = 0; chain && i < sk_X509_num(chain); i++)
        der += i2d_X509(sk_X509_value(chain, i), NULL);
    if (der > 4096)
        LOG_W("server certificate chain is %d bytes DER; the firmware's 4 KiB TLS buffer "
              "may not hold it", der);
    return SO_OK;
}

const char *netio_describe(const struct netio_conn *c, char *buf, size_t cap)
{
    if (!c->ssl)
        snprintf(buf, cap, "plain TCP");
    else
        snprintf(buf, cap, "%s %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
    return buf;
}

int netio_wait_readable(struct netio_conn *c, int timeout_ms)
{
    if (c->fd < 0)
        return -1;
    if (c->ssl && SSL_pending(c->ssl) > 0)
        return 1;
    return wait_fd(c->fd, POLLIN, timeout_ms);
}

ssize_t netio_read(struct netio_conn *c, void *buf, size_t cap, int timeout_ms)
{
    if (c->fd < 0)
        return -1;
    long long deadline = plat_mono_ms() + timeout_ms;
    for (;;) {
        if (!c->ssl) {
            ssize_t r = recv(c->fd, buf, cap, 0);
            if (r >= 0)
                return r;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            int w = wait_fd(c->fd, POLLIN, remaining(deadline));
            if (w < 0)
                return -1;
            if (w == 0)
                return -2;
            continue;
        }
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, buf, cap > 0x7fffffff ? 0x7fffffff : (int)cap);
        if (r > 0)
            return r;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                            remaining(deadline));
            if (w < 0)
                return -1;
            if (w == 0)
                return -2;
            continue;
        }
        /* EOF without close_notify: the server just closed the socket. */
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
            return 0;
        ERR_clear_error();
        return -1;
    }
}

int netio_write(struct netio_conn *c, const void *buf, size_t n, int timeout_ms)
{
    if (c->fd < 0)
        return -1;
    long long deadline = plat_mono_ms() + timeout_ms;
    const char *p = buf;
    while (n > 0) {
        ssize_t w;
        int want = POLLOUT;
        if (!c->ssl) {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
        } else {
            ERR_clear_error();
            int r = SSL_write(c->ssl, p, n > 0x7fffffff ? 0x7fffffff : (int)n);
            w = r;
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                    ERR_clear_error();
                    return -1;
                }
                if (e == SSL_ERROR_WANT_READ)
                    want = POLLIN;
                w = -1;
            }
        }
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (wait_fd(c->fd, (short)want, remaining(deadline)) <= 0)
            return -1;
    }
    return 0;
}

int netio_wait_more(struct netio_conn *c, int timeout_ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
    int r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    return r > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) ? 1 : 0;
}

long netio_pending(struct netio_conn *c)
{
    int q = 0;
    if (c->fd < 0 || ioctl(c->fd, FIONREAD, &q) != 0)
        return 0;
    return (long)q + (c->ssl ? SSL_pending(c->ssl) : 0);
}

void netio_close(struct netio_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl); /* no close_notify: the device just drops the socket */
        c->ssl = NULL;
    }
    if (c->ctx) {
        SSL_CTX_free(c->ctx);
        c->ctx = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int netio_listen(const char *addr, int port, char *err, size_t errcap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, errcap, "not an IPv4 address: %s", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0) {
        snprintf(err, errcap, "cannot listen on %s:%d: %s", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int netio_accept(int lfd, int timeout_ms, char *peer, size_t peercap)
{
    int w = wait_fd(lfd, POLLIN, timeout_ms);
    if (w < 0)
        return -1;
    if (w == 0)
        return -2;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) ? -2 : -1;
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(peer, peercap, "%s:%u", ip, ntohs(sa.sin_port));
    return fd;
}
