/* diy_dev.c - the DIY-mode device: event loop, mDNS record, REST API (PROTOCOL.md §6;
 * DIY14, DIY20). Request handling order: JSON (400), encryption (401), deviceid (404,
 * fw >= 3.7.6 only), parameters (422), then the command. */
#include "sim/diy_int.h"

#include "io/log.h"
#include "lib/diy_txt.h"
#include "lib/http_head.h"
#include "sim/boot.h"

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQ_MAX 4096                /* head + body the device reads [?] */
#define REQ_TIMEOUT_MS 3000         /* a request must arrive within this [?] */
#define UNLOCK_MS 400               /* the unlock service round trip (scaled) */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int diy_stop_requested(void)
{
    return g_stop != 0;
}

static unsigned txt_fields(const struct diy_dev *dv)
{
    unsigned f = DIY_F_SWITCH | DIY_F_STARTUP | DIY_F_PULSE | DIY_F_PULSE_WIDTH | DIY_F_SSID |
                 DIY_F_OTA_UNLOCK | DIY_F_RSSI;
    return dv->proto == DIY_PROTO_2_0 ? f | DIY_F_FW_VERSION : f;
}

/* TXT rdata for the current state (DIY14 §4.1). */
static size_t build_txt(struct diy_dev *dv, uint8_t *out, size_t cap)
{
    char *data = diy_build_state(&dv->st, txt_fields(dv));
    char fake[64];
    struct diy_txt_rec rec = {.id = dv->s->o->device_id, .seq = dv->seq, .encrypt = -1,
                              .data = data ? data : "{}"};
    if (dv->o->encrypt) {
        /* data is AES ciphertext on such devices; the sim shows opaque base64 (ID#10) */
        snprintf(fake, sizeof fake, "q8Gm0wH2cXk%.8sT0pZ4w==", dv->s->o->apikey);
        rec.encrypt = 1;
        rec.iv = "MTIzNDU2Nzg5MDEyMzQ1Ng==";
        rec.data = fake;
    }
    size_t len = 0;
    if (diy_txt_build(&rec, out, cap, &len) != SO_OK)
        len = 0;
    free(data);
    return len;
}

/* seq++, new TXT record */
static void diy_publish(struct diy_dev *dv)
{
    uint8_t txt[DIY_TXT_MAX];
    dv->seq++;
    size_t n = build_txt(dv, txt, sizeof txt);
    mdns_resp_set_txt(&dv->mdns, txt, n);
}

/* ---- HTTP ---- */

static void send_reply(struct diy_dev *dv, struct netio_conn *c, int status, const char *body)
{
    char head[256];
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed" : "Bad Request";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, reason, strlen(body));
    /* Stamped before the reply's last write: the client cannot hold the reply any
     * earlier, so a simulator preempted after writing does not count a request
     * sent 200 ms after the client read the reply as too close (DIY14). */
    dv->last_reply = plat_mono_ms();
    if (netio_write(c, head, (size_t)n, 2000) == 0 && body[0]) {
        dv->last_reply = plat_mono_ms();
        netio_write(c, body, strlen(body), 2000);
    }
}

static void send_error(struct diy_dev *dv, struct netio_conn *c, int code)
{
    char *j = diy_build_reply(dv->seq, code, NULL, 0, DIY_DATA_NONE);
    send_reply(dv, c, 200, j ? j : "{\"error\":500}");
    free(j);
}

static int fault_for(const struct diy_dev *dv, enum diy_cmd cmd)
{
    for (int i = 0; i < dv->o->n_faults; i++)
        if (dv->o->faults[i].cmd == (int)cmd)
            return dv->o->faults[i].code;
    return 0;
}

/* ota_flash; the reply waits for the pre-download (or the whole file with --diy-reply
 * full). */
static void do_flash(struct diy_dev *dv, struct netio_conn *c, const struct diy_request *rq)
{
    if (dv->st.ota_unlock != 1) {
        LOG_I("diy: ota_flash refused: OTA not unlocked");
        send_error(dv, c, DIY_E_LOCKED);
        return;
    }
    if (dv->ota.active) {
        LOG_W("diy: ota_flash while a download runs: refused [?]");
        send_error(dv, c, DIY_E_PARAMS);
        return;
    }
    LOG_I("diy: ota_flash: downloadUrl %s sha256sum %s", rq->download_url, rq->sha256);
    if (dv->o->no_fetch) {
        LOG_W("fault no-fetch: answering ota_flash 0 without fetching anything");
        send_error(dv, c, DIY_OK);
        return;
    }
    int code = diy_ota_begin(dv, rq->download_url, rq->sha256);
    if (code != DIY_OK) {
        send_error(dv, c, code);
        return;
    }
    if (dv->o->reply == SIM_DIY_REPLY_FULL) {
        int r;
        while ((r = diy_ota_step(dv)) == 0 && !g_stop)
            ;
        if (r != 1) {
            send_error(dv, c, DIY_E_DOWNLOAD);
            return;
        }
        code = diy_ota_finish(dv);
        send_error(dv, c, code);
        dv->reboot = code == DIY_OK;
        return;
    }
    if (dv->o->empty_reply) {
        LOG_W("fault empty-reply: closing the ota_flash request without an answer");
        dv->last_reply = plat_mono_ms();
        return;
    }
    send_error(dv, c, DIY_OK);
}

static void handle(struct diy_dev *dv, struct netio_conn *c, enum diy_cmd cmd, const char *body,
                   size_t n)
{
    struct diy_request rq;
    enum so_err pe = diy_parse_request(body, n, cmd, &rq);
    if (pe == SO_E_JSON) {
        send_error(dv, c, DIY_E_BAD_JSON);
        return;
    }
    if (dv->o->encrypt) {
        send_error(dv, c, DIY_E_ENCRYPTED);
        return;
    }
    if (diy_fw_needs_deviceid(dv->fw) &&
        (!rq.has_deviceid || strcmp(rq.deviceid, dv->s->o->device_id))) {
        LOG_I("diy: deviceid '%s' is not %s: 404 (fw %s needs the real id)", rq.deviceid,
              dv->s->o->device_id, dv->fw);
        send_error(dv, c, DIY_E_DEVICEID);
        return;
    }
    if (pe != SO_OK) {
        send_error(dv, c, DIY_E_PARAMS);
        memset(rq.password, 0, sizeof rq.password);
        return;
    }
    int fault = fault_for(dv, cmd);
    if (fault) {
        LOG_W("fault diy-error: answering %s with %d", diy_cmd_name(cmd), fault);
        send_error(dv, c, fault);
        return;
    }
    char *j = NULL;
    switch (cmd) {
    case DIY_CMD_INFO:
        if (dv->proto == DIY_PROTO_1_4)
            j = diy_build_reply(dv->seq, 0, &dv->st, DIY_F_INFO_1_4, DIY_DATA_STRING);
        else
            j = diy_build_reply(dv->seq, 0, &dv->st, DIY_F_INFO_2_0, DIY_DATA_OBJECT);
        break;
    case DIY_CMD_SIGNAL:
        j = diy_build_reply(dv->seq, 0, &dv->st, DIY_F_SIGNAL, DIY_DATA_OBJECT);
        break;
    case DIY_CMD_SWITCH:
        snprintf(dv->st.sw, sizeof dv->st.sw, "%s", rq.sw);
        diy_publish(dv);
        break;
    case DIY_CMD_STARTUP:
        snprintf(dv->st.startup, sizeof dv->st.startup, "%s", rq.startup);
        diy_publish(dv);
        break;
    case DIY_CMD_PULSE:
        snprintf(dv->st.pulse, sizeof dv->st.pulse, "%s", rq.pulse);
        if (rq.has_pulse_width)
            dv->st.pulse_width = rq.pulse_width;
        diy_publish(dv);
        break;
    case DIY_CMD_WIFI:
        /* the device would join the new network; the sim only remembers the SSID */
        snprintf(dv->st.ssid, sizeof dv->st.ssid, "%s", rq.ssid);
        memset(rq.password, 0, sizeof rq.password);
        diy_publish(dv);
        break;
    case DIY_CMD_UNLOCK:
        sim_sleep(dv->s, UNLOCK_MS);
        if (dv->o->no_internet) {
            LOG_I("diy: ota_unlock: ITEAD's unlock service is unreachable (--no-internet): 503");
            send_error(dv, c, DIY_E_UNLOCK_NET);
            return;
        }
        if (dv->o->unlock_refused) {
            LOG_I("diy: ota_unlock: the unlock service refused this device: 500");
            send_error(dv, c, DIY_E_UNLOCK_AUTH);
            return;
        }
        dv->st.ota_unlock = 1;
        LOG_I("diy: OTA unlocked");
        diy_publish(dv);
        break;
    case DIY_CMD_FLASH:
        do_flash(dv, c, &rq);
        return;
    case DIY_CMD__COUNT:
        break;
    }
    if (!j)
        j = diy_build_reply(dv->seq, 0, NULL, 0, DIY_DATA_NONE);
    send_reply(dv, c, 200, j ? j : "{\"error\":0}");
    free(j);
}

/* One API connection: read the request (bounded), answer, close. */
static void serve_api(struct diy_dev *dv)
{
    char peer[64];
    int fd = netio_accept(dv->lfd, 0, peer, sizeof peer);
    if (fd < 0)
        return;
    struct netio_conn c = NETIO_CONN_INIT;
    c.fd = fd;
    snprintf(c.peer, sizeof c.peer, "%s", peer);
    char buf[REQ_MAX + 1];
    size_t have = 0;
    struct so_http_head h;
    long long deadline = plat_mono_ms() + REQ_TIMEOUT_MS;
    enum so_err e = SO_AGAIN;
    while (e == SO_AGAIN && have < REQ_MAX) {
        long long left = deadline - plat_mono_ms();
        ssize_t r = left > 0 ? netio_read(&c, buf + have, REQ_MAX - have, (int)left) : -2;
        if (r <= 0)
            goto out;
        have += (size_t)r;
        e = so_http_parse_request(buf, have, &h);
    }
    if (e != SO_OK) {
        send_reply(dv, &c, 400, "");
        goto out;
    }
    int has_len = 0;
    uint64_t clen = 0;
    if (so_http_content_length(&h, &has_len, &clen) != SO_OK || clen > REQ_MAX - h.head_len) {
        send_error(dv, &c, DIY_E_BAD_JSON);
        goto out;
    }
    while (have < h.head_len + clen) {
        long long left = deadline - plat_mono_ms();
        ssize_t r = left > 0 ? netio_read(&c, buf + have, REQ_MAX - have, (int)left) : -2;
        if (r <= 0)
            goto out;
        have += (size_t)r;
    }
    long long now = plat_mono_ms();
    dv->requests++;
    if (dv->last_reply && now - dv->last_reply < DIY_MIN_GAP_MS) {
        dv->gap_violations++;
        LOG_W("diy: spacing violation: request %lld ms after the previous reply (< %d ms, "
              "DIY14)%s", now - dv->last_reply, DIY_MIN_GAP_MS,
              dv->o->strict_gap ? "; dropped" : "");
        if (dv->o->strict_gap) {
            dv->last_reply = now;
            goto out;
        }
    }
    struct so_str path = so_http_target_path(h.target);
    enum diy_cmd cmd;
    LOG_I("diy: %.*s %.*s from %s", (int)h.method.n, h.method.p, (int)h.target.n, h.target.p,
          peer);
    if (diy_cmd_from_path(path.p, path.n, &cmd) != 0)
        send_reply(dv, &c, 404, "");
    else if (!so_str_eq(h.method, "POST"))
        send_reply(dv, &c, 405, "");
    else
        handle(dv, &c, cmd, buf + h.head_len, (size_t)clen);
out:
    netio_close(&c);
}

static int start(struct diy_dev *dv, char *err, size_t errcap)
{
    const struct sim_diy_opts *o = dv->o;
    dv->lfd = netio_listen(o->addr, o->port, err, errcap);
    if (dv->lfd < 0)
        return -1;
    if (!o->no_mdns) {
        uint8_t txt[DIY_TXT_MAX];
        dv->seq = 1; /* reset at boot (DIY14 §4.1) */
        size_t n = build_txt(dv, txt, sizeof txt);
        struct mdns_resp_cfg rc = {.device_id = dv->s->o->device_id, .ip = o->addr,
                                   .ifname = o->ifname, .port = o->port, .txt = txt,
                                   .txt_len = n};
        if (mdns_resp_start(&dv->mdns, &rc, err, errcap) != 0)
            return -1;
        snprintf(dv->ip, sizeof dv->ip, "%s", dv->mdns.ip);
    } else {
        snprintf(dv->ip, sizeof dv->ip, "%s", o->addr);
    }
    LOG_I("diy: firmware %s (DIY protocol %s), device %s, API http://%s:%d/zeroconf/, OTA %s",
          dv->fw, diy_proto_name(dv->proto), dv->s->o->device_id, dv->ip, o->port,
          dv->st.ota_unlock == 1 ? "unlocked" : "locked");
    return 0;
}

static void init_state(struct diy_dev *dv)
{
    const struct sim_diy_opts *o = dv->o;
    enum diy_proto p = o->proto ? (enum diy_proto)o->proto : DIY_PROTO_2_0;
    const char *fw = o->fw_version ? o->fw_version : p == DIY_PROTO_1_4 ? "3.3.0" : "3.6.0";
    snprintf(dv->fw, sizeof dv->fw, "%s", fw);
    dv->proto = o->proto ? (enum diy_proto)o->proto : diy_proto_for_fw(fw);
    diy_state_init(&dv->st);
    strcpy(dv->st.sw, "off");
    strcpy(dv->st.startup, "off");
    strcpy(dv->st.pulse, "off");
    dv->st.has_pulse_width = 1;
    dv->st.pulse_width = 500;
    /* v1.4 devices join the fixed SSID sonoffDiy (§6) */
    strcpy(dv->st.ssid, dv->proto == DIY_PROTO_1_4 ? "sonoffDiy" : "HomeWiFi");
    dv->st.ota_unlock = o->unlocked ? 1 : 0;
    snprintf(dv->st.fw_version, sizeof dv->st.fw_version, "%s", dv->fw);
    snprintf(dv->st.deviceid, sizeof dv->st.deviceid, "%s", dv->s->o->device_id);
    strcpy(dv->st.bssid, "b4:fb:e4:12:34:56");
    dv->st.has_signal = dv->st.has_rssi = 1;
    dv->st.signal = dv->st.rssi = -61;
}

int sim_diy_run(struct sim_ctx *s, const struct sim_diy_opts *o)
{
    static struct diy_dev dv;
    memset(&dv, 0, sizeof dv);
    dv.s = s;
    dv.o = o;
    dv.lfd = -1;
    dv.ota.conn.fd = -1;
    g_stop = 0;
    struct sigaction sa, old_term, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);

    int ok = 0;
    char err[SIM_TEXT];
    struct boot_info bi;
    s->rep.boots++;
    boot_check(&s->flash, &bi);
    LOG_I("boot %d: %s", s->rep.boots, bi.what);
    if (bi.kind == BOOT_FINAL) {
        /* flashed earlier: Tasmota boots straight away */
        dv.flashed = 1;
        init_state(&dv);
        snprintf(dv.ip, sizeof dv.ip, "%s", o->addr);
        ok = diy_boot_new_firmware(&dv);
        goto done;
    }
    if (bi.kind != BOOT_STOCK) {
        sim_fail(s, "DIY mode needs the stock firmware in flash, but the flash boots: %s", bi.what);
        goto done;
    }
    init_state(&dv);
    if (start(&dv, err, sizeof err) != 0) {
        sim_fail(s, "%s", err);
        goto done;
    }
    while (!g_stop) {
        if (sim_left(s) <= 0) {
            sim_fail(s, "run timeout (--timeout %d s) in DIY mode; %lu requests served",
                     s->o->timeout, dv.requests);
            break;
        }
        struct pollfd p[2] = {{.fd = dv.lfd, .events = POLLIN},
                              {.fd = mdns_resp_fd(&dv.mdns), .events = POLLIN}};
        int wait = dv.ota.active ? 0 : mdns_resp_step(&dv.mdns);
        if (wait > 200)
            wait = 200;
        if (poll(p, 2, wait) < 0)
            continue;
        if (p[1].revents || dv.ota.active)
            mdns_resp_step(&dv.mdns);
        if (p[0].revents & POLLIN)
            serve_api(&dv);
        if (dv.ota.active) {
            int r = diy_ota_step(&dv);
            /* failed (r < 0): the device stays in DIY mode */
            if (r == 1 && diy_ota_finish(&dv) == DIY_OK)
                dv.reboot = 1;
        }
        if (dv.reboot) {
            /* reboot: the old firmware says goodbye and stops answering */
            mdns_resp_stop(&dv.mdns);
            close(dv.lfd);
            dv.lfd = -1;
            ok = diy_boot_new_firmware(&dv);
            break;
        }
    }
    if (g_stop && !s->rep.reason[0])
        sim_fail(s, "stopped by a signal in DIY mode");
done:
    if (dv.ota.active)
        diy_ota_abort(&dv, DIY_E_DOWNLOAD, "the run ended");
    mdns_resp_stop(&dv.mdns);
    if (dv.lfd >= 0)
        close(dv.lfd);
    if (dv.gap_violations)
        sim_note(s, "%lu request(s) came less than %d ms after the previous reply",
                 dv.gap_violations, DIY_MIN_GAP_MS);
    LOG_I("diy: %lu requests, %lu spacing violations", dv.requests, dv.gap_violations);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    return ok;
}
