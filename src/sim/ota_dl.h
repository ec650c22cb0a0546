/* ota_dl.h - the stock firmware's OTA download into a flash slot (PROTOCOL.md §1.5):
 * style A, 4 KiB Range requests on a kept-alive connection; style B, one whole-body GET
 * read by a slow reader with a small receive buffer [?]. */
#ifndef SIM_OTA_DL_H
#define SIM_OTA_DL_H

#include "lib/err.h"
#include "sim/sim.h"

#include <stdint.h>

#define OTA_MAX_TOTAL 471040u     /* IG rejects TOTAL > 460 KiB (§1.5) */
#define OTA_REPLY_MAX 5120u       /* IG reassembles a reply in 5 KB */
#define OTA_TIMEOUT_MS 180000     /* overall download timeout (§1.5) */
#define OTA_RETRIES 3             /* reconnects, 1 s / 2 s / 3 s apart (§1.5) */
#define OTA_PATH_MAX 100          /* the firmware keeps ~100 B of path (§1.5) [?] */

struct ota_dl_req {
    const char *url;          /* http://host[:port]/path */
    uint32_t addr;            /* slot start: 0x1000 or 0x81000 */
    uint32_t region_max;      /* bytes the slot can hold */
    /* Called between chunks/reads so the WebSocket keeps being served; may be NULL. */
    void (*idle)(void *user);
    void *user;
};

struct ota_dl_res {
    unsigned long long total; /* file size learnt from the server */
    unsigned long long bytes; /* file bytes written to flash */
    long long ms;
    int reconnects;
    char err[SIM_TEXT];
};

/* SO_OK when all `total` bytes are in flash at req->addr; else an error with res->err.
 * The caller checks the digest. Adds a record to the report. */
enum so_err ota_dl_download(struct sim_ctx *s, const struct ota_dl_req *req,
                            struct ota_dl_res *res);

/* Splits "http://host[:port]/path". 0, or -1 (https, no path, path too long, bad port). */
int ota_dl_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                     size_t pathcap);

#endif
