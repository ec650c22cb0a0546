/* tasmota_cfg_int.h - what the Tasmota configuration's machine (tasmota_cfg.c: requests,
 * pauses, tcfg_step) and its phases (tasmota_cfg_steps.c) share. */
#ifndef SONOTA_TASMOTA_CFG_INT_H
#define SONOTA_TASMOTA_CFG_INT_H

#include "sonota/tasmota_cfg.h"

#include "lib/tasmota_msg.h"
#include "lib/tasmota_url.h"

enum tcfg_get {
    TG_OK,        /* an HTTP answer (any status) */
    TG_DOWN,      /* refused / unreachable: not there (yet), or restarting */
    TG_TIMEOUT,
    TG_BROKEN,    /* closed early, too big, interrupted, ... */
};

enum tcfg_phase {
    PH_WEB,        /* GET / until Tasmota's web server answers */
    PH_DETECT,     /* Status 2: the generation */
    PH_PROBE_WI,   /* no /cm: make sure /wi is missing too (5.x) */
    PH_BL_STATUS,  /* Status 0 before the Backlog: BootCount */
    PH_BL_SEND,    /* the Backlog */
    PH_BL_RUN,     /* pause while only the user's commands run */
    PH_BL_POLL,    /* Status 0 until the settings show after the restart */
    PH_LEGACY_MQTT,/* 5.x: /sv?w=2 */
    PH_WIFI,       /* /wi or /sv */
    PH_LAN,        /* Status 0 (or /) on the home LAN */
    PH_DONE,
};

enum tcfg_wait {
    W_NONE,
    W_FETCH,       /* a request is in flight */
    W_RETRY,       /* a failed request is asked again at wake */
    W_NAP,         /* the phase's pause ends at wake */
};

struct tcfg_reply {
    char buf[TASMOTA_REPLY_MAX + 1];
    size_t len;
    long status;
};

struct tcfg {
    const struct tcfg_opts *o;
    struct ui *u;
    struct httpc *h;
    int64_t deadline, now;
    volatile sig_atomic_t *stop;
    struct tcfg_result *res;
    enum tcfg_phase ph;
    enum tcfg_wait wait;
    int64_t wake;
    int code;                       /* the exit status once PH_DONE */
    /* the request of the phase */
    struct httpc_req *req;
    const char *base;
    char target[TASMOTA_TARGET_MAX], shown[TASMOTA_TARGET_MAX];
    int retry;                      /* asked again every poll_ms while the device is away */
    int got;                        /* an answer waits for its phase handler */
    enum tcfg_get g;
    struct tcfg_reply r;
    char err[1024];
    /* what a failed pause reports */
    int (*nap_fail)(struct tcfg *x);
    void (*nap_next)(struct tcfg *x);
    /* the Backlog */
    char bl_cmd[TASMOTA_CMND_MAX + 1], bl_shown_cmd[TASMOTA_CMND_MAX + 1];
    char bl_target[TASMOTA_TARGET_MAX], bl_shown[TASMOTA_TARGET_MAX];
    int bl_n, bl_known;
    long boots;
    struct tasmota_status st;
};

int tcfg_stopped(const struct tcfg *x);
/* The end of a run that did not make it: the exit status for stop / deadline / other. */
int tcfg_give_up(struct tcfg *x, int code, const char *ecode, const char *what);
/* Ends the run with code. */
void tcfg_finish(struct tcfg *x, int code);
/* GET base+target for phase ph; retry: asked again every poll_ms until the device answers
 * at all (any HTTP status), or deadline/stop. shown (passwords masked) is all that is
 * logged. The answer goes to tcfg_phase_done. */
void tcfg_fetch(struct tcfg *x, enum tcfg_phase ph, const char *base, const char *target,
                const char *shown, int retry);
/* Status N over /cm for phase ph. */
void tcfg_fetch_status(struct tcfg *x, enum tcfg_phase ph, const char *base, int n, int retry);
/* A pause of up to ms (never past the deadline); then next, or fail when stopped or out of
 * time. */
void tcfg_nap(struct tcfg *x, int ms, int (*fail)(struct tcfg *), void (*next)(struct tcfg *));

/* tasmota_cfg_steps.c: the first phase, and a phase's request has its final answer. */
void tcfg_begin(struct tcfg *x);
void tcfg_phase_done(struct tcfg *x);

#endif
