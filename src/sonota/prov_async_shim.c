/* prov_async_shim.c - TEMPORARY adapter (see prov_async_shim.h): one stage-1 request at a
 * time, performed with the blocking prov.c calls on the loop turn after it was started,
 * its completion delivered from httpc_step. Replaced by the libcurl multi module. */
#include "sonota/prov_async_shim.h"

#include "plat/fs.h"

#include <stdlib.h>
#include <string.h>

enum shim_kind { SHIM_NONE, SHIM_GET, SHIM_POST };

struct httpc {
    enum shim_kind kind;
    char url[512];
    struct ewl_ap_config cfg;       /* POST /ap: holds the password; wiped after use */
    int timeout_ms;
    prov_done_fn done;
    void *user;
};

struct httpc *httpc_create(void)
{
    return calloc(1, sizeof(struct httpc));
}

void httpc_destroy(struct httpc *h)
{
    if (!h)
        return;
    plat_wipe(h, sizeof *h);
    free(h);
}

static int start(struct httpc *h, enum shim_kind kind, const char *base_url, int timeout_ms,
                 prov_done_fn done, void *user)
{
    if (!h || h->kind != SHIM_NONE || !base_url || strlen(base_url) >= sizeof h->url)
        return -1;
    memcpy(h->url, base_url, strlen(base_url) + 1);
    h->kind = kind;
    h->timeout_ms = timeout_ms;
    h->done = done;
    h->user = user;
    return 0;
}

int prov_get_device_start(struct httpc *h, const char *base_url, int timeout_ms,
                          prov_done_fn done, void *user)
{
    return start(h, SHIM_GET, base_url, timeout_ms, done, user);
}

int prov_post_ap_start(struct httpc *h, const char *base_url, const struct ewl_ap_config *cfg,
                       int timeout_ms, prov_done_fn done, void *user)
{
    if (start(h, SHIM_POST, base_url, timeout_ms, done, user) != 0)
        return -1;
    h->cfg = *cfg;
    return 0;
}

int httpc_step(struct httpc *h)
{
    if (!h || h->kind == SHIM_NONE)
        return 0;
    /* Taken out first: the completion may start the next request. */
    enum shim_kind kind = h->kind;
    prov_done_fn done = h->done;
    void *user = h->user;
    struct ewl_ap_config cfg = h->cfg;
    plat_wipe(&h->cfg, sizeof h->cfg);
    h->kind = SHIM_NONE;
    char err[512] = "";
    int dev_error = -1;
    if (kind == SHIM_GET) {
        struct ewl_device_info dev;
        memset(&dev, 0, sizeof dev);
        enum prov_fail f = prov_get_device(h->url, h->timeout_ms, &dev, err, sizeof err);
        done(user, f, f == PROV_OK ? &dev : NULL, -1, f == PROV_OK ? "" : err);
        plat_wipe(&dev, sizeof dev); /* the factory key */
    } else {
        enum prov_fail f = prov_post_ap(h->url, &cfg, h->timeout_ms, &dev_error, err,
                                        sizeof err);
        plat_wipe(&cfg, sizeof cfg);
        done(user, f, NULL, dev_error, f == PROV_OK ? "" : err);
    }
    plat_wipe(&cfg, sizeof cfg);
    return h->kind != SHIM_NONE;
}
