/* netio.h - the sim's sockets: TCP connect/listen with timeouts and an OpenSSL client with
 * the firmware's TLS profiles (PROTOCOL.md §2). Every wait is bounded by a timeout. */
#ifndef SIM_NETIO_H
#define SIM_NETIO_H

#include "lib/err.h"
#include "plat/clock.h"   /* deadlines here and in the callers are plat_mono_ms() values */
#include "sim/opts.h"

#include <stddef.h>
#include <sys/types.h>

struct netio_conn {
    int fd;
    void *ctx;            /* SSL_CTX, NULL for plain TCP */
    void *ssl;            /* SSL */
    char peer[80];        /* "host:port" */
    int pinning_dropped;  /* set when --pinning aborted the handshake */
    int pinning_close;    /* --pinning close: drop without an alert */
};

#define NETIO_CONN_INIT {.fd = -1}

struct netio_params {
    enum sim_tls tls;     /* SIM_TLS_NONE = plain TCP */
    int pinning;          /* SIM_PIN_* */
    int rcvbuf;           /* SO_RCVBUF before connect; 0 = system default */
    int timeout_ms;       /* connect + handshake */
};

/* --source-addr: every outgoing TCP connection of the sim (netio_open) binds to this IPv4
 * address before connecting, so several sims on loopback are told apart by their peer
 * address (e.g. 127.0.0.5). NULL restores the kernel's choice. 0, or -1 with err when addr
 * is not an IPv4 literal. Process-wide: set once by main() before any connection. */
int netio_set_source(const char *addr, char *err, size_t errcap);

/* Connects to host:port (IPv4 literal or name), from the --source-addr address if set.
 * SO_OK, SO_E_TIMEOUT, SO_E_TLS or SO_E_IO with a sentence in err. On failure c is closed. */
enum so_err netio_open(struct netio_conn *c, const char *host, int port,
                       const struct netio_params *p, char *err, size_t errcap);
/* > 0 bytes read, 0 orderly EOF, -1 error, -2 timeout. */
ssize_t netio_read(struct netio_conn *c, void *buf, size_t cap, int timeout_ms);
/* Writes everything in one go (one send() on plain TCP when the kernel takes it).
 * 0, or -1 on error/timeout. */
int netio_write(struct netio_conn *c, const void *buf, size_t n, int timeout_ms);
/* Waits until data can be read: 1 readable (or EOF/error pending), 0 timeout, -1 error. */
int netio_wait_readable(struct netio_conn *c, int timeout_ms);
/* Waits up to timeout_ms for more data or the peer's FIN. 1 the peer has closed its side,
 * 0 otherwise (data may have arrived), -1 error. Plain TCP only. */
int netio_wait_more(struct netio_conn *c, int timeout_ms);
/* Bytes waiting in the kernel receive queue (FIONREAD) plus TLS-buffered bytes. */
long netio_pending(struct netio_conn *c);
void netio_close(struct netio_conn *c);
/* "TLSv1.1 AES128-SHA" or "plain TCP". */
const char *netio_describe(const struct netio_conn *c, char *buf, size_t cap);

/* Listening TCP socket on addr:port (SO_REUSEADDR). Returns fd or -1 with err. */
int netio_listen(const char *addr, int port, char *err, size_t errcap);
/* Accepts one connection within timeout_ms: fd, -2 timeout, -1 error. */
int netio_accept(int lfd, int timeout_ms, char *peer, size_t peercap);

#endif
