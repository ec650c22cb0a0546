/* http_body.h - a libcurl write callback that collects a reply body into the caller's
 * fixed buffer, NUL-terminated, and aborts the transfer when the body outgrows it (a
 * device's answer has a known small size; anything bigger is not that device). */
#ifndef SONOTA_HTTP_BODY_H
#define SONOTA_HTTP_BODY_H

#include <stddef.h>

struct http_body {
    char *buf;          /* cap + 1 bytes */
    size_t cap, len;
    int overflow;       /* the body was larger than cap: the transfer was aborted */
};

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA = struct http_body *. */
size_t http_body_write(char *data, size_t size, size_t nmemb, void *user);

#endif
