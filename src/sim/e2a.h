/* e2a.h - the intermediate firmware Espressif2Arduino as SonOTA ships it (PROTOCOL.md §4):
 * FinalStage polling, HTTP/1.0 downloads, the ROM2 and ROM1/final flashing paths. */
#ifndef SIM_E2A_H
#define SIM_E2A_H

#include "sim/sim.h"

enum e2a_result {
    E2A_REBOOT,   /* ESP.restart() / system_upgrade_reboot(): boot again */
    E2A_END,      /* the device idles or hangs, or stop-after; reason set */
};

/* Runs E2A booted from user`rom` (system_upgrade_userbin_check() + 1). */
enum e2a_result e2a_run(struct sim_ctx *s, int rom);

#endif
