#include "sim/ota_dl.h"

#include "io/crypto.h"
#include "io/log.h"
#include "lib/http_range.h"
#include "sim/httpc.h"
#include "sim/netio.h"
#include "sim/powerloss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATUS_206 "HTTP/1.1 206 Partial Content\r\n"
#define CHUNK_TIMEOUT_MS 10000 /* per request [?]; the 180 s overall bound still applies */

int ota_dl_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                     size_t pathcap)
{
    if (strncmp(url, "http://", 7))
        return -1;
    const char *h = url + 7, *slash = strchr(h, '/');
    if (!slash || strlen(slash) > OTA_PATH_MAX || strlen(slash) >= pathcap)
        return -1;
    const char *colon = memchr(h, ':', (size_t)(slash - h));
    const char *hend = colon ? colon : slash;
    size_t hn = (size_t)(hend - h);
    if (hn == 0 || hn >= hostcap)
        return -1;
    for (size_t i = 0; i < hn; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-'))
            return -1;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    *port = 80;
    if (colon) {
        long p = 0;
        const char *q = colon + 1;
        if (q == slash)
            return -1;
        for (; q < slash; q++) {
            if (*q < '0' || *q > '9' || (p = p * 10 + (*q - '0')) > 65535)
                return -1;
        }
        if (p == 0)
            return -1;
        *port = (int)p;
    }
    strcpy(path, slash);
    return 0;
}

/* GET <path>?deviceid=&ts=&sign= with sign = sha256(deviceid || ts || factory apikey)
 * (§1.5); ts from the firmware's rand(). Host is always dl.itead.cn (IG). */
static int build_request(struct sim_ctx *s, const char *path, const struct so_range *rg,
                         char *out, size_t cap)
{
    uint32_t ts = sim_rand(s);
    char in[128], sign[65];
    snprintf(in, sizeof in, "%s%u%s", s->o->device_id, (unsigned)ts, s->o->apikey);
    so_sha256_hex(in, strlen(in), sign);
    int n;
    if (rg)
        n = snprintf(out, cap,
                     "GET %s?deviceid=%s&ts=%u&sign=%s HTTP/1.1\r\n"
                     "Host: dl.itead.cn\r\n"
                     "Range: bytes=%llu-%llu\r\n"
                     "User-Agent: itead-device\r\n\r\n",
                     path, s->o->device_id, (unsigned)ts, sign,
                     (unsigned long long)rg->first, (unsigned long long)rg->last);
    else
        n = snprintf(out, cap,
                     "GET %s?deviceid=%s&ts=%u&sign=%s HTTP/1.1\r\n"
                     "Host: dl.itead.cn\r\n"
                     "User-Agent: itead-device\r\n\r\n",
                     path, s->o->device_id, (unsigned)ts, sign);
    return n > 0 && (size_t)n < cap ? n : -1;
}

/* Erase the sector, write 4096 bytes padded with 0xFF (§1.5). */
static enum so_err write_sector(struct sim_ctx *s, uint32_t addr, const uint8_t *data,
                                size_t n, unsigned long long chunk_no)
{
    uint8_t sec[SPIFLASH_SECTOR];
    memset(sec, 0xFF, sizeof sec);
    memcpy(sec, data, n);
    if (s->o->faults.corrupt_chunk >= 0 &&
        (unsigned long long)s->o->faults.corrupt_chunk == chunk_no) {
        sec[n / 2] ^= 0x55;
        LOG_W("fault corrupt-chunk: flipped a byte of chunk %llu at 0x%05x", chunk_no,
              (unsigned)(addr + n / 2));
    }
    enum so_err e = spiflash_erase_sector(&s->flash, addr / SPIFLASH_SECTOR);
    if (e == SO_OK)
        powerloss_write(s, SIM_PL_STOCK, chunk_no * SPIFLASH_SECTOR, addr, sec, n);
    return e ? e : spiflash_write(&s->flash, addr, sec, sizeof sec);
}

static void sleep_real_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

struct dl {
    struct sim_ctx *s;
    const struct ota_dl_req *req;
    struct ota_dl_res *res;
    char host[64], path[OTA_PATH_MAX + 1];
    int port;
    struct netio_conn conn;
    long long deadline;
};

static int drop_now(struct dl *d, unsigned long long file_pos)
{
    long at = d->s->o->faults.drop_at;
    if (at < 0 || d->s->drop_fired || file_pos < (unsigned long long)at)
        return 0;
    d->s->drop_fired = 1;
    LOG_W("fault drop-at: closing the download connection after %llu file bytes", file_pos);
    netio_close(&d->conn);
    return 1;
}

static enum so_err dl_connect(struct dl *d, int rcvbuf)
{
    char err[SIM_TEXT];
    long left = d->deadline - plat_mono_ms();
    struct netio_params p = {.tls = SIM_TLS_NONE, .rcvbuf = rcvbuf,
                            .timeout_ms = (int)(left < CHUNK_TIMEOUT_MS ? left : CHUNK_TIMEOUT_MS)};
    if (left <= 0)
        return SO_E_TIMEOUT;
    enum so_err e = netio_open(&d->conn, d->host, d->port, &p, err, sizeof err);
    if (e)
        LOG_I("download connect failed: %s", err);
    return e;
}

/* One Range request/reply. Returns SO_OK (chunk in flash), SO_AGAIN (network trouble:
 * reconnect and retry; *clean = the server had just closed an idle connection) or an error
 * (protocol violation: the download fails at once). */
static enum so_err range_chunk(struct dl *d, unsigned long long k, struct so_range want,
                               int first, int reused, int *clean, int *server_close)
{
    struct sim_ctx *s = d->s;
    char req[512], buf[OTA_REPLY_MAX + 1];
    *clean = 0;
    *server_close = 0;
    int n = build_request(s, d->path, &want, req, sizeof req);
    if (n < 0) {
        snprintf(d->res->err, sizeof d->res->err, "request too long");
        return SO_E_ARG;
    }
    LOG_D("GET %s bytes=%llu-%llu", d->path, (unsigned long long)want.first,
          (unsigned long long)want.last);
    if (netio_write(&d->conn, req, (size_t)n, CHUNK_TIMEOUT_MS) != 0)
        return SO_AGAIN;
    long long dl = plat_mono_ms() + CHUNK_TIMEOUT_MS;
    if (dl > d->deadline)
        dl = d->deadline;
    size_t have = 0;
    int eof = 0;
    struct so_http_head h;
    enum so_err e = httpc_read_head(&d->conn, buf, OTA_REPLY_MAX, &have, &h, dl, &eof);
    if (e == SO_E_IO || e == SO_E_TIMEOUT) {
        *clean = reused && eof && have == 0;
        return SO_AGAIN;
    }
    char why[SIM_TEXT];
    if (e != SO_OK || have < sizeof STATUS_206 - 1 ||
        memcmp(buf, STATUS_206, sizeof STATUS_206 - 1)) {
        int l = 0;
        while (l < (int)have && l < 60 && buf[l] != '\r' && buf[l] != '\n')
            l++;
        snprintf(d->res->err, sizeof d->res->err,
                 "reply does not start with 'HTTP/1.1 206 Partial Content' (got '%.*s')", l,
                 buf);
        return SO_E_HTTP_STATUS;
    }
    const struct so_http_header *cr = so_http_find(&h, "Content-Range");
    struct so_range got;
    uint64_t total = 0;
    unsigned long long cl = 0;
    if (!cr || so_content_range_parse(cr->value.p, cr->value.n, &got, &total) != SO_OK) {
        snprintf(d->res->err, sizeof d->res->err, "206 reply without a valid Content-Range");
        return SO_E_HTTP_HEADER;
    }
    if (httpc_content_length(&h, &cl, why, sizeof why) != 0) {
        snprintf(d->res->err, sizeof d->res->err, "206 reply: %.180s", why);
        return SO_E_HTTP_HEADER;
    }
    if (first) {
        /* TOTAL is read after the '/' of the first reply only (IG). */
        if (total > OTA_MAX_TOTAL || total > d->req->region_max) {
            snprintf(d->res->err, sizeof d->res->err,
                     "file of %llu bytes is larger than the firmware accepts (%u) or the slot "
                     "holds (%u)", (unsigned long long)total, OTA_MAX_TOTAL,
                     (unsigned)d->req->region_max);
            return SO_E_TOOBIG;
        }
        d->res->total = total;
        so_range_chunk(0, total, &want);
    } else if (total != d->res->total) {
        snprintf(d->res->err, sizeof d->res->err, "Content-Range total changed (%llu, was %llu)",
                 (unsigned long long)total, d->res->total);
        return SO_E_RANGE;
    }
    if (cl > SO_RANGE_CHUNK || got.first != want.first || got.last != want.last ||
        cl != got.last - got.first + 1) {
        snprintf(d->res->err, sizeof d->res->err,
                 "206 reply for bytes %llu-%llu (Content-Length %llu); asked %llu-%llu",
                 (unsigned long long)got.first, (unsigned long long)got.last, cl,
                 (unsigned long long)want.first, (unsigned long long)want.last);
        return SO_E_RANGE;
    }
    if (h.head_len + cl > OTA_REPLY_MAX) {
        snprintf(d->res->err, sizeof d->res->err,
                 "reply of %llu bytes does not fit the firmware's 5 KB buffer",
                 (unsigned long long)(h.head_len + cl));
        return SO_E_TOOBIG;
    }
    const struct so_http_header *conn_h = so_http_find(&h, "Connection");
    *server_close = conn_h && so_str_ieq(conn_h->value, "close");
    size_t need = h.head_len + (size_t)cl;
    if (have > need) {
        snprintf(d->res->err, sizeof d->res->err, "%zu bytes after the 206 body", have - need);
        return SO_E_SYNTAX;
    }
    /* Body, watching the drop-at fault byte by byte of the file. */
    for (;;) {
        size_t lim = need;
        long at = s->o->faults.drop_at;
        if (at >= 0 && !s->drop_fired) {
            unsigned long long pos = want.first + (have - h.head_len);
            if ((unsigned long long)at <= pos) {
                drop_now(d, pos);
                return SO_AGAIN;
            }
            if ((unsigned long long)at < want.first + cl)
                lim = h.head_len + (size_t)((unsigned long long)at - want.first);
        }
        if (have >= need)
            break;
        e = httpc_read_until(&d->conn, buf, lim, &have, dl, &eof);
        if (e != SO_OK)
            return SO_AGAIN;
    }
    e = write_sector(s, d->req->addr + (uint32_t)want.first, (const uint8_t *)buf + h.head_len,
                     (size_t)cl, k);
    if (e) {
        snprintf(d->res->err, sizeof d->res->err, "flash write failed");
        return e;
    }
    d->res->bytes += cl;
    return SO_OK;
}

static enum so_err download_range(struct dl *d)
{
    struct sim_ctx *s = d->s;
    unsigned long long k = 0;
    int fails = 0, reused = 0;
    for (;;) {
        struct so_range want = {0, SO_RANGE_CHUNK - 1};
        int first = d->res->total == 0;
        if (!first && so_range_chunk(k, d->res->total, &want) != 0)
            break;
        if (plat_mono_ms() >= d->deadline) {
            snprintf(d->res->err, sizeof d->res->err, "download timed out (180 s)");
            return SO_E_TIMEOUT;
        }
        enum so_err e = SO_OK;
        int clean = 0, srv_close = 0;
        if (d->conn.fd < 0) {
            reused = 0;
            e = dl_connect(d, 0);
            if (e != SO_OK)
                e = SO_AGAIN;
        }
        if (e == SO_OK)
            e = range_chunk(d, k, want, first, reused, &clean, &srv_close);
        if (e == SO_OK) {
            fails = 0;
            k++;
            reused = 1;
            if (srv_close)
                netio_close(&d->conn);
            if (d->req->idle)
                d->req->idle(d->req->user);
            if (s->o->chunk_delay_ms)
                sleep_real_ms(s->o->chunk_delay_ms);
            continue;
        }
        if (e != SO_AGAIN)
            return e;
        netio_close(&d->conn);
        if (clean) {
            LOG_D("server closed the kept-alive connection; reconnecting");
            continue;
        }
        if (++fails > OTA_RETRIES) {
            snprintf(d->res->err, sizeof d->res->err,
                     "connection lost %d times at chunk %llu; giving up", fails, k);
            return SO_E_IO;
        }
        d->res->reconnects++;
        LOG_I("download connection lost at chunk %llu; reconnect %d/%d in %d s", k, fails,
              OTA_RETRIES, fails);
        if (sim_sleep(s, 1000L * fails) != 0) {
            snprintf(d->res->err, sizeof d->res->err, "run timeout during download");
            return SO_E_TIMEOUT;
        }
    }
    return SO_OK;
}

/* Style B: the whole file in one GET, read slowly from a small receive buffer. The
 * firmware fails fast streams (S#21, sillyfrog#7); the root cause is unproven, modelled as
 * an overrun when more than --reader-max-pending bytes wait at a read [?]. */
static enum so_err download_whole(struct dl *d)
{
    struct sim_ctx *s = d->s;
    const struct sim_opts *o = s->o;
    enum so_err e = dl_connect(d, o->reader_rcvbuf);
    if (e != SO_OK) {
        snprintf(d->res->err, sizeof d->res->err, "cannot connect to %s:%d", d->host, d->port);
        return SO_E_IO;
    }
    char req[512];
    int n = build_request(s, d->path, NULL, req, sizeof req);
    if (n < 0 || netio_write(&d->conn, req, (size_t)n, CHUNK_TIMEOUT_MS) != 0) {
        snprintf(d->res->err, sizeof d->res->err, "cannot send the request");
        return SO_E_IO;
    }
    char head[SO_HTTP_HEAD_MAX];
    size_t hlen = 0;
    int have_head = 0;
    unsigned long long cl = 0, body = 0;
    uint8_t sec[SPIFLASH_SECTOR];
    size_t secn = 0;
    unsigned long long chunk_no = 0;
    uint8_t *rbuf = malloc((size_t)o->reader_chunk);
    if (!rbuf)
        return SO_E_NOMEM;
    long long last_data = plat_mono_ms(), last_idle = 0, last_read = plat_mono_ms();
    e = SO_OK;
    while (!have_head || body < cl) {
        sleep_real_ms(o->reader_interval_ms);
        long long now = plat_mono_ms();
        /* The modelled firmware drains reader_chunk bytes per interval. When this process
         * itself was scheduled late (a loaded machine), the device would have drained the
         * bytes of the missed reads: allow those, so only the server's rate decides. */
        long long late = now - last_read - o->reader_interval_ms;
        long allowed = o->reader_max_pending;
        if (late > 0)
            allowed += (long)(late * o->reader_chunk / o->reader_interval_ms);
        last_read = now;
        if (now >= d->deadline || now - last_data > CHUNK_TIMEOUT_MS) {
            snprintf(d->res->err, sizeof d->res->err, "download stalled or timed out");
            e = SO_E_TIMEOUT;
            break;
        }
        if (d->req->idle && now - last_idle >= 100) {
            d->req->idle(d->req->user);
            last_idle = now;
        }
        long pending = netio_pending(&d->conn);
        if (pending > allowed) {
            snprintf(d->res->err, sizeof d->res->err,
                     "receive buffer overrun: %ld bytes waiting (> %ld) after %llu body bytes; "
                     "the server streams too fast for this firmware (use paced serving)",
                     pending, allowed, body);
            e = SO_E_IO;
            break;
        }
        size_t want = (size_t)o->reader_chunk;
        if (!have_head && want > sizeof head - hlen)
            want = sizeof head - hlen;
        if (have_head && want > cl - body)
            want = (size_t)(cl - body);
        ssize_t r = netio_read(&d->conn, have_head ? rbuf : (uint8_t *)head + hlen, want, 0);
        if (r == -2)
            continue;
        if (r <= 0) {
            snprintf(d->res->err, sizeof d->res->err, "connection %s after %llu of %llu bytes",
                     r == 0 ? "closed" : "failed", body, cl);
            e = SO_E_IO;
            break;
        }
        last_data = plat_mono_ms();
        const uint8_t *p = have_head ? rbuf : NULL;
        size_t pn = have_head ? (size_t)r : 0;
        if (!have_head) {
            hlen += (size_t)r;
            struct so_http_head h;
            enum so_err he = so_http_parse_response(head, hlen, &h);
            if (he == SO_AGAIN)
                continue;
            char why[SIM_TEXT];
            if (he != SO_OK || h.status != 200 ||
                httpc_content_length(&h, &cl, why, sizeof why) != 0) {
                snprintf(d->res->err, sizeof d->res->err, "whole-body reply: %.170s",
                         he != SO_OK ? "malformed head" : h.status != 200 ? "status is not 200"
                                                                          : why);
                e = SO_E_HTTP_STATUS;
                break;
            }
            if (cl == 0 || cl > OTA_MAX_TOTAL || cl > d->req->region_max) {
                snprintf(d->res->err, sizeof d->res->err,
                         "Content-Length %llu outside 1..%u", cl, OTA_MAX_TOTAL);
                e = SO_E_TOOBIG;
                break;
            }
            d->res->total = cl;
            have_head = 1;
            p = (const uint8_t *)head + h.head_len;
            pn = hlen - h.head_len;
            if (pn > cl) {
                snprintf(d->res->err, sizeof d->res->err, "bytes after the body");
                e = SO_E_SYNTAX;
                break;
            }
        }
        while (pn > 0) {
            size_t take = SPIFLASH_SECTOR - secn < pn ? SPIFLASH_SECTOR - secn : pn;
            memcpy(sec + secn, p, take);
            secn += take;
            p += take;
            pn -= take;
            body += take;
            if (secn == SPIFLASH_SECTOR || body == cl) {
                uint32_t at = d->req->addr + (uint32_t)(chunk_no * SPIFLASH_SECTOR);
                if (write_sector(s, at, sec, secn, chunk_no) != SO_OK) {
                    snprintf(d->res->err, sizeof d->res->err, "flash write failed");
                    e = SO_E_IO;
                    break;
                }
                d->res->bytes += secn;
                chunk_no++;
                secn = 0;
            }
        }
        if (e != SO_OK)
            break;
        if (drop_now(d, body) && body < cl) {
            snprintf(d->res->err, sizeof d->res->err,
                     "connection dropped after %llu bytes (fault drop-at); a whole-body "
                     "download cannot resume", body);
            e = SO_E_IO;
            break;
        }
    }
    free(rbuf);
    return e;
}

enum so_err ota_dl_download(struct sim_ctx *s, const struct ota_dl_req *req,
                            struct ota_dl_res *res)
{
    memset(res, 0, sizeof *res);
    struct dl *d = calloc(1, sizeof *d);
    if (!d)
        return SO_E_NOMEM;
    d->s = s;
    d->req = req;
    d->res = res;
    d->conn.fd = -1;
    const char *style = s->o->download == SIM_DL_RANGE ? "range" : "whole";
    const char *fname = strrchr(req->url, '/');
    struct sim_dl_rec *rec = sim_dl_add(s, style, fname ? fname + 1 : req->url);
    long long t0 = plat_mono_ms();
    d->deadline = t0 + OTA_TIMEOUT_MS;
    if (d->deadline > s->deadline)
        d->deadline = s->deadline;
    enum so_err e;
    if (ota_dl_parse_url(req->url, d->host, sizeof d->host, &d->port, d->path, sizeof d->path)) {
        snprintf(res->err, sizeof res->err, "unusable downloadUrl");
        e = SO_E_ARG;
    } else {
        LOG_I("downloading %s (%s) to 0x%05x", req->url, style, (unsigned)req->addr);
        e = s->o->download == SIM_DL_RANGE ? download_range(d) : download_whole(d);
    }
    netio_close(&d->conn);
    res->ms = plat_mono_ms() - t0;
    rec->bytes = res->bytes;
    rec->ms = res->ms;
    rec->ok = e == SO_OK;
    snprintf(rec->error, sizeof rec->error, "%s", e == SO_OK ? "" : res->err);
    if (e == SO_OK)
        LOG_I("downloaded %llu bytes in %lld ms (%d reconnects)", res->bytes, res->ms,
              res->reconnects);
    else
        LOG_W("download failed: %s", res->err);
    free(d);
    return e;
}
