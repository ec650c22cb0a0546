/* tasmota.h - sonoff-sim as the Tasmota it was flashed with (PROTOCOL.md §7), strict: after
 * the stock flow (or on a flash that already boots a final image) with --tasmota, the
 * device opens its WiFi manager AP web server (--tasmota-addr, default 192.168.4.1, port
 * --tasmota-port) and takes configuration over /cm (Backlog, Status), /wi (modern) or /sv
 * (--tasmota-version 5.x). Settings live in the emulated flash; after a WiFi save and a
 * restart the device "joins the home LAN": its web server moves to --tasmota-lan-addr.
 * The report gets the final settings, never a password (only set/length/sha256 prefix).
 * Options are rows opts.c parses with its own, like the DIY ones (sim_tasmota_rows). */
#ifndef SIM_TASMOTA_H
#define SIM_TASMOTA_H

#include "lib/opt_table.h"

#include <stddef.h>

struct sim_ctx;

#define SIM_TAS_TEXT 65       /* settings strings (Tasmota 5.x keeps 33 B; later more) [?] */
#define SIM_TAS_CMDS 48       /* commands recorded in the report */
#define SIM_TAS_REQS 64       /* requests recorded in the report */

struct sim_tasmota_opts {
    int enabled;                /* --tasmota, --after-final tasmota */
    const char *version;        /* --tasmota-version (default 9.2.0) */
    int legacy;                 /* 5.x: /sv only, no /cm, no /wi */
    const char *lan_addr;       /* NULL: the provisioned serverName, else 127.0.0.1 */
    int lan_port;               /* 0: --tasmota-port */
    int restart_ms;             /* reboot + WiFi (re)connect (scaled) */
    int wifi_test_ms;           /* /wi in manager mode tests the network first (§7: ~9 s) */
    int backlog_ms;             /* gap between Backlog commands (SetOption34: 200 ms) */
    const char *home_ssid;      /* NULL: the SSID provisioned in this run, else any */
    char home_psk_sha256[65];   /* "": the password provisioned in this run, else any */
};

/* A password as the report shows it. */
struct sim_tas_secret {
    int set;
    int len;
    char sha256[65];
};

/* The device's settings (own flash encoding at SIM_TAS_SETTINGS [?]) and the run's record. */
struct sim_tasmota_state {
    int ran;
    char version[32];
    /* settings */
    char ssid1[SIM_TAS_TEXT];
    struct sim_tas_secret pw1;
    char hostname[SIM_TAS_TEXT];
    char mqtt_host[SIM_TAS_TEXT];
    int mqtt_port;
    char mqtt_user[SIM_TAS_TEXT];
    struct sim_tas_secret mqtt_pw;
    char topic[SIM_TAS_TEXT];
    long boot_count;
    /* what happened */
    char ap_ssid[SIM_TAS_TEXT];
    int joined_lan;
    char lan[72];               /* "addr:port" once joined */
    int restarts;
    int wifi_failures;
    int ap_requests, lan_requests, bad_requests;
    char commands[SIM_TAS_CMDS][96];  /* executed, passwords as *** */
    int n_commands;
    struct { char method[8]; char path[40]; int status; int lan; } req[SIM_TAS_REQS];
    int n_req;
};

void sim_tasmota_opts_defaults(struct sim_tasmota_opts *t);

/* The Tasmota options, rows of struct sim_tasmota_opts (lib/opt_table.h), parsed and
 * described by opts.c with its own. */
extern const struct opt_table_row sim_tasmota_rows[];
extern const size_t sim_tasmota_rows_n;

/* Runs the firmware the flash boots (must be a valid final image) as Tasmota until it has
 * joined the home LAN and been idle for --linger seconds (1), or the run timeout / a
 * signal (0, reason in the report). */
int sim_tasmota_run(struct sim_ctx *s, const struct sim_tasmota_opts *t);

/* Adds "tasmota": {...} to the report object (a cJSON *); nothing when it never ran. */
void sim_tasmota_report(const struct sim_tasmota_state *st, void *json_root);

#endif
