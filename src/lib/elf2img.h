/* elf2img.h - ESP8266 ELF (ELF32 little-endian, Xtensa) to a v1 or v2 flash image, as
 * esptool's `elf2image` does (PROTOCOL.md §4, §5). Pure: ELF bytes in, image bytes out. */
#ifndef SO_ELF2IMG_H
#define SO_ELF2IMG_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define ELF2IMG_EM_XTENSA 94
#define ELF2IMG_MAX_SECTIONS 64 /* loadable sections considered before merging */

struct elf2img_opts {
    int version;        /* 1 (0xE9) or 2 (0xEA) */
    uint8_t flash_mode; /* ESPIMG_MODE_* */
    uint8_t flash_size; /* ESPIMG_SIZE_* */
    uint8_t flash_freq; /* ESPIMG_FREQ_* */
};
/* esptool's elf2image defaults: version 1, QIO, 1MB, 40m. */
#define ELF2IMG_OPTS_DEFAULT {1, 0 /* QIO */, 0x2 /* 1MB */, 0x0 /* 40m */}

/* Converts the ELF in (elf, len) to an image malloc'd into *out (*outlen bytes). Sections
 * with SHF_ALLOC, file data (PROGBITS, INIT/FINI/PREINIT_ARRAY; never NOBITS), a non-zero
 * address and a non-zero size become segments in section-header order, padded to 4 bytes and merged when one ends where the next starts in
 * the same memory region (esptool merge_adjacent_segments). Entry = e_entry.
 * v2: the one irom0 segment (0x40200000..0x40300000) goes first with address 0, padded to
 * 16, then a v1 header with the RAM segments, the XOR checksum and the CRC32 variant.
 * v1: see elf2img.c for how an irom0 section is handled.
 * msg (may be NULL): on failure the reason (what is wrong, what to do); on success notes for
 * the user, one per line, or "". Errors: SO_E_ELF (not a usable ESP8266 ELF or a layout the
 * format cannot hold), SO_E_ARG, SO_E_NOMEM. */
enum so_err elf2img(const uint8_t *elf, size_t len, const struct elf2img_opts *opts,
                    uint8_t **out, size_t *outlen, char *msg, size_t msgcap);

#endif
