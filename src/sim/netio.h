/* netio.h - the sim's sockets: TCP connect/listen with timeouts and an OpenSSL client with
 * the firmware's TLS profiles (PROTOCOL.md §2). Every wait is bounded by a timeout. */
#ifndef SIM_NETIO_H
#define SIM_NETIO_H

#include "lib/err.h"
#include "sim/opts.h"

#include <stddef.h>
#include <sys/types.h>

struct sim_conn {
    int fd;
    void *ctx;            /* SSL_CTX, NULL for plain TCP */
    void *ssl;            /* SSL */
    char peer[80];        /* "host:port" */
    int pinning_dropped;  /* set when --pinning aborted the handshake */
    int pinning_close;    /* --pinning close: drop without an alert */
};

#define CONN_INIT {.fd = -1}

struct conn_params {
    enum sim_tls tls;     /* SIM_TLS_NONE = plain TCP */
    int pinning;          /* SIM_PIN_* */
    int rcvbuf;           /* SO_RCVBUF before connect; 0 = system default */
    int timeout_ms;       /* connect + handshake */
};

/* --source-addr: every outgoing TCP connection of the sim (conn_open) binds to this IPv4
 * address before connecting, so several sims on loopback are told apart by their peer
 * address (e.g. 127.0.0.5). NULL restores the kernel's choice. 0, or -1 with err when addr
 * is not an IPv4 literal. Process-wide: set once by main() before any connection. */
int netio_set_source(const char *addr, char *err, size_t errcap);

/* Connects to host:port (IPv4 literal or name), from the --source-addr address if set. SO_OK, SO_E_TIMEOUT, SO_E_TLS or SO_E_IO
 * with a sentence in err. On failure c is closed. */
enum so_err conn_open(struct sim_conn *c, const char *host, int port,
                      const struct conn_params *p, char *err, size_t errcap);
/* > 0 bytes read, 0 orderly EOF, -1 error, -2 timeout. */
ssize_t conn_read(struct sim_conn *c, void *buf, size_t cap, int timeout_ms);
/* Writes everything in one go (one send() on plain TCP when the kernel takes it).
 * 0, or -1 on error/timeout. */
int conn_write(struct sim_conn *c, const void *buf, size_t n, int timeout_ms);
/* Waits until data can be read: 1 readable (or EOF/error pending), 0 timeout, -1 error. */
int conn_wait_readable(struct sim_conn *c, int timeout_ms);
/* Waits up to timeout_ms for more data or the peer's FIN. 1 the peer has closed its side,
 * 0 otherwise (data may have arrived), -1 error. Plain TCP only. */
int conn_wait_more(struct sim_conn *c, int timeout_ms);
/* Bytes waiting in the kernel receive queue (FIONREAD) plus TLS-buffered bytes. */
long conn_pending(struct sim_conn *c);
void conn_close(struct sim_conn *c);
/* "TLSv1.1 AES128-SHA" or "plain TCP". */
const char *conn_describe(const struct sim_conn *c, char *buf, size_t cap);

/* Listening TCP socket on addr:port (SO_REUSEADDR). Returns fd or -1 with err. */
int tcp_listen(const char *addr, int port, char *err, size_t errcap);
/* Accepts one connection within timeout_ms: fd, -2 timeout, -1 error. */
int tcp_accept(int lfd, int timeout_ms, char *peer, size_t peercap);

/* Monotonic milliseconds. */
long long now_ms(void);

#endif
