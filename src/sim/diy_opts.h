/* diy_opts.h - the options of `sonoff-sim --mode diy`: an ITEAD firmware 3.x device in
 * DIY mode (PROTOCOL.md §6) and, after a successful ota_flash, Tasmota (§7). Kept apart
 * from opts.h so the stock options stay readable; opts.c parses sim_diy_rows with its
 * own table. */
#ifndef SIM_DIY_OPTS_H
#define SIM_DIY_OPTS_H

#include "lib/opt_table.h"

#include <stddef.h>

enum sim_diy_reply { SIM_DIY_REPLY_PRE, SIM_DIY_REPLY_FULL };
enum sim_diy_host { SIM_DIY_HOST_AUTO, SIM_DIY_HOST_ITEAD, SIM_DIY_HOST_URL };
enum sim_diy_after { SIM_DIY_AFTER_LAN, SIM_DIY_AFTER_AP };

#define SIM_DIY_FAULTS_MAX 8

struct sim_diy_fault {
    int cmd;                    /* enum diy_cmd */
    int code;                   /* error answered instead of the real one */
};

struct sim_diy_opts {
    int enabled;                /* --mode diy */
    int proto;                  /* enum diy_proto; 0 = from the firmware version */
    const char *fw_version;     /* NULL = "3.6.0", or "3.3.0" with --diy-proto 1.4 */
    const char *addr;           /* REST API + mDNS A record; "0.0.0.0" = first interface */
    int port;                   /* 8081 */
    const char *ifname;         /* mDNS interface; NULL = the one holding addr, or all */
    int no_mdns;
    int no_internet;            /* ota_unlock answers 503 */
    int unlock_refused;         /* ota_unlock answers 500 */
    int unlocked;               /* OTA already unlocked at boot */
    int encrypt;                /* LAN encryption on: TXT encrypt=true, every request 401 */
    enum sim_diy_reply reply;   /* ota_flash answers after the first chunk or the whole file [?] */
    int predownload_ms;         /* no first chunk within this → 408 [?] */
    enum sim_diy_host host;     /* Host header of the downloads */
    enum sim_diy_after after;   /* where Tasmota's web server appears after the flash */
    const char *tasmota_addr;   /* NULL = addr (lan) or 192.168.4.1 (ap) */
    int tasmota_port;           /* 80 */
    int boot_ms;                /* reboot into the new firmware */
    int linger_s;               /* Tasmota stays up this long after its first visitor */
    int strict_gap;             /* requests < 200 ms apart get the connection closed */
    long max_fw;                /* 413 above this (520192; fault diy-limit=N lowers it) */
    int empty_reply;            /* fault: ota_flash closes without a reply, then flashes */
    int no_result_post;         /* fault: no POST /api/device/otaFlash after the download */
    int no_fetch;               /* fault: ota_flash answers 0 and nothing is fetched */
    int n_faults;
    struct sim_diy_fault faults[SIM_DIY_FAULTS_MAX];
};

void sim_diy_opts_defaults(struct sim_diy_opts *d);

/* The DIY options, rows of struct sim_diy_opts (lib/opt_table.h): opts.c parses and
 * describes them with its own. */
extern const struct opt_table_row sim_diy_rows[];
extern const size_t sim_diy_rows_n;

/* A DIY --fault: diy-error=PATH:CODE, diy-limit=N, empty-reply, no-result-post.
 * 0 when taken, -1 when not a DIY fault or malformed. */
int sim_diy_fault(struct sim_diy_opts *d, const char *arg);
/* Checks combinations after parsing; 0 or -1 with err. */
int sim_diy_opts_check(const struct sim_diy_opts *d, char *err, size_t errcap);

#endif
