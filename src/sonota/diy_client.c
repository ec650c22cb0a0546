/* diy_client.c - DIY REST client on httpc (see diy_client.h). */
#include "sonota/diy_client.h"

#include "io/log.h"
#include "plat/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wait_ms(diy_idle_fn idle, void *user, int ms)
{
    if (ms <= 0)
        return;
    if (idle)
        idle(user, NULL, 0, ms);
    else
        plat_sleep_ms((unsigned)ms);
}

int diy_client_init(struct diy_client *c, const char *ip, int port, int timeout_ms,
                    char *err, size_t errcap)
{
    memset(c, 0, sizeof *c);
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    c->gap_ms = DIY_MIN_GAP_MS;
    /* The first request waits too: another sonota run (a script calling info, then
     * flash) may have talked to the device a moment ago. */
    c->last_end_ms = plat_mono_ms();
    snprintf(c->base, sizeof c->base, "http://%s:%d", ip, port);
    c->http = httpc_new();
    if (!c->http) {
        snprintf(err, errcap, "cannot initialise libcurl");
        diy_client_free(c);
        return -1;
    }
    return 0;
}

void diy_client_free(struct diy_client *c)
{
    httpc_free(c->http);
    c->http = NULL;
}

enum diy_call diy_client_call(struct diy_client *c, const struct diy_request *req,
                              int timeout_ms, struct diy_reply *rep, char *raw, size_t rawcap,
                              char *err, size_t errcap)
{
    const char *path = diy_cmd_path(req->cmd);
    char *json = path ? diy_build_request(req) : NULL;
    if (!json) {
        snprintf(err, errcap, "cannot build the %s request", diy_cmd_name(req->cmd));
        return DIY_CALL_BAD;
    }
    /* 200 ms from the end of the previous request (DIY14: the device is slow) */
    if (c->last_end_ms) {
        int64_t gap = plat_mono_ms() - c->last_end_ms;
        while (gap < c->gap_ms) {
            wait_ms(c->idle, c->idle_user, (int)(c->gap_ms - gap));
            gap = plat_mono_ms() - c->last_end_ms;
        }
    }
    if (timeout_ms <= 0)
        timeout_ms = c->timeout_ms;
    char url[160];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    /* the body is cut, not refused, when too long: the sentence below says so */
    struct httpc_opts ho = {.url = url, .body = json, .content_type = "application/json",
                            .timeout_ms = timeout_ms,
                            .connect_timeout_ms = timeout_ms < 5000 ? timeout_ms : 5000,
                            .reply_max = DIY_BODY_MAX, .truncate = 1, .keep_alive = 1};
    LOG_D("diy: POST %s %s", url, req->cmd == DIY_CMD_WIFI ? "(wifi body hidden)" : json);
    c->requests++;
    struct httpc_reply rp;
    enum so_err he = httpc_perform(c->http, &ho, c->idle, c->idle_user, &rp);
    c->last_end_ms = plat_mono_ms();
    size_t jl = strlen(json);
    memset(json, 0, jl); /* the wifi body holds a password */
    free(json);
    const char *text = rp.body ? rp.body : "";
    if (raw && rawcap) {
        snprintf(raw, rawcap, "%s", text);
    }
    enum diy_call res = DIY_CALL_OK;
    if (he == SO_OK)
        LOG_D("diy: HTTP %ld %s", rp.status, text);
    if (he == SO_E_NET_EMPTY) {
        snprintf(err, errcap, "the device at %s closed the connection without answering %s",
                 c->base, path);
        res = DIY_CALL_EMPTY;
    } else if (he != SO_OK) {
        snprintf(err, errcap, "no answer from %s%s: %s", c->base, path,
                 rp.cause[0] ? rp.cause : so_strerror(he));
        res = DIY_CALL_NET;
    } else if (rp.status != 200) {
        snprintf(err, errcap, "%s%s answered HTTP %ld instead of 200 (not a DIY-mode device, "
                 "or not this path)", c->base, path, rp.status);
        res = DIY_CALL_HTTP;
    } else {
        enum so_err pe = rp.truncated ? SO_E_TOOBIG : diy_parse_reply(text, rp.len, rep);
        if (pe != SO_OK) {
            char ex[128];
            httpc_excerpt(text, rp.len, 120, ex, sizeof ex);
            snprintf(err, errcap, "the reply to %s is not a DIY reply (%s): %s", path,
                     so_strerror(pe), ex);
            res = DIY_CALL_BAD;
        }
    }
    httpc_reply_free(&rp);
    return res;
}

int diy_http_get(struct httpc *h, const char *url, int timeout_ms, diy_idle_fn idle,
                 void *user, char *body, size_t cap)
{
    struct httpc_opts ho = {.url = url, .timeout_ms = timeout_ms,
                            .reply_max = cap > 1 ? cap - 1 : 1, .truncate = 1};
    struct httpc_reply rp;
    int status = httpc_perform(h, &ho, idle, user, &rp) == SO_OK ? (int)rp.status : 0;
    if (cap)
        snprintf(body, cap, "%s", rp.body ? rp.body : "");
    httpc_reply_free(&rp);
    return status;
}
