#include "sonota/prov.h"

#include "io/log.h"
#include "sonota/http_body.h"
#include "plat/fs.h"
#include "plat/clock.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct reply {
    char buf[PROV_REPLY_MAX + 1];
    struct http_body body;      /* collects into buf */
};

int prov_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void prov_global_cleanup(void)
{
    curl_global_cleanup();
}

/* Maps a libcurl outcome onto prov_fail with a sentence. */
static enum prov_fail transport_fail(CURLcode rc, const char *what, const char *url, int ms,
                                     char *err, size_t cap)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(err, cap, "%s %s: cannot connect (%s); is this computer connected to the "
                 "device's ITEAD-<deviceid> WiFi, and is the device in pairing mode (LED "
                 "blinking fast)?", what, url, curl_easy_strerror(rc));
        return PROV_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, cap, "%s %s: no answer within %d ms; the device may be busy or out "
                 "of range, or this computer is not on its WiFi", what, url, ms);
        return PROV_TIMEOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        snprintf(err, cap, "%s %s: the connection closed without a complete answer (%s)",
                 what, url, curl_easy_strerror(rc));
        return PROV_NO_REPLY;
    case CURLE_WRITE_ERROR:
        snprintf(err, cap, "%s %s: the answer is larger than %d bytes: this is not a Sonoff "
                 "in pairing mode (a captive portal or router?)", what, url, PROV_REPLY_MAX);
        return PROV_BAD_REPLY;
    default:
        snprintf(err, cap, "%s %s: %s", what, url, curl_easy_strerror(rc));
        return PROV_UNREACHABLE;
    }
}

/* One request; body NULL = GET. Returns PROV_OK with the reply when the status is 200. */
static enum prov_fail request(const char *base, const char *path, const char *body,
                              int timeout_ms, struct reply *r, char *err, size_t cap)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    memset(r, 0, sizeof *r);
    r->body = (struct http_body){.buf = r->buf, .cap = PROV_REPLY_MAX};
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, cap, "cannot start an HTTP client (out of memory)");
        return PROV_UNREACHABLE;
    }
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* the device is on a local link */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sonota/" SONOTA_VERSION);
    if (body) {
        /* MS/wget send application/json; SonOTA none: the device accepts both (§1.2). */
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    const char *what = body ? "POST" : "GET";
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
        return transport_fail(r->body.overflow ? CURLE_WRITE_ERROR : rc, what, url, timeout_ms,
                              err, cap);
    LOG_D("%s %s -> %ld, %zu B", what, url, status, r->body.len);
    if (status != 200) {
        snprintf(err, cap, "%s %s: HTTP status %ld instead of 200: this is not a Sonoff in "
                 "pairing mode, or its firmware does not offer the compatible pairing AP",
                 what, url, status);
        return PROV_HTTP_STATUS;
    }
    return PROV_OK;
}

/* Printable excerpt of a reply for error messages. */
static void excerpt(const struct reply *r, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < r->body.len && k + 1 < cap && i < 60; i++)
        out[k++] = (r->buf[i] >= 32 && r->buf[i] < 127) ? r->buf[i] : '.';
    out[k] = '\0';
}

enum prov_fail prov_get_device(const char *base_url, int timeout_ms,
                               struct ewl_device_info *out, char *err, size_t errcap)
{
    struct reply *r = malloc(sizeof *r);
    if (!r) {
        snprintf(err, errcap, "out of memory");
        return PROV_UNREACHABLE;
    }
    enum prov_fail f = request(base_url, "/device", NULL, timeout_ms, r, err, errcap);
    if (f == PROV_OK) {
        enum so_err e = ewl_parse_device_info(r->buf, r->body.len, out);
        if (e != SO_OK) {
            char ex[64];
            excerpt(r, ex, sizeof ex);
            snprintf(err, errcap, "GET %s/device: the answer is not the device's JSON "
                     "{\"deviceid\":..,\"apikey\":..} (%s; got \"%s\"): is something else "
                     "answering at that address?", base_url, so_strerror(e), ex);
            f = PROV_BAD_REPLY;
        }
    }
    free(r);
    return f;
}


enum prov_fail prov_wait_device(const char *base_url, int max_attempts,
                                volatile sig_atomic_t *stop,
                                void (*on_retry)(int attempt, const char *why, void *user),
                                void *user, struct ewl_device_info *out, char *err,
                                size_t errcap)
{
    enum prov_fail f = PROV_UNREACHABLE;
    snprintf(err, errcap, "GET %s/device: not tried", base_url);
    for (int i = 1; i <= max_attempts && !(stop && *stop); i++) {
        int64_t t0 = plat_mono_ms();
        f = prov_get_device(base_url, PROV_ATTEMPT_MS, out, err, errcap);
        /* A wrong answer will not get better by asking again. */
        if (f == PROV_OK || f == PROV_BAD_REPLY || f == PROV_HTTP_STATUS)
            return f;
        if (on_retry)
            on_retry(i, err, user);
        long left = PROV_ATTEMPT_MS - (long)(plat_mono_ms() - t0);
        if (i < max_attempts && left > 0 && !(stop && *stop))
            plat_sleep_ms((unsigned)left); /* ~one attempt every 2 s even when refused at once */
    }
    return f;
}

enum prov_fail prov_post_ap(const char *base_url, const struct ewl_ap_config *cfg,
                            int timeout_ms, int *dev_error, char *err, size_t errcap)
{
    *dev_error = -1;
    char *body = ewl_build_ap_config(cfg);
    if (!body) {
        snprintf(err, errcap, "cannot build the /ap request (SSID or server name invalid?)");
        return PROV_BAD_REPLY;
    }
    struct reply *r = malloc(sizeof *r);
    if (!r) {
        plat_wipe(body, strlen(body));
        free(body);
        snprintf(err, errcap, "out of memory");
        return PROV_UNREACHABLE;
    }
    enum prov_fail f = request(base_url, "/ap", body, timeout_ms, r, err, errcap);
    plat_wipe(body, strlen(body));
    free(body);
    if (f == PROV_OK) {
        int e = 0;
        enum so_err pe = ewl_parse_error_reply(r->buf, r->body.len, &e);
        if (pe != SO_OK) {
            char ex[64];
            excerpt(r, ex, sizeof ex);
            snprintf(err, errcap, "POST %s/ap: the answer is not {\"error\":N} (%s; got "
                     "\"%s\")", base_url, so_strerror(pe), ex);
            f = PROV_BAD_REPLY;
        } else if (e != 0) {
            *dev_error = e;
            snprintf(err, errcap, "POST %s/ap: the device refused the settings (error %d); "
                     "check the SSID (2.4 GHz only, at most 32 bytes) and the password, "
                     "then put the device in pairing mode again", base_url, e);
            f = PROV_REFUSED;
        } else {
            *dev_error = 0;
        }
    }
    plat_wipe(r, sizeof *r);
    free(r);
    return f;
}
