#include "sim/powerloss.h"

#include "io/log.h"

#include <stdio.h>
#include <unistd.h>

static const char *which_name(enum sim_pl w)
{
    switch (w) {
    case SIM_PL_OFF: return "off";
    case SIM_PL_STOCK: return "stock";
    case SIM_PL_ROM2: return "rom2";
    case SIM_PL_FINAL: return "final";
    }
    return "?";
}

void powerloss_write(struct sim_ctx *s, enum sim_pl which, unsigned long long off,
                     uint32_t addr, const void *data, size_t n)
{
    const struct sim_faults *f = &s->o->faults;
    if (f->power_loss == SIM_PL_OFF || f->power_loss != which || f->power_loss_at < 0)
        return;
    unsigned long long at = (unsigned long long)f->power_loss_at;
    if (at < off || at >= off + n)
        return;
    size_t done = (size_t)(at - off) & ~(size_t)3; /* whole words programmed before the cut */
    if (done)
        (void)spiflash_write(&s->flash, addr, data, done);
    LOG_W("fault power-loss: power cut while writing byte %llu of the %s download to flash "
          "at 0x%05x (%zu of %zu bytes of this write done)", at, which_name(which),
          (unsigned)(addr + (uint32_t)(at - off)), done, n);
    /* The flash file already holds every erase and write; make it durable, say what
     * happened (the harness, not the device) and die without any other cleanup. */
    if (s->flash.fd >= 0)
        (void)fsync(s->flash.fd);
    printf("sonoff-sim: POWER LOSS (--fault power-loss=%s:%llu): the device died while "
           "writing byte %llu; the flash file keeps what was written\n", which_name(which),
           at, at);
    fflush(stdout);
    _exit(SIM_EXIT_POWER_LOSS);
}
