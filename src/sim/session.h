/* session.h - one stock-firmware cloud session: dispatch, WebSocket, the message order
 * of §1.4, heartbeats, and the upgrade of §1.5 with its download and verdict. */
#ifndef SIM_SESSION_H
#define SIM_SESSION_H

#include "sim/sim.h"

enum sess_result {
    SESS_REBOOT,   /* the flash now boots something else (or a restart was asked) */
    SESS_RETRY,    /* failed; the firmware starts over from dispatch */
    SESS_END,      /* the run ends here (stop-after, brick risk, no upgrade); reason set */
};

/* Runs one session with the firmware running in `running_slot`. */
enum sess_result session_run(struct sim_ctx *s, int running_slot);

#endif
