/* diy_ota.c - the DIY device's ota_flash (PROTOCOL.md §6): GET <path>?deviceid&ts&sign
 * with User-Agent itead-device and 4 KiB Range requests on a kept-alive connection
 * (Content-Range accepted as "bytes a-b/t" or the "bytes=a-b/t" form ITEAD's server
 * sends), Host dl.itead.cn on 3.5.0/3.6.0; the image is kept in RAM, its SHA-256 compared
 * as text with the requested one (uppercase fails, ID#102), the result POSTed to
 * /api/device/otaFlash on the download server [?], and a good image written at 0x0. */
#include "sim/diy_int.h"

#include "io/crypto.h"
#include "io/log.h"
#include "lib/http_range.h"
#include "sim/httpc.h"
#include "sim/ota_dl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_MAX (DIY_CHUNK + 1024)

static void host_header(struct diy_dev *dv)
{
    struct diy_ota *t = &dv->ota;
    int itead = dv->o->host == SIM_DIY_HOST_ITEAD ||
                (dv->o->host == SIM_DIY_HOST_AUTO &&
                 (!strcmp(dv->fw, "3.5.0") || !strcmp(dv->fw, "3.6.0")));
    if (itead)
        snprintf(t->host_hdr, sizeof t->host_hdr, "dl.itead.cn");
    else if (t->port == 80)
        snprintf(t->host_hdr, sizeof t->host_hdr, "%s", t->host);
    else
        snprintf(t->host_hdr, sizeof t->host_hdr, "%s:%d", t->host, t->port);
}

static enum so_err connect_server(struct diy_dev *dv, int timeout_ms, char *err, size_t errcap)
{
    struct netio_params p = {.tls = SIM_TLS_NONE, .timeout_ms = timeout_ms};
    return netio_open(&dv->ota.conn, dv->ota.host, dv->ota.port, &p, err, errcap);
}

/* One Range request and its reply into t->buf. SO_OK; SO_AGAIN network trouble (retry);
 * SO_E_TIMEOUT; SO_E_TOOBIG (file larger than the device takes); other: the server is
 * unusable (no Range support, 404, bad headers). */
static enum so_err fetch_chunk(struct diy_dev *dv, int timeout_ms, char *why, size_t whycap)
{
    struct diy_ota *t = &dv->ota;
    struct sim_ctx *s = dv->s;
    uint64_t first = (uint64_t)t->chunk * DIY_CHUNK;
    uint64_t last = first + DIY_CHUNK - 1;
    if (t->total && last >= t->total)
        last = t->total - 1;
    uint32_t ts = sim_rand(s);
    char in[128], sign[65], req[700];
    snprintf(in, sizeof in, "%s%u%s", s->o->device_id, (unsigned)ts, s->o->apikey);
    so_sha256_hex(in, strlen(in), sign);
    int n = snprintf(req, sizeof req,
                     "GET %s%cdeviceid=%s&ts=%u&sign=%s HTTP/1.1\r\nHost: %s\r\n"
                     "Range: bytes=%llu-%llu\r\nUser-Agent: itead-device\r\n\r\n",
                     t->path, strchr(t->path, '?') ? '&' : '?', s->o->device_id,
                     (unsigned)ts, sign, t->host_hdr, (unsigned long long)first,
                     (unsigned long long)last);
    if (n <= 0 || (size_t)n >= sizeof req) {
        snprintf(why, whycap, "request line too long");
        return SO_E_ARG;
    }
    LOG_D("diy: GET %s bytes=%llu-%llu Host: %s", t->path, (unsigned long long)first,
          (unsigned long long)last, t->host_hdr);
    if (netio_write(&t->conn, req, (size_t)n, timeout_ms) != 0)
        return SO_AGAIN;
    long long dl = plat_mono_ms() + timeout_ms;
    char buf[REPLY_MAX + 1];
    size_t have = 0;
    int eof = 0;
    struct so_http_head h;
    enum so_err e = httpc_read_head(&t->conn, buf, REPLY_MAX, &have, &h, dl, &eof);
    if (e == SO_E_TIMEOUT)
        return SO_E_TIMEOUT;
    if (e == SO_E_IO)
        return SO_AGAIN;
    if (e != SO_OK) {
        snprintf(why, whycap, "unreadable HTTP reply (%s)", so_strerror(e));
        return SO_E_HTTP_STATUS;
    }
    if (h.status != 206) {
        snprintf(why, whycap, "the server answered %d, not 206%s", h.status,
                 h.status == 200 ? " (no Range support)" : "");
        return SO_E_HTTP_STATUS;
    }
    const struct so_http_header *cr = so_http_find(&h, "Content-Range");
    struct so_range got;
    uint64_t total = 0;
    if (!cr || so_content_range_parse(cr->value.p, cr->value.n, &got, &total) != SO_OK) {
        snprintf(why, whycap, "206 without a usable Content-Range");
        return SO_E_HTTP_HEADER;
    }
    if (t->chunk == 0) {
        LOG_I("diy: first reply: Content-Range: %.*s", (int)cr->value.n, cr->value.p);
        if (total > (uint64_t)dv->o->max_fw) {
            snprintf(why, whycap, "the file has %llu bytes, more than %ld",
                     (unsigned long long)total, dv->o->max_fw);
            return SO_E_TOOBIG;
        }
        t->total = (size_t)total;
        if (last >= total)
            last = total - 1;
        t->buf = malloc(t->total);
        if (!t->buf) {
            snprintf(why, whycap, "out of memory");
            return SO_E_NOMEM;
        }
    } else if (total != t->total) {
        snprintf(why, whycap, "the file size changed from %zu to %llu", t->total,
                 (unsigned long long)total);
        return SO_E_HTTP_HEADER;
    }
    unsigned long long clen = 0;
    if (got.first != first || got.last != last) {
        snprintf(why, whycap, "asked bytes %llu-%llu, got a reply for %llu-%llu",
                 (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)got.first, (unsigned long long)got.last);
        return SO_E_HTTP_HEADER;
    }
    if (httpc_content_length(&h, &clen, why, whycap) != 0)
        return SO_E_HTTP_HEADER;
    if (clen != last - first + 1) {
        snprintf(why, whycap, "Content-Length %llu for a %llu-byte range", clen,
                 (unsigned long long)(last - first + 1));
        return SO_E_HTTP_HEADER;
    }
    const struct so_http_header *conn_hdr = so_http_find(&h, "Connection");
    t->conn_close = conn_hdr && so_str_ieq(so_str_trim(conn_hdr->value), "close");
    size_t body_have = have - h.head_len;
    if (body_have > clen)
        body_have = (size_t)clen; /* pipelining is not expected; extra bytes are dropped */
    memcpy(t->buf + first, buf + h.head_len, body_have);
    size_t need = (size_t)clen;
    while (body_have < need) {
        long long left = dl - plat_mono_ms();
        ssize_t r = left > 0 ? netio_read(&t->conn, t->buf + first + body_have,
                                          need - body_have, (int)left) : -2;
        if (r == -2)
            return SO_E_TIMEOUT;
        if (r <= 0)
            return SO_AGAIN;
        body_have += (size_t)r;
    }
    if (s->o->faults.corrupt_chunk >= 0 && (unsigned long)s->o->faults.corrupt_chunk == t->chunk) {
        t->buf[first + need / 2] ^= 0x55;
        LOG_W("fault corrupt-chunk: flipped a byte of chunk %lu", t->chunk);
    }
    t->have = (size_t)first + need;
    if (t->conn_close)
        netio_close(&t->conn);
    if (s->o->faults.drop_at >= 0 && !s->drop_fired && t->have >= (size_t)s->o->faults.drop_at) {
        s->drop_fired = 1;
        LOG_W("fault drop-at: closing the download connection after %zu bytes", t->have);
        netio_close(&t->conn);
    }
    return SO_OK;
}

int diy_ota_begin(struct diy_dev *dv, const char *url, const char *sha256)
{
    struct diy_ota *t = &dv->ota;
    memset(t, 0, sizeof *t);
    t->conn.fd = -1;
    snprintf(t->url, sizeof t->url, "%s", url);
    snprintf(t->sha256, sizeof t->sha256, "%s", sha256);
    if (ota_dl_parse_url(url, t->host, sizeof t->host, &t->port, t->path, sizeof t->path) != 0) {
        LOG_I("diy: ota_flash: unusable downloadUrl %s: 424", url);
        return DIY_E_DOWNLOAD;
    }
    host_header(dv);
    t->started = plat_mono_ms();
    t->deadline = t->started + DIY_OTA_TIMEOUT_MS;
    t->rec = sim_dl_add(dv->s, "diy-range", t->path);
    LOG_I("diy: ota_flash: pre-downloading %s (Host: %s)", url, t->host_hdr);
    char err[SIM_TEXT] = "";
    int pre = (int)(dv->o->predownload_ms * dv->s->o->time_scale);
    long long pre_end = plat_mono_ms() + (pre > 0 ? pre : 1);
    enum so_err e = connect_server(dv, pre > 0 ? pre : 1, err, sizeof err);
    if (e == SO_OK) {
        long long left = pre_end - plat_mono_ms();
        err[0] = '\0';
        e = left > 0 ? fetch_chunk(dv, (int)left, err, sizeof err) : SO_E_TIMEOUT;
    }
    int code = DIY_OK;
    if (e == SO_E_TIMEOUT) {
        code = DIY_E_PREDOWNLOAD;
        snprintf(err, sizeof err, "no first chunk within %d ms", pre);
    } else if (e == SO_E_TOOBIG) {
        code = DIY_E_TOO_LARGE;
    } else if (e != SO_OK) {
        code = DIY_E_DOWNLOAD;
        if (e == SO_AGAIN)
            snprintf(err, sizeof err, "the server closed the connection");
    }
    if (code != DIY_OK) {
        LOG_I("diy: ota_flash: pre-download failed: %s: %d", err, code);
        if (t->rec) {
            t->rec->ok = 0;
            snprintf(t->rec->error, sizeof t->rec->error, "%d: %.200s", code, err);
        }
        netio_close(&t->conn);
        free(t->buf);
        t->buf = NULL;
        return code;
    }
    t->active = 1;
    t->chunk = 1;
    LOG_I("diy: ota_flash: %zu bytes to fetch, first chunk in %lld ms", t->total,
          plat_mono_ms() - t->started);
    return DIY_OK;
}

static void post_result(struct diy_dev *dv, int code)
{
    struct diy_ota *t = &dv->ota;
    if (dv->o->no_result_post) {
        LOG_W("fault no-result-post: not reporting %d to the download server", code);
        return;
    }
    char body[128], req[512], err[SIM_TEXT];
    int bn = snprintf(body, sizeof body, "{\"deviceid\":\"%s\",\"error\":%d}",
                      dv->s->o->device_id, code);
    int n = snprintf(req, sizeof req,
                     "POST /api/device/otaFlash HTTP/1.1\r\nHost: %s\r\n"
                     "User-Agent: itead-device\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                     t->host_hdr, bn, body);
    struct netio_conn c = NETIO_CONN_INIT;
    struct netio_params p = {.tls = SIM_TLS_NONE, .timeout_ms = 3000};
    if (netio_open(&c, t->host, t->port, &p, err, sizeof err) != SO_OK) {
        LOG_I("diy: result POST: %s", err);
        return;
    }
    if (netio_write(&c, req, (size_t)n, 3000) == 0) {
        char buf[1024];
        size_t have = 0;
        int eof;
        struct so_http_head h;
        if (httpc_read_head(&c, buf, sizeof buf, &have, &h, plat_mono_ms() + 3000, &eof) == SO_OK)
            LOG_I("diy: result %d posted to /api/device/otaFlash: HTTP %d", code, h.status);
    }
    netio_close(&c);
}

void diy_ota_abort(struct diy_dev *dv, int code, const char *why)
{
    struct diy_ota *t = &dv->ota;
    LOG_W("diy: download of %s failed after %zu of %zu bytes: %s", t->url, t->have, t->total,
          why);
    if (t->rec) {
        t->rec->ok = 0;
        t->rec->bytes = t->have;
        t->rec->ms = plat_mono_ms() - t->started;
        snprintf(t->rec->error, sizeof t->rec->error, "%.180s", why);
    }
    netio_close(&t->conn);
    post_result(dv, code);
    free(t->buf);
    t->buf = NULL;
    t->active = 0;
}

int diy_ota_step(struct diy_dev *dv)
{
    struct diy_ota *t = &dv->ota;
    if (!t->active)
        return -1;
    if (t->have >= t->total)
        return 1;
    if (plat_mono_ms() > t->deadline) {
        diy_ota_abort(dv, DIY_E_DOWNLOAD, "download timeout");
        return -1;
    }
    char why[SIM_TEXT] = "", err[SIM_TEXT];
    enum so_err e = SO_AGAIN;
    if (t->conn.fd < 0 && connect_server(dv, DIY_CHUNK_TIMEOUT_MS, err, sizeof err) != SO_OK)
        snprintf(why, sizeof why, "%s", err);
    else
        e = fetch_chunk(dv, DIY_CHUNK_TIMEOUT_MS, why, sizeof why);
    if (e == SO_OK) {
        t->retries = 0;
        t->chunk++;
        if (dv->s->o->chunk_delay_ms)
            sim_sleep(dv->s, dv->s->o->chunk_delay_ms);
        return t->have >= t->total ? 1 : 0;
    }
    if ((e == SO_AGAIN || e == SO_E_TIMEOUT) && t->retries++ < DIY_RETRIES) {
        LOG_I("diy: chunk %lu: %s; reconnecting (%d/%d)", t->chunk,
              why[0] ? why : "connection lost", t->retries, DIY_RETRIES);
        netio_close(&t->conn);
        return 0;
    }
    diy_ota_abort(dv, DIY_E_DOWNLOAD, why[0] ? why : "the server stopped answering");
    return -1;
}

static int write_image(struct diy_dev *dv)
{
    struct diy_ota *t = &dv->ota;
    unsigned sectors = (unsigned)((t->total + SPIFLASH_SECTOR - 1) / SPIFLASH_SECTOR);
    for (unsigned i = 0; i < sectors; i++)
        if (spiflash_erase_sector(&dv->s->flash, i) != SO_OK)
            return -1;
    return spiflash_write(&dv->s->flash, 0, t->buf, t->total) == SO_OK ? 0 : -1;
}

int diy_ota_finish(struct diy_dev *dv)
{
    struct diy_ota *t = &dv->ota;
    char got[65];
    so_sha256_hex(t->buf, t->total, got);
    netio_close(&t->conn);
    t->active = 0;
    if (t->rec) {
        t->rec->bytes = t->total;
        t->rec->ms = plat_mono_ms() - t->started;
    }
    int code = DIY_OK;
    if (strcmp(got, t->sha256)) {
        /* compared as text: an uppercase digest fails too (ID#102) */
        LOG_W("diy: SHA-256 mismatch: downloaded %s, asked %s: 471", got, t->sha256);
        code = DIY_E_SHA256;
    } else if (write_image(dv) != 0) {
        code = DIY_E_DOWNLOAD;
        LOG_W("diy: writing the image to flash failed");
    } else {
        dv->flashed = 1;
        LOG_I("diy: %zu bytes downloaded in %lld ms, SHA-256 ok, written at 0x0", t->total,
              plat_mono_ms() - t->started);
    }
    if (t->rec) {
        t->rec->ok = code == DIY_OK;
        if (code != DIY_OK)
            snprintf(t->rec->error, sizeof t->rec->error, "%d: %s", code,
                     diy_error_name(code));
    }
    post_result(dv, code);
    free(t->buf);
    t->buf = NULL;
    return code;
}
