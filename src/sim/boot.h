/* boot.h - what the emulated flash boots (PROTOCOL.md §4, §5), and the factory layout. */
#ifndef SIM_BOOT_H
#define SIM_BOOT_H

#include "lib/err.h"
#include "sim/spiflash.h"
#include "sim/sim.h"

#include <stddef.h>

enum boot_kind {
    BOOT_BRICKED,       /* nothing the ROM/bootloader could start */
    BOOT_STOCK,         /* Espressif bootloader + the factory image in the selected slot */
    BOOT_INTERMEDIATE,  /* Espressif bootloader + another valid v2 image (run as E2A) */
    BOOT_FINAL,         /* Arduino eboot at 0x0 + valid app at 0x1000 */
};

struct boot_info {
    enum boot_kind kind;
    int slot;                   /* 1/2 for stock and intermediate */
    char what[SIM_TEXT];        /* one line for humans */
    size_t final_len;           /* BOOT_FINAL: bytes of the image from 0x0 */
    char final_sha256[65];
};

/* Factory layout (§5): a small Espressif-bootloader-like v1 image at 0x0, the stock
 * firmware (v2 test image) in `slot`, RF cal and PHY init data, system params → slot. */
enum so_err boot_make_stock_layout(struct spiflash *f, int slot, char *err, size_t errcap);
void boot_check(const struct spiflash *f, struct boot_info *bi);

#endif
