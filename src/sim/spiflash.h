/* spiflash.h - the emulated 1 MB SPI flash of the device, kept in a file (PROTOCOL.md §5).
 * NOR semantics: erase sets a 4 KiB sector to 0xFF, a write can only clear bits (new =
 * old & data), writes start 4-byte aligned as spi_flash_write requires. */
#ifndef SIM_SPIFLASH_H
#define SIM_SPIFLASH_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define SPIFLASH_SIZE 0x100000u
#define SPIFLASH_SECTOR 4096u
#define SPIFLASH_BOOT 0x00000u
#define SPIFLASH_USER1 0x01000u
#define SPIFLASH_USER2 0x81000u
#define SPIFLASH_STOCK_CFG 0x79000u   /* stock WiFi/server config (E2A-k, §1.2) [?] */
#define SPIFLASH_RF_CAL 0xFB000u
#define SPIFLASH_PHY_INIT 0xFC000u
#define SPIFLASH_SYS_PARAM 0xFD000u   /* 3 sectors, boot slot selection (§5) */

struct spiflash {
    int fd;
    uint8_t *mem;      /* whole image, written through to the file */
    int created;       /* the file was new */
};

/* Opens path, creating a 1 MB file of 0xFF when missing (created = 1). A file of another
 * size is refused (SO_E_ARG) with a message in err. */
enum so_err spiflash_open(struct spiflash *f, const char *path, char *err, size_t errcap);
void spiflash_close(struct spiflash *f);

enum so_err spiflash_erase_sector(struct spiflash *f, unsigned sector);
/* addr 4-byte aligned; n is padded up to a multiple of 4 with 0xFF (no change). */
enum so_err spiflash_write(struct spiflash *f, uint32_t addr, const void *data, size_t n);
/* Direct read-only view (addr + n ≤ SPIFLASH_SIZE). */
const uint8_t *spiflash_view(const struct spiflash *f, uint32_t addr);

/* System parameters: the SDK's boot slot (1 or 2) and upgrade flag (§5; own encoding).
 * Erased or corrupt parameters read as slot 1 [?] with *valid = 0. */
int spiflash_boot_slot(const struct spiflash *f, int *valid);
enum so_err spiflash_set_boot_slot(struct spiflash *f, int slot, int upgrade_flag);

/* Provisioning record the stock firmware keeps (serverName, port, ssid; the sim does
 * not store the password). Returns 0 when present. */
int spiflash_get_provision(const struct spiflash *f, char *host, size_t hostcap, int *port,
                           char *ssid, size_t ssidcap);
enum so_err spiflash_set_provision(struct spiflash *f, const char *host, int port,
                                   const char *ssid);

#endif
