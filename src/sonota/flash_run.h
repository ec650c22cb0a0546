/* flash_run.h - private to `sonota flash`: the run state shared by cmd_flash.c (setup:
 * images, serving IP, detection, credentials), flash_run.c (the loop with one step per
 * state), flash_events.c (the server's events) and flash_net.c (address watching, the
 * servers' lifecycle and bind addresses, the state record, the firewall check). */
#ifndef SONOTA_FLASH_RUN_H
#define SONOTA_FLASH_RUN_H

#include "io/netif.h"
#include "lib/espimg.h"
#include "lib/ewl_msg.h"
#include "sonota/flash_opts.h"
#include "sonota/flash_state.h"
#include "sonota/pin_watch.h"
#include "sonota/fwcheck.h"
#include "sonota/prov.h"
#include "sonota/server.h"
#include "sonota/stage.h"
#include "sonota/ui.h"
#include "lib/fmt_attr.h"

#include <signal.h>
#include <stdint.h>

#define UPGRADE_VERSION "99.99.99"  /* §1.5: newer than anything, by strcmp and numerically */
#define RUN_MAX_404 4               /* failed downloads (ack 404) before giving up */

struct fleet;

/* Distinct strangers (addresses, identities) warned about one by one; later ones are
 * only counted, so a flood of them cannot flood the output. */
#define RUN_STRANGERS_TOLD 8

struct run_trusted {
    char deviceid[EWL_DEVICEID_MAX];
    char apikey[EWL_UUID_LEN + 1];  /* factory key from GET /device; never printed */
};

enum rstate {
    RS_WAIT_AP,     /* stage 1: waiting for a 10.10.7.x address */
    RS_GET_DEVICE,  /* stage 1: GET /device */
    RS_POST_AP,     /* stage 1: POST /ap */
    RS_WAIT_HOME,   /* stage 2: waiting for the serving IP to come back */
    RS_CLOUD,       /* stage 2: dispatch, WebSocket, upgrade, intermediate download */
    RS_FINAL,       /* stage 3: FinalStage, final image */
    RS_DONE,
};

enum { ST_PROV, ST_CLOUD, ST_FINAL };

struct flash_img {
    const char *role, *name, *path;
    enum espimg_use use;
    unsigned char *data;
    size_t len;
    char sha256[65];
    int valid;
};

struct run {
    struct flash_opts *o;
    struct ui ui;
    struct ui_ctx ctx;
    struct flash_img img[3];
    char serving_ip[NETIF_IP_MAX];
    /* Servers (docs/DESIGN.md "Bind addresses"): srv = fake cloud + file server on the
     * serving IP (0.0.0.0 with --bind-any or --no-check-ip), created once that address
     * exists; srv_final = file server alone on 192.168.4.2, created when FinalStage
     * gives this computer that address. Both live until the end of the run. */
    struct srv *srv;
    struct srv *srv_final;
    int watch;                      /* addresses are watched (no --no-check-ip) */
    int serving_up, ap_up, final_up; /* as of the last scan */
    int serving_lost_told, final_lost_told;
    int64_t home_other_since;       /* serving IP absent, another home address present */
    int serving_absent_told;
    int recheck;                    /* stage 1 after an earlier POST /ap: the device may
                                       have left its AP already */
    int get_attempts;
    int64_t next_get;
    int creds_ok;                   /* SSID and password are known */
    struct flash_record rec;        /* the record as saved; stage REC_NONE: none */
    int rec_warned;
    char fw_told[FW_FINDINGS_MAX][FW_TEXT_MAX]; /* firewall findings already shown */
    size_t n_fw_told;
    int fw_note_told;
    volatile sig_atomic_t *stop;
    enum rstate st;
    int64_t deadline, st_since, next_poll, last_hint;
    int64_t stage_t[3][2];          /* start, end in ms (0 = not reached) */
    int exit_code;                  /* -1 while running */
    struct ewl_device_info dev;
    char model[EWL_MODEL_MAX], rom[EWL_VERSION_MAX];
    int rom_warned, tls_warned, n404, post_tries, downloads_seen, final_ip_seen;
    char final_other_warned[NETIF_IP_MAX];
    char stock_file[64];            /* what the stock firmware downloaded (user1/user2) */
    struct pin_watch pins;          /* TLS handshakes that refused our certificate */
    int64_t pin_fail_at;            /* pinning seen: the run ends then (0: not pending) */
    /* Who the device is (docs/DESIGN.md "Who may steer a run"): only its identity's acks
     * and states, and downloads from its addresses, move the run. */
    unsigned ident;                 /* cloud identity (srv_event.ident); 0 = none yet */
    char dev_ip[NETIF_IP_MAX];      /* where that identity's session came from */
    int ordered;                    /* that identity was sent the upgrade command */
    struct run_trusted *trusted;    /* provisioned identities, given to each new server */
    size_t n_trusted;
    char stranger_told[RUN_STRANGERS_TOLD][NETIF_IP_MAX + 16];
    size_t n_stranger_told;
    unsigned long strangers_untold;
    struct fleet *fleet;            /* --fleet: the devices (flash_fleet.c); NULL otherwise */
};

/* Ends the run with an error event/line and an exit status. */
void run_fail(struct run *r, int code, const char *tag, const char *fmt, ...)
    SO_PRINTF(4, 5);
/* Records the stage start (first time only, with its banner) and closes the others. */
void run_stage_enter(struct run *r, int which, const char *name);
void run_set_state(struct run *r, enum rstate st);
/* Shows the events that only inform the user (the same in a single run and a fleet);
 * 1 when ev was one of them. */
int run_event_shown(struct run *r, const struct srv_event *ev);
/* The server's event callback (user = struct run *). */
void run_on_event(const struct srv_event *ev, void *user);
/* The sentence for an upgrade ack/state code (kind "ack" or "state"); returns 1 when the
 * device gave up for good (n404: its failed downloads so far, this one included). */
int run_code_text(const struct flash_opts *o, int e, const char *kind, const char *model,
                  const char *rom, int n404, char *m, size_t cap);
/* Warns when a romVersion is known to refuse the stock path (pinning, 3.x). */
void run_rom_warning(struct ui *u, const char *rom);
/* Runs until done, failed, interrupted or timed out; sets r->exit_code. */
void run_loop(struct run *r);
/* POST /ap with the run's WiFi and serving address (§1.2); err gets the sentence. */
enum prov_fail run_post_ap(struct run *r, int timeout_ms, char *err, size_t cap);
/* Asks for the SSID and password when missing (stage 1 needs them). 0 or -1 (failed). */
int run_credentials(struct run *r);

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

/* flash_start.c */
/* Loads the record of an earlier run into r->rec (none with --fresh or without watching). */
void run_load_record(struct run *r);
/* How far the recorded run got when the record fits this run (STAGE_NONE otherwise; a
 * record that does not fit is dropped with a note). */
enum flash_stage run_recorded_stage(struct run *r);
/* The "detected" event/message: what was found and where the run starts. */
void run_tell_detected(struct run *r, enum stage_start plan, const struct stage_seen *seen,
                       int from_record);

/* flash_fleet.c: --fleet, from the point the servers may start (seen: the addresses now) */
void fleet_run(struct run *r, const struct stage_seen *seen);
void fleet_on_event(struct run *r, const struct srv_event *ev);

/* flash_net.c */
/* Lists the addresses and scans them against the serving IP. 0, or -1 (run failed). */
int run_scan(struct run *r, struct stage_seen *seen);
/* Creates the servers whose address has appeared (or all at once without watching).
 * 0, or -1 when one cannot start for another reason than a vanished address. */
int run_servers_update(struct run *r, const struct stage_seen *seen);
/* The address the cloud + file server binds: the serving IP, or NULL for every
 * interface (--bind-any, or --no-check-ip without --serving-host). */
const char *run_bind_addr(const struct run *r);
/* One loop slice over the servers (at most timeout_ms). 0, or -1 (a server failed). */
int run_service(struct run *r, int timeout_ms);
/* A device provisioned in this run: its id and factory key make its sessions trusted
 * (srv_trust), on the server now and on any created later. */
void run_trust(struct run *r, const struct ewl_device_info *dev);
/* Reports something a stranger did (a download from another address, an ack from a
 * session that is not the device): a warning the first time per key, then a count. */
void run_stranger(struct run *r, const char *key, const char *fmt, ...)
    SO_PRINTF(3, 4);
/* Whether ip is where the device fetches from: its stage-2 address or, for the
 * intermediate firmware, --final-device (192.168.4.1, §4). */
int run_is_device_ip(const struct run *r, const char *ip);
/* Ends the run: the device pins the cloud certificate (exit 4, the options left). */
void run_pinned_fail(struct run *r);
/* Marks a device address paced on both servers. */
void run_set_paced(struct run *r, const char *peer_ip);
/* Records progress (no-op without watching or without a state file); REC_NONE removes
 * the record (done). */
void run_record(struct run *r, enum rec_stage st);
/* Checks the firewall for the ports a stage needs and warns about findings not shown
 * yet; final: only the file server port (FinalStage). */
void run_firewall(struct run *r, int final);

#endif
