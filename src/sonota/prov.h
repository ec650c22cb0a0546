/* prov.h - stage 1: talk to the device on its pairing AP over plain HTTP (PROTOCOL.md
 * §1.2): GET /device (retried by the caller, 2 s each, like SonOTA) and POST /ap with the
 * home WiFi and this computer as serverName, through httpc (no proxy, bounded replies).
 * The *_start calls do not block: the result arrives in the done function from
 * httpc_step. Errors come back as a sentence that says what happened and what to do. */
#ifndef SONOTA_PROV_H
#define SONOTA_PROV_H

#include "lib/err.h"
#include "lib/ewl_msg.h"

#include <stddef.h>

#define PROV_ATTEMPT_MS 2000     /* per request (§1.2: SonOTA retries with 2 s timeouts) */
#define PROV_REPLY_MAX 4096      /* the device answers ~100 B; anything bigger is not it */

/* How a request ended, for the caller's choice of retrying or giving up (mapped from the
 * httpc result's so_err). */
enum prov_fail {
    PROV_OK,
    PROV_UNREACHABLE,   /* refused / no route / could not resolve: not on its AP yet */
    PROV_TIMEOUT,       /* no answer in time */
    PROV_NO_REPLY,      /* connection closed without (complete) reply */
    PROV_HTTP_STATUS,   /* answered with a non-200 status */
    PROV_BAD_REPLY,     /* not the JSON the device sends */
    PROV_REFUSED,       /* the device answered {"error":N} with N != 0 */
};

/* dev: the parsed GET /device answer (NULL unless that succeeded); dev_error: POST /ap's
 * {"error":N} value (-1 when none); err: a sentence, "" when f is PROV_OK. */
typedef void (*prov_done_fn)(void *user, enum prov_fail f, const struct ewl_device_info *dev,
                             int dev_error, const char *err);

struct httpc;

/* GET <base>/device on h. 0, or -1 when it cannot start (done is then not called). */
int prov_get_device_start(struct httpc *h, const char *base_url, int timeout_ms,
                          prov_done_fn done, void *user);
/* POST <base>/ap on h. The JSON body holds the password: every copy is wiped. */
int prov_post_ap_start(struct httpc *h, const char *base_url, const struct ewl_ap_config *cfg,
                       int timeout_ms, prov_done_fn done, void *user);

/* GET <base>/device to completion (blocking), on a client of its own (for code without
 * a loop). */
enum prov_fail prov_get_device(const char *base_url, int timeout_ms,
                               struct ewl_device_info *out, char *err, size_t errcap);

#endif
