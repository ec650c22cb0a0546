/* diy_client.h - sonota's client for the DIY REST API (PROTOCOL.md §6) on httpc:
 * POST http://<ip>:<port>/zeroconf/<path> with a JSON body, reply parsed by diy_msg.
 * Requests to a device are at least 200 ms apart (end of one reply to the start of the
 * next, DIY14). While a request is in flight, or while the gap runs, the caller's idle
 * function keeps running (sonota's file server must serve the device's pre-download
 * while ota_flash waits for its answer). */
#ifndef SONOTA_DIY_CLIENT_H
#define SONOTA_DIY_CLIENT_H

#include "lib/diy_msg.h"
#include "sonota/httpc.h"

#include <stddef.h>
#include <stdint.h>

/* Called while waiting (httpc_idle_fn: the request's sockets, or none while the gap
 * runs); must return within max_ms (e.g. srv_run_watching). NULL = sleep. */
typedef httpc_idle_fn diy_idle_fn;

struct diy_client {
    struct httpc *http;
    char base[64];              /* "http://10.0.0.5:8081" */
    int timeout_ms;             /* per request */
    int gap_ms;                 /* DIY_MIN_GAP_MS */
    int64_t last_end_ms;        /* monotonic end of the previous request (init time at first) */
    diy_idle_fn idle;
    void *idle_user;
    unsigned long requests;
};

enum diy_call {
    DIY_CALL_OK,      /* HTTP 200 with a reply that parsed: look at rep->error */
    DIY_CALL_EMPTY,   /* the device closed the connection without answering (ID#95) */
    DIY_CALL_NET,     /* cannot connect, or no answer in time */
    DIY_CALL_HTTP,    /* an HTTP status other than 200 */
    DIY_CALL_BAD,     /* 200 but the body is not a DIY reply */
};

/* 0, or -1 with a sentence in err. */
int diy_client_init(struct diy_client *c, const char *ip, int port, int timeout_ms,
                    char *err, size_t errcap);
void diy_client_free(struct diy_client *c);

/* Sends req (after the 200 ms gap). DIY_CALL_OK fills rep; otherwise err says what
 * happened. raw (may be NULL) receives the reply body text, NUL-terminated, truncated to
 * rawcap. timeout_ms 0 = c->timeout_ms. */
enum diy_call diy_client_call(struct diy_client *c, const struct diy_request *req,
                              int timeout_ms, struct diy_reply *rep, char *raw, size_t rawcap,
                              char *err, size_t errcap);

/* GET url (not spaced: another port, another program) on h (NULL: a client of its own).
 * Returns the HTTP status (0 when there was no answer), the body in body (NUL-terminated,
 * truncated to cap). */
int diy_http_get(struct httpc *h, const char *url, int timeout_ms, diy_idle_fn idle,
                 void *user, char *body, size_t cap);

#endif
