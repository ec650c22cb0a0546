/* prov_async_shim.h - TEMPORARY: the asynchronous stage-1 API that the libcurl client
 * module delivers in src/sonota/prov.h (issue 15 item 2), declared here until that
 * branch is merged; prov_async_shim.c implements it over the blocking prov_get_device /
 * prov_post_ap. The integrator deletes both files and includes prov.h instead.
 *
 * A transfer is started, the loop calls httpc_step() every turn, and the completion
 * arrives from inside httpc_step (never from inside the start call). */
#ifndef SONOTA_PROV_ASYNC_SHIM_H
#define SONOTA_PROV_ASYNC_SHIM_H

#include "sonota/prov.h"

typedef void (*prov_done_fn)(void *user, enum prov_fail f,
                             const struct ewl_device_info *dev /* NULL unless GET ok */,
                             int dev_error /* POST /ap: device's error value, -1 none */,
                             const char *err /* sentence, "" when ok */);

struct httpc;

struct httpc *httpc_create(void);
/* Drives the transfers; completions are delivered from here. Returns how many are still
 * under way. */
int httpc_step(struct httpc *h);
/* Abandons what is under way (no completion) and frees; accepts NULL. */
void httpc_destroy(struct httpc *h);

/* 0, or -1 (could not start: the completion will not come). */
int prov_get_device_start(struct httpc *h, const char *base_url, int timeout_ms,
                          prov_done_fn done, void *user);
/* cfg is copied (and the copy wiped when done). */
int prov_post_ap_start(struct httpc *h, const char *base_url, const struct ewl_ap_config *cfg,
                       int timeout_ms, prov_done_fn done, void *user);

#endif
