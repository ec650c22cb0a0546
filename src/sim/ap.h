/* ap.h - the pairing AP's HTTP server ("compatible pairing", PROTOCOL.md §1.2):
 * GET /device and POST /ap, strict, one connection at a time. */
#ifndef SIM_AP_H
#define SIM_AP_H

#include "lib/err.h"
#include "sim/sim.h"

/* Serves until a valid POST /ap arrives (SO_OK: s->server_host/port/ssid set, the
 * listener closed) or the run deadline passes (SO_E_TIMEOUT). SO_E_IO when the listener
 * cannot be opened. Reason in the report on failure. */
enum so_err ap_run(struct sim_ctx *s);

#endif
