/* diy_flash.c - `sonota diy flash FILE` (PROTOCOL.md §6, §10.8): check the image (v1,
 * DOUT, <= 520192 bytes, lowercase SHA-256), info, ota_unlock when locked, serve FILE with
 * sonota's file server (4 KiB Range, any Host such as dl.itead.cn, optional "bytes=" form),
 * ota_flash, follow the download to the last byte, then wait until the device comes back
 * as Tasmota on the LAN or at its AP address (§7). */
#include "sonota/diy_cli.h"

#include "io/crypto.h"
#include "io/file.h"
#include "io/log.h"
#include "io/netif.h"
#include "lib/espimg.h"
#include "lib/str.h"
#include "lib/tasmota_msg.h"
#include "sonota/cmds.h"
#include "sonota/server.h"
#include "plat/clock.h"
#include "plat/net.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_MAX (2u << 20)        /* more than any image we would send */
#define PROBE_EVERY_MS 2000
/* After the last byte went out: a device that took the image has rebooted by then, so
 * its stock DIY API answering means it refused the image [?]. */
#define STOCK_GRACE_MS 15000
/* With --url the download's end is not seen: allow it this long on top. */
#define URL_DOWNLOAD_MS 60000
/* The device's result POST gets its reply before the server goes away. */
#define RESULT_REPLY_MS 500

struct fl {
    const struct diy_opts *o;
    struct srv *srv;
    struct httpc *http;            /* the DIY client's; the Tasmota probes use it too */
    char name[64];
    uint64_t total;
    int started, done, aborts;
    int last_step;
    int result;                    /* error of the device's result POST; -2 none yet */
    int64_t t_start;
    int64_t t_done;                /* the last byte went out (0: not seen) */
    const char *dev_ip;            /* only the device's downloads and result count */
    unsigned long strangers;       /* events from other addresses, ignored */
};

/* Whether a file-server event came from the device: anyone on the LAN can fetch the
 * image or POST a result, and must not move (or end) this device's flash. */
static int from_device(struct fl *f, const struct srv_event *ev)
{
    char ip[64];
    so_peer_addr(ev->peer, ip, sizeof ip);
    if (!f->dev_ip || !strcmp(ip, f->dev_ip))
        return 1;
    if (f->strangers++ == 0)
        LOG_W("%s is not the device (%s): its requests are served, not counted", ip,
              f->dev_ip);
    return 0;
}

/* While a request to the device runs (or the 200 ms gap before one), the file server
 * keeps serving: one wait for both the servers and the request's sockets. */
static void idle(void *user, const struct pollfd *fds, size_t n, int ms)
{
    struct fl *f = user;
    if (f->srv)
        srv_run_watching(f->srv, fds, n, ms);
    else
        httpc_wait_fds(fds, n, ms);
}

/* libcurl is about to close fd: its watch in the servers' wait ends first (a watch holds
 * a copy of the socket, which would keep it open under a number soon reused). */
static void on_http_socket(void *user, int fd, short events)
{
    struct fl *f = user;
    if (!events)
        srv_watch_forget(f->srv, fd);
}

static void on_event(const struct srv_event *ev, void *user)
{
    struct fl *f = user;
    const struct diy_opts *o = f->o;
    switch (ev->type) {
    case SRV_EV_DOWNLOAD_START:
    case SRV_EV_DOWNLOAD_PROGRESS:
    case SRV_EV_DOWNLOAD_DONE:
    case SRV_EV_DOWNLOAD_ABORT:
    case SRV_EV_DIY_RESULT:
        if (!from_device(f, ev))
            return;
        break;
    default:
        break;
    }
    switch (ev->type) {
    case SRV_EV_DOWNLOAD_START:
        if (!f->started)
            diy_say(o, "the device (%s) is downloading %s (%llu bytes)", ev->peer, ev->file,
                    (unsigned long long)ev->total);
        f->started = 1;
        f->t_start = f->t_start ? f->t_start : plat_mono_ms();
        break;
    case SRV_EV_DOWNLOAD_PROGRESS: {
        int step = ev->total ? (int)(ev->offset * 10 / ev->total) : 0;
        if (step > f->last_step && step < 10) {
            f->last_step = step;
            diy_say(o, "  %3d%%  %llu of %llu bytes", step * 10,
                    (unsigned long long)ev->offset, (unsigned long long)ev->total);
        }
        break;
    }
    case SRV_EV_DOWNLOAD_DONE:
        if (!f->done) {
            f->t_done = plat_mono_ms();
            double s = (double)(f->t_done - f->t_start) / 1000.0;
            diy_say(o, "  100%%  the device has all %llu bytes (%.1f s)",
                    (unsigned long long)ev->total, s);
        }
        f->done = 1;
        break;
    case SRV_EV_DOWNLOAD_ABORT:
        f->aborts++;
        LOG_I("the device dropped its download connection at byte %llu; it reconnects",
              (unsigned long long)ev->offset);
        break;
    case SRV_EV_DIY_RESULT:
        f->result = ev->error;
        LOG_I("the device reported its download result: %s", ev->detail ? ev->detail : "");
        break;
    case SRV_EV_REJECTED:
        LOG_W("file server refused %s: %s", ev->peer ? ev->peer : "?",
              ev->detail ? ev->detail : "");
        break;
    case SRV_EV_ERROR:
        LOG_W("file server: %s", ev->detail ? ev->detail : "error");
        break;
    default:
        break;
    }
}

/* Our address on the route to the device (what it can reach us at). */
static int facing_ip(const char *dev_ip, int port, char *out, size_t cap)
{
    int fd = plat_socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    int ok = inet_pton(AF_INET, dev_ip, &sa.sin_addr) == 1 &&
             connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
             getsockname(fd, (struct sockaddr *)&me, &ml) == 0 &&
             inet_ntop(AF_INET, &me.sin_addr, out, (socklen_t)cap) != NULL;
    plat_sock_close(fd);
    return ok ? 0 : -1;
}

static void url_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    int ok = n > 0 && n < cap && n <= 60;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)b[i]) || b[i] == '.' || b[i] == '_' || b[i] == '-';
    snprintf(out, cap, "%s", ok ? b : "firmware.bin");
}

/* Image checks before anything is sent (§6, §10.9). EXIT_OK or the printed status. */
static int check_image(const struct diy_opts *o, const unsigned char *img, size_t len,
                       char sha[65])
{
    struct espimg_info info;
    enum so_err e = espimg_parse(img, len, &info);
    char why[512];
    if (e != SO_OK) {
        espimg_parse_error(&info, e, why, sizeof why);
        diy_fail("%s cannot be flashed in DIY mode: %s (nothing was sent)", o->file, why);
        return EXIT_INVALID;
    }
    e = espimg_check(&info, len, ESPIMG_USE_DIY, why, sizeof why);
    if (e != SO_OK) {
        if (!o->force) {
            diy_fail("%s cannot be flashed in DIY mode: %s (nothing was sent; --force sends "
                     "it anyway)", o->file, why);
            return EXIT_INVALID;
        }
        diy_fail("WARNING: --force: sending %s although: %s", o->file, why);
    }
    so_sha256_hex(img, len, sha);
    if (o->sha256) {
        char want[DIY_SHA256_LEN + 1];
        size_t n = strlen(o->sha256);
        for (size_t i = 0; i < n && i < DIY_SHA256_LEN; i++)
            want[i] = (char)tolower((unsigned char)o->sha256[i]);
        want[n < DIY_SHA256_LEN ? n : DIY_SHA256_LEN] = '\0';
        if (n != DIY_SHA256_LEN || !diy_is_sha256_lower(want)) {
            diy_fail("--sha256 wants 64 hex digits");
            return EXIT_USAGE;
        }
        if (strcmp(want, sha)) {
            diy_fail("--sha256 %s does not match %s (%s)", want, o->file, sha);
            return EXIT_INVALID;
        }
    }
    /* the device compares the digest as text: lowercase only (ID#102) */
    if (!diy_is_sha256_lower(sha)) {
        diy_fail("internal error: SHA-256 not in lowercase hex");
        return EXIT_FAIL;
    }
    diy_say(o, "image %s: %zu bytes, %s, sha256 %s", o->file, len,
            info.flash_mode == ESPIMG_MODE_DOUT ? "DOUT" : "NOT DOUT", sha);
    return EXIT_OK;
}

/* One probe of Tasmota's web server; 1 when it answered (version filled when known). */
static int probe_tasmota(struct fl *f, const char *ip, int port, char *version, size_t cap)
{
    char url[96], body[2048];
    snprintf(url, sizeof url, "http://%s:%d/cm?cmnd=Status%%202", ip, port);
    int st = diy_http_get(f->http, url, 2000, idle, f, body, sizeof body);
    if (st == 0)
        return 0;
    struct tasmota_status ts;
    if (st == 200 && tasmota_status_parse(body, strlen(body), &ts) == SO_OK &&
        (ts.have & TASMOTA_ST_VERSION)) {
        snprintf(version, cap, "%s", ts.version);
        return 1;
    }
    snprintf(url, sizeof url, "http://%s:%d/", ip, port);
    st = diy_http_get(f->http, url, 2000, idle, f, body, sizeof body);
    if (st == 200 && so_str_icontains(body, "tasmota")) {
        snprintf(version, cap, "?");
        return 1;
    }
    return 0;
}

/* 1 when one of our addresses is in the /24 of ip (we joined Tasmota's AP). */
static int on_subnet(const char *ip)
{
    uint32_t a;
    struct netif_addr list[NETIF_MAX];
    if (netif_parse_ipv4(ip, &a))
        return 0;
    int n = netif_list(list, NETIF_MAX, 0);
    for (int i = 0; i < n; i++)
        if ((list[i].addr & 0xFFFFFF00u) == (a & 0xFFFFFF00u) && list[i].addr != a)
            return 1;
    return 0;
}

/* 1 when the device's stock DIY API answers /zeroconf/info (its firmware version in fw).
 * Quiet: a device that rebooted into Tasmota simply does not answer. */
static int stock_answers(struct diy_client *c, const struct diy_target *t, char *fw, size_t cap)
{
    struct diy_request rq;
    struct diy_reply rep;
    char err[160];
    diy_request_for(t, DIY_CMD_INFO, &rq);
    if (diy_client_call(c, &rq, PROBE_EVERY_MS, &rep, NULL, 0, err, sizeof err) != DIY_CALL_OK)
        return 0;
    snprintf(fw, cap, "%s", rep.st.fw_version[0] ? rep.st.fw_version : "3.x");
    return 1;
}

static int wait_reappear(struct fl *f, const struct diy_target *t, struct diy_client *c)
{
    const struct diy_opts *o = f->o;
    diy_say(o, "waiting up to %d s for the device to check the image, write it, reboot and "
            "come back as Tasmota. A fresh Tasmota has no WiFi settings: within a minute or "
            "two it opens its own WiFi, tasmota_XXXXXX-####. Join that WiFi with this "
            "computer and sonota finds it at http://%s/ (it also looks for it at %s on your "
            "LAN).", o->wait_s, o->ap_ip, t->ip);
    int64_t now0 = plat_mono_ms();
    int64_t deadline = now0 + (int64_t)o->wait_s * 1000;
    int64_t stock_from = (f->t_done ? f->t_done : now0 + URL_DOWNLOAD_MS) + STOCK_GRACE_MS;
    int stock_seen = 0;
    for (;;) {
        if (f->result > 0) {
            diy_explain_result(f->result);
            return EXIT_DEVICE;
        }
        char version[64], port[8] = "";
        if (o->tasmota_port != 80)
            snprintf(port, sizeof port, ":%d", o->tasmota_port);
        if (probe_tasmota(f, t->ip, o->tasmota_port, version, sizeof version)) {
            diy_say(o, "done: the device runs Tasmota %s at http://%s%s/ on the LAN (it kept "
                    "the WiFi settings); configure it there (e.g. `sonota configure`)", version,
                    t->ip, port);
            return EXIT_OK;
        }
        if (on_subnet(o->ap_ip) &&
            probe_tasmota(f, o->ap_ip, o->tasmota_port, version, sizeof version)) {
            diy_say(o, "done: the device runs Tasmota %s and its WiFi AP answers at "
                    "http://%s%s/; set your WiFi there (/wi?s1=SSID&p1=PASSWORD&save=, or "
                    "`sonota configure`)", version, o->ap_ip, port);
            return EXIT_OK;
        }
        /* Twice in a row, so a device still busy before its reboot is not misread. */
        char fw[DIY_VERSION_MAX];
        if (plat_mono_ms() >= stock_from && stock_answers(c, t, fw, sizeof fw)) {
            if (++stock_seen >= 2) {
                diy_fail("the device is still on its stock firmware %s: its DIY API answers "
                         "/zeroconf/info %lld s after %s, so it did not take the image "
                         "and nothing was written (it reported no reason; an image that "
                         "failed its SHA-256 check, 471, is the usual one). The device works "
                         "as before: check the image and run the same command again.", fw,
                         (long long)((plat_mono_ms() - (f->t_done ? f->t_done : now0)) / 1000),
                         f->t_done ? "it received the whole image" : "it accepted ota_flash");
                return EXIT_DEVICE;
            }
        } else {
            stock_seen = 0;
        }
        if (plat_mono_ms() >= deadline)
            break;
        int64_t until = plat_mono_ms() + PROBE_EVERY_MS;
        while (plat_mono_ms() < until && f->result <= 0)
            idle(f, NULL, 0, 100);
    }
    diy_fail("the device took the whole image but did not come back within %d s. It may "
             "still be flashing (give it a few minutes), or Tasmota opened its WiFi AP "
             "(tasmota_XXXXXX-####): join it and open http://%s/, or run again with a "
             "longer --wait.", o->wait_s, o->ap_ip);
    return EXIT_FAIL;
}

static int serve_and_flash(const struct diy_opts *o, struct diy_target *t, struct diy_client *c,
                           const unsigned char *img, size_t len, const char *sha)
{
    struct fl f = {.o = o, .result = -2, .last_step = 0, .dev_ip = t->ip};
    char serve_ip[16] = "", url[DIY_URL_MAX], err[256];
    url_name(o->file, f.name, sizeof f.name);
    if (!o->url) {
        if (o->serve_ip || o->bind_ip)
            snprintf(serve_ip, sizeof serve_ip, "%s", o->serve_ip ? o->serve_ip : o->bind_ip);
        else if (facing_ip(t->ip, t->port, serve_ip, sizeof serve_ip) != 0) {
            diy_fail("no route to %s: which of our addresses can the device reach? "
                     "Give it with --serve-ip", t->ip);
            return EXIT_NETWORK;
        }
        struct srv_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.bind_addr = o->bind_ip;
        cfg.serving_ip = serve_ip;
        cfg.http_port = o->http_port;
        cfg.pace = SRV_PACE_FAST;
        cfg.n_files = 1;
        cfg.files[0].name = f.name;
        cfg.files[0].data = img;
        cfg.files[0].len = len;
        snprintf(cfg.files[0].sha256, sizeof cfg.files[0].sha256, "%s", sha);
        cfg.content_range_equals = o->equals_form;
        f.srv = srv_create(&cfg, on_event, &f, err, sizeof err);
        if (!f.srv) {
            diy_fail("%s", err);
            return EXIT_NETWORK;
        }
        snprintf(url, sizeof url, "http://%s:%d/ota/%s", serve_ip, srv_port(f.srv, "http"),
                 f.name);
        diy_say(o, "serving the image at %s%s", url,
                o->equals_form ? " (Content-Range: bytes=...)" : "");
    } else {
        snprintf(url, sizeof url, "%s", o->url);
        diy_say(o, "the device will fetch %s (not served by sonota: no progress shown)", url);
    }
    f.http = c->http;
    if (f.srv)
        httpc_set_watch(c->http, on_http_socket, &f);
    c->idle = idle;
    c->idle_user = &f;
    struct diy_request rq;
    struct diy_reply rep;
    diy_request_for(t, DIY_CMD_FLASH, &rq);
    snprintf(rq.download_url, sizeof rq.download_url, "%s", url);
    snprintf(rq.sha256, sizeof rq.sha256, "%s", sha);
    int empty = 0, rc;
    diy_say(o, "asking the device to flash it (ota_flash)...");
    rc = diy_call(o, c, &rq, o->request_ms * 6, &rep, &empty);
    if (rc != EXIT_OK)
        goto out;
    if (empty)
        diy_fail("WARNING: the device closed the connection without answering ota_flash (a "
                 "known firmware quirk, ID#95); watching the download anyway");
    else
        diy_say(o, "the device accepted ota_flash");
    if (f.srv) {
        int64_t start_by = plat_mono_ms() + (int64_t)o->fetch_wait_s * 1000;
        int64_t deadline = plat_mono_ms() + (int64_t)o->timeout_s * 1000;
        while (!f.done) {
            if (f.result > 0) {
                diy_explain_result(f.result);
                rc = EXIT_DEVICE;
                goto out;
            }
            int64_t now = plat_mono_ms();
            if (!f.started && now > start_by) {
                char fw[DIY_VERSION_MAX];
                int stock = stock_answers(c, t, fw, sizeof fw);
                diy_fail("the device %s ota_flash but has not asked for a single byte of %s "
                         "within %d s (it fetches the first 4 KiB before it answers): can it "
                         "reach %s (firewall, another subnet)? Try --serve-ip. %s",
                         empty ? "closed" : "accepted", url, o->fetch_wait_s, serve_ip,
                         stock ? "It still answers on its DIY API: nothing was written."
                               : "Its DIY API does not answer either.");
                if (stock)
                    LOG_I("the device's firmware: %s", fw);
                rc = EXIT_FAIL;
                goto out;
            }
            if (now > deadline) {
                diy_fail("the download did not finish within %d s (--timeout)", o->timeout_s);
                rc = EXIT_FAIL;
                goto out;
            }
            srv_run_once(f.srv, 200);
        }
    }
    rc = wait_reappear(&f, t, c);
out:
    /* A result POST is answered before the server goes (the device waits for it). */
    for (int64_t until = plat_mono_ms() + RESULT_REPLY_MS; f.srv && f.result != -2 &&
                                                       plat_mono_ms() < until;)
        srv_run_once(f.srv, 50);
    c->idle = NULL;
    httpc_set_watch(c->http, NULL, NULL);
    srv_destroy(f.srv);
    return rc;
}

int diy_flash_run(const struct diy_opts *o, struct diy_target *t)
{
    unsigned char *img = NULL;
    size_t len = 0;
    char sha[65];
    enum so_err e = so_read_file(o->file, READ_MAX, &img, &len);
    if (e != SO_OK) {
        diy_fail("cannot read %s: %s", o->file,
                 e == SO_E_TOOBIG ? "larger than any ESP8266 image" : so_strerror(e));
        return e == SO_E_TOOBIG ? EXIT_INVALID : EXIT_FAIL;
    }
    int rc = check_image(o, img, len, sha);
    struct diy_client c;
    memset(&c, 0, sizeof c);
    if (rc != EXIT_OK || (rc = diy_connect(o, t, &c)) != EXIT_OK)
        goto out;
    struct diy_reply rep;
    if ((rc = diy_get_info(o, &c, t, &rep)) != EXIT_OK)
        goto out;
    diy_print_info(o, t, &rep);
    if (rep.st.ota_unlock != 1 && !o->no_unlock) {
        if (!diy_confirm(o, "OTA is locked. Unlocking voids the warranty and needs the "
                            "device to reach ITEAD over the Internet. Unlock? [y/N] ")) {
            rc = EXIT_FAIL;
            goto out;
        }
        struct diy_request rq;
        diy_request_for(t, DIY_CMD_UNLOCK, &rq);
        diy_say(o, "unlocking OTA (the device asks ITEAD's unlock service)...");
        if ((rc = diy_call(o, &c, &rq, o->request_ms * 3, &rep, NULL)) != EXIT_OK)
            goto out;
        diy_say(o, "OTA unlocked");
    } else if (rep.st.ota_unlock != 1) {
        diy_say(o, "OTA is locked and --no-unlock was given: asking to flash anyway");
    }
    if (!diy_confirm(o, "Flash the image now? The stock firmware is not kept. [y/N] ")) {
        rc = EXIT_FAIL;
        goto out;
    }
    rc = serve_and_flash(o, t, &c, img, len, sha);
out:
    diy_client_free(&c);
    free(img);
    return rc;
}
