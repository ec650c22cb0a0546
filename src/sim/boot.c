#include "sim/boot.h"

#include "io/crypto.h"
#include "lib/espimg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The factory firmware is a deterministic test image, so the boot check can recognise it
 * by content (a real device simply runs whatever code is there). */
#define STOCK_SEED 0x5700C1u
#define STOCK_SIZE 0u /* ESPIMG_DEFAULT_USER */

static uint32_t lcg(uint32_t *st)
{
    *st = *st * 1103515245u + 12345u;
    return *st >> 16;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* A v1 image shaped like the Espressif boot_v1.x loader: header E9 03 00 00 (§5), IRAM
 * code plus two DRAM segments, entry in IRAM; not Arduino's eboot (0x4010F000). */
static size_t make_bootloader(uint8_t *out, size_t cap)
{
    static const uint32_t seg_addr[3] = {0x40100000u, 0x3FFE8000u, 0x3FFE8400u};
    static const uint32_t seg_len[3] = {0x600u, 0x100u, 0x40u};
    uint32_t st = 0xB007u;
    size_t p = 8;
    uint8_t sum = 0xEF;
    out[0] = 0xE9;
    out[1] = 3;
    out[2] = 0x00;
    out[3] = 0x00;
    put32(out + 4, 0x40100004u);
    for (int s = 0; s < 3; s++) {
        if (p + 8 + seg_len[s] + 16 > cap)
            return 0;
        put32(out + p, seg_addr[s]);
        put32(out + p + 4, seg_len[s]);
        p += 8;
        for (uint32_t i = 0; i < seg_len[s]; i++) {
            out[p] = (uint8_t)lcg(&st);
            sum ^= out[p++];
        }
    }
    while ((p + 1) % 16)
        out[p++] = 0;
    out[p++] = sum;
    return p;
}

/* esp_init_data_default.bin starts 05 00 04 02 05 05 05 02 (SDK). */
static const uint8_t phy_init_head[8] = {0x05, 0x00, 0x04, 0x02, 0x05, 0x05, 0x05, 0x02};

enum so_err boot_make_stock_layout(struct spiflash *f, int slot, char *err, size_t errcap)
{
    uint8_t boot[SPIFLASH_SECTOR];
    memset(boot, 0xFF, sizeof boot);
    size_t bn = make_bootloader(boot, sizeof boot);
    uint8_t *img = NULL;
    size_t len = 0;
    enum so_err e = espimg_make_test(slot == 1 ? ESPIMG_USE_USER1 : ESPIMG_USE_USER2,
                                     STOCK_SIZE, STOCK_SEED, &img, &len);
    if (e != SO_OK || !bn) {
        snprintf(err, errcap, "cannot generate the stock firmware image (%s)", so_strerror(e));
        free(img);
        return e ? e : SO_E_ARG;
    }
    uint32_t base = slot == 1 ? SPIFLASH_USER1 : SPIFLASH_USER2;
    e = spiflash_erase_sector(f, 0);
    if (!e)
        e = spiflash_write(f, 0, boot, bn);
    for (size_t off = 0; !e && off < len; off += SPIFLASH_SECTOR) {
        size_t n = len - off < SPIFLASH_SECTOR ? len - off : SPIFLASH_SECTOR;
        e = spiflash_erase_sector(f, (base + (uint32_t)off) / SPIFLASH_SECTOR);
        if (!e)
            e = spiflash_write(f, base + (uint32_t)off, img + off, n);
    }
    free(img);
    uint8_t rf[128];
    uint32_t st = 0xCA1u;
    for (size_t i = 0; i < sizeof rf; i++)
        rf[i] = (uint8_t)lcg(&st);
    if (!e)
        e = spiflash_erase_sector(f, SPIFLASH_RF_CAL / SPIFLASH_SECTOR);
    if (!e)
        e = spiflash_write(f, SPIFLASH_RF_CAL, rf, sizeof rf);
    if (!e)
        e = spiflash_erase_sector(f, SPIFLASH_PHY_INIT / SPIFLASH_SECTOR);
    if (!e)
        e = spiflash_write(f, SPIFLASH_PHY_INIT, phy_init_head, sizeof phy_init_head);
    if (!e)
        e = spiflash_set_boot_slot(f, slot, 0);
    if (e)
        snprintf(err, errcap, "cannot write the stock layout");
    return e;
}

static int is_stock(const struct spiflash *f, int slot)
{
    uint8_t *img = NULL;
    size_t len = 0;
    if (espimg_make_test(slot == 1 ? ESPIMG_USE_USER1 : ESPIMG_USE_USER2, STOCK_SIZE,
                         STOCK_SEED, &img, &len) != SO_OK)
        return 0;
    uint32_t base = slot == 1 ? SPIFLASH_USER1 : SPIFLASH_USER2;
    int same = len <= SPIFLASH_SIZE - base && !memcmp(spiflash_view(f, base), img, len);
    free(img);
    return same;
}

static void bricked(struct boot_info *bi, const char *a, const char *b)
{
    bi->kind = BOOT_BRICKED;
    snprintf(bi->what, sizeof bi->what, "BRICKED: %.60s%.280s", a, b);
}

void boot_check(const struct spiflash *f, struct boot_info *bi)
{
    memset(bi, 0, sizeof *bi);
    struct espimg_info *in = calloc(1, sizeof *in);
    char why[SIM_TEXT];
    if (!in) {
        bricked(bi, "out of memory", "");
        return;
    }
    /* The ROM loads the v1 image at 0x0 (§5). */
    if (espimg_parse(spiflash_view(f, 0), SPIFLASH_SIZE, in) != SO_OK ||
        in->format != ESPIMG_FMT_V1 || !in->checksum_ok) {
        bricked(bi, "no valid v1 boot image at 0x0", "");
        free(in);
        return;
    }
    if (in->eboot_like) {
        /* Arduino eboot starts the app at 0x1000. */
        if (espimg_check_boot(in, why, sizeof why) != SO_OK) {
            bricked(bi, "Arduino eboot at 0x0 but no valid app: ", why);
        } else {
            bi->kind = BOOT_FINAL;
            bi->final_len = in->used_len;
            so_sha256_hex(spiflash_view(f, 0), in->used_len, bi->final_sha256);
            snprintf(bi->what, sizeof bi->what,
                     "final firmware (Arduino image of %zu bytes at 0x0, sha256 %.16s...)",
                     in->used_len, bi->final_sha256);
        }
        free(in);
        return;
    }
    /* Espressif bootloader: the slot from the system parameters (§5). */
    int valid = 0;
    int slot = spiflash_boot_slot(f, &valid);
    uint32_t base = slot == 1 ? SPIFLASH_USER1 : SPIFLASH_USER2;
    uint32_t region =
        slot == 1 ? SPIFLASH_USER2 - SPIFLASH_USER1 : SPIFLASH_RF_CAL - SPIFLASH_USER2;
    memset(in, 0, sizeof *in);
    enum so_err e = espimg_parse(spiflash_view(f, base), region, in);
    if (e != SO_OK || in->format != ESPIMG_FMT_V2) {
        snprintf(why, sizeof why, "bootloader selects user%d%s but 0x%05x holds no v2 image",
                 slot, valid ? "" : " (system params erased)", (unsigned)base);
        bricked(bi, "", why);
    } else if (espimg_check(in, in->used_len, slot == 1 ? ESPIMG_USE_USER1 : ESPIMG_USE_USER2,
                            why, sizeof why) != SO_OK) {
        bricked(bi, slot == 1 ? "user1 image: " : "user2 image: ", why);
    } else {
        bi->slot = slot;
        bi->kind = is_stock(f, slot) ? BOOT_STOCK : BOOT_INTERMEDIATE;
        snprintf(bi->what, sizeof bi->what, "%s firmware in user%d (Espressif bootloader%s)",
                 bi->kind == BOOT_STOCK ? "stock" : "intermediate", slot,
                 valid ? "" : ", system params erased: default user1");
    }
    free(in);
}
