/* crypto.h - the OpenSSL pieces both programs need besides TLS: SHA-256 and randomness. */
#ifndef SO_CRYPTO_H
#define SO_CRYPTO_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex SHA-256 of a buffer (the device compares lowercase, §1.5/§6). */
void so_sha256_hex(const void *data, size_t n, char out[65]);
/* Cryptographically strong random bytes; SO_E_IO if the generator fails. */
enum so_err so_random_bytes(void *out, size_t n);
/* Frees OpenSSL's state of the calling thread: a worker thread that used the functions
 * above calls it as it ends (with a static libcrypto on Windows nothing else does). */
void so_crypto_thread_end(void);

#endif
