/* flash.h - the emulated 1 MB SPI flash of the device, kept in a file (PROTOCOL.md §5).
 * NOR semantics: erase sets a 4 KiB sector to 0xFF, a write can only clear bits (new =
 * old & data), writes start 4-byte aligned as spi_flash_write requires. */
#ifndef SIM_FLASH_H
#define SIM_FLASH_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define FLASH_SIZE 0x100000u
#define FLASH_SECTOR 4096u
#define FLASH_BOOT 0x00000u
#define FLASH_USER1 0x01000u
#define FLASH_USER2 0x81000u
#define FLASH_STOCK_CFG 0x79000u   /* stock WiFi/server config (E2A-k, §1.2) [?] */
#define FLASH_RF_CAL 0xFB000u
#define FLASH_PHY_INIT 0xFC000u
#define FLASH_SYS_PARAM 0xFD000u   /* 3 sectors, boot slot selection (§5) */

struct sim_flash {
    int fd;
    uint8_t *mem;      /* whole image, written through to the file */
    int created;       /* the file was new */
};

/* Opens path, creating a 1 MB file of 0xFF when missing (created = 1). A file of another
 * size is refused (SO_E_ARG) with a message in err. */
enum so_err flash_open(struct sim_flash *f, const char *path, char *err, size_t errcap);
void flash_close(struct sim_flash *f);

enum so_err flash_erase_sector(struct sim_flash *f, unsigned sector);
/* addr 4-byte aligned; n is padded up to a multiple of 4 with 0xFF (no change). */
enum so_err flash_write(struct sim_flash *f, uint32_t addr, const void *data, size_t n);
enum so_err flash_read(const struct sim_flash *f, uint32_t addr, void *out, size_t n);
/* Direct read-only view (addr + n ≤ FLASH_SIZE). */
const uint8_t *flash_view(const struct sim_flash *f, uint32_t addr);

/* System parameters: the SDK's boot slot (1 or 2) and upgrade flag (§5; own encoding).
 * Erased or corrupt parameters read as slot 1 [?] with *valid = 0. */
int flash_boot_slot(const struct sim_flash *f, int *valid);
enum so_err flash_set_boot_slot(struct sim_flash *f, int slot, int upgrade_flag);

/* Provisioning record the stock firmware keeps (serverName, port, ssid; the sim does
 * not store the password). Returns 0 when present. */
int flash_get_provision(const struct sim_flash *f, char *host, size_t hostcap, int *port,
                        char *ssid, size_t ssidcap);
enum so_err flash_set_provision(struct sim_flash *f, const char *host, int port,
                                const char *ssid);

#endif
