#include "sonota/http_body.h"

#include <string.h>

size_t http_body_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct http_body *b = user;
    size_t n = size * nmemb;
    if (b->len + n > b->cap) {
        b->overflow = 1;
        return 0; /* aborts the transfer */
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}
