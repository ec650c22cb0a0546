/* image_show.c - the human block of `sonota image info` (see image_show.h). */
#include "sonota/image_show.h"

#include "lib/espimg_json.h"
#include "sonota/ui.h"

#include <inttypes.h>
#include <stdio.h>

/* A line of the block on stdout, through u. */
#define OUT(...) ui_text(u, u->out, NULL, __VA_ARGS__)

static void show_segs(struct ui *u, const struct espimg_segment *seg, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        OUT("    %-2u load 0x%08" PRIx32 "  len %7" PRIu32 "  file offset 0x%06" PRIx32 "\n",
               i, seg[i].addr, seg[i].len, seg[i].offset);
}

static void show_flash(struct ui *u, const char *label, uint8_t mode, uint8_t size, uint8_t freq,
                        uint32_t entry)
{
    OUT("  %-12s flash %s, %s, %s, entry 0x%08" PRIx32 "\n", label,
           espimg_flash_mode_name(mode), espimg_flash_size_name(size),
           espimg_flash_freq_name(freq), entry);
}

void image_show(struct ui *u, const char *path, size_t len, const char *sha,
                        const struct espimg_info *in)
{
    OUT("%s\n  %-12s %zu bytes, sha256 %s\n", path, "size", len, sha);
    if (in->format == ESPIMG_FMT_V2)
        OUT("  %-12s v2 (0xEA, OTA user image for the Espressif bootloader)\n", "format");
    else if (in->full_image)
        OUT("  %-12s v1 (0xE9), full Arduino image: eboot at 0x0 + app at 0x%x\n", "format",
               ESPIMG_APP_OFFSET);
    else
        OUT("  %-12s v1 (0xE9, ROM-loadable image%s)\n", "format",
               in->eboot_like ? ", looks like a bootloader" : "");
    if (in->format == ESPIMG_FMT_V2) {
        show_flash(u, "v2 header", in->v2_flash_mode, in->v2_flash_size, in->v2_flash_freq,
                    in->v2_entry);
        OUT("  %-12s %" PRIu32 " bytes at file offset 0x%" PRIx32
               " (runs at 0x%08x from user1, 0x%08x from user2)\n", "irom",
               in->irom.len, in->irom.offset, ESPIMG_IROM_SLOT1, ESPIMG_IROM_SLOT2);
    }
    show_flash(u, in->format == ESPIMG_FMT_V2 ? "header" : in->full_image ? "eboot header"
                                                                          : "header",
                in->flash_mode, in->flash_size, in->flash_freq, in->entry);
    OUT("  %-12s %u\n", "segments", in->nsegs);
    show_segs(u, in->seg, in->nsegs);
    OUT("  %-12s %s (stored 0x%02x, computed 0x%02x)\n", "checksum",
           in->checksum_ok ? "ok" : "MISMATCH", in->checksum_stored, in->checksum_computed);
    if (in->format == ESPIMG_FMT_V2)
        OUT("  %-12s %s (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")\n", "crc32",
               in->crc_ok ? "ok" : "MISMATCH", in->crc_stored, in->crc_computed);
    if (in->full_image) {
        show_flash(u, "app header", in->app.flash_mode, in->app.flash_size, in->app.flash_freq,
                    in->app.entry);
        OUT("  %-12s %u\n", "app segments", in->app.nsegs);
        show_segs(u, in->app.seg, in->app.nsegs);
        OUT("  %-12s %s (stored 0x%02x, computed 0x%02x)\n", "app checksum",
               in->app.checksum_ok ? "ok" : "MISMATCH", in->app.checksum_stored,
               in->app.checksum_computed);
        if (in->arduino_crc_present)
            OUT("  %-12s %s (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")\n",
                   "arduino crc", in->arduino_crc_ok ? "ok" : "MISMATCH",
                   in->arduino_crc_stored, in->arduino_crc_computed);
        else
            OUT("  %-12s not present\n", "arduino crc");
    }
    const char *how = espimg_slot_how_name(in->slot_how);
    char ev[512];
    espimg_slot_evidence(in, ev, sizeof ev);
    if (in->format == ESPIMG_FMT_V2 && in->slot)
        OUT("  %-12s user%d (irom at 0x%08x; found by %s)\n  %-12s %s\n", "linked for",
               in->slot, in->slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2, how,
               "evidence", ev);
    else if (in->format == ESPIMG_FMT_V2)
        OUT("  %-12s UNKNOWN: neither slot (user1 0x%08x, user2 0x%08x)\n  %-12s %s\n",
               "linked for", ESPIMG_IROM_SLOT1, ESPIMG_IROM_SLOT2, "evidence", ev);
    else if (in->slot)
        OUT("  %-12s irom at 0x%08x (runs from flash 0x%05x; by %s)\n", "linked for",
               in->slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2,
               in->slot == 1 ? ESPIMG_FLASH_USER1 : ESPIMG_FLASH_USER2, how);
    else
        OUT("  %-12s no irom segment (RAM-only image)\n", "linked for");
    if (in->full_image && in->app_irom_misplaced)
        OUT("  %-12s app irom linked at 0x%08" PRIx32 " but mapped at 0x%08" PRIx32 "\n",
               "MISPLACED", in->app_irom_addr, in->app_irom_want);
    if (in->format == ESPIMG_FMT_V1)
        OUT("  %-12s %s\n", "build", in->tasmota_minimal
               ? "tasmota-minimal (never the first image: flash tasmota-lite first)"
               : "not tasmota-minimal");
    OUT("  %-12s %s\n", "full image", in->full_image ? "yes (eboot + app at 0x1000)" : "no");
    OUT("  %-12s %zu bytes used, %zu trailing\n", "length", in->used_len, in->trailing);
    OUT("  fit for\n");
    for (int use = 0; use < ESPIMG_USE__COUNT; use++) {
        char why[512];
        enum so_err e = espimg_check(in, len, (enum espimg_use)use, why, sizeof why);
        if (e == SO_OK)
            OUT("    %-10s yes\n", espimg_use_name((enum espimg_use)use));
        else
            OUT("    %-10s NO: %s\n", espimg_use_name((enum espimg_use)use), why);
    }
}
