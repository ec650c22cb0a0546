/* sim.h - the run context every sim module shares: options, flash, report, clock, and the
 * firmware's rand(). */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include "sim/spiflash.h"
#include "sim/opts.h"
#include "sim/tasmota.h"

#include <stdint.h>

#define SIM_MAX_DOWNLOADS 32
#define SIM_MAX_ACKS 64
#define SIM_MAX_NOTES 16
#define SIM_TEXT 360

struct sim_dl_rec {
    char kind[16];          /* "range", "whole", "e2a-rom2", "e2a-final" */
    char file[80];
    unsigned long long bytes;
    long long ms;
    int ok;
    char error[SIM_TEXT];
};

struct sim_ack_rec {
    char sequence[24];
    int error;
    int upgrade_state;      /* 1: sent as update {"upgradeState":E}, 0: as an ack */
};

struct sim_report {
    int reached[SIM_STAGE__COUNT];
    struct sim_dl_rec dl[SIM_MAX_DOWNLOADS];
    int n_dl;
    struct sim_ack_rec acks[SIM_MAX_ACKS];
    int n_acks;
    char notes[SIM_MAX_NOTES][SIM_TEXT];
    int n_notes;
    char tls[64];           /* negotiated, last session */
    char boot[SIM_TEXT];    /* what the flash boots at the end */
    int final_ok;
    char final_sha256[65];
    unsigned long final_len;
    char reason[SIM_TEXT * 2]; /* why the run ended unsuccessfully */
    int sessions;
    int boots;
    struct sim_tasmota_state tasmota; /* --tasmota (tasmota.h) */
};

struct sim_ctx {
    const struct sim_opts *o;
    struct spiflash flash;
    struct sim_report rep;
    long long deadline;     /* plat_mono_ms() value ending the run (--timeout) */
    uint64_t rand_state;    /* newlib rand(), reseeded at every boot */
    char server_host[64];   /* provisioned serverName and port (§1.2) */
    int server_port;
    char ssid[33];
    char wifi_psk_sha256[65]; /* of the provisioned WiFi password (never the password) */
    int stop;               /* a stop-after stage was reached */
    int drop_fired;         /* --fault drop-at fires once per run */
};

/* Sleeps ms × --time-scale, never past the run deadline. 0, or -1 at the deadline. */
int sim_sleep(struct sim_ctx *s, long ms);
/* Unscaled milliseconds left before the run deadline (0 when over). */
long sim_left(const struct sim_ctx *s);
/* newlib's rand(): the firmware's ts values, identical on every device (§1.5: S#10, S#21). */
uint32_t sim_rand(struct sim_ctx *s);
void sim_rand_reset(struct sim_ctx *s);
/* Records a stage as reached; returns 1 when --fault stop-after=STAGE asks to stop now
 * (sets s->stop and the report reason). */
int sim_reached(struct sim_ctx *s, enum sim_stage st);
void sim_note(struct sim_ctx *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_fail(struct sim_ctx *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct sim_dl_rec *sim_dl_add(struct sim_ctx *s, const char *kind, const char *file);
void sim_ack_add(struct sim_ctx *s, const char *sequence, int error, int upgrade_state);
/* Writes the JSON report; 0 or -1. */
int sim_report_write(const struct sim_ctx *s, const char *path);

#endif
