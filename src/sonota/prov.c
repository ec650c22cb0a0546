/* prov.c - GET /device and POST /ap on httpc (see prov.h). */
#include "sonota/prov.h"

#include "plat/clock.h"
#include "plat/fs.h"
#include "sonota/httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROV_ERR_MAX 768

/* One request in flight: what the reply handler needs after httpc_start returned. */
struct prov_call {
    prov_done_fn done;
    void *user;
    int post;
    int timeout_ms;
    char url[512];
};

/* Maps an httpc failure onto prov_fail with the sentence the user sees. */
static enum prov_fail transport_fail(const struct prov_call *c, const struct httpc_result *r,
                                     char *err, size_t cap)
{
    const char *what = c->post ? "POST" : "GET";
    switch (r->err) {
    case SO_E_NET_UNREACHABLE:
        snprintf(err, cap, "%s %s: cannot connect (%s); is this computer connected to the "
                 "device's ITEAD-<deviceid> WiFi, and is the device in pairing mode (LED "
                 "blinking fast)?", what, c->url, r->cause);
        return PROV_UNREACHABLE;
    case SO_E_TIMEOUT:
        snprintf(err, cap, "%s %s: no answer within %d ms; the device may be busy or out "
                 "of range, or this computer is not on its WiFi", what, c->url, c->timeout_ms);
        return PROV_TIMEOUT;
    case SO_E_NET_EMPTY:
    case SO_E_NET_BROKEN:
        snprintf(err, cap, "%s %s: the connection closed without a complete answer (%s)",
                 what, c->url, r->cause);
        return PROV_NO_REPLY;
    case SO_E_NET_REPLY_TOOBIG:
        snprintf(err, cap, "%s %s: the answer is larger than %d bytes: this is not a Sonoff "
                 "in pairing mode (a captive portal or router?)", what, c->url, PROV_REPLY_MAX);
        return PROV_BAD_REPLY;
    case SO_E_HTTP_STATUS:
        snprintf(err, cap, "%s %s: HTTP status %ld instead of 200: this is not a Sonoff in "
                 "pairing mode, or its firmware does not offer the compatible pairing AP",
                 what, c->url, r->status);
        return PROV_HTTP_STATUS;
    default:
        snprintf(err, cap, "%s %s: %s", what, c->url, r->cause[0] ? r->cause
                                                                   : so_strerror(r->err));
        return PROV_UNREACHABLE;
    }
}

static void on_reply(void *user, const struct httpc_result *r)
{
    struct prov_call *c = user;
    char err[PROV_ERR_MAX] = "", ex[64];
    struct ewl_device_info dev;
    int dev_error = -1, have_dev = 0;
    enum prov_fail f = PROV_OK;
    if (r->err != SO_OK) {
        f = transport_fail(c, r, err, sizeof err);
    } else if (!c->post) {
        memset(&dev, 0, sizeof dev);
        enum so_err e = ewl_parse_device_info(r->body, r->len, &dev);
        if (e == SO_OK) {
            have_dev = 1;
        } else {
            httpc_excerpt(r->body, r->len, 60, ex, sizeof ex);
            snprintf(err, sizeof err, "GET %s: the answer is not the device's JSON "
                     "{\"deviceid\":..,\"apikey\":..} (%s; got \"%s\"): is something else "
                     "answering at that address?", c->url, so_strerror(e), ex);
            f = PROV_BAD_REPLY;
        }
    } else {
        int e = 0;
        enum so_err pe = ewl_parse_error_reply(r->body, r->len, &e);
        if (pe != SO_OK) {
            httpc_excerpt(r->body, r->len, 60, ex, sizeof ex);
            snprintf(err, sizeof err, "POST %s: the answer is not {\"error\":N} (%s; got "
                     "\"%s\")", c->url, so_strerror(pe), ex);
            f = PROV_BAD_REPLY;
        } else if (e != 0) {
            dev_error = e;
            /* c->url ends in "/ap"; the sentence names the base as before */
            snprintf(err, sizeof err, "POST %s: the device refused the settings (error %d); "
                     "check the SSID (2.4 GHz only, at most 32 bytes) and the password, "
                     "then put the device in pairing mode again", c->url, e);
            f = PROV_REFUSED;
        } else {
            dev_error = 0;
        }
    }
    c->done(c->user, f, have_dev ? &dev : NULL, dev_error, err);
    free(c);
}

static int start(struct httpc *h, const char *base_url, const char *path, const char *body,
                 int timeout_ms, prov_done_fn done, void *user)
{
    struct prov_call *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    *c = (struct prov_call){.done = done, .user = user, .post = body != NULL,
                            .timeout_ms = timeout_ms};
    snprintf(c->url, sizeof c->url, "%s%s", base_url, path);
    /* MS/wget send application/json; SonOTA none: the device accepts both (§1.2). */
    struct httpc_opts o = {.url = c->url, .body = body,
                           .content_type = body ? "application/json" : NULL,
                           .timeout_ms = timeout_ms, .reply_max = PROV_REPLY_MAX,
                           .want_status = 200, .release = free};
    char err[256];
    if (!httpc_start(h, &o, on_reply, c, err, sizeof err)) {
        free(c);
        return -1;
    }
    return 0;
}

int prov_get_device_start(struct httpc *h, const char *base_url, int timeout_ms,
                          prov_done_fn done, void *user)
{
    return start(h, base_url, "/device", NULL, timeout_ms, done, user);
}

int prov_post_ap_start(struct httpc *h, const char *base_url, const struct ewl_ap_config *cfg,
                       int timeout_ms, prov_done_fn done, void *user)
{
    char *body = ewl_build_ap_config(cfg);
    if (!body)
        return -1;
    int rc = start(h, base_url, "/ap", body, timeout_ms, done, user);
    plat_wipe(body, strlen(body));
    free(body);
    return rc;
}

/* ---- blocking forms ---- */

struct prov_sync {
    int done;
    enum prov_fail f;
    struct ewl_device_info *dev;
    int dev_error;
    char *err;
    size_t cap;
};

static void sync_done(void *user, enum prov_fail f, const struct ewl_device_info *dev,
                      int dev_error, const char *err)
{
    struct prov_sync *s = user;
    s->done = 1;
    s->f = f;
    s->dev_error = dev_error;
    if (dev && s->dev)
        *s->dev = *dev;
    snprintf(s->err, s->cap, "%s", err);
}

/* Runs h until the call started on it has answered. */
static enum prov_fail sync_run(struct httpc *h, struct prov_sync *s, int timeout_ms)
{
    /* libcurl's timeout ends the call; this bound only guards against a stuck timer */
    int64_t limit = plat_mono_ms() + timeout_ms + 2000;
    while (!s->done && plat_mono_ms() < limit)
        httpc_wait(h, 100);
    if (!s->done) {
        snprintf(s->err, s->cap, "no answer within %d ms", timeout_ms);
        s->f = PROV_TIMEOUT;
    }
    httpc_free(h);
    return s->f;
}

enum prov_fail prov_get_device(const char *base_url, int timeout_ms,
                               struct ewl_device_info *out, char *err, size_t errcap)
{
    struct prov_sync s = {.dev = out, .dev_error = -1, .err = err, .cap = errcap};
    struct httpc *h = httpc_new();
    if (!h || prov_get_device_start(h, base_url, timeout_ms, sync_done, &s) != 0) {
        httpc_free(h);
        snprintf(err, errcap, "GET %s/device: cannot start an HTTP client (out of memory)",
                 base_url);
        return PROV_UNREACHABLE;
    }
    return sync_run(h, &s, timeout_ms);
}
