/* flash_run.h - private to `sonota flash`: the run state and the entry points of the
 * flow's files. Each file calls only the files listed before it (docs/DESIGN.md "The
 * flash flow"):
 *   flash_session.c  pure: the devices and their stage (flash_session.h)
 *   flash_run.c      ending with an error, entering a stage, the record, the firewall
 *   flash_net.c      addresses, the servers (create, service, pace, trust), POST /ap
 *   flash_setup.c    images, serving IP, credentials
 *   flash_start.c    the record of an earlier run, where this one starts
 *   flash_events.c   server events -> the table -> actions performed (screen, record)
 *   flash_loop.c     the loop of a single run;  flash_fleet.c  the loop of a fleet
 *   cmd_flash.c      the command: options, setup, the loop, the summary, --configure */
#ifndef SONOTA_FLASH_RUN_H
#define SONOTA_FLASH_RUN_H

#include "io/netif.h"
#include "lib/espimg.h"
#include "lib/ewl_msg.h"
#include "sonota/flash_opts.h"
#include "sonota/flash_session.h"
#include "sonota/flash_state.h"
#include "sonota/pin_watch.h"
#include "sonota/fwcheck.h"
#include "sonota/prov.h"
#include "sonota/httpc.h"
#include "sonota/server.h"
#include "sonota/stage.h"
#include "sonota/ui.h"
#include "lib/fmt_attr.h"

#include <signal.h>
#include <stdint.h>

#define UPGRADE_VERSION "99.99.99"  /* §1.5: newer than anything, by strcmp and numerically */

struct fleet;

/* Distinct strangers (addresses, identities) warned about one by one; later ones are
 * only counted, so a flood of them cannot flood the output. */
#define RUN_STRANGERS_TOLD 8

struct run_trusted {
    char deviceid[EWL_DEVICEID_MAX];
    char apikey[EWL_UUID_LEN + 1];  /* factory key from GET /device; never printed */
};

struct flash_img {
    const char *role, *name, *path;
    enum espimg_use use;
    unsigned char *data;
    size_t len;
    char sha256[65];
    int valid;
    enum so_err read_err;           /* the worker's results (flash_images_start) */
    int read_errno;
    char why[512];                  /* what fails validation */
};

struct plat_thread;

enum img_state { IMG_NONE, IMG_CHECKING, IMG_OK, IMG_BAD };

/* The servers (flash_net.c; docs/DESIGN.md "Bind addresses"): srv = fake cloud + file
 * server on the serving IP (0.0.0.0 with --bind-any or --no-check-ip), created once that
 * address exists; srv_final = file server alone on 192.168.4.2, created when FinalStage
 * gives this computer that address and no srv runs (else a vhost of srv). Both live
 * until the end of the run. */
struct run_net {
    struct srv *srv;
    struct srv *srv_final;
    srv_event_cb on_event;          /* their events go here (flash_events_on_server) */
    struct run_trusted *trusted;    /* provisioned identities, given to each new server */
    size_t n_trusted;
    int final_waits;                /* the FinalStage file server is the one to wait on */
};

/* This computer's addresses as the loop last scanned them, and what was told about
 * them (flash_loop.c). */
struct run_addr {
    int serving_up, ap_up, final_up;
    int serving_lost_told, final_lost_told;
    int64_t home_other_since;       /* serving IP absent, another home address present */
    int serving_absent_told;
    int64_t next_poll;              /* the next scan */
    char final_other_warned[NETIF_IP_MAX];
};

/* Stage 1: the requests to the device's AP (prov.h), driven by the loop. */
struct run_prov {
    struct httpc *http;
    int busy;                       /* one of them is under way */
    size_t row;                     /* fleet: the row POST /ap is for */
    struct ewl_device_info dev;     /* what GET /device said (the factory key) */
    int recheck;                    /* after an earlier POST /ap: the device may have
                                       left its AP already */
    int get_attempts;
    int64_t next_get;
    int post_tries;
};

/* What flash_events.c told once, and the certificate-pinning verdict. */
struct run_told {
    struct pin_watch pins;          /* TLS handshakes that refused our certificate */
    int64_t pin_fail_at;            /* pinning seen: the run ends then (0: not pending) */
    char strangers[RUN_STRANGERS_TOLD][NETIF_IP_MAX + 16];
    size_t n_strangers;
    unsigned long strangers_untold;
    int tls, final, full;           /* TLS trouble; fleet: FinalStage, the table full */
};

/* Firewall findings already shown (flash_run.c). */
struct run_fw {
    char told[FW_FINDINGS_MAX][FW_TEXT_MAX];
    size_t n_told;
    int note_told;
};

/* One `sonota flash` run. The groups are named for the part of the flow that keeps
 * them (their comments name the file); the rest is the whole run's. */
struct run {
    struct flash_opts *o;
    struct ui ui;
    struct ui_ctx ctx;
    volatile sig_atomic_t *stop;
    struct flash_img img[3];
    struct plat_thread *img_worker; /* checking img[] (flash_images_start) */
    enum img_state img_state;
    char serving_ip[NETIF_IP_MAX];
    int watch;                      /* addresses are watched (no --no-check-ip) */
    int creds_ok;                   /* SSID and password are known */
    struct flash_record rec;        /* the record as saved; stage REC_NONE: none */
    int rec_warned;
    /* The devices (flash_session.h): one row in a single run (its stage is the run's,
     * flash_run_st), as many as call with --fleet. */
    struct flash_table table;
    int64_t deadline, st_since, last_hint;
    int64_t stage_t[3][2];          /* start, end in ms (0 = not reached) */
    int exit_code;                  /* -1 while running */
    int downloads_seen;
    struct fleet *fleet;            /* fleet: the loop's own state (flash_fleet.c) */
    struct run_net net;
    struct run_addr addr;
    struct run_prov prov;
    struct run_told told;
    struct run_fw fw;
};

/* The device of a single run (the table's one row) and its stage. */
static inline struct flash_dev *flash_run_dev(struct run *r) { return &r->table.dev[0]; }
static inline enum flash_stage flash_run_st(const struct run *r)
{
    return r->table.n ? r->table.dev[0].st : STAGE_NONE;
}

/* Why a serving IP in a device network cannot work (PROTOCOL.md §10.1, §4, §8). */
#define CLASH_AP_TEXT                                                                       \
    "10.10.7.0/24 is the network of the device's pairing WiFi (ITEAD-<deviceid>, the "      \
    "device at 10.10.7.1): a home network with the same numbers cannot be told apart from " \
    "it, by sonota or by the device. Change your router's LAN to "                          \
    "another subnet (e.g. 192.168.1.0/24), or connect this computer and the device to "     \
    "another WiFi for the flash"
#define CLASH_FINAL_TEXT                                                                    \
    "192.168.4.0/24 is FinalStage's network (the intermediate firmware is 192.168.4.1 "    \
    "and fetches from 192.168.4.2 only). If this is your home "                            \
    "network, it clashes with FinalStage: change your router's LAN to another subnet (e.g. " \
    "192.168.1.0/24). If this computer is on FinalStage already, another device took "     \
    "192.168.4.2: disconnect that one, reconnect this computer and run again"

/* flash_run.c */
/* Ends the run with an error event/line and an exit status. */
void flash_run_fail(struct run *r, int code, const char *tag, const char *fmt, ...)
    SO_PRINTF(4, 5);
/* A single run's device enters st (the loop's own transitions). */
void flash_run_set_state(struct run *r, enum flash_stage st);
/* What entering a stage means for a single run: the stage banner, the record, what to
 * do next (also for the transitions flash_session.c made). */
void flash_run_stage_changed(struct run *r, enum flash_stage prev, enum flash_stage st);
/* Records progress (no-op without watching or without a state file, or in a fleet);
 * STAGE_NONE removes the record (done). */
void flash_run_record(struct run *r, enum flash_stage st);
/* Checks the firewall for the ports a stage needs and warns about findings not shown
 * yet; final: only the file server port (FinalStage). */
void flash_run_firewall(struct run *r, int final);


/* flash_net.c */
/* Lists the addresses and scans them against the serving IP. 0, or -1 (run failed). */
int flash_net_scan(struct run *r, struct stage_seen *seen);
/* Creates the servers whose address has appeared (or all at once without watching).
 * 0, or -1 when one cannot start for another reason than a vanished address. */
int flash_net_update(struct run *r, const struct stage_seen *seen);
/* Marks every device provisioned so far as trusted on s (a new server, or one that has
 * just been given its files: srv_trust). */
void flash_net_trust_all(struct run *r, struct srv *s);
/* The three images as the servers serve them. */
void flash_net_files(const struct run *r, struct srv_file files[3]);
/* The address the cloud + file server binds: the serving IP, or NULL for every
 * interface (--bind-any, or --no-check-ip without --serving-host). */
const char *flash_net_bind_addr(const struct run *r);
/* One loop slice over the servers (at most timeout_ms), woken by libcurl's sockets
 * too (srv_watch). 0, or -1 (a server failed). */
int flash_net_service(struct run *r, int timeout_ms);
/* httpc's socket hook (httpc_set_watch, user = the run): a socket libcurl is about to
 * close leaves the servers' poll set at once. */
void flash_net_http_socket(void *user, int fd, short events);
/* Stops both servers (the end of the run; not from an event callback). */
void flash_net_close(struct run *r);
/* A device provisioned in this run: its id and factory key make its sessions trusted
 * (srv_trust), on the server now and on any created later. */
void flash_net_trust(struct run *r, const struct ewl_device_info *dev);
/* Marks a device address paced on both servers. */
void flash_net_set_paced(struct run *r, const char *peer_ip);
/* Starts POST /ap with the run's WiFi and serving address (§1.2); done hears the result
 * (user = r) from a later httpc_step. 0, or -1 (not started). */
int flash_net_post_ap_start(struct run *r, int timeout_ms, prov_done_fn done);

/* flash_setup.c */
/* Starts loading and checking the three images on a worker, so the servers can listen
 * meanwhile; servers created before flash_images_finish wait for the files. */
void flash_images_start(struct run *r);
/* Waits for the check and reports it (--force serves invalid images), then hands the
 * files to the servers already listening. Called before anything is served or asked;
 * once done, returns the same answer. 0, or -1 (failed: exit code and message set). */
int flash_images_finish(struct run *r);
/* Waits for the worker without reporting (the end of a run that stopped earlier). */
void flash_images_wait(struct run *r);
/* Chooses r->serving_ip from the addresses now (a, n; seen: their scan), the options and
 * the record; may ask. 0, or -1 (failed). */
int flash_setup_serving_ip(struct run *r, const struct netif_addr *a, size_t n,
                           const struct stage_seen *seen);
/* Asks for the SSID and password when missing (stage 1 needs them). 0 or -1 (failed). */
int flash_setup_credentials(struct run *r);

/* flash_start.c */
/* Loads the record of an earlier run into r->rec (none with --fresh or without watching). */
void flash_start_load_record(struct run *r);
/* How far the recorded run got when the record fits this run (STAGE_NONE otherwise; a
 * record that does not fit is dropped with a note): STAGE_PROVISIONED, CLOUD or FINAL. */
enum flash_stage flash_start_recorded_stage(struct run *r);
/* The "detected" event/message: what was found and where the run starts. */
void flash_start_tell_detected(struct run *r, enum flash_stage plan, int recheck,
                               const struct stage_seen *seen, int from_record);

/* flash_events.c */
/* The server's event callback (user = struct run *), for a single run and a fleet. */
void flash_events_on_server(const struct srv_event *ev, void *user);
/* A row of the fleet table, and its line when it changes. */
void flash_events_row_of(const struct flash_dev *d, struct ui_fleet_row *row, int64_t now);
void flash_events_tell_row(struct run *r, size_t i);
/* The table is full: device id is served but not listed (said once). */
void flash_events_table_full(struct run *r, const char *id);
/* Ends the run: the device pins the cloud certificate (exit 4, the options left). */
void flash_events_pinned_fail(struct run *r);

/* flash_loop.c: a single run until done, failed, interrupted or timed out (sets
 * r->exit_code). */
void flash_loop_run(struct run *r);

/* flash_fleet.c: --fleet, from the point the servers may start (seen: the addresses now) */
void fleet_run(struct run *r, const struct stage_seen *seen);

#endif
