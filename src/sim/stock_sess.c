#include "sim/stock_sess.h"

#include "io/crypto.h"
#include "io/log.h"
#include "lib/espimg.h"
#include "lib/ws_frame.h"
#include "sim/dispatch.h"
#include "sim/netio.h"
#include "sim/ota_dl.h"
#include "sim/stock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_RX_CAP (SO_WS_PAYLOAD_MAX + 16)
#define REPLY_TIMEOUT_MS 10000   /* per expected reply [?] */
#define DOWNLOAD_DELAY_MS 400    /* first GET ~0.4 s after the ack (S#24) */
#define AUTORESTART_MS 3000      /* reboot 3 s after finishing (§1.5) */
#define RETRY_DELAY_MS 3000      /* before a new session after a failure [?] */
#define DISPATCH_RETRY_MS 2000   /* between dispatch attempts [?] */
#define UPGRADE_FLAG_FINISH 2    /* SDK upgrade.h */

static const uint8_t zero_mask[4] = {0, 0, 0, 0};

struct ws_sess {
    struct sim_ctx *s;
    struct netio_conn c;
    unsigned char rx[WS_RX_CAP];
    size_t rxlen;
    struct stock_fsm fsm;
    long hb_ms;                 /* 0 = no heartbeat */
    long long next_ping;
    int awaiting_pong;
    int dead;
    char err[SIM_TEXT];
    char problem[SIM_TEXT];     /* last upgrade refusal/failure, for the final reason */
    /* events from the state machine */
    int registered_now;
    int upgrade;
    struct ewl_bin bin;
    uint32_t addr;
    int target;
    char seq[EWL_SEQ_MAX];
    int restart;
};

static int kill_sess(struct ws_sess *w, const char *why)
{
    if (!w->dead) {
        w->dead = 1;
        snprintf(w->err, sizeof w->err, "%s", why);
        LOG_W("websocket: %s; dropping the connection", why);
    }
    netio_close(&w->c);
    return -1;
}

static int ws_send_raw(struct ws_sess *w, const void *buf, size_t n)
{
    if (w->dead)
        return -1;
    if (netio_write(&w->c, buf, n, 5000) != 0) {
        kill_sess(w, "cannot write to the server");
        return -1;
    }
    return 0;
}

/* Device frames: FIN + text, MASK bit with key 00 00 00 00 (§1.4). One write per frame. */
static int ws_send_text(struct ws_sess *w, const char *json)
{
    size_t n = strlen(json);
    uint8_t *buf = malloc(n + 16);
    if (!buf)
        return -1;
    size_t fl = so_ws_encode(buf, n + 16, SO_WS_TEXT, (const uint8_t *)json, n, zero_mask);
    LOG_D("ws -> %s", json);
    int r = fl ? ws_send_raw(w, buf, fl) : -1;
    free(buf);
    return r;
}

static void handle_out(struct ws_sess *w, struct stock_out *out)
{
    for (int i = 0; i < out->n; i++)
        ws_send_text(w, out->msg[i]);
    if (out->why[0] && !out->fail)
        LOG_I("%s", out->why);
    if (out->upgrade_acked) {
        sim_ack_add(w->s, out->sequence, out->ack_error, 0);
        if (out->ack_error)
            snprintf(w->problem, sizeof w->problem, "%s", out->why);
    }
    if (out->registered)
        w->registered_now = 1;
    if (out->upgrade) {
        w->upgrade = 1;
        w->bin = out->bin;
        w->addr = out->write_addr;
        w->target = out->target_slot;
        snprintf(w->seq, sizeof w->seq, "%s", out->sequence);
        LOG_I("upgrade accepted: %s → slot %d at 0x%05x", out->bin.url, out->target_slot,
              (unsigned)out->write_addr);
    }
    if (out->restart)
        w->restart = 1;
    if (out->fail)
        kill_sess(w, out->why);
    stock_out_free(out);
}

/* Decodes every complete frame in rx. Server frames must be single, unfragmented,
 * unmasked, 7/16-bit length, ≤ 2048 B; pong exactly 8A 00; others ignored (§1.4). */
static int process_rx(struct ws_sess *w, int fresh_read)
{
    int frames = 0;
    while (w->rxlen > 0 && !w->dead) {
        if (w->rxlen >= 2 && (w->rx[1] & 0x80))
            return kill_sess(w, "protocol error: masked frame from the server");
        if (w->rxlen >= 2 && (w->rx[1] & 0x7F) == 127)
            return kill_sess(w, "protocol error: 64-bit frame length");
        struct so_ws_frame fr;
        enum so_err e = so_ws_decode(w->rx, w->rxlen, SO_WS_PAYLOAD_MAX, &fr);
        if (e == SO_AGAIN)
            break;
        if (e == SO_E_TOOBIG)
            return kill_sess(w, "protocol error: frame larger than the 2048 B buffer");
        if (e != SO_OK)
            return kill_sess(w, "protocol error: malformed frame");
        if (!fr.fin || fr.opcode == SO_WS_CONT)
            return kill_sess(w, "protocol error: fragmented frame");
        size_t flen = fr.header_len + (size_t)fr.payload_len;
        frames++;
        switch (fr.opcode) {
        case SO_WS_TEXT: {
            struct stock_out out;
            LOG_D("ws <- %.*s", (int)fr.payload_len, (const char *)fr.payload);
            stock_on_text(&w->fsm, (const char *)fr.payload, (size_t)fr.payload_len, &out);
            handle_out(w, &out);
            break;
        }
        case SO_WS_PONG:
            if (flen != 2 || w->rx[0] != 0x8A)
                return kill_sess(w, "protocol error: pong is not exactly 8A 00");
            w->awaiting_pong = 0;
            break;
        case SO_WS_CLOSE:
            return kill_sess(w, "server sent a close frame");
        default:
            LOG_D("websocket: ignoring opcode 0x%x", fr.opcode);
            break;
        }
        if (w->dead)
            return -1;
        memmove(w->rx, w->rx + flen, w->rxlen - flen);
        w->rxlen -= flen;
    }
    /* The firmware handles one frame per received packet (§1.4). */
    if (fresh_read && (frames > 1 || w->rxlen > 0)) {
        if (w->s->o->strict_packets)
            return kill_sess(w, frames > 1 ? "several frames in one packet (--strict-packets)"
                                           : "frame split across packets (--strict-packets)");
        LOG_D("websocket: %s", frames > 1 ? "several frames in one read"
                                          : "frame split across reads");
    }
    return 0;
}

/* Serves the WebSocket for up to timeout_ms: frames in, heartbeat out. */
static int pump(struct ws_sess *w, long timeout_ms)
{
    if (w->dead)
        return -1;
    long long now = plat_mono_ms();
    if (w->hb_ms && now >= w->next_ping) {
        if (w->awaiting_pong)
            return kill_sess(w, "no pong before the next heartbeat");
        static const uint8_t ping[6] = {0x89, 0x80, 0, 0, 0, 0};
        LOG_D("websocket: ping");
        if (ws_send_raw(w, ping, sizeof ping) != 0)
            return -1;
        w->awaiting_pong = 1;
        w->next_ping = now + w->hb_ms;
    }
    long wait = timeout_ms;
    if (w->hb_ms && w->next_ping - now < wait)
        wait = (long)(w->next_ping - now);
    if (wait < 0)
        wait = 0;
    int r = netio_wait_readable(&w->c, (int)wait);
    if (r < 0)
        return kill_sess(w, "poll failed");
    if (r == 0)
        return 0;
    ssize_t n = netio_read(&w->c, w->rx + w->rxlen, sizeof w->rx - w->rxlen, 1000);
    if (n == 0)
        return kill_sess(w, "server closed the connection");
    if (n == -1)
        return kill_sess(w, "connection error");
    if (n > 0) {
        w->rxlen += (size_t)n;
        return process_rx(w, 1);
    }
    return 0;
}

static void pump_for(struct ws_sess *w, long ms)
{
    long long end = plat_mono_ms() + ms;
    while (!w->dead && plat_mono_ms() < end && sim_left(w->s) > 0)
        pump(w, (long)(end - plat_mono_ms()));
}

static void idle_cb(void *user)
{
    (void)pump(user, 0);
}

static long scaled(const struct sim_ctx *s, long ms)
{
    double v = (double)ms * s->o->time_scale;
    return v < 1 ? 1 : (long)v;
}

static void send_verdict(struct ws_sess *w, int error, int as_state)
{
    char *m = as_state ? stock_upgrade_state(&w->fsm, error) : stock_ack(&w->fsm, w->seq, error);
    if (m && ws_send_text(w, m) == 0)
        sim_ack_add(w->s, w->seq, error, as_state);
    else
        LOG_W("could not send the %s %d (websocket down)", as_state ? "upgradeState" : "ack",
              error);
    free(m);
}

/* After the ack: download, digest, verdict (§1.5). Returns -1 to keep the session. */
static int do_upgrade(struct ws_sess *w)
{
    struct sim_ctx *s = w->s;
    w->upgrade = 0;
    if (sim_reached(s, SIM_STAGE_UPGRADE))
        return STOCK_SESS_END;
    pump_for(w, scaled(s, DOWNLOAD_DELAY_MS));
    struct ota_dl_req req = {
        .url = w->bin.url,
        .addr = w->addr,
        .region_max = w->target == 2 ? SPIFLASH_RF_CAL - SPIFLASH_USER2
                                     : SPIFLASH_USER2 - SPIFLASH_USER1,
        .idle = idle_cb,
        .user = w,
    };
    struct ota_dl_res res;
    if (ota_dl_download(s, &req, &res) != SO_OK) {
        /* SonOTA saw the 404 asynchronously after a failed download (sillyfrog#7, S#21). */
        send_verdict(w, 404, 0);
        sim_fail(s, "download failed (ack 404): %s", res.err);
        return STOCK_SESS_RETRY;
    }
    char hex[65];
    so_sha256_hex(spiflash_view(&s->flash, w->addr), (size_t)res.total, hex);
    if (strcmp(hex, w->bin.digest)) {
        int ig = s->o->variant == SIM_FW_IG;
        send_verdict(w, 409, ig);
        snprintf(w->problem, sizeof w->problem,
                 "digest mismatch (409): flash has %.16s..., server said %.16s...; the old "
                 "slot keeps booting", hex, w->bin.digest);
        LOG_W("%s", w->problem);
        w->fsm.busy = 0;
        return -1;
    }
    struct espimg_info info;
    char why[SIM_TEXT] = "";
    enum espimg_use use = w->target == 1 ? ESPIMG_USE_USER1 : ESPIMG_USE_USER2;
    if (espimg_parse(spiflash_view(&s->flash, w->addr), (size_t)res.total, &info) != SO_OK)
        snprintf(why, sizeof why, "not an ESP8266 image");
    else if (espimg_check(&info, (size_t)res.total, use, why, sizeof why) == SO_OK)
        why[0] = '\0';
    if (why[0])
        sim_note(s, "downloaded image is not valid for slot %d (%s); the firmware checks only "
                 "the digest and reboots into it anyway", w->target, why);
    /* Success: upgradeState 0, switch the boot slot, reboot (autoRestart). */
    send_verdict(w, 0, 1);
    if (spiflash_set_boot_slot(&s->flash, w->target, UPGRADE_FLAG_FINISH) != SO_OK) {
        sim_fail(s, "cannot write the system parameters");
        return STOCK_SESS_END;
    }
    LOG_I("upgrade finished: boot slot is now %d", w->target);
    if (sim_reached(s, SIM_STAGE_DOWNLOAD))
        return STOCK_SESS_END;
    pump_for(w, scaled(s, AUTORESTART_MS));
    return STOCK_SESS_REBOOT;
}

static enum stock_sess_result finish(struct ws_sess *w, enum stock_sess_result r)
{
    netio_close(&w->c);
    if (r == STOCK_SESS_RETRY)
        sim_sleep(w->s, RETRY_DELAY_MS);
    free(w);
    return r;
}

enum stock_sess_result stock_sess_run(struct sim_ctx *s, int running_slot)
{
    const struct sim_opts *o = s->o;
    char ip[64], err[SIM_TEXT];
    int port = 0;
    enum so_err e = SO_E_IO;
    s->rep.sessions++;
    LOG_I("session %d: dispatch via %s:%d", s->rep.sessions, s->server_host, s->server_port);
    for (int t = 1; t <= o->dispatch_tries; t++) {
        e = dispatch_once(s, ip, sizeof ip, &port, err, sizeof err);
        if (e == SO_OK)
            break;
        LOG_W("%s (attempt %d/%d)", err, t, o->dispatch_tries);
        if (t < o->dispatch_tries && sim_sleep(s, DISPATCH_RETRY_MS) != 0)
            break;
    }
    if (e != SO_OK) {
        sim_fail(s, "%s", err);
        sim_sleep(s, RETRY_DELAY_MS);
        return STOCK_SESS_RETRY;
    }
    if (sim_reached(s, SIM_STAGE_DISPATCH))
        return STOCK_SESS_END;
    struct ws_sess *w = calloc(1, sizeof *w);
    if (!w) {
        sim_fail(s, "out of memory");
        return STOCK_SESS_END;
    }
    w->s = s;
    w->c.fd = -1;
    if (dispatch_ws_open(s, &w->c, ip, port, w->rx, sizeof w->rx, &w->rxlen, err,
                         sizeof err) != SO_OK) {
        sim_fail(s, "%s", err);
        return finish(w, STOCK_SESS_RETRY);
    }
    struct stock_cfg cfg = {
        .deviceid = o->device_id, .factory_apikey = o->apikey, .model = o->model,
        .rom_version = o->rom_version, .mac = o->mac, .variant_ig = o->variant == SIM_FW_IG,
        .running_slot = running_slot, .refuse_model = o->faults.refuse_model,
    };
    stock_init(&w->fsm, &cfg);
    char *reg = stock_start(&w->fsm, sim_rand(s) % 1000);
    if (!reg || ws_send_text(w, reg) != 0) {
        free(reg);
        sim_fail(s, "cannot send register");
        return finish(w, STOCK_SESS_RETRY);
    }
    free(reg);
    if (w->rxlen)
        process_rx(w, 0);
    enum stock_state last = w->fsm.st;
    long long reply_deadline = plat_mono_ms() + REPLY_TIMEOUT_MS, upgrade_deadline = 0;
    static const char *const waiting[] = {"register", "date", "update", "query", ""};
    for (;;) {
        if (sim_left(s) <= 0) {
            sim_fail(s, "run timeout (--timeout) in the cloud session");
            return finish(w, STOCK_SESS_END);
        }
        (void)pump(w, 100);
        if (w->dead) {
            sim_fail(s, "websocket: %s", w->err);
            return finish(w, STOCK_SESS_RETRY);
        }
        long long now = plat_mono_ms();
        if (w->registered_now) {
            w->registered_now = 0;
            w->hb_ms = o->hb_interval ? o->hb_interval * 1000L
                       : (w->fsm.hb && w->fsm.hb_interval > 0) ? w->fsm.hb_interval * 1000L : 0;
            if (w->hb_ms)
                w->hb_ms = scaled(s, w->hb_ms);
            w->next_ping = now + w->hb_ms;
            LOG_I("registered; owner apikey adopted; heartbeat every %ld ms", w->hb_ms);
            if (sim_reached(s, SIM_STAGE_REGISTER))
                return finish(w, STOCK_SESS_END);
        }
        if (w->fsm.st != last) {
            last = w->fsm.st;
            reply_deadline = now + REPLY_TIMEOUT_MS;
        }
        if (w->fsm.st != STK_READY && now > reply_deadline && !w->upgrade) {
            sim_fail(s, "no %s reply within %d s", waiting[w->fsm.st], REPLY_TIMEOUT_MS / 1000);
            return finish(w, STOCK_SESS_RETRY);
        }
        if (w->fsm.st == STK_READY && !upgrade_deadline)
            upgrade_deadline = now + o->wait_upgrade * 1000LL;
        if (w->restart) {
            pump_for(w, scaled(s, AUTORESTART_MS));
            return finish(w, STOCK_SESS_REBOOT);
        }
        if (w->upgrade) {
            int r = do_upgrade(w);
            if (r >= 0)
                return finish(w, (enum stock_sess_result)r);
            upgrade_deadline = plat_mono_ms() + o->wait_upgrade * 1000LL;
        }
        if (w->problem[0] && !w->upgrade && upgrade_deadline == 0)
            upgrade_deadline = plat_mono_ms() + o->wait_upgrade * 1000LL;
        if (upgrade_deadline && plat_mono_ms() > upgrade_deadline) {
            if (w->problem[0])
                sim_fail(s, "%s; no further upgrade within %d s", w->problem, o->wait_upgrade);
            else
                sim_fail(s, "no upgrade command within %d s", o->wait_upgrade);
            return finish(w, STOCK_SESS_END);
        }
    }
}
