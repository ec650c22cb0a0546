/* httpc.h - sonota's one HTTP client: plain-HTTP requests to devices (pairing AP, Tasmota,
 * DIY REST) on a single libcurl multi handle, never blocking the caller's loop.
 *
 * A request is started with httpc_start and ends in exactly one call of its done function
 * (unless cancelled), from inside httpc_step. The result carries the project's error enum
 * (SO_OK = an HTTP answer arrived), the HTTP status, the body (bounded, NUL-terminated,
 * hostile: escape before printing) and a sentence for humans.
 *
 * Driving it from an event loop:
 *   - poll() loop: add httpc_poll_fds() to the poll set, bound the poll timeout by
 *     httpc_timeout_ms(), call httpc_step() after every poll;
 *   - the servers' loop (srv_run_watching): hand it httpc_poll_fds() each turn, bound
 *     the wait by httpc_wait_ms(), call httpc_step() after it; httpc_set_watch()
 *     reports a socket libcurl is about to close, so its watch ends first.
 * Commands without a loop use httpc_perform (blocking; its idle callback waits on the
 * request's sockets and the servers at once).
 *
 * libcurl's process-wide setup lives here too: httpc_global_init once at start-up. */
#ifndef SONOTA_HTTPC_H
#define SONOTA_HTTPC_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define HTTPC_REPLY_MAX 4096     /* default body limit: device answers are small */
#define HTTPC_DETAIL_MAX 512

struct httpc;
struct httpc_req;
struct pollfd;             /* plat/net.h; not included here: windows.h would come along */

struct httpc_opts {
    const char *method;        /* NULL: "POST" with a body, else "GET" */
    const char *url;           /* copied; may carry secrets (wiped after use) */
    const char *shown_url;     /* the form for logs and sentences; NULL = url */
    const char *body;          /* NULL: none; copied, wiped after use */
    size_t body_len;           /* 0 with a body: strlen(body) */
    const char *content_type;  /* NULL: no Content-Type header */
    int timeout_ms;            /* whole request; <= 0: 10 s */
    int connect_timeout_ms;    /* 0: timeout_ms */
    size_t reply_max;          /* 0: HTTPC_REPLY_MAX; a longer body aborts the transfer */
    int truncate;              /* a longer body still ends the transfer, but as SO_OK with
                                * the first reply_max bytes and truncated set */
    long want_status;          /* 0: any status is SO_OK; else another is SO_E_HTTP_STATUS */
    const char *source;        /* source interface or address (CURLOPT_INTERFACE); NULL */
    int keep_alive;            /* 0: a fresh connection each time (192.168.4.1 is another
                                * device after every WiFi change); 1: reuse allowed */
    void (*release)(void *user); /* NULL, or frees user when the request is dropped
                                  * without its done call (httpc_cancel, httpc_free) */
};

struct httpc_result {
    enum so_err err;           /* SO_OK, SO_E_NET_*, SO_E_TIMEOUT, SO_E_HTTP_STATUS, NOMEM */
    long status;               /* HTTP status, 0 when none arrived */
    const char *body;          /* NUL-terminated, len bytes; valid during the callback */
    size_t len;
    int truncated;             /* opts.truncate: the body was longer than len */
    const char *cause;         /* libcurl's short reason ("" when ok) */
    const char *detail;        /* "GET http://...: <what happened>" ("" when ok) */
};

/* Called once per request from httpc_step; may start or cancel other requests, but not
 * free h. */
typedef void (*httpc_done_fn)(void *user, const struct httpc_result *r);
/* A socket appeared or changed (events: POLLIN/POLLOUT mask of plat/net.h) or went away
 * (events 0). */
typedef void (*httpc_watch_fn)(void *user, int fd, short events);
/* Called while httpc_perform waits, to serve something else meanwhile (the servers:
 * srv_run_watching). It returns within max_ms, and as soon as one of fds, the request's
 * sockets (n may be 0), is ready: one wait for both, no looking every few ms. */
typedef void (*httpc_idle_fn)(void *user, const struct pollfd *fds, size_t n, int max_ms);

/* Process-wide libcurl setup/teardown, once each (main thread, before any httpc_new). */
int httpc_global_init(void);
void httpc_global_cleanup(void);

/* A client (one multi handle); NULL when out of memory. httpc_free cancels what is still
 * running without calling done functions; accepts NULL. */
struct httpc *httpc_new(void);
void httpc_free(struct httpc *h);

/* Starts a request; NULL (and a sentence in err) when it cannot start. The handle is only
 * for httpc_cancel and is invalid once done has been called. */
struct httpc_req *httpc_start(struct httpc *h, const struct httpc_opts *o, httpc_done_fn done,
                              void *user, char *err, size_t errcap);
/* Drops a running request without calling its done function. */
void httpc_cancel(struct httpc *h, struct httpc_req *r);

/* Non-blocking: services ready sockets and expired timers, calls done functions. Returns
 * the number of requests still running. */
int httpc_step(struct httpc *h);
/* Milliseconds until httpc_step must run even without socket activity: -1 when idle. */
int httpc_timeout_ms(const struct httpc *h);
/* For a loop that watches httpc's sockets (httpc_poll_fds): how long it may block
 * before the next httpc_step, libcurl's timer, at most max_ms. */
int httpc_wait_ms(const struct httpc *h, int max_ms);
/* Sockets to wait on (at most cap); returns how many were written. */
int httpc_poll_fds(const struct httpc *h, struct pollfd *out, int cap);
/* The wait of a loop that has no server to serve meanwhile: until one of fds (the first
 * 16; from httpc_poll_fds) is ready or max_ms pass; without fds, max_ms. */
void httpc_wait_fds(const struct pollfd *fds, size_t n, int max_ms);
/* Blocks up to max_ms for socket activity or libcurl's timer, then steps. */
int httpc_wait(struct httpc *h, int max_ms);
void httpc_set_watch(struct httpc *h, httpc_watch_fn fn, void *user);
/* Requests still running. */
int httpc_running(const struct httpc *h);

/* The outcome of httpc_perform, owning its body (httpc_reply_free). */
struct httpc_reply {
    enum so_err err;
    long status;
    char *body;                /* NUL-terminated ("" when none) */
    size_t len;
    int truncated;
    char cause[128];
    char detail[HTTPC_DETAIL_MAX];
};

/* One request to completion (blocking), on h or, when h is NULL, on a client of its own.
 * idle (may be NULL) runs between steps. Returns out->err. */
enum so_err httpc_perform(struct httpc *h, const struct httpc_opts *o, httpc_idle_fn idle,
                          void *idle_user, struct httpc_reply *out);
void httpc_reply_free(struct httpc_reply *r);

/* A printable excerpt of a hostile body for sentences: bytes outside ' '..'~' become '.'. */
void httpc_excerpt(const char *body, size_t len, size_t max, char *out, size_t cap);

#endif
