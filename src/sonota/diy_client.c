/* diy_client.c - DIY REST client on libcurl's multi interface (see diy_client.h). */
#include "sonota/diy_client.h"

#include "io/log.h"
#include "plat/clock.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void wait_ms(diy_idle_fn idle, void *user, int ms)
{
    if (ms <= 0)
        return;
    if (idle)
        idle(user, ms);
    else
        plat_sleep_ms((unsigned)ms);
}

struct body {
    char *p;
    size_t n, cap;
    int overflow;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct body *b = user;
    size_t n = size * nmemb;
    if (b->n + n >= b->cap) {
        b->overflow = 1;
        n = b->cap - 1 - b->n;
    }
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = '\0';
    return size * nmemb;
}

/* Runs one transfer on a multi handle, calling idle in between. */
static CURLcode perform(CURLM *m, CURL *e, diy_idle_fn idle, void *user, int64_t deadline)
{
    if (curl_multi_add_handle(m, e) != CURLM_OK)
        return CURLE_FAILED_INIT;
    int running = 1;
    CURLcode rc = CURLE_OPERATION_TIMEDOUT;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
        if (!running)
            break;
        if (plat_mono_ms() > deadline + 1000)
            break; /* curl's own timeout should have fired; never spin past it */
        curl_multi_poll(m, NULL, 0, idle ? 5 : 50, NULL);
        if (idle)
            idle(user, 5);
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
            rc = msg->data.result;
    curl_multi_remove_handle(m, e);
    return rc;
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
    c->curl = curl_easy_init();
    c->multi = curl_multi_init();
    if (!c->curl || !c->multi) {
        snprintf(err, errcap, "cannot initialise libcurl");
        diy_client_free(c);
        return -1;
    }
    return 0;
}

void diy_client_free(struct diy_client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    c->curl = c->multi = NULL;
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
    char url[160], text[DIY_BODY_MAX + 1], cerr[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "%s%s", c->base, path);
    struct body b = {.p = text, .cap = sizeof text};
    text[0] = '\0';
    CURL *e = c->curl;
    curl_easy_reset(e);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 5000 ? timeout_ms : 5000));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*"); /* a LAN device: never through a proxy */
    LOG_D("diy: POST %s %s", url, req->cmd == DIY_CMD_WIFI ? "(wifi body hidden)" : json);
    c->requests++;
    CURLcode rc = perform(c->multi, e, c->idle, c->idle_user, plat_mono_ms() + timeout_ms);
    c->last_end_ms = plat_mono_ms();
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    size_t jl = strlen(json);
    memset(json, 0, jl); /* the wifi body holds a password */
    free(json);
    if (raw && rawcap) {
        snprintf(raw, rawcap, "%s", text);
    }
    if (rc == CURLE_GOT_NOTHING) {
        snprintf(err, errcap, "the device at %s closed the connection without answering %s",
                 c->base, path);
        return DIY_CALL_EMPTY;
    }
    if (rc != CURLE_OK) {
        snprintf(err, errcap, "no answer from %s%s: %s", c->base, path,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
        return DIY_CALL_NET;
    }
    LOG_D("diy: HTTP %ld %s", status, text);
    if (status != 200) {
        snprintf(err, errcap, "%s%s answered HTTP %ld instead of 200 (not a DIY-mode device, "
                 "or not this path)", c->base, path, status);
        return DIY_CALL_HTTP;
    }
    enum so_err pe = b.overflow ? SO_E_TOOBIG : diy_parse_reply(text, b.n, rep);
    if (pe != SO_OK) {
        snprintf(err, errcap, "the reply to %s is not a DIY reply (%s): %.120s", path,
                 so_strerror(pe), text);
        return DIY_CALL_BAD;
    }
    return DIY_CALL_OK;
}

int diy_http_get(const char *url, int timeout_ms, diy_idle_fn idle, void *user, char *body,
                 size_t cap)
{
    CURL *e = curl_easy_init();
    CURLM *m = curl_multi_init();
    int status = 0;
    char dummy[1];
    struct body b = {.p = cap ? body : dummy, .cap = cap ? cap : 1};
    b.p[0] = '\0';
    if (e && m) {
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
        if (perform(m, e, idle, user, plat_mono_ms() + timeout_ms) == CURLE_OK) {
            long s = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &s);
            status = (int)s;
        }
    }
    if (e)
        curl_easy_cleanup(e);
    if (m)
        curl_multi_cleanup(m);
    return status;
}
