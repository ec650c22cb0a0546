/* flash_run.h - private to `sonota flash`: the run state shared by cmd_flash.c (setup:
 * images, serving IP, credentials, server start) and flash_run.c (the loop over
 * srv_run_once with one step per state, and the server's events). */
#ifndef SONOTA_FLASH_RUN_H
#define SONOTA_FLASH_RUN_H

#include "io/netif.h"
#include "lib/espimg.h"
#include "lib/ewl_msg.h"
#include "sonota/flash_opts.h"
#include "sonota/server.h"
#include "sonota/ui.h"

#include <signal.h>
#include <stdint.h>

#define UPGRADE_VERSION "99.99.99"  /* §1.5: newer than anything, by strcmp and numerically */

enum rstate {
    RS_WAIT_AP,     /* stage 1: waiting for a 10.10.7.x address */
    RS_GET_DEVICE,  /* stage 1: GET /device */
    RS_POST_AP,     /* stage 1: POST /ap */
    RS_WAIT_HOME,   /* stage 2: waiting for the serving IP to come back */
    RS_CLOUD,       /* stage 2: dispatch, WebSocket, upgrade, intermediate download */
    RS_FINAL,       /* stage 3: FinalStage, final image */
    RS_DONE,
};

enum { ST_PROV, ST_CLOUD, ST_FINAL };

struct flash_img {
    const char *role, *name, *path;
    enum espimg_use use;
    unsigned char *data;
    size_t len;
    char sha256[65];
    int valid;
};

struct run {
    struct flash_opts *o;
    struct ui ui;
    struct ui_ctx ctx;
    struct flash_img img[3];
    char serving_ip[NETIF_IP_MAX];
    struct srv *srv;
    volatile sig_atomic_t *stop;
    enum rstate st;
    int64_t deadline, st_since, next_poll, last_hint;
    int64_t stage_t[3][2];          /* start, end in ms (0 = not reached) */
    int exit_code;                  /* -1 while running */
    struct ewl_device_info dev;
    char model[EWL_MODEL_MAX], rom[EWL_VERSION_MAX];
    int rom_warned, tls_warned, n404, post_tries, downloads_seen, final_ip_seen;
    char final_other_warned[NETIF_IP_MAX];
    char stock_file[64];            /* what the stock firmware downloaded (user1/user2) */
};

/* Ends the run with an error event/line and an exit status. */
void run_fail(struct run *r, int code, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records the stage start (first time only, with its banner) and closes the others. */
void run_stage_enter(struct run *r, int which, const char *name);
void run_set_state(struct run *r, enum rstate st);
/* The server's event callback (user = struct run *). */
void run_on_event(const struct srv_event *ev, void *user);
/* Runs until done, failed, interrupted or timed out; sets r->exit_code. */
void run_loop(struct run *r);

#endif
