/* fuzz_espimg.c - libFuzzer target for src/lib/espimg*.c and src/lib/elf2img.c.
 * The same bytes go to espimg_parse, espimg_check for every use, espimg_to_json, and to
 * elf2img as v1 and v2. Invariants: a parsed image never points outside the input; check
 * answers SO_OK or an image/size code with a sentence; anything elf2img produces parses
 * back with the header fields it was asked for. */
#include "lib/elf2img.h"
#include "lib/espimg.h"
#include "lib/espimg_json.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void segs_inside(const struct espimg_segment *s, unsigned n, size_t size)
{
    assert(n <= ESPIMG_MAX_SEGMENTS);
    for (unsigned i = 0; i < n; i++)
        assert((size_t)s[i].offset + s[i].len <= size && s[i].len % 4 == 0);
}

static void image(const uint8_t *data, size_t size)
{
    struct espimg_info in;
    char why[512];
    enum so_err e = espimg_parse(data, size, &in);
    if (e != SO_OK) {
        assert(e == SO_E_IMG_SHORT || e == SO_E_IMG_MAGIC || e == SO_E_IMG_SEGMENTS);
        assert(in.foreign == ESPIMG_FOREIGN_NONE || e == SO_E_IMG_MAGIC);
        espimg_parse_error(&in, e, why, sizeof why);
        assert(why[0] != '\0');
        return;
    }
    assert(in.foreign == ESPIMG_FOREIGN_NONE);
    espimg_slot_evidence(&in, why, sizeof why);
    if (in.format == ESPIMG_FMT_V2) {
        assert(in.slot == 0 || (in.entry_iram && in.slot_why == ESPIMG_SLOT_WHY_NONE));
        assert(in.slot != 0 || in.slot_why != ESPIMG_SLOT_WHY_NONE);
        assert(in.refs_slot1 + in.refs_slot2 <= in.refs_map);
    }
    /* what final/diy accept, the device boots */
    enum so_err boot = espimg_check_boot(&in, why, sizeof why);
    if (espimg_check(&in, size, ESPIMG_USE_DIY, NULL, 0) == SO_OK ||
        espimg_check(&in, size, ESPIMG_USE_FINAL, NULL, 0) == SO_OK)
        assert(boot == SO_OK && in.full_image && !in.tasmota_minimal);
    assert(in.used_len <= size && in.trailing == size - in.used_len && in.len == size);
    assert(in.format == ESPIMG_FMT_V1 || in.format == ESPIMG_FMT_V2);
    segs_inside(in.seg, in.nsegs, size);
    if (in.has_irom)
        segs_inside(&in.irom, 1, size);
    if (in.full_image)
        segs_inside(in.app.seg, in.app.nsegs, size);
    assert(in.slot >= 0 && in.slot <= 2);
    for (int u = 0; u < ESPIMG_USE__COUNT; u++) {
        e = espimg_check(&in, size, (enum espimg_use)u, why, sizeof why);
        assert(e == SO_OK || e == SO_E_IMG_FORMAT || e == SO_E_IMG_CHECKSUM ||
               e == SO_E_IMG_CRC || e == SO_E_IMG_SLOT || e == SO_E_IMG_FLASH_MODE ||
               e == SO_E_IMG_FLASH_SIZE || e == SO_E_TOOBIG || e == SO_E_IMG_SHORT);
        assert((e == SO_OK) == (why[0] == '\0'));
    }
    cJSON *j = espimg_to_json(&in);
    cJSON_Delete(j);
}

static void elf(const uint8_t *data, size_t size, int version)
{
    struct elf2img_opts o = {version, (uint8_t)(size & 3), ESPIMG_SIZE_1M, ESPIMG_FREQ_40M};
    uint8_t *img = NULL;
    size_t n = 0;
    char msg[512];
    enum so_err e = elf2img(data, size, &o, &img, &n, msg, sizeof msg);
    if (e != SO_OK) {
        assert(e == SO_E_ELF && img == NULL && msg[0] != '\0');
        return;
    }
    struct espimg_info in;
    e = espimg_parse(img, n, &in);
    if (e != SO_OK) {
        /* Only a v1 image whose first segment lies outside every ESP8266 region (elf2img
         * notes it; no ESP8266 address has a top byte other than 0x3F/0x40) can look
         * exactly like an ESP32 header; it is named ESP32, as it could not run anyway. */
        assert(version == 1 && e == SO_E_IMG_MAGIC && in.foreign == ESPIMG_FOREIGN_ESP32);
        assert(img[11] != 0x3F && img[11] != 0x40 && strstr(msg, "outside the ESP8266"));
        free(img);
        return;
    }
    assert(in.format == (version == 2 ? ESPIMG_FMT_V2 : ESPIMG_FMT_V1));
    assert(in.used_len == n && in.checksum_ok && in.flash_mode == o.flash_mode);
    assert(version == 1 || in.crc_ok);
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-length copy: a read past the end is caught by ASan */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    image(copy, size);
    elf(copy, size, 1);
    elf(copy, size, 2);
    free(copy);
    return 0;
}
