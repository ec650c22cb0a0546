/* diy_int.h - shared state of the DIY device's modules (diy_dev.c: loop and REST API;
 * diy_ota.c: ota_flash download, check, flash write, result POST; diy_tasmota.c: what
 * boots afterwards). Private to src/sim. */
#ifndef SIM_DIY_INT_H
#define SIM_DIY_INT_H

#include "lib/diy_msg.h"
#include "sim/diy_dev.h"
#include "sim/mdns_resp.h"
#include "sim/netio.h"

#include <stddef.h>
#include <stdint.h>

#define DIY_CHUNK 4096                 /* Range request size (§6) */
#define DIY_CHUNK_TIMEOUT_MS 10000     /* per chunk after the pre-download [?] */
#define DIY_OTA_TIMEOUT_MS 300000      /* whole download [?] ("up to a few minutes", TD) */
#define DIY_RETRIES 3                  /* reconnects per chunk [?] */

struct diy_ota {
    int active;
    char url[DIY_URL_MAX];
    char host[64], path[DIY_URL_MAX], host_hdr[80];
    int port;
    char sha256[DIY_SHA256_LEN + 1];   /* as requested: compared as text (ID#102) */
    uint8_t *buf;                      /* the whole image (<= max_fw) */
    size_t total, have;
    unsigned long chunk;               /* next chunk */
    int retries;
    struct netio_conn conn;
    int conn_close;                    /* server said Connection: close */
    long long started, deadline;
    struct sim_dl_rec *rec;
};

struct diy_dev {
    struct sim_ctx *s;
    const struct sim_diy_opts *o;
    enum diy_proto proto;
    char fw[DIY_VERSION_MAX];
    char ip[16];                       /* the device's LAN address (A record) */
    struct diy_state st;
    long seq;                          /* TXT seq and reply seq (DIY14 §4.1) */
    int lfd;
    struct mdns_resp mdns;
    long long last_reply;              /* plat_mono_ms() when the previous reply went out */
    unsigned long requests, gap_violations;
    struct diy_ota ota;
    int flashed;                       /* a new image is at 0x0 */
    int reboot;                        /* reboot into it once the reply is out */
};

/* diy_dev.c */
int diy_stop_requested(void);          /* SIGTERM/SIGINT arrived */

/* diy_ota.c: ota_flash. Begin = parse the URL, pre-download the first chunk: DIY_OK or
 * 408 / 413 / 424. Step = one more chunk: 0 more to do, 1 complete, -1 failed (424). */
int diy_ota_begin(struct diy_dev *dv, const char *url, const char *sha256);
int diy_ota_step(struct diy_dev *dv);
/* After the last chunk: SHA-256 check (DIY_OK or 471), result POST, flash write on
 * success. Frees the buffer. */
int diy_ota_finish(struct diy_dev *dv);
/* Download failed midway (424 posted). */
void diy_ota_abort(struct diy_dev *dv, int code, const char *why);

/* diy_tasmota.c: reboot into the flash; 1 when a final image booted and its web server
 * was visited, 0 otherwise. */
int diy_boot_new_firmware(struct diy_dev *dv);

#endif
