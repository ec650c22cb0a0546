/* ui.h - what the user of `sonota flash` sees: stage banners that say exactly what to do
 * next, progress lines and the summary; or, with --json, one JSON object per line on
 * stdout with a stable "event" field (docs/EVENTS.md). Human text goes to stdout,
 * warnings and errors to stderr; colours only on a terminal without NO_COLOR. Every line
 * is also copied to the log (trace level), so --log FILE holds the whole story.
 * Never pass the WiFi password to any of these functions. */
#ifndef SONOTA_UI_H
#define SONOTA_UI_H

#include "lib/fmt_attr.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Downloads tracked at once (one per file and device address): a fleet's devices each
 * fetch one file at a time. A power of two: the table is hashed (ui.c dl_slot). */
#define UI_DL_MAX 512

struct ui_dl {
    char file[64];
    char peer[48];
    uint64_t total, offset;
    int64_t start_ms, last_ms;
    int last_step;      /* last printed progress step (percent bucket) */
    int paced;
    int active;
};

struct ui {
    FILE *out, *err;
    int json, quiet, verbose, color, tty;
    int line_open;      /* a "\r" progress line waits for its newline */
    int defer_flush;    /* JSON events wait for ui_flush (once per loop turn) */
    int64_t t0_ms;
    struct ui_dl dl[UI_DL_MAX];
};

/* Guidance the user must act on (JSON "action" values). */
enum ui_action {
    UI_ACT_JOIN_AP,        /* pairing mode + join ITEAD-<id> (stage 1) */
    UI_ACT_TALK_DEVICE,    /* --no-check-ip: contacting the device directly */
    UI_ACT_RECONNECT_HOME, /* back to the home WiFi (stage 2) */
    UI_ACT_WAIT_DEVICE,    /* waiting for the device to call the fake cloud */
    UI_ACT_JOIN_FINAL,     /* join FinalStage, get 192.168.4.2, firewall (stage 3) */
};

/* Values the banners mention; unused members may be NULL/0. */
struct ui_ctx {
    const char *ssid;
    const char *serving_ip;
    const char *device_url;
    const char *deviceid;
    int http_port, https_port, plain_port, legacy;
    int check_ip;
    const char *bind_ip;   /* what the servers listen on; NULL = every interface */
};

struct ui_image {
    const char *role;      /* "user1", "user2", "final" */
    const char *name;      /* URL name */
    const char *path;
    size_t size;
    const char *sha256;
    int valid;
};

struct ui_summary {
    const char *deviceid, *model, *rom_version;
    struct ui_image images[3];
    size_t n_images;
    double stage_s[3];     /* provision, cloud, final; < 0 = skipped */
    double total_s;
    const struct ui_configured *configured; /* NULL: the new firmware was not configured */
    double configure_s;
};

/* What `flash --configure` set in the new firmware (tasmota_cfg.h). */
struct ui_configured {
    const char *tasmota;   /* its version */
    int legacy;            /* 5.x forms */
    int wifi;              /* the WiFi was sent */
    const char *ssid, *mqtt_host, *hostname;
    const char *lan;       /* where it answered on the home LAN; NULL: not checked */
    const char *ip;        /* its LAN address as it reported it; NULL: unknown */
};

/* One device of a `flash --fleet` run, for the closing table. */
struct ui_fleet_row {
    const char *deviceid, *model, *rom_version;
    const char *slot;      /* intermediate image it took: "user1", "user2"; NULL unknown */
    const char *result;    /* "done", "failed", "incomplete" */
    const char *stage;     /* furthest: "provisioned", "cloud", "intermediate", "final" */
    const char *detail;    /* why it failed or where it stopped; NULL */
    double seconds;        /* first contact to the end */
};

/* color_ok: the caller's --no-color/NO_COLOR verdict; colour also needs a terminal. */
/* Writes out JSON events held back by defer_flush: a loop with many devices calls it
 * once before it waits, instead of one write per event (100 devices: 11 progress events
 * each, and one write was as dear as serving a Range piece). */
void ui_flush(struct ui *u);
void ui_init(struct ui *u, FILE *out, FILE *err, int json, int quiet, int verbose,
             int no_color);

void ui_start(struct ui *u, const char *version, const struct ui_ctx *c, const char *pace);
void ui_image(struct ui *u, const struct ui_image *img, const char *problem, int forced);
/* "stage" event + heading: stage is "provision", "cloud" or "final". */
void ui_stage(struct ui *u, const char *stage);
void ui_action(struct ui *u, enum ui_action a, const struct ui_ctx *c);

void ui_info(struct ui *u, const char *fmt, ...) SO_PRINTF(2, 3);
/* Detail shown with -v (JSON: "info" with "verbose":true). */
void ui_detail(struct ui *u, const char *fmt, ...) SO_PRINTF(2, 3);
void ui_warn(struct ui *u, const char *code, const char *fmt, ...)
    SO_PRINTF(3, 4);
void ui_error(struct ui *u, const char *code, int exit_status, const char *fmt, ...)
    SO_PRINTF(4, 5);

/* Text that is a command's result rather than progress (`sonota image`, `sonota diy`):
 * to f (u->out or u->err), coloured as a whole when colour is on, never silenced by
 * --quiet. Newlines of the format are kept, those an argument brings are escaped like
 * every control character; a trailing newline of the format ends the text. */
void ui_text(struct ui *u, FILE *f, const char *color, const char *fmt, ...)
    SO_PRINTF(4, 5);

/* The evidence that the device pins the cloud certificate (--json only; the run then
 * ends with error "pinned"). how: what the device did. (ui_net.c) */
void ui_pinned(struct ui *u, const char *peer_ip, int handshakes, const char *how);
/* kind: "ap", "serving", "final", "final-other". (ui_net.c) */
void ui_address(struct ui *u, const char *kind, const char *ip, const char *ifname);
/* An address the run needs went away (WiFi dropped, link down); what_next: a sentence. */
void ui_address_lost(struct ui *u, const char *kind, const char *ip, const char *what_next);

/* What a run found at its start: where it starts and why, and the earlier run's record. */
struct ui_detect {
    const char *start;          /* "wait-ap", "provision", "recheck", "wait-home", ... */
    const char *stage;          /* "provision", "cloud", "final" */
    const char *message;        /* one or more sentences for the user */
    const char *state_file;     /* NULL: runs do not remember anything */
    const char *rec_stage;      /* NULL: no record applies */
    const char *rec_deviceid, *rec_serving_ip;
    long long rec_age_s;        /* -1: unknown */
};
void ui_detected(struct ui *u, const struct ui_detect *d);
/* A firewall finding (sonota/fwcheck.h: a rule, chain policy, profile or setting) that
 * may drop the device's connections to ports ("8080, 8443"); JSON: a "warning" with code
 * "firewall" plus tool, chain, rule, ports, fix, advice. */
struct fw_finding;
void ui_firewall(struct ui *u, const char *tool, const struct fw_finding *f,
                 const char *ports);
/* source: "ap", "dispatch", "register"; model/rom may be NULL. */
void ui_device(struct ui *u, const char *source, const char *deviceid, const char *model,
               const char *rom_version);
void ui_provisioned(struct ui *u, const char *ssid, const char *server, int port);
void ui_listening(struct ui *u, const char *detail);
void ui_upgrade(struct ui *u, const char *deviceid, int paced);
/* meaning: one sentence for the code. */
void ui_ack(struct ui *u, const char *kind, const char *deviceid, int error, const char *meaning);

/* state: "start", "progress", "done", "abort". Progress is throttled here. */
void ui_download(struct ui *u, const char *state, const char *file, const char *peer,
                 uint64_t offset, uint64_t total, int paced);

/* (ui_summary.c) The end of a successful run. */
void ui_done(struct ui *u, const struct ui_summary *s);
/* A --fleet device reached a state (row->stage; JSON "fleet-device"); n_done of want
 * (0: open-ended) devices are done. */
void ui_fleet_device(struct ui *u, const struct ui_fleet_row *row, size_t n_done, int want);
/* The end of a --fleet run: one row per device (JSON "fleet-done"). */
void ui_fleet_done(struct ui *u, const struct ui_fleet_row *rows, size_t n, double total_s);

#endif
