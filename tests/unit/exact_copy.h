/* exact_copy.h - a test input in a heap buffer of exactly its length (with the NUL), so
 * ASan sees any read past the text. Include after <cmocka.h>. */
#ifndef SO_TEST_EXACT_COPY_H
#define SO_TEST_EXACT_COPY_H

#include <stdlib.h>
#include <string.h>

static inline char *exact(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

#endif
