/* flash_net.c - `sonota flash` and the networks it moves through (PROTOCOL.md §10.1, §8):
 * address scans, the servers bound to the addresses each stage needs (the one place that
 * creates, services and paces them), who is trusted on them, and stage 1's POST /ap. */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "sonota/cmds.h"
#include "plat/clock.h"
#include "plat/fs.h"
#include "plat/net.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RUN_HTTP_FDS_MAX 8 /* libcurl opens one or two at a time */

int flash_net_scan(struct run *r, struct stage_seen *seen)
{
    struct netif_addr a[NETIF_MAX];
    int n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
    if (n < 0) {
        flash_run_fail(r, EXIT_NETWORK, "address", "cannot list this computer's addresses");
        return -1;
    }
    stage_scan(a, (size_t)n, r->serving_ip[0] ? r->serving_ip : NULL, seen);
    return 0;
}

/* ---- servers ---- */

void flash_net_files(const struct run *r, struct srv_file files[3])
{
    for (int i = 0; i < 3; i++) {
        files[i].name = r->img[i].name;
        files[i].data = r->img[i].data;
        files[i].len = r->img[i].len;
        memcpy(files[i].sha256, r->img[i].sha256, sizeof files[i].sha256);
    }
}

static struct srv *make_srv(struct run *r, const char *bind, int cloud, char *err,
                            size_t errcap)
{
    struct flash_opts *o = r->o;
    struct srv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bind_addr = bind;
    cfg.serving_ip = r->serving_ip;
    cfg.http_port = o->http_port;
    cfg.https_port = o->https_port;
    cfg.legacy = o->legacy;
    cfg.plain_port = o->plain_port;
    cfg.pace = o->pace;
    cfg.n_files = 3;
    /* still being checked: the names now, the bytes with flash_images_finish */
    cfg.files_later = r->img_state == IMG_CHECKING;
    if (cfg.files_later)
        for (int i = 0; i < 3; i++)
            cfg.files[i].name = r->img[i].name;
    else
        flash_net_files(r, cfg.files);
    if (cloud) { /* without these the server is the file server alone (stage 3) */
        cfg.user1_name = FLASH_NAME_USER1;
        cfg.user2_name = FLASH_NAME_USER2;
    }
    cfg.upgrade_version = UPGRADE_VERSION;
    return srv_create(&cfg, r->net.on_event, r, err, errcap);
}

/* A server that did not start: fatal unless its address vanished meanwhile (a WiFi
 * switch between the scan and the bind); then the next scan tries again. */
static int start_failed(struct run *r, const char *what, const char *addr, const char *err)
{
    struct stage_seen now;
    if (addr && r->watch && flash_net_scan(r, &now) == 0) {
        int still = !strcmp(addr, STAGE_FINAL_HOST_STR) ? now.final : now.serving;
        if (!still) {
            LOG_D("%s on %s: %s (the address went away; retrying)", what, addr, err);
            return 0;
        }
    }
    flash_run_fail(r, EXIT_NETWORK, "server", "cannot start the %s: %s", what,
                   err[0] ? err : "unknown error");
    return -1;
}

const char *flash_net_bind_addr(const struct run *r)
{
    /* --no-check-ip does not watch addresses, so it binds what the user stated
     * (--serving-host: it must exist now), else every interface (issue 13). */
    if (r->o->bind_any || (!r->watch && !r->o->serving_host))
        return NULL;
    return r->serving_ip;
}

void flash_net_trust_all(struct run *r, struct srv *s)
{
    for (size_t i = 0; i < r->net.n_trusted; i++)
        srv_trust(s, r->net.trusted[i].deviceid, r->net.trusted[i].apikey);
}

void flash_net_trust(struct run *r, const struct ewl_device_info *dev)
{
    if (!dev->deviceid[0] || !dev->apikey[0])
        return;
    for (size_t i = 0; i < r->net.n_trusted; i++)
        if (!strcmp(r->net.trusted[i].deviceid, dev->deviceid) &&
            !strcmp(r->net.trusted[i].apikey, dev->apikey))
            return;
    struct run_trusted *t = realloc(r->net.trusted, (r->net.n_trusted + 1) * sizeof *t);
    if (!t) {
        LOG_W("out of memory: device %s is not marked as provisioned", dev->deviceid);
        return;
    }
    r->net.trusted = t;
    t = &r->net.trusted[r->net.n_trusted++];
    snprintf(t->deviceid, sizeof t->deviceid, "%s", dev->deviceid);
    snprintf(t->apikey, sizeof t->apikey, "%s", dev->apikey);
    if (r->net.srv && srv_trust(r->net.srv, t->deviceid, t->apikey) != 0)
        LOG_W("device %s: its factory apikey is unusable; its sessions are not marked as "
              "provisioned", t->deviceid);
}

static int start_servers(struct run *r, const struct stage_seen *seen)
{
    char err[512] = "";
    const char *bind = flash_net_bind_addr(r);
    int any = !bind || !r->watch;
    if (!r->net.srv && (any || seen->serving)) {
        r->net.srv = make_srv(r, bind, 1, err, sizeof err);
        if (!r->net.srv)
            return start_failed(r, "servers", bind, err);
        if (!srv_files_pending(r->net.srv))
            flash_net_trust_all(r, r->net.srv);
    }
    /* E2A connects to 192.168.4.2:8080 only (§4): a file server there when FinalStage
     * gave us that address, unless one listens there already. */
    if (!any && !r->net.srv_final && seen->final && strcmp(r->serving_ip, STAGE_FINAL_HOST_STR)) {
        err[0] = '\0';
        /* a vhost of the running server (one loop); its own server only while there
         * is none yet (a run resumed at FinalStage without the serving address) */
        if (r->net.srv) {
            if (srv_listen_final(r->net.srv, STAGE_FINAL_HOST_STR, r->o->http_port, err,
                                 sizeof err))
                return start_failed(r, "file server for FinalStage", STAGE_FINAL_HOST_STR,
                                    err);
        } else {
            r->net.srv_final = make_srv(r, STAGE_FINAL_HOST_STR, 0, err, sizeof err);
            if (!r->net.srv_final)
                return start_failed(r, "file server for FinalStage", STAGE_FINAL_HOST_STR,
                                    err);
        }
    }
    return 0;
}

int flash_net_update(struct run *r, const struct stage_seen *seen)
{
    if (start_servers(r, seen) != 0)
        return -1;
    /* the ports listen (or wait for their address): now the images' verdict, before
     * anything is served or sent */
    return flash_images_finish(r);
}

void flash_net_http_socket(void *user, int fd, short events)
{
    struct run *r = user;
    if (events)
        return; /* new or changed: flash_net_service hands the set to the server each turn */
    srv_watch_forget(r->net.srv, fd);
    srv_watch_forget(r->net.srv_final, fd);
}

int flash_net_service(struct run *r, int timeout_ms)
{
    ui_flush(&r->ui); /* this turn's events, in one write, before waiting */
    /* Two lws contexts cannot share one wait: the one the current stage talks through
     * (or the only one) waits, the other is only polled (it keeps finishing what it
     * had). */
    struct srv *main_srv = r->net.srv, *other = r->net.srv_final;
    if ((r->net.final_waits || !main_srv) && r->net.srv_final) {
        main_srv = r->net.srv_final;
        other = r->net.srv;
    }
    if (other) {
        srv_watch(other, NULL, 0);
        if (srv_run_once(other, 0) != 0)
            return -1;
    }
    /* libcurl's sockets (a stage-1 request) wake the same wait; where they cannot be
     * watched (srv_watch: Windows) the wait is cut to look at them every few ms. */
    struct pollfd http_fds[RUN_HTTP_FDS_MAX];
    int n = httpc_poll_fds(r->prov.http, http_fds, RUN_HTTP_FDS_MAX);
    if (main_srv)
        return srv_run_watching(main_srv, http_fds, n > 0 ? (size_t)n : 0, timeout_ms);
    /* no server yet (no address): a stage-1 request's sockets alone; the caller checks
     * Ctrl-C after the wait */
    httpc_wait_fds(http_fds, n > 0 ? (size_t)n : 0, timeout_ms);
    return 0;
}

void flash_net_close(struct run *r)
{
    srv_destroy(r->net.srv_final);
    srv_destroy(r->net.srv);
    r->net.srv_final = r->net.srv = NULL;
}

void flash_net_set_paced(struct run *r, const char *peer_ip)
{
    if (r->net.srv)
        srv_set_paced(r->net.srv, peer_ip, 1);
    if (r->net.srv_final)
        srv_set_paced(r->net.srv_final, peer_ip, 1);
}

/* ---- stage 1 ---- */

int flash_net_post_ap_start(struct run *r, int timeout_ms, prov_done_fn done)
{
    struct ewl_ap_config ap;
    memset(&ap, 0, sizeof ap);
    ap.version = 4; /* §1.2 */
    snprintf(ap.ssid, sizeof ap.ssid, "%s", r->o->wifi_ssid);
    snprintf(ap.password, sizeof ap.password, "%s", r->o->wifi_password);
    snprintf(ap.server, sizeof ap.server, "%s", r->serving_ip);
    ap.port = r->o->https_port;
    int rc = prov_post_ap_start(r->prov.http, r->o->device_url, &ap, timeout_ms, done, r);
    plat_wipe(&ap, sizeof ap); /* the password */
    r->prov.busy = rc == 0;
    return rc;
}

