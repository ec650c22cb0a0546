/* prov.h - stage 1: talk to the device on its pairing AP over plain HTTP (PROTOCOL.md
 * §1.2): GET /device (retried, 2 s each, like SonOTA) and POST /ap with the home WiFi and
 * this computer as serverName. libcurl, no proxy. Errors come back as a sentence that
 * says what happened and what to do. */
#ifndef SONOTA_PROV_H
#define SONOTA_PROV_H

#include "lib/err.h"
#include "lib/ewl_msg.h"

#include <signal.h>
#include <stddef.h>

#define PROV_ATTEMPT_MS 2000     /* per request (§1.2: SonOTA retries with 2 s timeouts) */
#define PROV_REPLY_MAX 4096      /* the device answers ~100 B; anything bigger is not it */

/* How a request ended, for the caller's choice of retrying or giving up. */
enum prov_fail {
    PROV_OK,
    PROV_UNREACHABLE,   /* refused / no route / could not resolve: not on its AP yet */
    PROV_TIMEOUT,       /* no answer in time */
    PROV_NO_REPLY,      /* connection closed without (complete) reply */
    PROV_HTTP_STATUS,   /* answered with a non-200 status */
    PROV_BAD_REPLY,     /* not the JSON the device sends */
    PROV_REFUSED,       /* the device answered {"error":N} with N != 0 */
};

/* Process-wide libcurl setup/teardown (call once each). */
int prov_global_init(void);
void prov_global_cleanup(void);

/* One GET <base>/device. */
enum prov_fail prov_get_device(const char *base_url, int timeout_ms,
                               struct ewl_device_info *out, char *err, size_t errcap);

/* GET /device until it answers, every ~2 s, at most max_attempts times or until
 * *stop is set. on_retry (may be NULL) hears each failed attempt. */
enum prov_fail prov_wait_device(const char *base_url, int max_attempts,
                                volatile sig_atomic_t *stop,
                                void (*on_retry)(int attempt, const char *why, void *user),
                                void *user, struct ewl_device_info *out, char *err,
                                size_t errcap);

/* One POST <base>/ap; *dev_error gets the device's error value when it answered. The
 * JSON body holds the password: it is wiped before being freed. */
enum prov_fail prov_post_ap(const char *base_url, const struct ewl_ap_config *cfg,
                            int timeout_ms, int *dev_error, char *err, size_t errcap);

#endif
