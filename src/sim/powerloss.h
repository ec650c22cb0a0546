/* powerloss.h - --fault power-loss=WHICH:N: the device loses power while it writes file
 * byte N of one download to flash (PROTOCOL.md §1.5 stock OTA, §4 Espressif2Arduino).
 * What the flash chip already holds stays (the file is written through on every erase and
 * write), nothing else is flushed (no report), and the process ends at once. */
#ifndef SIM_POWERLOSS_H
#define SIM_POWERLOSS_H

#include "sim/sim.h"

#include <stddef.h>
#include <stdint.h>

#define SIM_EXIT_POWER_LOSS 3   /* exit status of a power cut (sonoff-sim --help) */

/* Called by a download right before it writes data[0..n) = file bytes [off, off+n) at
 * flash address addr (the sector is already erased, as the firmware erases first). When
 * the fault is set for this download and N falls in [off, off+n), the 4-byte words before
 * N are written (the SPI flash programs whole words; a cut between erase and write leaves
 * 0xFF), the flash file is synced and the process exits with SIM_EXIT_POWER_LOSS.
 * Otherwise it returns and the caller writes as usual. */
void powerloss_write(struct sim_ctx *s, enum sim_pl which, unsigned long long off,
                     uint32_t addr, const void *data, size_t n);

#endif
