/* httpc.h - the firmware's minimal HTTP client pieces: read a response head within a
 * fixed buffer, then body bytes, all before a deadline. */
#ifndef SIM_HTTPC_H
#define SIM_HTTPC_H

#include "lib/err.h"
#include "lib/http_head.h"
#include "sim/netio.h"

#include <stddef.h>

/* Reads into buf (cap bytes, *have already there) until a response head parses.
 * SO_OK: h filled (views into buf), *have ≥ h->head_len. SO_E_TIMEOUT, SO_E_IO (error or EOF;
 * *eof set when the peer closed), SO_E_TOOBIG (buffer full without a head), SO_E_SYNTAX. */
enum so_err httpc_read_head(struct netio_conn *c, char *buf, size_t cap, size_t *have,
                            struct so_http_head *h, long long deadline, int *eof);
/* Reads until *have ≥ need (need ≤ cap). SO_OK, SO_E_TIMEOUT or SO_E_IO (*eof on close). */
enum so_err httpc_read_until(struct netio_conn *c, char *buf, size_t need, size_t *have,
                             long long deadline, int *eof);
/* Content-Length as the firmware reads it: exactly one plain number, no
 * Transfer-Encoding. 0 ok with *len, -1 with a sentence in why. */
int httpc_content_length(const struct so_http_head *h, unsigned long long *len, char *why,
                         size_t whycap);

#endif
