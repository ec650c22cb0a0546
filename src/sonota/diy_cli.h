/* diy_cli.h - `sonota diy`: options, the device being talked to, and the helpers the
 * subcommands share (cmd_diy.c: discover, info, unlock; diy_flash.c: flash). */
#ifndef SONOTA_DIY_CLI_H
#define SONOTA_DIY_CLI_H

#include "lib/diy_msg.h"
#include "sonota/diy_client.h"
#include "sonota/mdns_browse.h"
#include "lib/fmt_attr.h"

#include <stddef.h>
#include <stdio.h>

struct diy_opts {
    const char *sub;            /* discover | info | unlock | flash */
    const char *device;         /* --device ID|IP[:PORT] */
    const char *deviceid;       /* --deviceid */
    const char *ifname;         /* --interface */
    const char *bind_ip;        /* --bind */
    int port;                   /* --port (8081) */
    int browse_ms;              /* --browse-time */
    int request_ms;             /* --request-timeout */
    int json, with_info;        /* discover --json, --info */
    /* flash */
    const char *file;
    const char *serve_ip;
    int http_port;
    const char *url;
    const char *sha256;
    int equals_form;
    int no_unlock, force, yes;
    int fetch_wait_s;           /* first request after ota_flash was accepted */
    int timeout_s;              /* download */
    int wait_s;                 /* reappearance */
    const char *ap_ip;
    int tasmota_port;
    /* general */
    int verbose, quiet, help, no_color;
    const char *log_file;
};

/* How long a device that accepted ota_flash may take to ask for its first bytes. It
 * pre-downloads the first 4 KiB before it answers (else 408, the sim waits 10 s) [?],
 * so a few seconds are plenty; --fetch-wait changes it. */
#define DIY_FETCH_WAIT_S 15

#define DIY_OPTS_DEFAULT                                                                   \
    {                                                                                      \
        .port = DIY_API_PORT, .browse_ms = 3000, .request_ms = 10000, .http_port = 8080,   \
        .timeout_s = 300, .wait_s = 300, .ap_ip = "192.168.4.1", .tasmota_port = 80,        \
        .fetch_wait_s = DIY_FETCH_WAIT_S,                                                  \
    }

/* The device: where its API is and which id requests carry. */
struct diy_target {
    char ip[16];
    int port;
    char deviceid[DIY_ID_MAX];
    int have_id;
    int from_mdns;
    struct mdns_found found;    /* when from_mdns */
};

/* The `sonota diy` output goes through one ui (ui.h) owned here: set up once the options
 * are known, before anything is printed. */
void diy_ui_init(const struct diy_opts *o);
struct ui *diy_ui(void);
/* Human output on stdout (nothing with --quiet) and errors on stderr, both copied to the
 * log file; control characters, ESC and invalid UTF-8 are escaped (lib/text_esc.h), and
 * newlines are kept only when the format has one (they are ours). */
void diy_say(const struct diy_opts *o, const char *fmt, ...) SO_PRINTF(2, 3);
void diy_fail(const char *fmt, ...) SO_PRINTF(1, 2);
/* The same for an error the device reported after its download, in its result POST to
 * /api/device/otaFlash (ota_flash itself had been accepted). */
void diy_explain_result(int code);

/* Finds the device (--device, or the only one mDNS sees) and its id. EXIT_OK or the
 * exit status after printing why. */
int diy_resolve(const struct diy_opts *o, struct diy_target *t);
/* Client for t with o's timeout. EXIT_OK or EXIT_FAIL (printed). */
int diy_connect(const struct diy_opts *o, const struct diy_target *t, struct diy_client *c);
/* A request for t (deviceid set). */
void diy_request_for(const struct diy_target *t, enum diy_cmd cmd, struct diy_request *rq);
/* Runs cmd, prints a transport problem or an explained error code. EXIT_OK when the
 * device answered error 0, else EXIT_DEVICE / EXIT_FAIL. empty (may be NULL) is set when
 * the device closed without a reply; that counts as EXIT_FAIL unless empty is given. */
int diy_call(const struct diy_opts *o, struct diy_client *c, const struct diy_request *rq,
             int timeout_ms, struct diy_reply *rep, int *empty);
/* info: fills rep, adopts the deviceid of a v2.0 reply when t had none. */
int diy_get_info(const struct diy_opts *o, struct diy_client *c, struct diy_target *t,
                 struct diy_reply *rep);
/* The printed info block. */
void diy_print_info(const struct diy_opts *o, const struct diy_target *t,
                    const struct diy_reply *rep);
/* Asks on the terminal unless --yes or no terminal; 1 = go ahead. */
int diy_confirm(const struct diy_opts *o, const char *question);

/* Fills t from an mDNS answer (address, port, id unless t already has one). */
void diy_take_found(struct diy_target *t, const struct mdns_found *f);
/* Browse results of discover and device lookup are too big for the stack: each call
 * allocates its own MDNS_BROWSE_MAX of them (NULL when out of memory). */
struct mdns_found *diy_found_alloc(void);

/* diy_flash.c */
int diy_flash_run(const struct diy_opts *o, struct diy_target *t);

#endif
