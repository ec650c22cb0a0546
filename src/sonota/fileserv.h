/* fileserv.h - the firmware file server on the plain HTTP port (PROTOCOL.md §1.5,
 * §4, §6, §10.5-6). It runs as an lws raw-socket protocol with its own strict
 * HTTP/1.x handling, so every reply is exactly what we build: head and a small
 * body leave in one write (the device reassembles one reply per request), no
 * chunking, keep-alive for HTTP/1.1, and paced whole-body serving. */
#ifndef SONOTA_FILESERV_H
#define SONOTA_FILESERV_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

/* Coverage is tracked per (peer address, file) in chunks of this size, the stock
 * firmware's Range request size (§1.5). */
#define FS_COVER_CHUNK 4096
/* Downloads tracked at once, (address, file) pairs, least recently used replaced:
 * enough for a fleet run (500 devices, each fetching one image at a time). */
#define FS_TRACK_MAX 1024
/* Buckets of the (address, file) index: a request finds its track without a scan. */
#define FS_TRACK_HASH 2048

/* Paced whole-body serving (SonOTA --slowstream, §1.5): a 10-byte lead-in with the
 * head, a pause of FS_PACE_LEAD_MS, then one FS_PACE_CHUNK write per
 * FS_PACE_INTERVAL_MS. 1400 B fits one TCP segment on a 1500-byte MTU, as in
 * SonOTA's fix ("<1500 B/packet"); 1400 B / 20 ms ≈ 70 KB/s is 15x SonOTA's
 * 1400 B / 0.3 s (≈ 4.7 KB/s, 52 s for 239 KB) and close to the 35-55 KB/s the
 * devices reach with 4 KiB Range requests (§8), so a 480 KB image takes ~7 s.
 * A reader taking <= 1460 B every 10 ms never has more than one write waiting. */
#define FS_PACE_LEAD_BYTES 10
#define FS_PACE_CHUNK 1400
#define FS_PACE_INTERVAL_MS 20
#define FS_PACE_LEAD_MS 100    /* SonOTA paused 0.9 s after the lead-in */

/* Fast replies go out at most FS_PIECE bytes per writable callback, so one download
 * cannot hold the loop; the first write carries the head. Writes go from the image
 * in memory to the socket (plat_send2), so a slow reader holds no buffer of ours:
 * what its socket does not take waits for the next writable callback. Not larger:
 * with 64 KiB writes on loopback, a reader that waits for 1 KiB to be available
 * (Espressif2Arduino, §4) stalled with 512 B pending, the window never reopening. */
#define FS_PIECE 16384
#define FS_HEAD_OUT_MAX 512

struct fs_track {
    int used;
    char ip[46];
    int file;                   /* index into the server's files */
    uint64_t last_use_ms;
    uint8_t *bits;              /* one bit per FS_COVER_CHUNK chunk sent */
    size_t nchunks, chunks_done;
    uint64_t covered;           /* bytes of the file in sent chunks */
    uint64_t progress_mark;     /* covered at the last PROGRESS event */
    int active;                 /* START reported, DONE not yet */
    int hnext;                  /* next track in its bucket, index + 1 (0: none) */
};

struct fileserv {
    struct fs_track tracks[FS_TRACK_MAX];
    int bucket[FS_TRACK_HASH];  /* first track of each bucket, index + 1 (0: none) */
};

struct srv;

/* ---- fileserv_track.c ---- */
enum fs_mark { FS_MARK_NONE, FS_MARK_PROGRESS, FS_MARK_DONE };
/* The (ip, file) track, created (replacing the least recently used) if needed; -1 on
 * out of memory. */
int fs_track_get(struct srv *s, const char *ip, int file);
/* Forgets what the track's peer was sent (a new download of the file begins). */
void fs_track_reset(struct fs_track *t);
/* Notes that the file bytes [from, to) went to ip: whole 4 KiB chunks count. DONE when
 * every chunk has been sent, PROGRESS when another ~10 % (4..64 KiB) has (tracks[track]
 * .covered says how much); NONE otherwise, or when the track went to another peer. */
enum fs_mark fs_track_mark(struct srv *s, int track, int file, const char *ip, uint64_t from,
                           uint64_t to);

/* ---- fileserv.c ---- */
/* Size of the per-connection data lws allocates for this protocol. */
/* The lws protocol callback (raw-skt role). */
int fileserv_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len);
/* Frees the coverage bitmaps (fileserv_track.c). */
void fileserv_free(struct fileserv *fs);

#endif
