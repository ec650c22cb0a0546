/* tasmota_cfg.c - the Tasmota configuration's machine over httpc (see tasmota_cfg.h):
 * each phase (tasmota_cfg_steps.c) issues one GET; its handler runs from tcfg_step when the
 * answer is in, and either finishes, moves to the next phase or schedules a wake-up (a
 * retry while the device is away, a pause while it restarts). No sleeps. */
#include "sonota/tasmota_cfg_int.h"

#include "io/log.h"
#include "sonota/cmds.h"
#include "sonota/httpc.h"
#include "sonota/ui.h"
#include "plat/fs.h"
#include "plat/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- run context ---- */

int tcfg_stopped(const struct tcfg *x)
{
    return x->stop && *x->stop;
}

int tcfg_give_up(struct tcfg *x, int code, const char *ecode, const char *what)
{
    if (tcfg_stopped(x)) {
        ui_error(x->u, "interrupted", EXIT_INTERRUPTED, "interrupted while %s; run `sonota "
                 "configure` again to continue (settings already sent are kept)", what);
        return EXIT_INTERRUPTED;
    }
    if (x->now >= x->deadline) {
        ui_error(x->u, "timeout", EXIT_NETWORK, "gave up (--timeout) while %s: %s", what,
                 x->err[0] ? x->err : "no answer");
        return EXIT_NETWORK;
    }
    ui_error(x->u, ecode, code, "%s", x->err);
    return code;
}

void tcfg_finish(struct tcfg *x, int code)
{
    x->ph = PH_DONE;
    x->wait = W_NONE;
    x->code = code;
}

/* ---- requests and pauses ---- */

static void on_fetched(void *user, const struct httpc_result *hr)
{
    struct tcfg *x = user;
    x->req = NULL;
    x->got = 1;
    x->r.status = hr->status;
    x->r.len = hr->len < TASMOTA_REPLY_MAX ? hr->len : TASMOTA_REPLY_MAX;
    memcpy(x->r.buf, hr->body, x->r.len);
    x->r.buf[x->r.len] = '\0';
    LOG_D("GET %s%s -> %s %ld, %zu B", x->base, x->shown, hr->err == SO_OK ? "HTTP" : "failed",
          hr->status, hr->len);
    switch (hr->err) {
    case SO_OK:
        x->g = TG_OK;
        break;
    case SO_E_NET_UNREACHABLE:
        snprintf(x->err, sizeof x->err, "GET %s%.600s: cannot connect (%s)", x->base, x->shown,
                 hr->cause);
        x->g = TG_DOWN;
        break;
    case SO_E_TIMEOUT:
        snprintf(x->err, sizeof x->err, "GET %s%.600s: no answer within %d ms", x->base,
                 x->shown, x->o->request_ms);
        x->g = TG_TIMEOUT;
        break;
    default:
        snprintf(x->err, sizeof x->err, "GET %s%.600s: %s", x->base, x->shown,
                 hr->err == SO_E_NET_REPLY_TOOBIG ? "the answer is too large for Tasmota"
                 : hr->cause[0] ? hr->cause : so_strerror(hr->err));
        x->g = TG_BROKEN;
        break;
    }
}

/* (Re)sends the phase's request. The URL may hold passwords: only `shown` is logged. */
static void fetch_again(struct tcfg *x)
{
    char url[TCFG_URL_MAX + TASMOTA_TARGET_MAX + 1], shown[TCFG_URL_MAX + TASMOTA_TARGET_MAX + 1];
    snprintf(url, sizeof url, "%s%s", x->base, x->target);
    snprintf(shown, sizeof shown, "%s%s", x->base, x->shown);
    struct httpc_opts ho = {.url = url, .shown_url = shown, .timeout_ms = x->o->request_ms,
                            .reply_max = TASMOTA_REPLY_MAX};
    x->wait = W_FETCH;
    x->req = httpc_start(x->h, &ho, on_fetched, x, x->err, sizeof x->err);
    plat_wipe(url, sizeof url);
    if (!x->req) {
        x->g = TG_BROKEN;
        x->got = 1;
    }
}

void tcfg_fetch(struct tcfg *x, enum tcfg_phase ph, const char *base, const char *target,
                const char *shown, int retry)
{
    x->ph = ph;
    x->base = base;
    snprintf(x->target, sizeof x->target, "%s", target);
    snprintf(x->shown, sizeof x->shown, "%s", shown);
    x->retry = retry;
    fetch_again(x);
}

void tcfg_fetch_status(struct tcfg *x, enum tcfg_phase ph, const char *base, int n, int retry)
{
    char cmnd[16], target[256], shown[256];
    snprintf(cmnd, sizeof cmnd, "Status %d", n);
    const char *wp = x->o->cfg.web_password;
    tasmota_url_cm(cmnd, wp, 0, target, sizeof target);
    tasmota_url_cm(cmnd, wp, 1, shown, sizeof shown);
    tcfg_fetch(x, ph, base, target, shown, retry);
    plat_wipe(target, sizeof target);
}

void tcfg_nap(struct tcfg *x, int ms, int (*fail)(struct tcfg *), void (*next)(struct tcfg *))
{
    x->wait = W_NAP;
    x->wake = x->now + ms < x->deadline ? x->now + ms : x->deadline;
    x->nap_fail = fail;
    x->nap_next = next;
}

/* ---- the machine ---- */

struct tcfg *tcfg_start(struct httpc *h, const struct tcfg_opts *o, struct ui *u,
                        int64_t deadline, volatile sig_atomic_t *stop,
                        struct tcfg_result *res)
{
    memset(res, 0, sizeof *res);
    struct tcfg *x = calloc(1, sizeof *x);
    if (!x) {
        ui_error(u, "memory", EXIT_FAIL, "out of memory");
        return NULL;
    }
    *x = (struct tcfg){.o = o, .u = u, .h = h, .deadline = deadline, .now = plat_mono_ms(),
                       .stop = stop, .res = res};
    tcfg_begin(x);
    return x;
}

int tcfg_step(struct tcfg *x, int64_t now, int64_t *wake)
{
    x->now = now;
    /* bounded: every turn either ends or starts a request or a pause */
    for (int turn = 0; turn < 64 && x->ph != PH_DONE; turn++) {
        if (x->got) {
            x->got = 0;
            x->wait = W_NONE;
            if (x->g != TG_OK && x->retry && !tcfg_stopped(x) && now < x->deadline) {
                x->wait = W_RETRY; /* the device is away (yet, or restarting) */
                x->wake = now + x->o->poll_ms < x->deadline ? now + x->o->poll_ms : x->deadline;
            } else {
                tcfg_phase_done(x);
            }
        } else if (x->wait == W_FETCH && tcfg_stopped(x)) {
            httpc_cancel(x->h, x->req); /* Ctrl-C need not wait for the answer */
            x->req = NULL;
            x->g = TG_BROKEN;
            x->got = 1;
        } else if (x->wait == W_RETRY && (tcfg_stopped(x) || now >= x->wake)) {
            x->wait = W_NONE;
            if (tcfg_stopped(x) || now >= x->deadline)
                tcfg_phase_done(x); /* the last failure is the answer */
            else
                fetch_again(x);
        } else if (x->wait == W_NAP && (tcfg_stopped(x) || now >= x->wake)) {
            x->wait = W_NONE;
            if (tcfg_stopped(x) || now >= x->deadline)
                tcfg_finish(x, x->nap_fail(x));
            else
                x->nap_next(x);
        } else {
            break;
        }
    }
    if (x->ph == PH_DONE)
        return x->code;
    *wake = x->got ? now : x->wait == W_RETRY || x->wait == W_NAP ? x->wake : -1;
    return TCFG_RUNNING;
}

void tcfg_free(struct tcfg *x)
{
    if (!x)
        return;
    if (x->req)
        httpc_cancel(x->h, x->req);
    plat_wipe(x, sizeof *x); /* targets and the Backlog may hold passwords */
    free(x);
}

int tcfg_run(const struct tcfg_opts *o, struct ui *u, int64_t deadline,
             volatile sig_atomic_t *stop, struct tcfg_result *res)
{
    struct httpc *h = httpc_new();
    if (!h) {
        memset(res, 0, sizeof *res);
        ui_error(u, "memory", EXIT_FAIL, "out of memory");
        return EXIT_FAIL;
    }
    struct tcfg *x = tcfg_start(h, o, u, deadline, stop, res);
    int code = EXIT_FAIL;
    while (x) {
        int64_t wake, now = plat_mono_ms();
        code = tcfg_step(x, now, &wake);
        if (code != TCFG_RUNNING)
            break;
        int64_t ms = 100; /* Ctrl-C is seen within 100 ms */
        if (wake >= 0 && wake - now < ms)
            ms = wake > now ? wake - now : 0;
        httpc_wait(h, (int)ms);
    }
    tcfg_free(x);
    httpc_free(h);
    return code;
}
