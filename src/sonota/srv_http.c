/* srv_http.c - the HTTP/1.x rules every listener applies to a request head the
 * same way (file server, cloud, legacy port, DIY callback): keep-alive, message
 * framing, the words that name a request in events and logs, and the REJECTED
 * event of a refusal. The replies themselves stay with each server. */
#include "sonota/srv_priv.h"

#include <stdio.h>
#include <string.h>

int srv_http_keep_alive(const struct so_http_head *h)
{
    const struct so_http_header *conn = so_http_find(h, "Connection");
    if (h->version_minor >= 1)
        return !(conn && so_str_ieq(conn->value, "close"));
    return conn && so_str_ieq(conn->value, "keep-alive");
}

int srv_http_framing(const struct so_http_head *h, int *has_len, uint64_t *clen)
{
    *has_len = 0;
    *clen = 0;
    /* One plain Content-Length or none, never Transfer-Encoding: no two parsers can
     * disagree on where a request ends (RFC 9112 §6.3, request smuggling). Devices
     * always send Content-Length (§1.3, §6). */
    if (so_http_content_length(h, has_len, clen) != SO_OK ||
        so_http_find(h, "Transfer-Encoding"))
        return -1;
    return 0;
}

void srv_http_what(const struct so_http_head *h, char *buf, size_t cap)
{
    /* The parser let only a token and visible ASCII through (RFC 9112 §3); the log
     * sink and the UI escape what they show. */
    snprintf(buf, cap, "%.*s %.*s", (int)(h->method.n > 10 ? 10 : h->method.n), h->method.p,
             (int)(h->target.n > 150 ? 150 : h->target.n), h->target.p);
}

void srv_http_rejected(struct srv *s, const char *peer, int code, const char *detail,
                       int file, int final_listener)
{
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SRV_EV_REJECTED;
    ev.peer = peer;
    ev.error = code;
    ev.detail = detail;
    ev.final_listener = final_listener;
    if (file >= 0) {
        ev.file = s->names[file];
        ev.total = s->cfg.files[file].len;
    }
    srv_emit(s, &ev);
}
