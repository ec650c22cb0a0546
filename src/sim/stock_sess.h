/* stock_sess.h - one stock-firmware cloud session: dispatch, WebSocket, the message order
 * of §1.4, heartbeats, and the upgrade of §1.5 with its download and verdict. */
#ifndef SIM_STOCK_SESS_H
#define SIM_STOCK_SESS_H

#include "sim/sim.h"

enum stock_sess_result {
    STOCK_SESS_REBOOT,   /* the flash now boots something else (or a restart was asked) */
    STOCK_SESS_RETRY,    /* failed; the firmware starts over from dispatch */
    STOCK_SESS_END,      /* the run ends here (stop-after, brick risk, no upgrade); reason set */
};

/* Runs one session with the firmware running in `running_slot`. */
enum stock_sess_result stock_sess_run(struct sim_ctx *s, int running_slot);

#endif
