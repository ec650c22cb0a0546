/* str.h - (pointer, length) views into buffers owned by someone else. */
#ifndef SO_STR_H
#define SO_STR_H

#include <stddef.h>
#include <stdint.h>

struct so_str {
    const char *p;
    size_t n;
};

#define SO_STR_NULL ((struct so_str){NULL, 0})

/* Exact, case-sensitive comparison with a C string. */
int so_str_eq(struct so_str s, const char *c);
/* ASCII case-insensitive comparison with a C string. */
int so_str_ieq(struct so_str s, const char *c);
/* 1 when needle occurs in the C string hay, ASCII case ignored (strcasestr is GNU's). */
int so_str_icontains(const char *hay, const char *needle);
/* Copies into dst (cap bytes incl. NUL); returns 0, or -1 when it does not fit. */
int so_str_copy(struct so_str s, char *dst, size_t cap);
/* Strict unsigned decimal: digits only, no sign, no overflow. Returns 0 or -1. */
int so_str_to_u64(struct so_str s, uint64_t *out);
/* Removes leading and trailing spaces and tabs. */
struct so_str so_str_trim(struct so_str s);
/* The address of an "ADDR:PORT" peer text (the servers' form) into out (cap bytes);
 * "" for NULL. */
void so_peer_addr(const char *peer, char *out, size_t cap);
/* FNV-1a over n bytes, chained from h (start with SO_FNV1A_INIT): the hash of the
 * servers' and the ui's tables (addresses, file names). */
#define SO_FNV1A_INIT 2166136261u
uint32_t so_fnv1a(uint32_t h, const void *p, size_t n);

#endif
