/* flash_run.c - the loop of `sonota flash`: one step per state (address polling, stage 1
 * HTTP calls) between server slices (flash_net.c); the server's events are in
 * flash_events.c (PROTOCOL.md §1.2-§1.5, §4, §10). Every state survives the network
 * going away and coming back (§8: "script exits when WiFi drops"); only --timeout and
 * the bounded waits for the user end a run. */
#include "sonota/flash_run.h"

#include "io/log.h"
#include "sonota/cmds.h"
#include "sonota/prov.h"
#include "sonota/stage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOOP_MS 150                 /* srv_run_once slice */
#define POLL_IP_MS 2000             /* local address rescans (§10.1: every ~2 s) */
#define WAIT_AP_MS (10 * 60 * 1000) /* joining ITEAD-<id> by hand */
#define WAIT_HOME_MS (10 * 60 * 1000)
#define GET_DEVICE_ATTEMPTS 30      /* ~60 s of GET /device, 2 s each (§1.2) */
#define POST_AP_MS 5000             /* the device answers before it drops its AP */
#define POST_AP_TRIES 3
#define HINT_CLOUD_MS (90 * 1000)   /* no dispatch by then: say what to check */
#define HINT_FINAL_MS (120 * 1000)
#define HINT_REPEAT_MS (5 * 60 * 1000)
#define DRAIN_MS 600                /* let the last bytes leave before closing */
#define HOME_OTHER_MS (20 * 1000)   /* back on a network without the serving IP: say so */

void run_fail(struct run *r, int code, const char *tag, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ui_error(&r->ui, tag, code, "%s", text);
    if (r->exit_code < 0)
        r->exit_code = code;
}

void run_stage_enter(struct run *r, int which, const char *name)
{
    int64_t now = ui_now_ms();
    for (int i = 0; i < 3; i++)
        if (i != which && r->stage_t[i][0] && !r->stage_t[i][1])
            r->stage_t[i][1] = now;
    int later = 0; /* stages are announced in order only (docs/EVENTS.md) */
    for (int i = which + 1; i < 3; i++)
        later |= r->stage_t[i][0] != 0;
    if (!r->stage_t[which][0] && !later) {
        r->stage_t[which][0] = now;
        ui_stage(&r->ui, name);
    }
}

