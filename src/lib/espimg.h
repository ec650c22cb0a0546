/* espimg.h - ESP8266 firmware images: parse, validate for a flashing path, generate test
 * images. Formats and limits: PROTOCOL.md §5 (v1 0xE9, v2 0xEA, 1 MB layout), §1.5 (user
 * slot ≤ 460 KiB), §4 (E2A final ≤ 512 KiB), §6 (DIY ≤ 508 KiB, DOUT), §10.9 (sanity rules).
 * Pure: no I/O. */
#ifndef SO_ESPIMG_H
#define SO_ESPIMG_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* Header bytes (§5). */
#define ESPIMG_MAGIC_V1 0xE9
#define ESPIMG_MAGIC_V2 0xEA
#define ESPIMG_V2_SEGMENT_BYTE 0x04      /* constant "segment count" byte of a v2 header */
#define ESPIMG_CHECKSUM_SEED 0xEF        /* XOR checksum seed */
#define ESPIMG_MAX_SEGMENTS 16           /* per v1 header */
#define ESPIMG_MAX_SEGMENT_LEN 0x100000u /* larger than any ESP8266 mapping: table corrupt */

/* Flash mode byte (header byte 2). */
#define ESPIMG_MODE_QIO 0
#define ESPIMG_MODE_QOUT 1
#define ESPIMG_MODE_DIO 2
#define ESPIMG_MODE_DOUT 3

/* Flash size code (high nibble of header byte 3) and frequency code (low nibble). */
#define ESPIMG_SIZE_512K 0x0
#define ESPIMG_SIZE_256K 0x1
#define ESPIMG_SIZE_1M 0x2
#define ESPIMG_SIZE_2M 0x3
#define ESPIMG_SIZE_4M 0x4
#define ESPIMG_SIZE_2M_C1 0x5
#define ESPIMG_SIZE_4M_C1 0x6
#define ESPIMG_SIZE_8M 0x8
#define ESPIMG_SIZE_16M 0x9
#define ESPIMG_FREQ_40M 0x0
#define ESPIMG_FREQ_26M 0x1
#define ESPIMG_FREQ_20M 0x2
#define ESPIMG_FREQ_80M 0xF

/* Size limits (bytes). */
#define ESPIMG_MAX_USER 471040u  /* 460 KiB: stock fw refuses a larger user1/user2 (§1.5 IG) */
#define ESPIMG_MAX_FINAL 524288u /* 512 KiB: E2A final region 0x1000..0x81000 (§4) */
#define ESPIMG_MAX_DIY 520192u   /* 508 KiB: DIY ota_flash limit (§6 NJH) */
#define ESPIMG_MIN_E2A 4096u     /* E2A needs Content-Length ≥ 4096 (§4) */

/* 1 MB layout and link addresses (§4, §5). */
#define ESPIMG_FLASH_USER1 0x01000u
#define ESPIMG_FLASH_USER2 0x81000u
#define ESPIMG_APP_OFFSET 0x1000u           /* app of a full Arduino image (after eboot) */
#define ESPIMG_IROM_MAP 0x40200000u         /* flash mapped here */
#define ESPIMG_IROM_SLOT1 0x40201010u       /* irom0 org for user1 (0x1000 + 16 header bytes) */
#define ESPIMG_IROM_SLOT2 0x40281010u       /* irom0 org for user2 (0x81000 + 16) */
#define ESPIMG_IROM_END 0x40300000u         /* end of the 1 MB mapping window */
#define ESPIMG_EBOOT_ADDR 0x4010F000u       /* Arduino eboot load address (§5) */
#define ESPIMG_ARDUINO_CRC_LEN_OFF 0x1010u  /* Arduino elf2bin.py crcsize_offset */
#define ESPIMG_ARDUINO_CRC_VAL_OFF 0x1014u  /* Arduino elf2bin.py crcval_offset */
#define ESPIMG_ENTRY_USER 0x40100004u       /* call_user_start of SDK/Arduino apps (§5) */

enum espimg_use { ESPIMG_USE_USER1, ESPIMG_USE_USER2, ESPIMG_USE_FINAL, ESPIMG_USE_DIY };
#define ESPIMG_USE__COUNT 4

enum espimg_format { ESPIMG_FMT_V1 = 1, ESPIMG_FMT_V2 = 2 };

/* How the linked slot of an image was found. */
enum espimg_slot_how {
    ESPIMG_SLOT_UNKNOWN = 0, /* no evidence, or contradicting evidence */
    ESPIMG_SLOT_BY_SEGMENT,  /* v1: a segment loads inside one slot's irom mapping */
    ESPIMG_SLOT_BY_ENTRY,    /* (no longer decides: a v2 entry must be in IRAM) */
    ESPIMG_SLOT_BY_REFS,     /* v2: the code's irom references fit exactly one link base */
};

/* Why a v2 image's slot is unknown (ESPIMG_SLOT_WHY_NONE when it is known). */
enum espimg_slot_why {
    ESPIMG_SLOT_WHY_NONE = 0,
    ESPIMG_SLOT_WHY_ENTRY,   /* entry point not in IRAM (0x4010xxxx) */
    ESPIMG_SLOT_WHY_FEW,     /* fewer than ESPIMG_SLOT_REFS_MIN references into either window */
    ESPIMG_SLOT_WHY_START,   /* nothing refers to the first 4 KiB after a slot's link base */
    ESPIMG_SLOT_WHY_OUTSIDE, /* references below the base, past base+irom length, or
                                elsewhere in the flash mapping */
};

/* v2 slot evidence (the rule: DESIGN.md "Slot of a v2 image"). A reference is an aligned
 * 32-bit word in the irom or a RAM segment whose value lies in the 1 MB flash mapping
 * [0x40200000, 0x40300000); -mlongcalls code keeps every irom function address it calls
 * in such literal words. For each slot's link base B (0x40201010 / 0x40281010) and the
 * image's irom length L: */
struct espimg_slot_refs {
    uint32_t inside;  /* references in [B, B+L): where the code would be */
    uint32_t head;    /* in [B, B+4 KiB): code starts at B exactly (nothing lies below it) */
    uint32_t below;   /* in [B-4 KiB, B): impossible for code linked at B */
    uint32_t above;   /* in [B+L, B+L+4 KiB): impossible for code of length L at B */
    uint32_t edge;    /* of below + above, the 4-aligned ones within 256 bytes of the
                         window: code linked 16 bytes off (0x40201000, 0x40201020) lands
                         here (function addresses are 4-aligned, random words mostly not) */
    uint32_t outside; /* every other reference into the mapping */
};
#define ESPIMG_SLOT_REFS_MIN 8      /* fewer references than this decide nothing */
#define ESPIMG_SLOT_EDGE 0x1000u    /* the head / below / above windows (bytes) */
#define ESPIMG_SLOT_NEAR 0x100u     /* the edge windows (bytes): no noise tolerated there */
#define ESPIMG_SLOT_NOISE 16        /* tolerated: outside ≤ inside / 16 (random data words) */
#define ESPIMG_IRAM_START 0x40100000u
#define ESPIMG_IRAM_END 0x40110000u /* "0x4010xxxx": where a v2 entry point must lie */

/* A file that is no ESP8266 image but something users download instead. */
enum espimg_foreign {
    ESPIMG_FOREIGN_NONE = 0,
    ESPIMG_FOREIGN_GZIP,  /* 1f 8b: Tasmota's .bin.gz */
    ESPIMG_FOREIGN_ESP32, /* 0xE9 with the ESP32-family extended header (chip id at 12) */
};

struct espimg_segment {
    uint32_t addr;   /* load address (0 for the v2 irom segment, as stored) */
    uint32_t len;    /* data length */
    uint32_t offset; /* file offset of the data */
};

/* One v1-style header (magic 0xE9) with its segments and checksum. */
struct espimg_hdr {
    size_t offset;             /* file offset of the header */
    uint8_t magic;
    uint8_t flash_mode;        /* ESPIMG_MODE_* (raw byte) */
    uint8_t flash_size;        /* ESPIMG_SIZE_* (high nibble) */
    uint8_t flash_freq;        /* ESPIMG_FREQ_* (low nibble) */
    uint32_t entry;
    unsigned nsegs;
    struct espimg_segment seg[ESPIMG_MAX_SEGMENTS];
    uint8_t checksum_stored;
    uint8_t checksum_computed; /* ESPIMG_CHECKSUM_SEED ^ every segment data byte */
    int checksum_ok;
    size_t end;                /* file offset just past the checksum byte */
};

struct espimg_info {
    enum espimg_format format;
    /* Effective header fields. v1: the header at 0. v2: the second (v1-style) header, which
     * wins when the two disagree (§5). */
    uint8_t flash_mode, flash_size, flash_freq;
    uint32_t entry;
    unsigned nsegs;                          /* RAM segments (v2) or all segments (v1) */
    struct espimg_segment seg[ESPIMG_MAX_SEGMENTS];
    uint8_t checksum_stored, checksum_computed;
    int checksum_ok;
    /* v2 only: the outer 8-byte header and the irom segment (stored with address 0). */
    uint8_t v2_segbyte, v2_flash_mode, v2_flash_size, v2_flash_freq;
    uint32_t v2_entry;
    int has_irom;
    struct espimg_segment irom;
    uint32_t crc_stored, crc_computed;       /* v2 CRC32 variant (§5) */
    int crc_ok;                              /* v2: CRC matches; v1: 0 */
    /* Linked OTA slot: 1 (irom 0x40201010), 2 (0x40281010) or 0 unknown. v2: entry in IRAM
     * and the code references fit exactly one base (struct espimg_slot_refs); v1: a segment
     * (the Arduino app's irom) or the entry point in a window. */
    int slot;
    enum espimg_slot_how slot_how;
    uint32_t refs_slot1, refs_slot2;        /* v2: slot_refs[0/1].inside */
    enum espimg_slot_why slot_why;           /* v2: why slot is 0 */
    int entry_iram;                          /* v2: entry in [ESPIMG_IRAM_START, _END) */
    uint32_t refs_map;                       /* v2: references into the flash mapping */
    uint32_t ref_lo, ref_hi;                 /* v2: lowest / highest of them (0 if none) */
    struct espimg_slot_refs slot_refs[2];    /* v2: evidence for user1, user2 */
    /* Not an ESP8266 image (espimg_parse then fails with SO_E_IMG_MAGIC; these two fields
     * survive the failure): gzip, or an ESP32-family image and its chip id. */
    enum espimg_foreign foreign;
    unsigned foreign_chip;
    /* Tasmota's minimal build (CODE_IMAGE_STR "minimal"): the file holds the NUL-terminated
     * string "minimal" on its own (PSTR(CODE_IMAGE_STR)) and the word "Tasmota". */
    int tasmota_minimal;
    /* v1 full image: the app's irom segment (load address in the flash mapping) loads where
     * the flash holding it is mapped, 0x40200000 + its file offset (0x40201010 when first). */
    int app_irom_misplaced;
    uint32_t app_irom_addr, app_irom_want;
    /* Full Arduino/Tasmota image: eboot v1 image at 0 (ending before 0x1000, padded) and an
     * app v1 image at 0x1000 (§5). */
    int full_image;
    int eboot_like;                          /* v1: first segment loads in 0x4010E000..
                                                0x4010FFFF, where eboot lives */
    enum so_err app_err;                     /* v1 only: SO_OK when full_image, else why not:
                                                SO_E_IMG_MAGIC (no 0xE9 at 0x1000, or image 0
                                                reaches past it) or the app's parse error */
    struct espimg_hdr app;                   /* valid when full_image */
    /* Recent Arduino cores' elf2bin.py (add_crc) store the file length at 0x1010 and a
     * CRC-32/MPEG-2 of the whole file (those 8 bytes zeroed) at 0x1014, inside the app's irom data, which leaves
     * the app's XOR checksum stale; eboot checks this CRC instead. present = the length word
     * equals the file length. */
    int arduino_crc_present, arduino_crc_ok;
    uint32_t arduino_crc_stored, arduino_crc_computed;
    size_t used_len;                         /* bytes the image structure covers (incl. app) */
    size_t trailing;                         /* bytes after used_len */
    size_t len;                              /* length given to espimg_parse */
};

/* Parse a whole image held in memory. SO_OK even when checksum/CRC is wrong (info says so);
 * error only when structurally unparseable: SO_E_IMG_SHORT (truncated), SO_E_IMG_MAGIC (first
 * byte neither 0xE9 nor 0xEA, or v2's second header not 0xE9), SO_E_IMG_SEGMENTS (segment count
 * 0 or > 16, length not a multiple of 4 or absurdly large). *out is zeroed first. */
enum so_err espimg_parse(const uint8_t *data, size_t len, struct espimg_info *out);

/* Is this image fit for `use`? SO_OK, or the first failing rule's code with a full sentence
 * in why (what is wrong and what to do; "" when fit); why may be NULL. len = file size.
 * Rules, in order (§10.9):
 *  user1/user2: v2 (SO_E_IMG_FORMAT), CRC (SO_E_IMG_CRC), XOR checksum (SO_E_IMG_CHECKSUM),
 *    linked for that slot, known (SO_E_IMG_SLOT), ≤ ESPIMG_MAX_USER (SO_E_TOOBIG); user2 also
 *    ≥ ESPIMG_MIN_E2A (SO_E_IMG_SHORT), as E2A fetches it.
 *  final: v1 full image with a valid app at 0x1000 (SO_E_IMG_FORMAT), eboot checksum and app
 *    checksum or Arduino CRC (SO_E_IMG_CHECKSUM), DOUT (SO_E_IMG_FLASH_MODE) and 1 MB
 *    (SO_E_IMG_FLASH_SIZE) in both headers, ≤ ESPIMG_MAX_FINAL, ≥ ESPIMG_MIN_E2A.
 *  diy: v1 (full image or not), checksums as for final, DOUT, 1 MB, ≤ ESPIMG_MAX_DIY.
 * SO_E_ARG when info was not parsed or len < info->used_len. */
enum so_err espimg_check(const struct espimg_info *info, size_t len, enum espimg_use use,
                         char *why, size_t whycap);

/* Would the ROM + eboot start this v1 image written at 0x0? The structural part of the
 * final/diy rules (full image, eboot at 0x4010F000, complete app, checksums or Arduino CRC,
 * DOUT, 1 MB, app irom where it is mapped) without the download limits and the
 * tasmota-minimal policy. What the simulator's boot check uses, so both agree. */
enum so_err espimg_check_boot(const struct espimg_info *info, char *why, size_t whycap);

/* One sentence for a file espimg_parse refused (err), naming gzip / ESP32 files. */
void espimg_parse_error(const struct espimg_info *info, enum so_err err, char *why,
                        size_t whycap);

/* One line with the v2 slot evidence ("entry 0x40100004 (IRAM); 1104 references ..."). */
void espimg_slot_evidence(const struct espimg_info *info, char *out, size_t cap);

/* "ESP32-S2" etc. for an extended-header chip id; NULL when unknown. */
const char *espimg_chip_name(unsigned chip_id);

/* Structurally valid test image of the given kind (correct headers, checksums, CRC, slot link
 * addresses), deterministic from seed. Length = `size` rounded down to what the format allows
 * (user: ≡ 4 mod 16, at least 4100; final/diy: multiple of 16, at least 4608); size 0 = the
 * kind's default (ESPIMG_DEFAULT_*). Sizes above the limits are allowed (to test the limits)
 * up to 1 MiB. malloc'd into *out (caller frees). SO_E_ARG for a bad kind or a size > 1 MiB.
 * user1/user2: v2 like SonOTA's E2A images; final/diy: full Arduino image, DOUT, 1 MB. */
enum so_err espimg_make_test(enum espimg_use kind, size_t size, uint32_t seed, uint8_t **out,
                             size_t *len);
#define ESPIMG_DEFAULT_USER 239220u  /* SonOTA's E2A user images (§1.6) */
#define ESPIMG_DEFAULT_FINAL 482432u /* SonOTA's image_arduino.bin (§1.6) */
#define ESPIMG_DEFAULT_DIY 480000u

/* Names for humans and the CLI ("DOUT", "1MB", "40MHz", "user1"); "?" / NULL when unknown. */
const char *espimg_flash_mode_name(uint8_t mode);
const char *espimg_flash_size_name(uint8_t code);
const char *espimg_flash_freq_name(uint8_t code);
const char *espimg_use_name(enum espimg_use use);
/* "user1"|"user2"|"final"|"diy" → use; 0 or -1 when unknown. */
int espimg_use_from_name(const char *name, enum espimg_use *use);

#endif
