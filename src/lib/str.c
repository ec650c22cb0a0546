#include "lib/str.h"

#include <stdio.h>
#include <string.h>

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int so_str_eq(struct so_str s, const char *c)
{
    size_t n = strlen(c);
    return s.p && s.n == n && memcmp(s.p, c, n) == 0;
}

int so_str_ieq(struct so_str s, const char *c)
{
    size_t n = strlen(c);
    if (!s.p || s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != lower(c[i]))
            return 0;
    return 1;
}

int so_str_icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (so_str_ieq((struct so_str){hay, strnlen(hay, n)}, needle))
            return 1;
    return n == 0;
}

int so_str_copy(struct so_str s, char *dst, size_t cap)
{
    if (cap == 0 || s.n >= cap)
        return -1;
    if (s.n)
        memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return 0;
}

int so_str_to_u64(struct so_str s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s.p || s.n == 0 || s.n > 20)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

struct so_str so_str_trim(struct so_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

void so_peer_addr(const char *peer, char *out, size_t cap)
{
    snprintf(out, cap, "%s", peer ? peer : "");
    char *colon = strrchr(out, ':');
    if (colon)
        *colon = '\0';
}

uint32_t so_fnv1a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}
