/* diy_dev.h - sonoff-sim --mode diy: an ITEAD firmware 3.x device in DIY mode
 * (PROTOCOL.md §6): mDNS _ewelink._tcp with the real TXT record, the REST API on port 8081
 * in protocol v1.4 or v2.0, OTA unlock, ota_flash with a 4 KiB Range download, SHA-256
 * check and the result POST; a good image is written at 0x0 of the emulated flash and the
 * device reboots into it, showing up as Tasmota's web server on the LAN or at its AP
 * address (§7). */
#ifndef SIM_DIY_DEV_H
#define SIM_DIY_DEV_H

#include "sim/diy_opts.h"
#include "sim/sim.h"

/* Runs the device until the flash boots a final image and Tasmota has been visited (1),
 * or until the run timeout, SIGTERM/SIGINT or a fatal problem (0, reason in the report). */
int sim_diy_run(struct sim_ctx *s, const struct sim_diy_opts *d);

#endif
