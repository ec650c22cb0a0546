#include "sim/httpc.h"

#include <stdio.h>

static int ms_left(long long deadline)
{
    long long r = deadline - plat_mono_ms();
    return r <= 0 ? 0 : r > 0x7fffffff ? 0x7fffffff : (int)r;
}

enum so_err httpc_read_head(struct netio_conn *c, char *buf, size_t cap, size_t *have,
                            struct so_http_head *h, long long deadline, int *eof)
{
    *eof = 0;
    for (;;) {
        if (*have > 0) {
            enum so_err e = so_http_parse_response(buf, *have, h);
            if (e != SO_AGAIN)
                return e;
        }
        if (*have >= cap)
            return SO_E_TOOBIG;
        ssize_t r = netio_read(c, buf + *have, cap - *have, ms_left(deadline));
        if (r == -2)
            return SO_E_TIMEOUT;
        if (r <= 0) {
            *eof = r == 0;
            return SO_E_IO;
        }
        *have += (size_t)r;
    }
}

enum so_err httpc_read_until(struct netio_conn *c, char *buf, size_t need, size_t *have,
                             long long deadline, int *eof)
{
    *eof = 0;
    while (*have < need) {
        ssize_t r = netio_read(c, buf + *have, need - *have, ms_left(deadline));
        if (r == -2)
            return SO_E_TIMEOUT;
        if (r <= 0) {
            *eof = r == 0;
            return SO_E_IO;
        }
        *have += (size_t)r;
    }
    return SO_OK;
}

int httpc_content_length(const struct so_http_head *h, unsigned long long *len, char *why,
                         size_t whycap)
{
    if (so_http_find(h, "Transfer-Encoding")) {
        snprintf(why, whycap, "Transfer-Encoding in the reply (the firmware reads "
                 "Content-Length only; never chunked)");
        return -1;
    }
    int has = 0;
    uint64_t v = 0;
    if (so_http_content_length(h, &has, &v) != SO_OK || !has) {
        snprintf(why, whycap, "%s Content-Length", has ? "malformed" : "no");
        return -1;
    }
    *len = v;
    return 0;
}
