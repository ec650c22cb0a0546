/* cmd_image.c - `sonota image info|check|elf2image|make-test`: inspect, validate, build and
 * generate ESP8266 firmware images (formats and limits: PROTOCOL.md §5, §1.5, §4, §6, §10.9). */
#include "sonota/cmds.h"

#include "io/crypto.h"
#include "io/file.h"
#include "lib/elf2img.h"
#include "lib/espimg.h"
#include "lib/espimg_json.h"
#include "lib/fmt_attr.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (16u << 20) /* no ESP8266 image or ELF we handle comes near 16 MiB */

static const char usage_main[] =
    "usage: sonota image COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  info       show headers, segments, checksums, linked slot and fitness of images\n"
    "  check      exit 0 if an image is fit for a flashing path, 3 (with the reason) if not\n"
    "  elf2image  convert an ESP8266 ELF file to a v1 or v2 image (like esptool elf2image)\n"
    "  make-test  write a structurally valid test image of a kind\n"
    "\n"
    "'sonota image COMMAND --help' describes each command.\n"
    "Uses: user1/user2 = stock OTA slots (v2 image linked for that slot, <= 471040 B);\n"
    "final = FinalStage image (complete full Arduino image: eboot + app at 0x1000, DOUT,\n"
    "1MB, <= 524288 B); diy = DIY-mode image (the same, <= 520192 B). tasmota-minimal is\n"
    "never a first image; .bin.gz must be unpacked first; ESP32 images are named.\n"
    "Exit status: 0 ok, 1 failure, 2 usage, 3 invalid image.\n";

static const char usage_info[] =
    "usage: sonota image info [--json] [--use user1|user2|final|diy] FILE...\n"
    "\n"
    "Shows format, flash mode/size/frequency, entry, segments, checksum and v2 CRC (stored\n"
    "and computed), the OTA slot a v2 image is linked for with the evidence (entry point,\n"
    "references into each slot's window), whether it is a full Arduino image (eboot + app\n"
    "at 0x1000) and tasmota-minimal, SHA-256, and for each use whether the image is fit.\n"
    "\n"
    "  --json        one JSON array with an object per FILE, on stdout\n"
    "  --use USE     also exit 3 when an image is unfit for USE\n"
    "  -h, --help    this text\n"
    "\n"
    "Exit status: 0 ok, 3 an image is unparseable (or unfit for --use), 1 a file is unreadable.\n";

static const char usage_check[] =
    "usage: sonota image check --use user1|user2|final|diy [--force] FILE\n"
    "\n"
    "Exit 0 if FILE is fit for USE; otherwise print why and exit 3.\n"
    "  --use USE     user1, user2 (stock OTA slots), final (FinalStage), diy (DIY mode)\n"
    "  --force       accept an unfit image anyway: print a WARNING and exit 0\n"
    "  -h, --help    this text\n";

static const char usage_elf[] =
    "usage: sonota image elf2image --version 1|2 [--flash-mode qio|qout|dio|dout]\n"
    "       [--flash-size 256KB|512KB|1MB|2MB|4MB|2MB-c1|4MB-c1|8MB|16MB]\n"
    "       [--flash-freq 40m|26m|20m|80m] IN.elf OUT.bin\n"
    "\n"
    "Converts an ESP8266 ELF to an image as esptool elf2image does (defaults: qio, 1MB, 40m).\n"
    "  --version 2   OTA user image (0xEA): irom0 first, then RAM segments, checksum, CRC32;\n"
    "                link irom0 at 0x40201010 (user1) or 0x40281010 (user2)\n"
    "  --version 1   ROM image (0xE9) of the RAM segments; an irom0 section is accepted only\n"
    "                at 0x40201010 (Arduino app layout, written as the first segment)\n"
    "  -h, --help    this text\n";

static const char usage_make[] =
    "usage: sonota image make-test --kind user1|user2|final|diy [--size N] [--seed N] OUT.bin\n"
    "\n"
    "Writes a deterministic, structurally valid test image that passes 'image check' for its\n"
    "kind. --size N: bytes, 4100..1048576, rounded down to the format (user: 16k+4; final,\n"
    "diy: 16k, at least 4608); default user 239220, final 482432, diy 480000. Larger than\n"
    "the kind's limit gives an oversize image for tests.\n"
    "  -h, --help    this text\n";

SO_PRINTF(2, 3)
static int usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sonota image: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n\n%s", usage);
    va_end(ap);
    return EXIT_USAGE;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int read_input(const char *path, uint8_t **data, size_t *len)
{
    enum so_err e = so_read_file(path, MAX_INPUT, data, len);
    if (e == SO_OK)
        return 0;
    if (e == SO_E_TOOBIG)
        fprintf(stderr, "sonota image: %s: larger than %u bytes, not a firmware image\n", path,
                MAX_INPUT);
    else
        fprintf(stderr, "sonota image: %s: cannot read: %s\n", path,
                e == SO_E_IO && errno ? strerror(errno) : so_strerror(e));
    return -1;
}

/* ---- info ---- */

static void print_segs(const struct espimg_segment *seg, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        printf("    %-2u load 0x%08" PRIx32 "  len %7" PRIu32 "  file offset 0x%06" PRIx32 "\n",
               i, seg[i].addr, seg[i].len, seg[i].offset);
}

static void print_flash(const char *label, uint8_t mode, uint8_t size, uint8_t freq,
                        uint32_t entry)
{
    printf("  %-12s flash %s, %s, %s, entry 0x%08" PRIx32 "\n", label,
           espimg_flash_mode_name(mode), espimg_flash_size_name(size),
           espimg_flash_freq_name(freq), entry);
}

static void print_human(const char *path, size_t len, const char *sha,
                        const struct espimg_info *in)
{
    printf("%s\n  %-12s %zu bytes, sha256 %s\n", path, "size", len, sha);
    if (in->format == ESPIMG_FMT_V2)
        printf("  %-12s v2 (0xEA, OTA user image for the Espressif bootloader)\n", "format");
    else if (in->full_image)
        printf("  %-12s v1 (0xE9), full Arduino image: eboot at 0x0 + app at 0x%x\n", "format",
               ESPIMG_APP_OFFSET);
    else
        printf("  %-12s v1 (0xE9, ROM-loadable image%s)\n", "format",
               in->eboot_like ? ", looks like a bootloader" : "");
    if (in->format == ESPIMG_FMT_V2) {
        print_flash("v2 header", in->v2_flash_mode, in->v2_flash_size, in->v2_flash_freq,
                    in->v2_entry);
        printf("  %-12s %" PRIu32 " bytes at file offset 0x%" PRIx32
               " (runs at 0x%08x from user1, 0x%08x from user2)\n", "irom",
               in->irom.len, in->irom.offset, ESPIMG_IROM_SLOT1, ESPIMG_IROM_SLOT2);
    }
    print_flash(in->format == ESPIMG_FMT_V2 ? "header" : in->full_image ? "eboot header"
                                                                          : "header",
                in->flash_mode, in->flash_size, in->flash_freq, in->entry);
    printf("  %-12s %u\n", "segments", in->nsegs);
    print_segs(in->seg, in->nsegs);
    printf("  %-12s %s (stored 0x%02x, computed 0x%02x)\n", "checksum",
           in->checksum_ok ? "ok" : "MISMATCH", in->checksum_stored, in->checksum_computed);
    if (in->format == ESPIMG_FMT_V2)
        printf("  %-12s %s (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")\n", "crc32",
               in->crc_ok ? "ok" : "MISMATCH", in->crc_stored, in->crc_computed);
    if (in->full_image) {
        print_flash("app header", in->app.flash_mode, in->app.flash_size, in->app.flash_freq,
                    in->app.entry);
        printf("  %-12s %u\n", "app segments", in->app.nsegs);
        print_segs(in->app.seg, in->app.nsegs);
        printf("  %-12s %s (stored 0x%02x, computed 0x%02x)\n", "app checksum",
               in->app.checksum_ok ? "ok" : "MISMATCH", in->app.checksum_stored,
               in->app.checksum_computed);
        if (in->arduino_crc_present)
            printf("  %-12s %s (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")\n",
                   "arduino crc", in->arduino_crc_ok ? "ok" : "MISMATCH",
                   in->arduino_crc_stored, in->arduino_crc_computed);
        else
            printf("  %-12s not present\n", "arduino crc");
    }
    const char *how = espimg_slot_how_name(in->slot_how);
    char ev[512];
    espimg_slot_evidence(in, ev, sizeof ev);
    if (in->format == ESPIMG_FMT_V2 && in->slot)
        printf("  %-12s user%d (irom at 0x%08x; found by %s)\n  %-12s %s\n", "linked for",
               in->slot, in->slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2, how,
               "evidence", ev);
    else if (in->format == ESPIMG_FMT_V2)
        printf("  %-12s UNKNOWN: neither slot (user1 0x%08x, user2 0x%08x)\n  %-12s %s\n",
               "linked for", ESPIMG_IROM_SLOT1, ESPIMG_IROM_SLOT2, "evidence", ev);
    else if (in->slot)
        printf("  %-12s irom at 0x%08x (runs from flash 0x%05x; by %s)\n", "linked for",
               in->slot == 1 ? ESPIMG_IROM_SLOT1 : ESPIMG_IROM_SLOT2,
               in->slot == 1 ? ESPIMG_FLASH_USER1 : ESPIMG_FLASH_USER2, how);
    else
        printf("  %-12s no irom segment (RAM-only image)\n", "linked for");
    if (in->full_image && in->app_irom_misplaced)
        printf("  %-12s app irom linked at 0x%08" PRIx32 " but mapped at 0x%08" PRIx32 "\n",
               "MISPLACED", in->app_irom_addr, in->app_irom_want);
    if (in->format == ESPIMG_FMT_V1)
        printf("  %-12s %s\n", "build", in->tasmota_minimal
               ? "tasmota-minimal (never the first image: flash tasmota-lite first)"
               : "not tasmota-minimal");
    printf("  %-12s %s\n", "full image", in->full_image ? "yes (eboot + app at 0x1000)" : "no");
    printf("  %-12s %zu bytes used, %zu trailing\n", "length", in->used_len, in->trailing);
    printf("  fit for\n");
    for (int u = 0; u < ESPIMG_USE__COUNT; u++) {
        char why[512];
        enum so_err e = espimg_check(in, len, (enum espimg_use)u, why, sizeof why);
        if (e == SO_OK)
            printf("    %-10s yes\n", espimg_use_name((enum espimg_use)u));
        else
            printf("    %-10s NO: %s\n", espimg_use_name((enum espimg_use)u), why);
    }
}

static cJSON *json_image(const char *path, size_t len, const char *sha,
                         const struct espimg_info *in, enum so_err pe)
{
    cJSON *o = pe == SO_OK ? espimg_to_json(in) : cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "file", path);
    cJSON_AddNumberToObject(o, "size", (double)len);
    cJSON_AddStringToObject(o, "sha256", sha);
    cJSON_AddBoolToObject(o, "parsed", pe == SO_OK);
    if (pe != SO_OK) {
        char why[512];
        espimg_parse_error(in, pe, why, sizeof why);
        cJSON_AddNumberToObject(o, "code", pe);
        cJSON_AddStringToObject(o, "error", so_strerror(pe));
        cJSON_AddStringToObject(o, "reason", why);
        cJSON_AddStringToObject(o, "foreign", in->foreign == ESPIMG_FOREIGN_GZIP ? "gzip"
                                : in->foreign == ESPIMG_FOREIGN_ESP32 ? "esp32" : "none");
        if (in->foreign == ESPIMG_FOREIGN_ESP32)
            cJSON_AddNumberToObject(o, "chip_id", in->foreign_chip);
    }
    return o;
}

static int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"use", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, have_use = 0, c;
    enum espimg_use use = ESPIMG_USE_USER1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+ju:h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'u' && espimg_use_from_name(optarg, &use) == 0)
            have_use = 1;
        else if (c == 'u')
            return usage_error(usage_info, "unknown use '%s'", optarg);
        else if (c == 'h')
            return fputs(usage_info, stdout), EXIT_OK;
        else
            return fprintf(stderr, "\n%s", usage_info), EXIT_USAGE;
    }
    if (optind >= argc)
        return usage_error(usage_info, "%s", "no FILE given");
    int rc = EXIT_OK;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    if (json && !arr)
        return EXIT_FAIL;
    for (int i = optind; i < argc; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (read_input(argv[i], &data, &len) != 0) {
            rc = EXIT_FAIL;
            continue;
        }
        char sha[65];
        so_sha256_hex(data, len, sha);
        struct espimg_info in;
        enum so_err pe = espimg_parse(data, len, &in);
        free(data);
        if (pe != SO_OK && rc == EXIT_OK)
            rc = EXIT_INVALID;
        if (pe == SO_OK && have_use && espimg_check(&in, len, use, NULL, 0) != SO_OK &&
            rc == EXIT_OK)
            rc = EXIT_INVALID;
        if (json) {
            cJSON *o = json_image(argv[i], len, sha, &in, pe);
            if (!o || !cJSON_AddItemToArray(arr, o)) {
                cJSON_Delete(o);
                rc = EXIT_FAIL;
            }
        } else if (pe != SO_OK) {
            char why[512];
            espimg_parse_error(&in, pe, why, sizeof why);
            printf("%s\n  %-12s %zu bytes, sha256 %s\n  %-12s NOT AN IMAGE: %s\n", argv[i],
                   "size", len, sha, "format",
                   in.foreign != ESPIMG_FOREIGN_NONE ? why : so_strerror(pe));
        } else {
            print_human(argv[i], len, sha, &in);
        }
    }
    if (json) {
        char *s = cJSON_Print(arr);
        if (s)
            printf("%s\n", s);
        else
            rc = EXIT_FAIL;
        free(s);
        cJSON_Delete(arr);
    }
    return rc;
}

/* ---- check ---- */

static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"use", required_argument, NULL, 'u'}, {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int force = 0, have_use = 0, c;
    enum espimg_use use = ESPIMG_USE_USER1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+u:fh", opts, NULL)) != -1) {
        if (c == 'f')
            force = 1;
        else if (c == 'u' && espimg_use_from_name(optarg, &use) == 0)
            have_use = 1;
        else if (c == 'u')
            return usage_error(usage_check, "unknown use '%s'", optarg);
        else if (c == 'h')
            return fputs(usage_check, stdout), EXIT_OK;
        else
            return fprintf(stderr, "\n%s", usage_check), EXIT_USAGE;
    }
    if (!have_use)
        return usage_error(usage_check, "%s", "--use is required");
    if (argc - optind != 1)
        return usage_error(usage_check, "%s", "exactly one FILE is required");
    const char *path = argv[optind];
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_input(path, &data, &len) != 0)
        return EXIT_FAIL;
    struct espimg_info in;
    char why[512];
    enum so_err e = espimg_parse(data, len, &in);
    free(data);
    if (e != SO_OK)
        espimg_parse_error(&in, e, why, sizeof why);
    else
        e = espimg_check(&in, len, use, why, sizeof why);
    const char *un = espimg_use_name(use);
    if (e == SO_OK) {
        printf("%s: fit for %s (%s, %zu bytes)\n", path, un,
               in.format == ESPIMG_FMT_V2 ? "v2" : in.full_image ? "v1 full image" : "v1", len);
        return EXIT_OK;
    }
    if (!force) {
        fprintf(stderr, "%s: NOT fit for %s: %s\n(--force accepts it anyway, at your risk.)\n",
                path, un, why);
        return EXIT_INVALID;
    }
    fprintf(stderr,
            "WARNING: ***************************************************************\n"
            "WARNING: %s is NOT fit for %s: %s\n"
            "WARNING: --force given, accepting it anyway. A wrong image can leave the\n"
            "WARNING: device unbootable until it is reflashed over serial.\n"
            "WARNING: ***************************************************************\n",
            path, un, why);
    return EXIT_OK;
}

/* ---- elf2image ---- */

static int pick(const char *arg, const char *const *names, const uint8_t *codes, size_t n,
                uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(arg, names[i])) {
            *out = codes[i];
            return 0;
        }
    return -1;
}

static int cmd_elf2image(int argc, char **argv)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'}, {"flash-mode", required_argument, NULL, 'm'},
        {"flash-size", required_argument, NULL, 's'},
        {"flash-freq", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char *const modes[] = {"qio", "qout", "dio", "dout"};
    static const uint8_t mode_codes[] = {0, 1, 2, 3};
    static const char *const sizes[] = {"512KB", "256KB", "1MB", "2MB", "4MB",
                                        "2MB-c1", "4MB-c1", "8MB", "16MB"};
    static const uint8_t size_codes[] = {0, 1, 2, 3, 4, 5, 6, 8, 9};
    static const char *const freqs[] = {"40m", "26m", "20m", "80m"};
    static const uint8_t freq_codes[] = {0, 1, 2, 0xF};
    struct elf2img_opts eo = ELF2IMG_OPTS_DEFAULT;
    int have_version = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+v:m:s:f:h", opts, NULL)) != -1) {
        if (c == 'v') {
            if (strcmp(optarg, "1") && strcmp(optarg, "2"))
                return usage_error(usage_elf, "--version must be 1 or 2, not '%s'", optarg);
            eo.version = optarg[0] - '0';
            have_version = 1;
        } else if (c == 'm') {
            if (pick(optarg, modes, mode_codes, 4, &eo.flash_mode))
                return usage_error(usage_elf, "unknown flash mode '%s'", optarg);
        } else if (c == 's') {
            if (pick(optarg, sizes, size_codes, 9, &eo.flash_size))
                return usage_error(usage_elf, "unknown flash size '%s'", optarg);
        } else if (c == 'f') {
            if (pick(optarg, freqs, freq_codes, 4, &eo.flash_freq))
                return usage_error(usage_elf, "unknown flash frequency '%s'", optarg);
        } else if (c == 'h') {
            return fputs(usage_elf, stdout), EXIT_OK;
        } else {
            return fprintf(stderr, "\n%s", usage_elf), EXIT_USAGE;
        }
    }
    if (!have_version)
        return usage_error(usage_elf, "%s", "--version 1|2 is required");
    if (argc - optind != 2)
        return usage_error(usage_elf, "%s", "IN.elf and OUT.bin are required");
    uint8_t *elf = NULL, *img = NULL;
    size_t elen = 0, ilen = 0;
    if (read_input(argv[optind], &elf, &elen) != 0)
        return EXIT_FAIL;
    char msg[1024];
    enum so_err e = elf2img(elf, elen, &eo, &img, &ilen, msg, sizeof msg);
    free(elf);
    if (e != SO_OK) {
        fprintf(stderr, "sonota image elf2image: %s: %s\n", argv[optind],
                msg[0] ? msg : so_strerror(e));
        return e == SO_E_ELF ? EXIT_INVALID : EXIT_FAIL;
    }
    for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "note: %s\n", line);
    struct espimg_info in;
    e = espimg_parse(img, ilen, &in);
    if (e != SO_OK) { /* our own output must parse; anything else is a bug worth reporting */
        fprintf(stderr, "sonota image elf2image: internal error: output does not parse (%s)\n",
                so_strerror(e));
        free(img);
        return EXIT_FAIL;
    }
    e = so_write_file(argv[optind + 1], img, ilen, 0644);
    free(img);
    if (e != SO_OK) {
        fprintf(stderr, "sonota image elf2image: cannot write %s: %s\n", argv[optind + 1],
                errno ? strerror(errno) : so_strerror(e));
        return EXIT_FAIL;
    }
    printf("%s: v%d image, %u segment%s%s, entry 0x%08" PRIx32 ", %zu bytes", argv[optind + 1],
           eo.version, in.nsegs, in.nsegs == 1 ? "" : "s", in.has_irom ? " + irom" : "",
           in.entry, ilen);
    if (in.format == ESPIMG_FMT_V2)
        printf(", linked for %s\n", in.slot == 1 ? "user1" : in.slot == 2 ? "user2" : "?");
    else
        printf("\n");
    return EXIT_OK;
}

/* ---- make-test ---- */

#define MAKE_SIZE_MIN 4100u                   /* the smallest image of any kind */
#define MAKE_SIZE_MAX ESPIMG_MAX_SEGMENT_LEN  /* 1048576: espimg_make_test's limit */

static int cmd_make_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kind", required_argument, NULL, 'k'}, {"size", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    enum espimg_use kind = ESPIMG_USE_USER1;
    uint32_t size = 0, seed = 1;
    int have_kind = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+k:s:S:h", opts, NULL)) != -1) {
        if (c == 'k') {
            if (espimg_use_from_name(optarg, &kind))
                return usage_error(usage_make, "unknown kind '%s'", optarg);
            have_kind = 1;
        } else if (c == 's') {
            if (parse_u32(optarg, MAKE_SIZE_MAX, &size) || size < MAKE_SIZE_MIN)
                return usage_error(usage_make, "--size must be %u..%u bytes, not '%s'",
                                   MAKE_SIZE_MIN, MAKE_SIZE_MAX, optarg);
        } else if (c == 'S') {
            if (parse_u32(optarg, UINT32_MAX, &seed))
                return usage_error(usage_make, "--seed must be 0..4294967295, not '%s'",
                                   optarg);
        } else if (c == 'h') {
            return fputs(usage_make, stdout), EXIT_OK;
        } else {
            return fprintf(stderr, "\n%s", usage_make), EXIT_USAGE;
        }
    }
    if (!have_kind)
        return usage_error(usage_make, "%s", "--kind is required");
    if (argc - optind != 1)
        return usage_error(usage_make, "%s", "exactly one OUT.bin is required");
    uint8_t *img = NULL;
    size_t len = 0;
    enum so_err e = espimg_make_test(kind, size, seed, &img, &len);
    if (e != SO_OK) {
        fprintf(stderr, "sonota image make-test: %s\n", so_strerror(e));
        return EXIT_FAIL;
    }
    char sha[65];
    so_sha256_hex(img, len, sha);
    e = so_write_file(argv[optind], img, len, 0644);
    free(img);
    if (e != SO_OK) {
        fprintf(stderr, "sonota image make-test: cannot write %s: %s\n", argv[optind],
                errno ? strerror(errno) : so_strerror(e));
        return EXIT_FAIL;
    }
    printf("%s: %s test image, %zu bytes, sha256 %s\n", argv[optind], espimg_use_name(kind),
           len, sha);
    return EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } subs[] = {{"info", cmd_info}, {"check", cmd_check}, {"elf2image", cmd_elf2image},
                {"make-test", cmd_make_test}};
    if (argc < 2)
        return fputs(usage_main, stderr), EXIT_USAGE;
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return fputs(usage_main, stdout), EXIT_OK;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sonota image: unknown command '%s'\n\n%s", argv[1], usage_main);
    return EXIT_USAGE;
}
