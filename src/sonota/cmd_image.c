/* cmd_image.c - `sonota image info|check|elf2image|make-test`: inspect, validate, build and
 * generate ESP8266 firmware images (formats and limits: PROTOCOL.md §5, §1.5, §4, §6, §10.9). */
#include "sonota/cmds.h"

#include "io/crypto.h"
#include "io/file.h"
#include "lib/elf2img.h"
#include "lib/espimg.h"
#include "lib/espimg_json.h"
#include "lib/fmt_attr.h"
#include "io/opt_help.h"
#include "lib/opt_table.h"
#include "sonota/cli_opts.h"
#include "sonota/image_show.h"
#include "sonota/ui_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
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

/* Everything the subcommands take; each has its own rows of it. */
struct img_opts {
    int json, force, help;
    int have_use;
    enum espimg_use use;           /* --use, and make-test's --kind */
    int have_version;
    struct elf2img_opts eo;
    uint32_t size, seed;
};

static int set_use(const struct opt_table_row *r, void *base, char *arg, char *err,
                   size_t cap);
static int set_elf_version(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t cap);
static int set_flash_param(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t cap);
static int set_size(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t cap);
static int set_seed(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t cap);

#define MAKE_SIZE_MIN 4100u                   /* the smallest image of any kind */
#define MAKE_SIZE_MAX ESPIMG_MAX_SEGMENT_LEN  /* 1048576: espimg_make_test's limit */

#define T struct img_opts
#define HELP_ROW OPT_ROW_FLAG(T, 'h', "help", help, "this text")
static const struct opt_table_row info_rows[] = {
    OPT_ROW_FLAG(T, 0, "json", json, "one JSON array with an object per FILE, on stdout"),
    OPT_ROW_FUNC(T, "use", use, set_use, "USE", "also exit 3 when an image is unfit for USE",
                 NULL),
    HELP_ROW,
};
static const struct opt_table_row check_rows[] = {
    OPT_ROW_FUNC(T, "use", use, set_use, "USE",
                 "user1, user2 (stock OTA slots), final (FinalStage), diy (DIY mode)", NULL),
    OPT_ROW_FLAG(T, 0, "force", force, "accept an unfit image anyway: print a WARNING and "
                 "exit 0"),
    HELP_ROW,
};
static const struct opt_table_row elf_rows[] = {
    OPT_ROW_FUNC(T, "version", eo.version, set_elf_version, "1|2",
                 "2: OTA user image (0xEA): irom0 first, then RAM segments, checksum,\n"
                 "CRC32; link irom0 at 0x40201010 (user1) or 0x40281010 (user2);\n"
                 "1: ROM image (0xE9) of the RAM segments; an irom0 section is\n"
                 "accepted only at 0x40201010 (Arduino app layout, written as the\n"
                 "first segment)", NULL),
    OPT_ROW_FUNC(T, "flash-mode", eo.flash_mode, set_flash_param, "qio|qout|dio|dout", "",
                 "qio"),
    OPT_ROW_FUNC(T, "flash-size", eo.flash_size, set_flash_param,
                 "256KB|512KB|1MB|2MB|4MB|2MB-c1|4MB-c1|8MB|16MB", "", "1MB"),
    OPT_ROW_FUNC(T, "flash-freq", eo.flash_freq, set_flash_param, "40m|26m|20m|80m", "",
                 "40m"),
    HELP_ROW,
};
static const struct opt_table_row make_rows[] = {
    OPT_ROW_FUNC(T, "kind", use, set_use, "user1|user2|final|diy", "the image's use", NULL),
    {.name = "size", .kind = OPT_TABLE_FUNC, .off = offsetof(T, size), .fn = set_size,
     .arg = "N",
     .help = "bytes, 4100..1048576, rounded down to the format (user: 16k+4;\n"
             "final, diy: 16k, at least 4608); default user 239220, final 482432,\n"
             "diy 480000. Larger than the kind's limit gives an oversize image\n"
             "for tests"},
    OPT_ROW_FUNC(T, "seed", seed, set_seed, "N", "varies the contents (0..4294967295)", "1"),
    HELP_ROW,
};
#undef HELP_ROW
#undef T

struct img_sub {
    const char *head;
    const struct opt_table_row *rows;
    size_t n;
    const char *tail;
};

static const struct img_sub sub_info = {
    "usage: sonota image info [--json] [--use user1|user2|final|diy] FILE...\n"
    "\n"
    "Shows format, flash mode/size/frequency, entry, segments, checksum and v2 CRC (stored\n"
    "and computed), the OTA slot a v2 image is linked for with the evidence (entry point,\n"
    "references into each slot's window), whether it is a full Arduino image (eboot + app\n"
    "at 0x1000) and tasmota-minimal, SHA-256, and for each use whether the image is fit.\n"
    "\n",
    info_rows, OPT_TABLE_N(info_rows),
    "\nExit status: 0 ok, 3 an image is unparseable (or unfit for --use), 1 a file is "
    "unreadable.\n"};
static const struct img_sub sub_check = {
    "usage: sonota image check --use user1|user2|final|diy [--force] FILE\n"
    "\n"
    "Exit 0 if FILE is fit for USE; otherwise print why and exit 3.\n\n",
    check_rows, OPT_TABLE_N(check_rows), ""};
static const struct img_sub sub_elf = {
    "usage: sonota image elf2image --version 1|2 [--flash-mode qio|qout|dio|dout]\n"
    "       [--flash-size 256KB|512KB|1MB|2MB|4MB|2MB-c1|4MB-c1|8MB|16MB]\n"
    "       [--flash-freq 40m|26m|20m|80m] IN.elf OUT.bin\n"
    "\n"
    "Converts an ESP8266 ELF to an image as esptool elf2image does.\n\n",
    elf_rows, OPT_TABLE_N(elf_rows), ""};
static const struct img_sub sub_make = {
    "usage: sonota image make-test --kind user1|user2|final|diy [--size N] [--seed N] OUT.bin\n"
    "\n"
    "Writes a deterministic, structurally valid test image that passes 'image check' for its\n"
    "kind.\n\n",
    make_rows, OPT_TABLE_N(make_rows), ""};

static void print_usage(FILE *f, const struct img_sub *sub)
{
    struct opt_table_part part = {sub->rows, sub->n, NULL};
    fputs(sub->head, f);
    opt_help_print(f, &part, 1, 0);
    fputs(sub->tail, f);
}

SO_PRINTF(2, 3)
static int usage_error(const struct img_sub *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sonota image: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n\n");
    va_end(ap);
    print_usage(stderr, sub);
    return EXIT_USAGE;
}

/* Parses argv for sub into o; operands into pos. The count, or -1 after the usage error
 * (-2 after --help). */
static int parse_sub(const struct img_sub *sub, int argc, char **argv, struct img_opts *o,
                     char **pos, int poscap)
{
    char err[300];
    struct opt_table_part part = {sub->rows, sub->n, o};
    int n = opt_table_parse(&part, 1, argc, argv, pos, poscap, err, sizeof err);
    if (n < 0) {
        usage_error(sub, "%s", err);
        return -1;
    }
    if (o->help) {
        print_usage(stdout, sub);
        return -2;
    }
    return n;
}

static int set_use(const struct opt_table_row *r, void *base, char *arg, char *err,
                   size_t cap)
{
    struct img_opts *o = base;
    if (espimg_use_from_name(arg, &o->use) != 0) {
        snprintf(err, cap, "unknown %s '%s'", r->name, arg);
        return -1;
    }
    o->have_use = 1;
    return 0;
}

static int set_elf_version(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t cap)
{
    struct img_opts *o = base;
    if (strcmp(arg, "1") && strcmp(arg, "2")) {
        snprintf(err, cap, "--%s must be 1 or 2, not '%s'", r->name, arg);
        return -1;
    }
    o->eo.version = arg[0] - '0';
    o->have_version = 1;
    return 0;
}

/* --flash-mode, --flash-size, --flash-freq: the header codes of esptool's names. */
static int set_flash_param(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t cap)
{
    static const char *const modes[] = {"qio", "qout", "dio", "dout"};
    static const uint8_t mode_codes[] = {0, 1, 2, 3};
    static const char *const sizes[] = {"512KB", "256KB", "1MB", "2MB", "4MB",
                                        "2MB-c1", "4MB-c1", "8MB", "16MB"};
    static const uint8_t size_codes[] = {0, 1, 2, 3, 4, 5, 6, 8, 9};
    static const char *const freqs[] = {"40m", "26m", "20m", "80m"};
    static const uint8_t freq_codes[] = {0, 1, 2, 0xF};
    int mode = r->off == offsetof(struct img_opts, eo.flash_mode);
    int size = r->off == offsetof(struct img_opts, eo.flash_size);
    const char *const *names = mode ? modes : size ? sizes : freqs;
    const uint8_t *codes = mode ? mode_codes : size ? size_codes : freq_codes;
    size_t n = mode ? 4 : size ? 9 : 4;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(arg, names[i])) {
            *((uint8_t *)base + r->off) = codes[i];
            return 0;
        }
    snprintf(err, cap, "unknown flash %s '%s'", mode ? "mode" : size ? "size" : "frequency",
             arg);
    return -1;
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

static int set_size(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t cap)
{
    uint32_t *size = (uint32_t *)((char *)base + r->off);
    if (parse_u32(arg, MAKE_SIZE_MAX, size) || *size < MAKE_SIZE_MIN) {
        snprintf(err, cap, "--%s must be %u..%u bytes, not '%s'", r->name, MAKE_SIZE_MIN,
                 MAKE_SIZE_MAX, arg);
        return -1;
    }
    return 0;
}

static int set_seed(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t cap)
{
    if (parse_u32(arg, UINT32_MAX, (uint32_t *)((char *)base + r->off))) {
        snprintf(err, cap, "--%s must be 0..4294967295, not '%s'", r->name, arg);
        return -1;
    }
    return 0;
}

/* A result line (stdout) and a problem (stderr) through the function's ui u. */
#define OUT(...) ui_text(u, u->out, NULL, __VA_ARGS__)
#define ERR(...) ui_text(u, u->err, NULL, __VA_ARGS__)

static int read_input(struct ui *u, const char *path, uint8_t **data, size_t *len)
{
    enum so_err e = so_read_file(path, MAX_INPUT, data, len);
    if (e == SO_OK)
        return 0;
    if (e == SO_E_TOOBIG)
        ERR("sonota image: %s: larger than %u bytes, not a firmware image\n", path,
                MAX_INPUT);
    else
        ERR("sonota image: %s: cannot read: %s\n", path,
                e == SO_E_IO && errno ? strerror(errno) : so_strerror(e));
    return -1;
}

/* The results on stdout, the problems on stderr, through the ui (ui.h): escaped, coloured
 * only on a terminal without NO_COLOR. */
static void img_ui(struct ui *u)
{
    ui_init(u, stdout, stderr, 0, 0, 0, cli_opts_env_no_color());
}

/* ---- info ---- */

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

/* info over the files (n of them). */
static int info_files(struct ui *u, const struct img_opts *o, char **files, int n)
{
    int json = o->json, have_use = o->have_use;
    enum espimg_use use = o->use;
    int rc = EXIT_OK;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    if (json && !arr)
        return EXIT_FAIL;
    for (int i = 0; i < n; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (read_input(u, files[i], &data, &len) != 0) {
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
            cJSON *img = json_image(files[i], len, sha, &in, pe);
            if (!img || !cJSON_AddItemToArray(arr, img)) {
                cJSON_Delete(img);
                rc = EXIT_FAIL;
            }
        } else if (pe != SO_OK) {
            char why[512];
            espimg_parse_error(&in, pe, why, sizeof why);
            OUT("%s\n  %-12s %zu bytes, sha256 %s\n  %-12s NOT AN IMAGE: %s\n",
                    files[i], "size", len, sha, "format",
                    in.foreign != ESPIMG_FOREIGN_NONE ? why : so_strerror(pe));
        } else {
            image_show(u, files[i], len, sha, &in);
        }
    }
    if (json) {
        char *s = cJSON_Print(arr);
        if (s) { /* cJSON escapes every string; many lines, longer than a ui line */
            fputs(s, u->out);
            fputc('\n', u->out);
        } else
            rc = EXIT_FAIL;
        free(s);
        cJSON_Delete(arr);
    }
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    struct ui uo;
    img_ui(&uo);
    struct img_opts o = {.use = ESPIMG_USE_USER1};
    char **files = calloc((size_t)argc + 1, sizeof *files); /* never more than the words */
    if (!files)
        return EXIT_FAIL;
    int n = parse_sub(&sub_info, argc, argv, &o, files, argc);
    int rc = n == -2 ? EXIT_OK
             : n < 0 ? EXIT_USAGE
             : n == 0 ? usage_error(&sub_info, "%s", "no FILE given")
                      : info_files(&uo, &o, files, n);
    free(files);
    return rc;
}

/* ---- check ---- */

static int cmd_check(int argc, char **argv)
{
    struct ui uo, *u = &uo;
    img_ui(u);
    struct img_opts o = {.use = ESPIMG_USE_USER1};
    char *pos[2];
    int n = parse_sub(&sub_check, argc, argv, &o, pos, 2);
    if (n < 0)
        return n == -2 ? EXIT_OK : EXIT_USAGE;
    if (!o.have_use)
        return usage_error(&sub_check, "%s", "--use is required");
    if (n != 1)
        return usage_error(&sub_check, "%s", "exactly one FILE is required");
    int force = o.force;
    enum espimg_use use = o.use;
    const char *path = pos[0];
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_input(u, path, &data, &len) != 0)
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
        OUT("%s: fit for %s (%s, %zu bytes)\n", path, un,
               in.format == ESPIMG_FMT_V2 ? "v2" : in.full_image ? "v1 full image" : "v1", len);
        return EXIT_OK;
    }
    if (!force) {
        ui_text(u, u->err, C_RED, "%s: NOT fit for %s: %s\n(--force accepts it anyway, at "
                "your risk.)\n", path, un, why);
        return EXIT_INVALID;
    }
    ui_text(u, u->err, C_YELLOW,
            "WARNING: ***************************************************************\n"
            "WARNING: %s is NOT fit for %s: %s\n"
            "WARNING: --force given, accepting it anyway. A wrong image can leave the\n"
            "WARNING: device unbootable until it is reflashed over serial.\n"
            "WARNING: ***************************************************************\n",
            path, un, why);
    return EXIT_OK;
}

/* ---- elf2image ---- */

static int cmd_elf2image(int argc, char **argv)
{
    struct ui uo, *u = &uo;
    img_ui(u);
    struct img_opts o = {.eo = ELF2IMG_OPTS_DEFAULT};
    char *pos[3];
    int n = parse_sub(&sub_elf, argc, argv, &o, pos, 3);
    if (n < 0)
        return n == -2 ? EXIT_OK : EXIT_USAGE;
    if (!o.have_version)
        return usage_error(&sub_elf, "%s", "--version 1|2 is required");
    if (n != 2)
        return usage_error(&sub_elf, "%s", "IN.elf and OUT.bin are required");
    struct elf2img_opts eo = o.eo;
    uint8_t *elf = NULL, *img = NULL;
    size_t elen = 0, ilen = 0;
    if (read_input(u, pos[0], &elf, &elen) != 0)
        return EXIT_FAIL;
    char msg[1024];
    enum so_err e = elf2img(elf, elen, &eo, &img, &ilen, msg, sizeof msg);
    free(elf);
    if (e != SO_OK) {
        ERR("sonota image elf2image: %s: %s\n", pos[0],
                msg[0] ? msg : so_strerror(e));
        return e == SO_E_ELF ? EXIT_INVALID : EXIT_FAIL;
    }
    for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n"))
        ERR("note: %s\n", line);
    struct espimg_info in;
    e = espimg_parse(img, ilen, &in);
    if (e != SO_OK) { /* our own output must parse; anything else is a bug worth reporting */
        ERR("sonota image elf2image: internal error: output does not "
                "parse (%s)\n", so_strerror(e));
        free(img);
        return EXIT_FAIL;
    }
    e = so_write_file(pos[1], img, ilen, 0644);
    free(img);
    if (e != SO_OK) {
        ERR("sonota image elf2image: cannot write %s: %s\n", pos[1],
                errno ? strerror(errno) : so_strerror(e));
        return EXIT_FAIL;
    }
    const char *slot = in.format != ESPIMG_FMT_V2 ? NULL
                       : in.slot == 1 ? "user1" : in.slot == 2 ? "user2" : "?";
    OUT("%s: v%d image, %u segment%s%s, entry 0x%08" PRIx32
            ", %zu bytes%s%s\n", pos[1], eo.version, in.nsegs, in.nsegs == 1 ? "" : "s",
            in.has_irom ? " + irom" : "", in.entry, ilen, slot ? ", linked for " : "",
            slot ? slot : "");
    return EXIT_OK;
}

/* ---- make-test ---- */

static int cmd_make_test(int argc, char **argv)
{
    struct ui uo, *u = &uo;
    img_ui(u);
    struct img_opts o = {.use = ESPIMG_USE_USER1, .seed = 1};
    char *pos[2];
    int n = parse_sub(&sub_make, argc, argv, &o, pos, 2);
    if (n < 0)
        return n == -2 ? EXIT_OK : EXIT_USAGE;
    if (!o.have_use)
        return usage_error(&sub_make, "%s", "--kind is required");
    if (n != 1)
        return usage_error(&sub_make, "%s", "exactly one OUT.bin is required");
    enum espimg_use kind = o.use;
    uint32_t size = o.size, seed = o.seed;
    uint8_t *img = NULL;
    size_t len = 0;
    enum so_err e = espimg_make_test(kind, size, seed, &img, &len);
    if (e != SO_OK) {
        ERR("sonota image make-test: %s\n", so_strerror(e));
        return EXIT_FAIL;
    }
    char sha[65];
    so_sha256_hex(img, len, sha);
    e = so_write_file(pos[0], img, len, 0644);
    free(img);
    if (e != SO_OK) {
        ERR("sonota image make-test: cannot write %s: %s\n", pos[0],
                errno ? strerror(errno) : so_strerror(e));
        return EXIT_FAIL;
    }
    OUT("%s: %s test image, %zu bytes, sha256 %s\n", pos[0], espimg_use_name(kind),
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
