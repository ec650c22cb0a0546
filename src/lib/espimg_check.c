/* espimg_check.c - is a parsed image fit for one flashing path? The rules come from
 * PROTOCOL.md §10.9 with the limits of §1.5 (user slots), §4 (E2A final) and §6 (DIY). */
#include "lib/espimg.h"
#include "lib/fmt_attr.h"

#include <stdarg.h>
#include <stdio.h>

SO_PRINTF(4, 5)
static enum so_err fail(char *why, size_t cap, enum so_err code, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *slot_why_text(enum espimg_slot_why w)
{
    switch (w) {
    case ESPIMG_SLOT_WHY_NONE: return "";
    case ESPIMG_SLOT_WHY_ENTRY: return "entry point not in IRAM";
    case ESPIMG_SLOT_WHY_FEW: return "too few references into either slot's irom";
    case ESPIMG_SLOT_WHY_START: return "code does not start at 0x40201010 or 0x40281010";
    case ESPIMG_SLOT_WHY_OUTSIDE: return "references outside the slot's irom";
    }
    return "?";
}

static enum so_err check_user(const struct espimg_info *in, size_t len, int slot, char *why,
                              size_t cap)
{
    const char *use = slot == 1 ? "user1" : "user2";
    if (in->format != ESPIMG_FMT_V2) {
        if (in->full_image)
            return fail(why, cap, SO_E_IMG_FORMAT,
                        "This is a full Arduino image (eboot + app, magic 0xE9), which is the "
                        "final-stage image; the %s slot needs a v2 (0xEA) OTA user image such "
                        "as image_%s-0x%05x.bin from Espressif2Arduino.",
                        use, use, slot == 1 ? ESPIMG_FLASH_USER1 : ESPIMG_FLASH_USER2);
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "This is a v1 (0xE9) image, but the stock firmware's %s slot needs a v2 "
                    "(0xEA) OTA user image; build it with 'sonota image elf2image --version 2' "
                    "(or esptool.py elf2image --version 2) from an ELF linked at 0x%08x.",
                    use, slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2);
    }
    if (!in->crc_ok)
        return fail(why, cap, SO_E_IMG_CRC,
                    "The v2 image's CRC32 does not match (stored 0x%08x, computed 0x%08x): the "
                    "file is corrupt or truncated; download or build it again.",
                    (unsigned)in->crc_stored, (unsigned)in->crc_computed);
    if (!in->checksum_ok)
        return fail(why, cap, SO_E_IMG_CHECKSUM,
                    "The image's XOR checksum does not match (stored 0x%02x, computed 0x%02x): "
                    "the file is corrupt; download or build it again.",
                    in->checksum_stored, in->checksum_computed);
    if (in->slot == 0) {
        const struct espimg_slot_refs *r = &in->slot_refs[slot - 1];
        return fail(why, cap, SO_E_IMG_SLOT,
                    "This image is linked for neither OTA slot (slot unknown: %s; entry "
                    "0x%08x; %u references into the flash mapping, 0x%08x..0x%08x; %s's "
                    "window: %u inside, %u in its first 4 KiB, %u below, %u past its end); a "
                    "%s image must be linked with irom0 at exactly 0x%08x, or it crashes "
                    "after the reboot. Use --force only if you built it so.",
                    slot_why_text(in->slot_why), (unsigned)in->entry, (unsigned)in->refs_map,
                    (unsigned)in->ref_lo, (unsigned)in->ref_hi, use, (unsigned)r->inside,
                    (unsigned)r->head, (unsigned)r->below, (unsigned)r->above, use,
                    slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2);
    }
    if (in->slot != slot)
        return fail(why, cap, SO_E_IMG_SLOT,
                    "This image is linked for user%d (irom at 0x%08x) but is offered as %s "
                    "(flash 0x%05x): it would crash after the reboot; use the image built for "
                    "%s (irom0 at 0x%08x).",
                    in->slot, in->slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2, use,
                    slot == 1 ? ESPIMG_FLASH_USER1 : ESPIMG_FLASH_USER2, use,
                    slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2);
    if (len > ESPIMG_MAX_USER)
        return fail(why, cap, SO_E_TOOBIG,
                    "The image is %zu bytes, more than the %u bytes (460 KiB) the stock "
                    "firmware accepts for an OTA slot; use a smaller intermediate image.",
                    len, ESPIMG_MAX_USER);
    /* user2 is also fetched by Espressif2Arduino in FinalStage, which wants ≥ 4096 B (§4). */
    if (slot == 2 && len < ESPIMG_MIN_E2A)
        return fail(why, cap, SO_E_IMG_SHORT,
                    "The image is only %zu bytes; Espressif2Arduino refuses downloads shorter "
                    "than %u bytes.", len, ESPIMG_MIN_E2A);
    return SO_OK;
}

/* Checksums of a v1 image and, for a full image, of its app. A modern Arduino app's XOR
 * checksum is stale by design (elf2bin writes its CRC afterwards), so the Arduino CRC, when
 * present, stands in for it. */
static enum so_err check_v1_sums(const struct espimg_info *in, char *why, size_t cap)
{
    if (!in->checksum_ok)
        return fail(why, cap, SO_E_IMG_CHECKSUM,
                    "The XOR checksum of the %s at offset 0 does not match (stored 0x%02x, "
                    "computed 0x%02x): the file is corrupt; download or build it again.",
                    in->full_image ? "bootloader (eboot) image" : "image",
                    in->checksum_stored, in->checksum_computed);
    if (!in->full_image)
        return SO_OK;
    if (in->arduino_crc_present && !in->arduino_crc_ok)
        return fail(why, cap, SO_E_IMG_CHECKSUM,
                    "The Arduino CRC stored at 0x%x does not match (stored 0x%08x, computed "
                    "0x%08x): the file is corrupt; eboot would refuse it.",
                    ESPIMG_ARDUINO_CRC_VAL_OFF, (unsigned)in->arduino_crc_stored,
                    (unsigned)in->arduino_crc_computed);
    if (!in->arduino_crc_present && !in->app.checksum_ok)
        return fail(why, cap, SO_E_IMG_CHECKSUM,
                    "The XOR checksum of the app image at 0x%x does not match (stored 0x%02x, "
                    "computed 0x%02x): the file is corrupt; download or build it again.",
                    ESPIMG_APP_OFFSET, in->app.checksum_stored, in->app.checksum_computed);
    return SO_OK;
}

/* Flash mode DOUT and size 1 MB in the header at 0 (what the ROM reads) and in the app. */
static enum so_err check_mode_size(const struct espimg_info *in, const char *what, char *why,
                                   size_t cap)
{
    const char *where = in->full_image ? "bootloader header" : "header";
    uint8_t mode = in->flash_mode, size = in->flash_size;
    if (mode == ESPIMG_MODE_DOUT && in->full_image) {
        where = "app header at 0x1000";
        mode = in->app.flash_mode;
    }
    if (mode != ESPIMG_MODE_DOUT)
        return fail(why, cap, SO_E_IMG_FLASH_MODE,
                    "The %s says flash mode %s (%u), but %s must be DOUT (3): Sonoff modules "
                    "wire the flash for dual output; rebuild with flash mode DOUT.",
                    where, espimg_flash_mode_name(mode), mode, what);
    where = in->full_image ? "bootloader header" : "header";
    if (size == ESPIMG_SIZE_1M && in->full_image) {
        where = "app header at 0x1000";
        size = in->app.flash_size;
    }
    if (size != ESPIMG_SIZE_1M)
        return fail(why, cap, SO_E_IMG_FLASH_SIZE,
                    "The %s says flash size %s (code %u), but %s must be built for 1 MB "
                    "flash (code 2); rebuild with flash size 1MB.",
                    where, espimg_flash_size_name(size), size, what);
    return SO_OK;
}

/* What the ROM and eboot need from an image written at 0x0 (§5): a full image (eboot
 * padded to 0x1000, a complete app at 0x1000), eboot where Arduino links it, checksums or
 * Arduino CRC, DOUT and 1 MB, the app's irom where its flash is mapped. Both the final
 * stage and DIY mode write the file from 0x0, so both need all of it. */
static enum so_err check_full(const struct espimg_info *in, const char *what, char *why,
                              size_t cap)
{
    if (in->format != ESPIMG_FMT_V1)
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "This is a v2 (0xEA) OTA user image; %s is written at 0x0 and must be a "
                    "full Arduino image (v1 0xE9 eboot + app at 0x1000), e.g. tasmota-lite.bin.",
                    what);
    if (!in->full_image && in->app_err != SO_E_IMG_MAGIC)
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "The app image at 0x%x is incomplete or invalid (%s): %s must be eboot "
                    "followed by a complete app, or the device does not boot; download or "
                    "build it again.", ESPIMG_APP_OFFSET, so_strerror(in->app_err), what);
    if (!in->full_image && in->eboot_like)
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "This file holds only a bootloader (eboot, %zu bytes) and no app at 0x%x: "
                    "the device would not boot; use the full .bin of an Arduino build (eboot "
                    "padded to 0x1000 + app), e.g. tasmota-lite.bin.",
                    in->used_len, ESPIMG_APP_OFFSET);
    if (!in->full_image)
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "This v1 image has no app at 0x%x, so it lacks the Arduino bootloader "
                    "(eboot) that must sit at 0x0 and the device would not boot; use the full "
                    ".bin of an Arduino build (eboot padded to 0x1000 + app), e.g. "
                    "tasmota-lite.bin.", ESPIMG_APP_OFFSET);
    if (!in->eboot_like)
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "The image at 0x0 loads at 0x%08x, not where Arduino's eboot lives "
                    "(0x%08x), so nothing would start the app at 0x%x; use the full .bin of an "
                    "Arduino build, e.g. tasmota-lite.bin.",
                    (unsigned)in->seg[0].addr, ESPIMG_EBOOT_ADDR, ESPIMG_APP_OFFSET);
    enum so_err e = check_v1_sums(in, why, cap);
    if (e == SO_OK)
        e = check_mode_size(in, what, why, cap);
    if (e != SO_OK)
        return e;
    if (in->app_irom_misplaced)
        return fail(why, cap, SO_E_IMG_SLOT,
                    "The app's irom segment is linked at 0x%08x but its flash is mapped at "
                    "0x%08x once the image sits at 0x0: the code would crash; rebuild it with "
                    "irom0 at 0x%08x.", (unsigned)in->app_irom_addr,
                    (unsigned)in->app_irom_want, ESPIMG_IROM_SLOT1);
    return SO_OK;
}

static enum so_err check_minimal(const struct espimg_info *in, char *why, size_t cap)
{
    if (in->tasmota_minimal)
        return fail(why, cap, SO_E_IMG_FORMAT,
                    "tasmota-minimal cannot be the first image: flash a full build such as "
                    "tasmota-lite first (minimal has no settings and cannot do anything but "
                    "take the next upgrade).");
    return SO_OK;
}

static enum so_err check_final(const struct espimg_info *in, size_t len, char *why, size_t cap)
{
    enum so_err e = check_full(in, "the final image", why, cap);
    if (e == SO_OK)
        e = check_minimal(in, why, cap);
    if (e != SO_OK)
        return e;
    if (len > ESPIMG_MAX_FINAL)
        return fail(why, cap, SO_E_TOOBIG,
                    "The image is %zu bytes, more than the %u bytes (512 KiB) Espressif2Arduino "
                    "can write below itself; flash a smaller build (e.g. tasmota-lite) and "
                    "upgrade from Tasmota afterwards.", len, ESPIMG_MAX_FINAL);
    if (len < ESPIMG_MIN_E2A)
        return fail(why, cap, SO_E_IMG_SHORT,
                    "The image is only %zu bytes; Espressif2Arduino refuses downloads shorter "
                    "than %u bytes.", len, ESPIMG_MIN_E2A);
    return SO_OK;
}

static enum so_err check_diy(const struct espimg_info *in, size_t len, char *why, size_t cap)
{
    enum so_err e = check_full(in, "a DIY-mode image", why, cap);
    if (e == SO_OK)
        e = check_minimal(in, why, cap);
    if (e != SO_OK)
        return e;
    if (len > ESPIMG_MAX_DIY)
        return fail(why, cap, SO_E_TOOBIG,
                    "The image is %zu bytes, more than the %u bytes (508 KiB) DIY mode accepts "
                    "(the device answers 413); use tasmota-lite or another small build.",
                    len, ESPIMG_MAX_DIY);
    return SO_OK;
}

enum so_err espimg_check_boot(const struct espimg_info *info, char *why, size_t whycap)
{
    if (why && whycap)
        why[0] = '\0';
    if (!info || (info->format != ESPIMG_FMT_V1 && info->format != ESPIMG_FMT_V2))
        return fail(why, whycap, SO_E_ARG, "The image was not parsed successfully.");
    return check_full(info, "the image at 0x0", why, whycap);
}

void espimg_parse_error(const struct espimg_info *info, enum so_err err, char *why,
                        size_t whycap)
{
    const char *chip = info ? espimg_chip_name(info->foreign_chip) : NULL;
    if (info && info->foreign == ESPIMG_FOREIGN_GZIP)
        fail(why, whycap, err, "gzip file: unpack it first (gunzip FILE); the device needs "
             "the raw .bin, not .bin.gz.");
    else if (info && info->foreign == ESPIMG_FOREIGN_ESP32)
        fail(why, whycap, err, "This is an ESP32 image (chip id %u, %s), not ESP8266: Sonoff "
             "switches of this kind have an ESP8266; use the ESP8266 build (e.g. "
             "tasmota-lite.bin).", info->foreign_chip, chip ? chip : "?");
    else
        fail(why, whycap, err, "Not an ESP8266 image sonota can parse: %s.", so_strerror(err));
}

void espimg_slot_evidence(const struct espimg_info *in, char *out, size_t cap)
{
    const struct espimg_slot_refs *r = in->slot_refs;
    int n = snprintf(out, cap, "entry 0x%08x%s; %u reference%s into the flash mapping",
                     (unsigned)in->entry, in->entry_iram ? " (IRAM)" : " (NOT in IRAM)",
                     (unsigned)in->refs_map, in->refs_map == 1 ? "" : "s");
    if (n < 0 || (size_t)n >= cap)
        return;
    if (in->refs_map)
        n += snprintf(out + n, cap - (size_t)n, ", 0x%08x..0x%08x", (unsigned)in->ref_lo,
                      (unsigned)in->ref_hi);
    for (int s = 0; s < 2 && n >= 0 && (size_t)n < cap; s++)
        n += snprintf(out + n, cap - (size_t)n,
                      "; user%d: %u inside, %u in its first 4 KiB, %u below, %u past the end "
                      "(%u of them within 256 B), %u elsewhere", s + 1, (unsigned)r[s].inside,
                      (unsigned)r[s].head, (unsigned)r[s].below, (unsigned)r[s].above,
                      (unsigned)r[s].edge, (unsigned)r[s].outside);
    if (!in->slot && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " => %s", slot_why_text(in->slot_why));
}

enum so_err espimg_check(const struct espimg_info *info, size_t len, enum espimg_use use,
                         char *why, size_t whycap)
{
    if (why && whycap)
        why[0] = '\0';
    if (!info || (info->format != ESPIMG_FMT_V1 && info->format != ESPIMG_FMT_V2))
        return fail(why, whycap, SO_E_ARG, "The image was not parsed successfully.");
    if (len < info->used_len)
        return fail(why, whycap, SO_E_ARG,
                    "The length given (%zu bytes) is shorter than the parsed image (%zu bytes).",
                    len, info->used_len);
    switch (use) {
    case ESPIMG_USE_USER1: return check_user(info, len, 1, why, whycap);
    case ESPIMG_USE_USER2: return check_user(info, len, 2, why, whycap);
    case ESPIMG_USE_FINAL: return check_final(info, len, why, whycap);
    case ESPIMG_USE_DIY: return check_diy(info, len, why, whycap);
    }
    return fail(why, whycap, SO_E_ARG, "Unknown image use %d.", (int)use);
}
