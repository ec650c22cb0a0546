/* tasmota_int.h - shared state of the simulated Tasmota's modules (tasmota.c: boot, loop,
 * restarts; tasmota_web.c: HTTP; tasmota_cmd.c: commands and Status JSON; tasmota_state.c:
 * settings in flash and the report). Private to src/sim. */
#ifndef SIM_TASMOTA_INT_H
#define SIM_TASMOTA_INT_H

#include "lib/str.h"
#include "lib/tasmota_url.h"
#include "sim/sim.h"
#include "sim/tasmota.h"

#include <stddef.h>

/* Settings sector: Tasmota keeps its settings just below the SDK's top sectors on a 1 MB
 * flash without file system (SETTINGS_LOCATION 0xF3 ... ) [?]; the encoding is our own. */
#define SIM_TAS_SETTINGS 0xF3000u
#define SIM_TAS_AP_ADDR "192.168.4.1" /* ESP softAP default (§4, §7) */
#define SIM_TAS_RESTART_DELAY_MS 1000 /* restart_flag 2 counts down once a second */

struct tas_dev {
    struct sim_ctx *s;
    const struct sim_tasmota_opts *t;
    struct sim_tasmota_state *st;
    int legacy;                  /* 5.x */
    int lan;                     /* serving on the home LAN (else the manager AP) */
    int lfd;
    const char *ap_addr;
    int ap_port;
    char lan_addr[64];
    int lan_port;
    char mac6[7];                /* last three MAC bytes, "ABCDEF" */
    unsigned chip4;              /* the "####" of default names */
    /* Backlog queue: one command every backlog_ms (scaled) */
    char queue[TASMOTA_BACKLOG_MAX][TASMOTA_CMND_MAX + 1];
    int q_head, q_len;
    long long q_next;
    int restart_flag;            /* a setting changed: restart once the queue is empty */
    long long restart_at;        /* 0: none scheduled */
    /* /wi in manager mode: the new network is tested before it is saved (§7) */
    int wifi_test;
    long long wifi_test_at;
    char new_ssid[SIM_TAS_TEXT];
    struct sim_tas_secret new_pw;
    char new_host[SIM_TAS_TEXT];
    long long last_lan_req;      /* linger counts from the last LAN request */
    long long booted;            /* plat_mono_ms() at the last boot (Uptime) */
};

/* tasmota_state.c */
void tas_defaults(struct tas_dev *d);
/* Loads the settings sector: 1 when valid settings were found. */
int tas_load(struct tas_dev *d);
/* Writes the settings sector (no password: sha256 and length only). 0 or -1. */
int tas_save(struct tas_dev *d);
void tas_secret_set(struct sim_tas_secret *sec, const char *pw);
void tas_default_hostname(const struct tas_dev *d, char *out, size_t cap);
void tas_default_topic(const struct tas_dev *d, char *out, size_t cap);
/* Records an executed command for the report (text already masked). */
void tas_record_cmd(struct tas_dev *d, const char *text);

/* tasmota_cmd.c: one command; the JSON answer (malloc'd) or NULL for none (Backlog). */
char *tas_exec(struct tas_dev *d, struct so_str cmnd, int from_backlog);

/* tasmota_web.c: reads one request from fd and answers it; closes fd. */
void tas_serve(struct tas_dev *d, int fd, const char *peer);
/* The manager-mode WiFi test of /wi is over: save and restart, or keep the AP. */
void tas_wifi_test_done(struct tas_dev *d);

/* tasmota.c */
void tas_schedule_restart(struct tas_dev *d, long delay_ms); /* unscaled */
long long tas_scaled(const struct tas_dev *d, long ms);      /* ms × --time-scale */
/* The WiFi credentials just saved would let the device join the home network. */
int tas_home_ok(const struct tas_dev *d, const char *ssid, const struct sim_tas_secret *pw,
                char *why, size_t cap);

#endif
