/* espimg_json.c - espimg_info to cJSON (the shape `sonota image info --json` prints). */
#include "lib/espimg_json.h"


const char *espimg_slot_how_name(enum espimg_slot_how how)
{
    switch (how) {
    case ESPIMG_SLOT_UNKNOWN: return "unknown";
    case ESPIMG_SLOT_BY_SEGMENT: return "segment";
    case ESPIMG_SLOT_BY_ENTRY: return "entry";
    case ESPIMG_SLOT_BY_REFS: return "references";
    }
    return "unknown";
}

/* Every add goes through these so that one failed allocation makes the whole result NULL. */
struct jb {
    int ok;
};

static cJSON *num(struct jb *b, cJSON *o, const char *k, double v)
{
    cJSON *r = o ? cJSON_AddNumberToObject(o, k, v) : NULL;
    b->ok &= r != NULL;
    return r;
}

static void str(struct jb *b, cJSON *o, const char *k, const char *v)
{
    b->ok &= o && cJSON_AddStringToObject(o, k, v) != NULL;
}

static void boolean(struct jb *b, cJSON *o, const char *k, int v)
{
    b->ok &= o && cJSON_AddBoolToObject(o, k, v) != NULL;
}

static cJSON *obj(struct jb *b, cJSON *o, const char *k)
{
    cJSON *r = o ? cJSON_AddObjectToObject(o, k) : NULL;
    b->ok &= r != NULL;
    return r;
}

static void flash_fields(struct jb *b, cJSON *o, uint8_t mode, uint8_t size, uint8_t freq,
                         uint32_t entry)
{
    str(b, o, "flash_mode", espimg_flash_mode_name(mode));
    num(b, o, "flash_mode_code", mode);
    str(b, o, "flash_size", espimg_flash_size_name(size));
    num(b, o, "flash_size_code", size);
    str(b, o, "flash_freq", espimg_flash_freq_name(freq));
    num(b, o, "flash_freq_code", freq);
    num(b, o, "entry", entry);
}

static void segments(struct jb *b, cJSON *o, const struct espimg_segment *seg, unsigned n)
{
    cJSON *a = o ? cJSON_AddArrayToObject(o, "segments") : NULL;
    b->ok &= a != NULL;
    for (unsigned i = 0; a && i < n; i++) {
        cJSON *s = cJSON_CreateObject();
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            b->ok = 0;
            return;
        }
        num(b, s, "addr", seg[i].addr);
        num(b, s, "len", seg[i].len);
        num(b, s, "offset", seg[i].offset);
    }
}

static void verdict(struct jb *b, cJSON *o, const char *k, int ok, double stored, double computed)
{
    cJSON *c = obj(b, o, k);
    boolean(b, c, "ok", ok);
    num(b, c, "stored", stored);
    num(b, c, "computed", computed);
}

static void fit(struct jb *b, cJSON *o, const struct espimg_info *in)
{
    cJSON *f = obj(b, o, "fit");
    for (int u = 0; u < ESPIMG_USE__COUNT; u++) {
        char why[512];
        enum so_err e = espimg_check(in, in->len, (enum espimg_use)u, why, sizeof why);
        cJSON *v = obj(b, f, espimg_use_name((enum espimg_use)u));
        boolean(b, v, "ok", e == SO_OK);
        if (e != SO_OK) {
            num(b, v, "code", e);
            str(b, v, "error", so_strerror(e));
            str(b, v, "reason", why);
        }
    }
}

cJSON *espimg_to_json(const struct espimg_info *in)
{
    struct jb b = {1};
    cJSON *o = cJSON_CreateObject();
    str(&b, o, "format", in->format == ESPIMG_FMT_V2 ? "v2" : "v1");
    flash_fields(&b, o, in->flash_mode, in->flash_size, in->flash_freq, in->entry);
    segments(&b, o, in->seg, in->nsegs);
    verdict(&b, o, "checksum", in->checksum_ok, in->checksum_stored, in->checksum_computed);
    if (in->format == ESPIMG_FMT_V2) {
        cJSON *h = obj(&b, o, "v2_header");
        num(&b, h, "segment_byte", in->v2_segbyte);
        flash_fields(&b, h, in->v2_flash_mode, in->v2_flash_size, in->v2_flash_freq,
                     in->v2_entry);
        cJSON *ir = obj(&b, o, "irom");
        num(&b, ir, "addr", in->irom.addr);
        num(&b, ir, "len", in->irom.len);
        num(&b, ir, "offset", in->irom.offset);
        verdict(&b, o, "crc", in->crc_ok, in->crc_stored, in->crc_computed);
    }
    num(&b, o, "slot", in->slot);
    str(&b, o, "slot_evidence", espimg_slot_how_name(in->slot_how));
    num(&b, o, "refs_slot1", in->refs_slot1);
    num(&b, o, "refs_slot2", in->refs_slot2);
    if (in->format == ESPIMG_FMT_V2) {
        static const char *const why[] = {"none", "entry", "few", "start", "outside"};
        cJSON *r = obj(&b, o, "slot_refs");
        boolean(&b, r, "entry_iram", in->entry_iram);
        num(&b, r, "in_mapping", in->refs_map);
        num(&b, r, "lowest", in->ref_lo);
        num(&b, r, "highest", in->ref_hi);
        for (int k = 0; k < 2; k++) {
            const struct espimg_slot_refs *sr = &in->slot_refs[k];
            cJSON *u = obj(&b, r, k ? "user2" : "user1");
            num(&b, u, "base", k ? ESPIMG_IROM_SLOT2 : ESPIMG_IROM_SLOT1);
            num(&b, u, "inside", sr->inside);
            num(&b, u, "head", sr->head);
            num(&b, u, "below", sr->below);
            num(&b, u, "above", sr->above);
            num(&b, u, "edge", sr->edge);
            num(&b, u, "outside", sr->outside);
        }
        str(&b, r, "unknown_because",
            (unsigned)in->slot_why < 5 ? why[in->slot_why] : "?");
    }
    boolean(&b, o, "full_image", in->full_image);
    if (in->format == ESPIMG_FMT_V1) {
        boolean(&b, o, "eboot_like", in->eboot_like);
        boolean(&b, o, "tasmota_minimal", in->tasmota_minimal);
    }
    if (in->full_image && in->app_irom_misplaced) {
        cJSON *m = obj(&b, o, "app_irom_misplaced");
        num(&b, m, "addr", in->app_irom_addr);
        num(&b, m, "mapped_at", in->app_irom_want);
    }
    if (in->full_image) {
        cJSON *a = obj(&b, o, "app");
        num(&b, a, "offset", (double)in->app.offset);
        flash_fields(&b, a, in->app.flash_mode, in->app.flash_size, in->app.flash_freq,
                     in->app.entry);
        segments(&b, a, in->app.seg, in->app.nsegs);
        verdict(&b, a, "checksum", in->app.checksum_ok, in->app.checksum_stored,
                in->app.checksum_computed);
        cJSON *ac = obj(&b, o, "arduino_crc");
        boolean(&b, ac, "present", in->arduino_crc_present);
        if (in->arduino_crc_present) {
            boolean(&b, ac, "ok", in->arduino_crc_ok);
            num(&b, ac, "stored", in->arduino_crc_stored);
            num(&b, ac, "computed", in->arduino_crc_computed);
        }
    }
    num(&b, o, "used_len", (double)in->used_len);
    num(&b, o, "trailing", (double)in->trailing);
    fit(&b, o, in);
    if (!b.ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
