/* srv_priv.h - what server.c, fileserv.c and cloud.c share: the server struct and
 * small helpers. Not for other modules: they use server.h. */
#ifndef SONOTA_SRV_PRIV_H
#define SONOTA_SRV_PRIV_H

#include "io/tls.h"
#include "lib/cloud_fsm.h"
#include "sonota/fileserv.h"
#include "sonota/server.h"

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_NAME_MAX 64         /* file names and option strings we copy */
#define SRV_PACED_MAX 32        /* peer addresses marked paced */
#define SRV_PEER_MAX 64         /* "ip:port" */
#define SRV_IP_MAX 46

struct srv {
    /* our copies of the configuration (the caller's strings may go away) */
    struct srv_config cfg;
    char bind_addr[SRV_IP_MAX];
    char serving_ip[SRV_IP_MAX];
    char names[SRV_FILES_MAX][SRV_NAME_MAX];
    char version[EWL_VERSION_MAX];
    int cloud_enabled;
    int http_port, https_port, plain_port;      /* actual listening ports */

    srv_event_cb cb;
    void *user;
    int destroying;                             /* no events while tearing down */

    struct lws_context *ctx;
    struct lws_vhost *vh_http, *vh_https, *vh_plain;
    struct lws_protocols proto_files[2];
    struct lws_protocols proto_cloud[2];
    lws_sorted_usec_list_t wake;                /* bounds srv_run_once's wait */

    struct so_tls_cert *cert;
    char tls_err[160];                          /* set if the SSL_CTX setup failed */
    struct cloud cloud;
    struct fileserv fs;

    char paced[SRV_PACED_MAX][SRV_IP_MAX];
    size_t n_paced;
};

/* Delivers an event to the caller (dropped while destroying). */
void srv_emit(struct srv *s, const struct srv_event *ev);
/* Whether a whole-body download to this peer address is paced (config + marks). */
int srv_whole_body_paced(const struct srv *s, const char *ip);
void srv_mark_paced(struct srv *s, const char *ip, int paced);
/* The struct srv behind any wsi of our context. */
struct srv *srv_of(struct lws *wsi);
/* "ip:port" and "ip" of the remote side (IPv4-mapped IPv6 shown as IPv4). */
void srv_peer_of(struct lws *wsi, char *peer, size_t peercap, char *ip, size_t ipcap);
/* Our address on this connection (what the device dialled); 0 or -1. */
int srv_local_ip(struct lws *wsi, char *ip, size_t cap);
/* Unix time in ms (dates, sequences) and a monotonic ms clock (pacing, timeouts). */
uint64_t srv_wall_ms(void);
uint64_t srv_mono_ms(void);

#endif
