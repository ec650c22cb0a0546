#include "sim/ap.h"

#include "io/crypto.h"
#include "io/log.h"
#include "lib/ewl_msg.h"
#include "lib/http_head.h"
#include "sim/netio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AP_REQ_MAX 2048       /* small device buffer: head + body */
#define AP_BODY_MAX 512
#define AP_CONN_TIMEOUT_MS 5000
#define AP_VERSION 4          /* "version":4 in POST /ap (§1.2) */

static void reply(struct netio_conn *c, int status, const char *json)
{
    char buf[512];
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    size_t bl = json ? strlen(json) : 0;
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, reason, bl, json ? json : "");
    if (n > 0 && (size_t)n < sizeof buf)
        (void)netio_write(c, buf, (size_t)n, AP_CONN_TIMEOUT_MS);
}

static void reply_error(struct netio_conn *c, int error)
{
    char *j = ewl_build_error_reply(error);
    reply(c, 200, j ? j : "{\"error\":400}");
    free(j);
}

/* Handles one request. Returns 1 when the device is provisioned. */
static int handle(struct sim_ctx *s, struct netio_conn *c)
{
    char buf[AP_REQ_MAX + 1];
    size_t have = 0;
    struct so_http_head h;
    enum so_err e = SO_AGAIN;
    long long deadline = plat_mono_ms() + AP_CONN_TIMEOUT_MS;
    while (e == SO_AGAIN && have < AP_REQ_MAX) {
        long left = (long)(deadline - plat_mono_ms());
        ssize_t r = netio_read(c, buf + have, AP_REQ_MAX - have, left > 0 ? (int)left : 0);
        if (r <= 0)
            return 0;
        have += (size_t)r;
        e = so_http_parse_request(buf, have, &h);
    }
    if (e != SO_OK) {
        reply(c, 400, NULL);
        return 0;
    }
    struct so_str path = so_http_target_path(h.target);
    LOG_I("AP: %.*s %.*s from %s", (int)h.method.n, h.method.p, (int)h.target.n, h.target.p,
          c->peer);
    if (so_str_eq(path, "/device")) {
        if (!so_str_eq(h.method, "GET")) {
            reply(c, 404, NULL);
            return 0;
        }
        struct ewl_device_info di;
        memset(&di, 0, sizeof di);
        snprintf(di.deviceid, sizeof di.deviceid, "%s", s->o->device_id);
        snprintf(di.apikey, sizeof di.apikey, "%s", s->o->apikey);
        char *j = ewl_build_device_info(&di);
        reply(c, 200, j);
        free(j);
        return 0;
    }
    if (!so_str_eq(path, "/ap") || !so_str_eq(h.method, "POST")) {
        reply(c, 404, NULL);
        return 0;
    }
    int has_len = 0;
    uint64_t cl = 0;
    if (so_http_content_length(&h, &has_len, &cl) != SO_OK || !has_len || cl == 0 ||
        cl > AP_BODY_MAX || so_http_find(&h, "Transfer-Encoding")) {
        LOG_W("AP: POST /ap without a usable Content-Length; answering error 400");
        reply_error(c, 400);
        return 0;
    }
    size_t need = h.head_len + (size_t)cl;
    while (have < need) {
        long left = (long)(deadline - plat_mono_ms());
        ssize_t r = netio_read(c, buf + have, need - have, left > 0 ? (int)left : 0);
        if (r <= 0) {
            explicit_bzero(buf, sizeof buf);
            return 0;
        }
        have += (size_t)r;
    }
    struct ewl_ap_config cfg;
    memset(&cfg, 0, sizeof cfg);
    e = have == need ? ewl_parse_ap_config(buf + h.head_len, (size_t)cl, &cfg) : SO_E_SYNTAX;
    explicit_bzero(buf, sizeof buf); /* the body held the WiFi password */
    int ok = e == SO_OK && cfg.version == AP_VERSION && cfg.ssid[0] && cfg.server[0] &&
             cfg.port > 0;
    if (e == SO_OK && cfg.password[0])
        so_log_add_secret(cfg.password);
    if (e == SO_OK && cfg.password[0]) /* kept as a digest: the WiFi Tasmota is given later must match (§7) */
        so_sha256_hex(cfg.password, strlen(cfg.password), s->wifi_psk_sha256);
    explicit_bzero(cfg.password, sizeof cfg.password);
    if (!ok) {
        LOG_W("AP: POST /ap refused (%s); staying in AP mode",
              e != SO_OK ? so_strerror(e) : cfg.version != AP_VERSION ? "version is not 4"
                                                                       : "empty field");
        reply_error(c, 400);
        return 0;
    }
    reply_error(c, 0);
    snprintf(s->server_host, sizeof s->server_host, "%s", cfg.server);
    s->server_port = cfg.port;
    snprintf(s->ssid, sizeof s->ssid, "%s", cfg.ssid);
    LOG_I("AP: provisioned: ssid '%s', serverName %s, port %d (password not shown)", s->ssid,
          s->server_host, s->server_port);
    return 1;
}

enum so_err ap_run(struct sim_ctx *s)
{
    char err[SIM_TEXT], peer[64];
    int lfd = netio_listen(s->o->ap_addr, s->o->ap_port, err, sizeof err);
    if (lfd < 0) {
        sim_fail(s, "AP mode: %s", err);
        return SO_E_IO;
    }
    LOG_I("AP mode: SSID ITEAD-%s (WPA2 12345678), HTTP on %s:%d", s->o->device_id,
          s->o->ap_addr, s->o->ap_port);
    int done = 0;
    while (!done) {
        long left = sim_left(s);
        if (left <= 0) {
            close(lfd);
            sim_fail(s, "AP mode: no valid POST /ap before --timeout");
            return SO_E_TIMEOUT;
        }
        int fd = netio_accept(lfd, left > 1000 ? 1000 : (int)left, peer, sizeof peer);
        if (fd == -2)
            continue;
        if (fd < 0) {
            close(lfd);
            sim_fail(s, "AP mode: accept failed");
            return SO_E_IO;
        }
        struct netio_conn c = NETIO_CONN_INIT;
        c.fd = fd;
        snprintf(c.peer, sizeof c.peer, "%s", peer);
        done = handle(s, &c);
        netio_close(&c);
    }
    close(lfd); /* the device drops the AP and joins the WiFi */
    if (spiflash_set_provision(&s->flash, s->server_host, s->server_port, s->ssid) != SO_OK)
        LOG_W("cannot store the provisioning record in flash");
    return SO_OK;
}
