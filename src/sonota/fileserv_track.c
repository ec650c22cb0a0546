/* fileserv_track.c - which 4 KiB chunks of which file each peer address has been
 * sent (PROTOCOL.md §1.5: the firmware fetches its image in 4 KiB Range requests,
 * in any order, over one or more connections), so DOWNLOAD_PROGRESS and
 * DOWNLOAD_DONE mean "this device has it all", whatever the request pattern. */
#include "sonota/fileserv.h"

#include "lib/str.h"
#include "sonota/srv_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A PROGRESS event about every 10 % of the file, within these steps. */
#define FS_PROGRESS_MIN 4096
#define FS_PROGRESS_MAX 65536

void fs_track_reset(struct fs_track *t)
{
    if (t->bits)
        memset(t->bits, 0, (t->nchunks + 7) / 8);
    t->chunks_done = 0;
    t->covered = 0;
    t->progress_mark = 0;
    t->active = 0;
}

/* FNV-1a over the address and the file index. */
static unsigned track_hash(const char *ip, int file)
{
    return so_fnv1a(SO_FNV1A_INIT ^ (uint32_t)file, ip, strlen(ip)) % FS_TRACK_HASH;
}

static void track_unlink(struct fileserv *fs, int i)
{
    int *link = &fs->bucket[track_hash(fs->tracks[i].ip, fs->tracks[i].file)];
    while (*link && *link != i + 1)
        link = &fs->tracks[*link - 1].hnext;
    if (*link)
        *link = fs->tracks[i].hnext;
}

int fs_track_get(struct srv *s, const char *ip, int file)
{
    struct fileserv *fs = &s->fs;
    unsigned b = track_hash(ip, file);
    for (int k = fs->bucket[b]; k; k = fs->tracks[k - 1].hnext) {
        struct fs_track *t = &fs->tracks[k - 1];
        if (t->file == file && !strcmp(t->ip, ip)) {
            t->last_use_ms = srv_mono_ms();
            return k - 1;
        }
    }
    /* a new download: a free track, else the least recently used one */
    int victim = 0;
    for (int i = 0; i < FS_TRACK_MAX; i++) {
        if (!fs->tracks[i].used) {
            victim = i;
            break;
        }
        if (fs->tracks[i].last_use_ms < fs->tracks[victim].last_use_ms)
            victim = i;
    }
    struct fs_track *t = &fs->tracks[victim];
    if (t->used)
        track_unlink(fs, victim);
    free(t->bits);
    memset(t, 0, sizeof *t);
    size_t size = s->cfg.files[file].len;
    t->nchunks = (size + FS_COVER_CHUNK - 1) / FS_COVER_CHUNK;
    t->bits = calloc((t->nchunks + 7) / 8 + 1, 1);
    if (!t->bits)
        return -1;
    t->used = 1;
    t->file = file;
    snprintf(t->ip, sizeof t->ip, "%s", ip);
    t->last_use_ms = srv_mono_ms();
    t->hnext = fs->bucket[b];
    fs->bucket[b] = victim + 1;
    return victim;
}

enum fs_mark fs_track_mark(struct srv *s, int track, int file, const char *ip, uint64_t from,
                           uint64_t to)
{
    struct fs_track *t = &s->fs.tracks[track];
    if (!t->used || t->file != file || strcmp(t->ip, ip))
        return FS_MARK_NONE; /* the track was recycled for another download */
    uint64_t size = s->cfg.files[file].len;
    for (uint64_t k = (from + FS_COVER_CHUNK - 1) / FS_COVER_CHUNK; k < t->nchunks; k++) {
        uint64_t lo = k * FS_COVER_CHUNK, hi = lo + FS_COVER_CHUNK;
        if (hi > size)
            hi = size;
        if (hi > to)
            break;
        if (t->bits[k / 8] & (1u << (k % 8)))
            continue;
        t->bits[k / 8] |= (uint8_t)(1u << (k % 8));
        t->chunks_done++;
        t->covered += hi - lo;
    }
    if (!t->active)
        return FS_MARK_NONE;
    if (t->chunks_done == t->nchunks)
        return FS_MARK_DONE;
    uint64_t step = size / 10;
    step = step < FS_PROGRESS_MIN ? FS_PROGRESS_MIN : step > FS_PROGRESS_MAX ? FS_PROGRESS_MAX : step;
    if (t->covered < t->progress_mark + step)
        return FS_MARK_NONE;
    t->progress_mark = t->covered;
    return FS_MARK_PROGRESS;
}

void fileserv_free(struct fileserv *fs)
{
    for (int i = 0; i < FS_TRACK_MAX; i++) {
        free(fs->tracks[i].bits);
        fs->tracks[i].bits = NULL;
        fs->tracks[i].used = 0;
        fs->tracks[i].hnext = 0;
    }
    memset(fs->bucket, 0, sizeof fs->bucket);
}
