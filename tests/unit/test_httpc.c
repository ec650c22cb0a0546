/* httpc against a tiny loopback HTTP server run by the same poll() loop (no threads):
 * every outcome of the error enum (answer, status, too big, truncated, closed, timeout,
 * refused), a POST body and its Content-Type, two requests at once, cancel/release, the
 * socket watch hook, the blocking httpc_perform whose idle callback runs the server, and
 * prov's asynchronous GET /device and POST /ap with their classification. */
#include "sonota/httpc.h"

#include "plat/clock.h"
#include "plat/net.h"
#include "sonota/prov.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the server: one scripted answer per connection ---- */

enum reply_kind { RK_OK, RK_404, RK_BIG, RK_CLOSE, RK_SILENT, RK_ECHO, RK_BODY };

struct conn {
    int fd;
    char in[4096];
    size_t n;
    int answered;
};

static struct srv {
    int lfd, port;
    enum reply_kind kind;
    const char *body;          /* RK_BODY: 200 with this body */
    struct conn c[4];
    char last_req[4096];
} S;

static void srv_start(void)
{
    memset(&S, 0, sizeof S);
    for (int i = 0; i < 4; i++)
        S.c[i].fd = -1;
    S.lfd = plat_socket(AF_INET, SOCK_STREAM, PLAT_SOCK_NONBLOCK);
    assert_true(S.lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(S.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(S.lfd, 8), 0);
    socklen_t l = sizeof a;
    getsockname(S.lfd, (struct sockaddr *)&a, &l);
    S.port = ntohs(a.sin_port);
}

static void srv_stop(void)
{
    for (int i = 0; i < 4; i++)
        if (S.c[i].fd >= 0)
            plat_sock_close(S.c[i].fd);
    plat_sock_close(S.lfd);
}

static void answer(struct conn *c)
{
    char out[8192];
    int n = 0;
    snprintf(S.last_req, sizeof S.last_req, "%.*s", (int)c->n, c->in);
    switch (S.kind) {
    case RK_OK:
        n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                     "Connection: close\r\n\r\nhello");
        break;
    case RK_404:
        n = snprintf(out, sizeof out, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n"
                     "Connection: close\r\n\r\nno\n");
        break;
    case RK_BIG:
        n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 6000\r\n"
                     "Connection: close\r\n\r\n");
        memset(out + n, 'x', 6000);
        out[n] = '\x1b'; /* hostile: an escape byte first */
        n += 6000;
        break;
    case RK_BODY:
        n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", strlen(S.body), S.body);
        break;
    case RK_CLOSE:
        break;
    case RK_SILENT:
        c->answered = 1;
        return;
    case RK_ECHO: {
        const char *b = strstr(c->in, "\r\n\r\n");
        size_t bl = b ? c->n - (size_t)(b + 4 - c->in) : 0;
        n = snprintf(out, sizeof out, "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%.*s", bl, (int)bl, b ? b + 4 : "");
        break;
    }
    }
    if (n > 0)
        assert_int_equal(plat_send(c->fd, out, (size_t)n), n);
    plat_sock_close(c->fd);
    c->fd = -1;
}

/* A request is complete once its head and Content-Length bytes of body are in. */
static int complete(const struct conn *c)
{
    const char *e = strstr(c->in, "\r\n\r\n");
    if (!e)
        return 0;
    const char *cl = strstr(c->in, "Content-Length: ");
    size_t want = cl && cl < e ? strtoul(cl + 16, NULL, 10) : 0;
    return c->n >= (size_t)(e + 4 - c->in) + want;
}

/* The test server's sockets (at most 5). */
static int srv_fds(struct pollfd *p)
{
    int n = 0;
    p[n++] = (struct pollfd){.fd = S.lfd, .events = POLLIN};
    for (int i = 0; i < 4; i++)
        if (S.c[i].fd >= 0 && !S.c[i].answered)
            p[n++] = (struct pollfd){.fd = S.c[i].fd, .events = POLLIN};
    return n;
}

static void srv_serve(int max_ms)
{
    struct pollfd p[5];
    int n = srv_fds(p);
    if (plat_poll(p, (size_t)n, max_ms) <= 0)
        return;
    if (p[0].revents) {
        int fd = accept(S.lfd, NULL, NULL);
        for (int i = 0; i < 4 && fd >= 0; i++)
            if (S.c[i].fd < 0) {
                S.c[i] = (struct conn){.fd = fd};
                fd = -1;
            }
        if (fd >= 0)
            plat_sock_close(fd);
    }
    for (int i = 0; i < 4; i++) {
        struct conn *c = &S.c[i];
        if (c->fd < 0 || c->answered)
            continue;
        ssize_t r = recv(c->fd, c->in + c->n, sizeof c->in - 1 - c->n, MSG_DONTWAIT);
        if (r > 0) {
            c->n += (size_t)r;
            c->in[c->n] = '\0';
            if (complete(c))
                answer(c);
        } else if (r == 0) {
            plat_sock_close(c->fd);
            c->fd = -1;
        }
    }
}

/* ---- the client side ---- */

struct got {
    int calls;
    enum so_err err;
    long status;
    char body[8192];
    size_t len;
    int truncated;
    char detail[HTTPC_DETAIL_MAX];
};

static void on_done(void *user, const struct httpc_result *r)
{
    struct got *g = user;
    g->calls++;
    g->err = r->err;
    g->status = r->status;
    g->len = r->len;
    g->truncated = r->truncated;
    memcpy(g->body, r->body, r->len + 1);
    snprintf(g->detail, sizeof g->detail, "%s", r->detail);
}

/* The event loop under test: server and client in one poll() call. */
static void loop_until(struct httpc *h, const int *done, int max_ms)
{
    int64_t end = plat_mono_ms() + max_ms;
    while (!*done && plat_mono_ms() < end) {
        struct pollfd p[16];
        int n = httpc_poll_fds(h, p, 16);
        int t = httpc_timeout_ms(h);
        if (t < 0 || t > 20)
            t = 20;
        if (n > 0)
            plat_poll(p, (size_t)n, t);
        srv_serve(0);
        httpc_step(h);
    }
    assert_true(*done);
}

static void url(char *out, size_t cap, int port, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", port, path);
}

static struct got run_one(struct httpc *h, enum reply_kind kind, struct httpc_opts o)
{
    struct got g;
    memset(&g, 0, sizeof g);
    S.kind = kind;
    char err[256];
    assert_non_null(httpc_start(h, &o, on_done, &g, err, sizeof err));
    loop_until(h, &g.calls, 5000);
    assert_int_equal(g.calls, 1);
    return g;
}

static void outcomes(void **state)
{
    (void)state;
    srv_start();
    struct httpc *h = httpc_new();
    assert_non_null(h);
    char u[128];
    url(u, sizeof u, S.port, "/device");

    struct got g = run_one(h, RK_OK, (struct httpc_opts){.url = u, .timeout_ms = 2000});
    assert_int_equal(g.err, SO_OK);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.body, "hello");
    assert_string_equal(g.detail, "");
    assert_non_null(strstr(S.last_req, "GET /device HTTP/1.1\r\n"));

    g = run_one(h, RK_404, (struct httpc_opts){.url = u, .timeout_ms = 2000, .want_status = 200});
    assert_int_equal(g.err, SO_E_HTTP_STATUS);
    assert_int_equal(g.status, 404);
    assert_non_null(strstr(g.detail, "HTTP status 404 instead of 200"));
    g = run_one(h, RK_404, (struct httpc_opts){.url = u, .timeout_ms = 2000});
    assert_int_equal(g.err, SO_OK); /* any status when none is wanted */

    g = run_one(h, RK_BIG, (struct httpc_opts){.url = u, .timeout_ms = 2000, .reply_max = 100});
    assert_int_equal(g.err, SO_E_NET_REPLY_TOOBIG);
    assert_true(g.len <= 100);
    g = run_one(h, RK_BIG, (struct httpc_opts){.url = u, .timeout_ms = 2000, .reply_max = 100,
                                              .truncate = 1});
    assert_int_equal(g.err, SO_OK);
    assert_int_equal(g.len, 100);
    assert_int_equal(g.truncated, 1);
    assert_int_equal(g.body[100], '\0');

    g = run_one(h, RK_CLOSE, (struct httpc_opts){.url = u, .timeout_ms = 2000});
    assert_int_equal(g.err, SO_E_NET_EMPTY);

    int64_t t0 = plat_mono_ms();
    g = run_one(h, RK_SILENT, (struct httpc_opts){.url = u, .timeout_ms = 300});
    assert_int_equal(g.err, SO_E_TIMEOUT);
    assert_true(plat_mono_ms() - t0 < 2000);
    assert_non_null(strstr(g.detail, "no answer within 300 ms"));

    /* a closed port: the listener's port once it is gone */
    int port = S.port;
    srv_stop();
    url(u, sizeof u, port, "/device");
    g = run_one(h, RK_OK, (struct httpc_opts){.url = u, .timeout_ms = 2000});
    assert_int_equal(g.err, SO_E_NET_UNREACHABLE);
    assert_int_equal(g.status, 0);
    assert_int_equal(httpc_running(h), 0);
    httpc_free(h);
}

static void post_and_secrets(void **state)
{
    (void)state;
    srv_start();
    struct httpc *h = httpc_new();
    char u[128];
    url(u, sizeof u, S.port, "/ap?pw=secret");
    const char *body = "{\"version\":4,\"password\":\"hunter2\"}";
    struct got g = run_one(h, RK_ECHO, (struct httpc_opts){
        .url = u, .shown_url = "http://127.0.0.1/ap?pw=***", .body = body,
        .content_type = "application/json", .timeout_ms = 2000, .want_status = 201});
    assert_int_equal(g.err, SO_OK);
    assert_int_equal(g.status, 201);
    assert_string_equal(g.body, body);
    assert_non_null(strstr(S.last_req, "POST /ap?pw=secret HTTP/1.1\r\n"));
    assert_non_null(strstr(S.last_req, "Content-Type: application/json\r\n"));
    assert_null(strstr(S.last_req, "Expect:"));
    /* a failure sentence names the shown form only */
    g = run_one(h, RK_404, (struct httpc_opts){.url = u, .shown_url = "http://x/ap?pw=***",
                                              .timeout_ms = 2000, .want_status = 200});
    assert_null(strstr(g.detail, "secret"));
    assert_non_null(strstr(g.detail, "pw=***"));
    httpc_free(h);
    srv_stop();
}

static int released;

static void count_release(void *user)
{
    (void)user;
    released++;
}

static int watched, unwatched;

static void watch(void *user, int fd, short events)
{
    (void)user;
    assert_true(fd >= 0);
    if (events)
        watched++;
    else
        unwatched++;
}

static void concurrent_and_cancel(void **state)
{
    (void)state;
    srv_start();
    struct httpc *h = httpc_new();
    httpc_set_watch(h, watch, NULL);
    char u[128], err[128];
    url(u, sizeof u, S.port, "/");
    S.kind = RK_OK;
    struct got a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    struct httpc_opts o = {.url = u, .timeout_ms = 2000, .release = count_release};
    assert_non_null(httpc_start(h, &o, on_done, &a, err, sizeof err));
    assert_non_null(httpc_start(h, &o, on_done, &b, err, sizeof err));
    struct httpc_req *rc = httpc_start(h, &o, on_done, &c, err, sizeof err);
    assert_non_null(rc);
    assert_int_equal(httpc_running(h), 3);
    assert_int_equal(httpc_wait_ms(h, 500), 0); /* libcurl wants to start them now */
    httpc_cancel(h, rc); /* never answers, released once */
    assert_int_equal(released, 1);
    int both = 0;
    int64_t end = plat_mono_ms() + 5000;
    while (!both && plat_mono_ms() < end) {
        httpc_wait(h, 10);
        srv_serve(10);
        both = a.calls && b.calls;
    }
    assert_int_equal(a.err, SO_OK);
    assert_int_equal(b.err, SO_OK);
    assert_int_equal(c.calls, 0);
    assert_int_equal(released, 1); /* done, not release, for finished requests */
    assert_int_equal(httpc_timeout_ms(h), -1); /* idle: no timer */
    assert_int_equal(httpc_wait_ms(h, 500), 500);
    assert_true(watched >= 2);
    assert_true(unwatched >= 1);
    /* a request still running when the client goes is released, not answered */
    S.kind = RK_SILENT;
    assert_non_null(httpc_start(h, &o, on_done, &c, err, sizeof err));
    httpc_free(h);
    assert_int_equal(released, 2);
    assert_int_equal(c.calls, 0);
    srv_stop();
}

struct idle_count {
    int calls, with_socket;
};

/* As sonota's servers do (srv_run_watching): one wait on the test server's sockets and
 * the request's, then the server's turn. */
static void idle_serve(void *user, const struct pollfd *fds, size_t n, int max_ms)
{
    struct idle_count *ic = user;
    ic->calls++;
    ic->with_socket += n > 0;
    struct pollfd p[9];
    size_t k = (size_t)srv_fds(p);
    for (size_t i = 0; i < n && k < 9; i++)
        p[k++] = fds[i];
    plat_poll(p, k, max_ms);
    srv_serve(0);
}

static void blocking(void **state)
{
    (void)state;
    srv_start();
    char u[128];
    url(u, sizeof u, S.port, "/zeroconf/info");
    S.kind = RK_ECHO;
    struct idle_count idles = {0, 0};
    struct httpc_reply r;
    struct httpc_opts o = {.url = u, .body = "{\"data\":{}}", .timeout_ms = 2000};
    /* no client given: httpc_perform uses one of its own */
    assert_int_equal(httpc_perform(NULL, &o, idle_serve, &idles, &r), SO_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "{\"data\":{}}");
    assert_true(idles.calls > 0);
    assert_true(idles.with_socket > 0); /* the wait was also on the request's socket */
    httpc_reply_free(&r);
    S.kind = RK_SILENT;
    o.timeout_ms = 200;
    assert_int_equal(httpc_perform(NULL, &o, idle_serve, &idles, &r), SO_E_TIMEOUT);
    assert_string_equal(r.body, "");
    httpc_reply_free(&r);
    srv_stop();
}

static void excerpt(void **state)
{
    (void)state;
    const char in[] = "ab\x1b[2J\ncd\x7f\xff";
    char out[16];
    httpc_excerpt(in, sizeof in - 1, 60, out, sizeof out);
    assert_string_equal(out, "ab.[2J.cd..");
    httpc_excerpt(in, sizeof in - 1, 3, out, sizeof out);
    assert_string_equal(out, "ab.");
    httpc_excerpt(in, sizeof in - 1, 60, out, 4);
    assert_string_equal(out, "ab.");
}

/* ---- prov's asynchronous calls (the flash flow's stage 1) on the same loop ---- */

struct prov_got {
    int calls;
    enum prov_fail f;
    int have_dev, dev_error;
    struct ewl_device_info dev;
    char err[1024];
};

static void prov_done(void *user, enum prov_fail f, const struct ewl_device_info *dev,
                      int dev_error, const char *err)
{
    struct prov_got *g = user;
    g->calls++;
    g->f = f;
    g->have_dev = dev != NULL;
    if (dev)
        g->dev = *dev;
    g->dev_error = dev_error;
    snprintf(g->err, sizeof g->err, "%s", err);
}

static struct prov_got prov_get(struct httpc *h, const char *base, enum reply_kind kind,
                                const char *body)
{
    struct prov_got g;
    memset(&g, 0, sizeof g);
    S.kind = kind;
    S.body = body;
    assert_int_equal(prov_get_device_start(h, base, 1000, prov_done, &g), 0);
    loop_until(h, &g.calls, 5000);
    return g;
}

static struct prov_got prov_post(struct httpc *h, const char *base, const char *body)
{
    struct ewl_ap_config ap = {.version = 4, .ssid = "home", .password = "pw-7x", .port = 443,
                               .server = "192.168.0.2"};
    struct prov_got g;
    memset(&g, 0, sizeof g);
    S.kind = RK_BODY;
    S.body = body;
    assert_int_equal(prov_post_ap_start(h, base, &ap, 1000, prov_done, &g), 0);
    loop_until(h, &g.calls, 5000);
    return g;
}

static void prov_async(void **state)
{
    (void)state;
    srv_start();
    struct httpc *h = httpc_new();
    char base[64];
    url(base, sizeof base, S.port, "");
    struct prov_got g = prov_get(h, base, RK_BODY, "{\"deviceid\":\"100006af71\",\"apikey\":"
                                 "\"0f2c3a3e-8d4b-4b27-9c51-2a0d5b7c6e11\",\"accept\":\"post\"}");
    assert_int_equal(g.f, PROV_OK);
    assert_int_equal(g.have_dev, 1);
    assert_string_equal(g.dev.deviceid, "100006af71");
    assert_string_equal(g.err, "");
    assert_non_null(strstr(S.last_req, "GET /device HTTP/1.1"));

    g = prov_get(h, base, RK_404, NULL);
    assert_int_equal(g.f, PROV_HTTP_STATUS);
    assert_int_equal(g.have_dev, 0);
    assert_non_null(strstr(g.err, "HTTP status 404 instead of 200"));

    /* a captive portal's page: refused, quoted without its control bytes */
    g = prov_get(h, base, RK_BODY, "<html>\x1b[31mlogin\x07</html>");
    assert_int_equal(g.f, PROV_BAD_REPLY);
    assert_null(strchr(g.err, '\x1b'));
    assert_null(strchr(g.err, '\x07'));
    assert_non_null(strstr(g.err, "got \"<html>.[31mlogin.</html>\""));

    g = prov_get(h, base, RK_BIG, NULL);
    assert_int_equal(g.f, PROV_BAD_REPLY);
    assert_non_null(strstr(g.err, "larger than 4096 bytes"));

    g = prov_get(h, base, RK_CLOSE, NULL);
    assert_int_equal(g.f, PROV_NO_REPLY);

    g = prov_post(h, base, "{\"error\":0}");
    assert_int_equal(g.f, PROV_OK);
    assert_int_equal(g.dev_error, 0);
    assert_int_equal(g.have_dev, 0);
    assert_non_null(strstr(S.last_req, "POST /ap HTTP/1.1"));
    assert_non_null(strstr(S.last_req, "\"password\":\"pw-7x\""));
    assert_non_null(strstr(S.last_req, "\"serverName\":\"192.168.0.2\""));

    g = prov_post(h, base, "{\"error\":19}");
    assert_int_equal(g.f, PROV_REFUSED);
    assert_int_equal(g.dev_error, 19);
    assert_non_null(strstr(g.err, "refused the settings (error 19)"));
    assert_null(strstr(g.err, "pw-7x"));

    /* the device is gone: not reachable */
    srv_stop();
    g = prov_get(h, base, RK_OK, NULL);
    assert_int_equal(g.f, PROV_UNREACHABLE);
    assert_non_null(strstr(g.err, "cannot connect"));
    assert_non_null(strstr(g.err, "ITEAD-<deviceid>"));
    httpc_free(h);
}

int main(void)
{
    if (plat_init() != 0 || httpc_global_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcomes),
        cmocka_unit_test(post_and_secrets),
        cmocka_unit_test(concurrent_and_cancel),
        cmocka_unit_test(blocking),
        cmocka_unit_test(excerpt),
        cmocka_unit_test(prov_async),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    httpc_global_cleanup();
    return rc;
}
