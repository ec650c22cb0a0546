/* utf8.h - UTF-8 validation (RFC 3629), for WebSocket text messages and close
 * reasons, which RFC 6455 §8.1 requires to be valid UTF-8 (else close 1007). */
#ifndef SO_UTF8_H
#define SO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the n bytes are well-formed UTF-8: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut short at the end. */
int so_utf8_valid(const uint8_t *p, size_t n);

#endif
