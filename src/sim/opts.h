/* opts.h - sonoff-sim command line: one options struct with defaults (STYLE.md §8).
 * Defaults are the real-world values of PROTOCOL.md; every address and port is an option
 * so tests run on 127.0.0.1. No other sim code reads argv or the environment. */
#ifndef SIM_OPTS_H
#define SIM_OPTS_H

#include "sim/diy_opts.h"
#include "sim/tasmota.h"

#include <stddef.h>

enum sim_tls { SIM_TLS_10, SIM_TLS_11, SIM_TLS_12, SIM_TLS_NONE };
enum sim_variant { SIM_FW_IG, SIM_FW_OLD };
enum sim_download { SIM_DL_RANGE, SIM_DL_WHOLE };
/* --pinning: how a firmware that pins the cloud certificate ends the handshake: with a
 * fatal alert (unknown_ca, as a verifying TLS client does) or by closing the TCP
 * connection without one (S#58 pcap: "drops the connection") [?]. */
enum sim_pinning { SIM_PIN_NONE, SIM_PIN_ALERT, SIM_PIN_CLOSE };

/* Stages for --fault stop-after=STAGE and for the report. */
enum sim_stage {
    SIM_STAGE_NONE = 0,
    SIM_STAGE_AP,
    SIM_STAGE_DISPATCH,
    SIM_STAGE_REGISTER,
    SIM_STAGE_UPGRADE,
    SIM_STAGE_DOWNLOAD,
    SIM_STAGE_ROM2,
    SIM_STAGE_FINAL,
    SIM_STAGE__COUNT
};

#define SIM_HOST_MAX 64
#define SIM_PATH_MAX 256

/* Downloads --fault power-loss can cut (powerloss.h). */
enum sim_pl { SIM_PL_OFF, SIM_PL_STOCK, SIM_PL_ROM2, SIM_PL_FINAL };

struct sim_faults {
    long drop_at;           /* -1 = off: close the download connection after N file bytes, once */
    long corrupt_chunk;     /* -1 = off: flip a byte of 4 KiB chunk K as written */
    int refuse_model;       /* answer every upgrade with 406 */
    enum sim_stage stop_after;
    enum sim_pl power_loss;  /* power cut while writing file byte power_loss_at of it */
    long power_loss_at;
};

struct sim_opts {
    const char *flash_path;
    int slot;                   /* slot of the stock firmware in a new flash file */
    char device_id[16];
    char apikey[37];            /* factory apikey (UUID, 36 chars) */
    const char *model;
    const char *rom_version;
    char mac[18];
    /* AP mode (§1.2) */
    const char *ap_addr;
    int ap_port;
    int no_ap;
    char server_host[SIM_HOST_MAX]; /* --server HOST:PORT (with --no-ap) */
    int server_port;
    /* station (§1.3, §1.4, §2) */
    enum sim_tls tls;
    int nonssl_port;            /* 8081: non-SSL builds ignore the configured port */
    int pinning;                /* fw ≥ 1.6: drop after the server certificate (SIM_PIN_*) */
    int hb_interval;            /* 0 = from the register reply (default 145 s if absent) */
    enum sim_variant variant;
    int dispatch_tries;         /* per session */
    int max_sessions;
    int wait_upgrade;           /* s a session waits for an upgrade after the query reply */
    int strict_packets;         /* a server frame must arrive in one read (§1.4) */
    /* download (§1.5) */
    enum sim_download download;
    int reader_chunk;
    int reader_interval_ms;
    int reader_max_pending;
    int reader_rcvbuf;
    int chunk_delay_ms;
    /* intermediate firmware (§4) */
    const char *final_host;
    int final_port;
    const char *final_path_user2;
    const char *final_path_final;
    int max_boots;
    /* general */
    double time_scale;
    int timeout;                /* s, whole run */
    const char *report_path;
    const char *log_file;
    int verbosity;              /* 0 info, 1 debug, 2 trace, -1 warn */
    const char *source_addr;    /* --source-addr: IPv4 bound before every connect; NULL = kernel */
    struct sim_faults faults;
    struct sim_diy_opts diy;    /* --mode diy and its options (diy_opts.h) */
    struct sim_tasmota_opts tasmota; /* --tasmota and its options (tasmota.h) */
};

/* Parses argv into o (defaults first). Returns 0 to run, 1 when --help/--version was
 * printed (exit 0), 2 on a usage error (message already printed to stderr). */
int sim_opts_parse(struct sim_opts *o, int argc, char **argv);
const char *sim_stage_name(enum sim_stage s);

#endif
