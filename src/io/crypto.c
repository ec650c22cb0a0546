#include "io/crypto.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

void so_sha256_hex(const void *data, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

enum so_err so_random_bytes(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? SO_OK : SO_E_IO;
}

void so_crypto_thread_end(void)
{
    OPENSSL_thread_stop();
}
