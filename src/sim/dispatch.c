#include "sim/dispatch.h"

#include "io/log.h"
#include "lib/ewl_msg.h"
#include "lib/ws_frame.h"
#include "sim/httpc.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPATCH_STATUS "HTTP/1.1 200 OK\r\n"
#define WS_STATUS "HTTP/1.1 101 Switching Protocols"
#define REPLY_MAX 2048 /* the firmware's receive buffer (§1.4) */

/* Connection parameters of the configured TLS profile. */
static struct netio_params sim_tls_params(const struct sim_ctx *s, int timeout_ms)
{
    struct netio_params p = {.tls = s->o->tls, .pinning = s->o->pinning,
                            .timeout_ms = timeout_ms};
    return p;
}

/* Non-SSL builds use port 8081 for dispatch and WS, ignoring the configured one (§1.3). */
static int effective_port(const struct sim_ctx *s, int configured)
{
    return s->o->tls == SIM_TLS_NONE ? s->o->nonssl_port : configured;
}

enum so_err dispatch_once(struct sim_ctx *s, char *ip, size_t ipcap, int *port, char *err,
                          size_t errcap)
{
    const struct sim_opts *o = s->o;
    struct ewl_dispatch_req rq;
    memset(&rq, 0, sizeof rq);
    snprintf(rq.deviceid, sizeof rq.deviceid, "%s", o->device_id);
    snprintf(rq.apikey, sizeof rq.apikey, "%s", o->apikey);
    snprintf(rq.model, sizeof rq.model, "%s", o->model);
    snprintf(rq.rom_version, sizeof rq.rom_version, "%s", o->rom_version);
    snprintf(rq.accept, sizeof rq.accept, "ws;2");
    rq.version = 2;
    rq.ts = sim_rand(s) % 1000; /* VP shows small values (933) [?] */
    char *body = ewl_build_dispatch_req(&rq);
    if (!body) {
        snprintf(err, errcap, "out of memory");
        return SO_E_NOMEM;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /dispatch/device HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     s->server_host, strlen(body), body);
    free(body);
    if (n < 0 || (size_t)n >= sizeof req) {
        snprintf(err, errcap, "dispatch request too long");
        return SO_E_TOOBIG;
    }
    int dport = effective_port(s, s->server_port);
    struct netio_conn c = NETIO_CONN_INIT;
    struct netio_params p = sim_tls_params(s, DISPATCH_TIMEOUT_MS);
    long long deadline = plat_mono_ms() + DISPATCH_TIMEOUT_MS;
    enum so_err e = netio_open(&c, s->server_host, dport, &p, err, errcap);
    if (e != SO_OK)
        return e;
    netio_describe(&c, s->rep.tls, sizeof s->rep.tls);
    LOG_I("dispatch: POST /dispatch/device to %s:%d (%s)", s->server_host, dport, s->rep.tls);
    if (netio_write(&c, req, (size_t)n, DISPATCH_TIMEOUT_MS) != 0) {
        snprintf(err, errcap, "dispatch: cannot send the request");
        netio_close(&c);
        return SO_E_IO;
    }
    char buf[REPLY_MAX + 1];
    size_t have = 0;
    int eof = 0;
    struct so_http_head h;
    e = httpc_read_head(&c, buf, REPLY_MAX, &have, &h, deadline, &eof);
    unsigned long long cl = 0;
    char why[SIM_TEXT];
    if (e != SO_OK) {
        snprintf(err, errcap, "dispatch: no usable reply head (%s)",
                 e == SO_E_TIMEOUT ? "timeout" : eof ? "connection closed" : so_strerror(e));
        goto fail;
    }
    /* IG: the reply must contain the literal status line, a {...} and the blank line. */
    if (have < sizeof DISPATCH_STATUS - 1 ||
        memcmp(buf, DISPATCH_STATUS, sizeof DISPATCH_STATUS - 1)) {
        snprintf(err, errcap, "dispatch: reply does not start with 'HTTP/1.1 200 OK'");
        e = SO_E_HTTP_STATUS;
        goto fail;
    }
    if (httpc_content_length(&h, &cl, why, sizeof why) != 0 || cl > REPLY_MAX - h.head_len) {
        snprintf(err, errcap, "dispatch: %s", cl ? "reply too large" : why);
        e = SO_E_HTTP_HEADER;
        goto fail;
    }
    e = httpc_read_until(&c, buf, h.head_len + (size_t)cl, &have, deadline, &eof);
    if (e != SO_OK) {
        snprintf(err, errcap, "dispatch: body shorter than Content-Length");
        goto fail;
    }
    buf[have] = '\0';
    const char *body_p = buf + h.head_len;
    const char *lb = memchr(body_p, '{', (size_t)cl), *rb = NULL;
    for (const char *q = body_p + cl; q > body_p; q--)
        if (q[-1] == '}') {
            rb = q;
            break;
        }
    struct ewl_dispatch_reply rp;
    if (!lb || !rb || rb <= lb ||
        ewl_parse_dispatch_reply(lb, (size_t)(rb - lb), &rp) != SO_OK) {
        snprintf(err, errcap, "dispatch: reply body is not the expected JSON object "
                 "(error number, IP string, port number)");
        e = SO_E_JSON;
        goto fail;
    }
    if (rp.error != 0) {
        snprintf(err, errcap, "dispatch: error %d", rp.error);
        e = SO_E_DEV_REFUSED;
        goto fail;
    }
    netio_close(&c);
    snprintf(ip, ipcap, "%s", rp.ip);
    *port = rp.port;
    LOG_I("dispatch: WebSocket server %s:%d", ip, *port);
    return SO_OK;
fail:
    netio_close(&c);
    return e;
}

/* RFC 6455 §4.2.2: base64(SHA-1(key || GUID)), computed rather than hard-coded. */
static void ws_accept_for(const char *key, char out[32])
{
    char in[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(in, sizeof in, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

enum so_err dispatch_ws_open(struct sim_ctx *s, struct netio_conn *c, const char *ip,
                             int port, unsigned char *rx, size_t rxcap, size_t *rxlen,
                             char *err, size_t errcap)
{
    static const char req[] = "GET /api/ws HTTP/1.1\r\n"
                              "Host: iotgo.iteadstudio.com\r\n"
                              "Connection: upgrade\r\n"
                              "Upgrade: websocket\r\n"
                              "Sec-WebSocket-Key: " SO_WS_DEVICE_KEY "\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n";
    *rxlen = 0;
    int wport = effective_port(s, port);
    struct netio_params p = sim_tls_params(s, DISPATCH_TIMEOUT_MS);
    long long deadline = plat_mono_ms() + DISPATCH_TIMEOUT_MS;
    enum so_err e = netio_open(c, ip, wport, &p, err, errcap);
    if (e != SO_OK)
        return e;
    LOG_I("websocket: GET /api/ws on %s:%d", ip, wport);
    if (netio_write(c, req, sizeof req - 1, DISPATCH_TIMEOUT_MS) != 0) {
        snprintf(err, errcap, "websocket: cannot send the handshake");
        netio_close(c);
        return SO_E_IO;
    }
    char buf[REPLY_MAX + 1];
    size_t have = 0;
    int eof = 0;
    struct so_http_head h;
    e = httpc_read_head(c, buf, REPLY_MAX, &have, &h, deadline, &eof);
    if (e != SO_OK) {
        snprintf(err, errcap, "websocket: no handshake reply (%s)",
                 e == SO_E_TIMEOUT ? "timeout" : eof ? "connection closed" : so_strerror(e));
        netio_close(c);
        return e;
    }
    buf[have] = '\0';
    /* IG only checks that the reply holds the literal 101 status line. */
    if (!memmem(buf, h.head_len, WS_STATUS, sizeof WS_STATUS - 1)) {
        snprintf(err, errcap, "websocket: reply lacks 'HTTP/1.1 101 Switching Protocols'");
        netio_close(c);
        return SO_E_HTTP_STATUS;
    }
    const struct so_http_header *acc = so_http_find(&h, "Sec-WebSocket-Accept");
    char want[32];
    ws_accept_for(SO_WS_DEVICE_KEY, want);
    if (!acc || !so_str_eq(acc->value, want))
        LOG_W("websocket: Sec-WebSocket-Accept %s (the firmware is not known to check it)",
              acc ? "is wrong" : "is missing");
    size_t extra = have - h.head_len;
    if (extra > rxcap)
        extra = rxcap;
    memcpy(rx, buf + h.head_len, extra);
    *rxlen = extra;
    return SO_OK;
}
