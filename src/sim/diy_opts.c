/* diy_opts.c - parsing of the DIY-mode options (see diy_opts.h). */
#include "sim/diy_opts.h"

#include "lib/diy_msg.h"
#include "lib/opt_table.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

void sim_diy_opts_defaults(struct sim_diy_opts *d)
{
    memset(d, 0, sizeof *d);
    d->addr = "0.0.0.0";
    d->port = DIY_API_PORT;
    d->reply = SIM_DIY_REPLY_PRE;
    d->predownload_ms = 10000;
    d->host = SIM_DIY_HOST_AUTO;
    d->after = SIM_DIY_AFTER_AP; /* a fresh Tasmota has no WiFi settings: its own AP (§6, §7) */
    d->tasmota_port = 80;
    d->boot_ms = 3000;
    d->linger_s = 5;
    d->max_fw = DIY_FW_MAX;
}

static int version_ok(const char *s)
{
    int dots = 0;
    if (!*s || strlen(s) >= DIY_VERSION_MAX)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            return 0;
    }
    return dots == 2;
}

/* --fw-version: a dotted version of three numbers. */
static int set_fw_version(const struct opt_table_row *r, void *base, char *arg, char *err,
                          size_t errcap)
{
    (void)r;
    if (!version_ok(arg)) {
        snprintf(err, errcap, "--fw-version needs a version like 3.6.0");
        return -1;
    }
    ((struct sim_diy_opts *)base)->fw_version = arg;
    return 0;
}

/* Enum fields are set through int (opt_table.h). */
_Static_assert(sizeof(enum sim_diy_reply) == sizeof(int) &&
               sizeof(enum sim_diy_host) == sizeof(int) &&
               sizeof(enum sim_diy_after) == sizeof(int), "enum fields must be int-sized");

#define T struct sim_diy_opts
const struct opt_table_row sim_diy_rows[] = {
    OPT_ROW_HEADING("\nDIY mode (--mode diy): ITEAD firmware 3.x in DIY mode, then Tasmota:"),
    OPT_ROW_CHOICE(T, "mode", enabled, "stock|diy",
                   "stock (default): the eWeLink 1.x/2.x path above", NULL, 0, 1),
    OPT_ROW_FUNC(T, "fw-version", fw_version, set_fw_version, "V",
                 "DIY firmware (default 3.6.0; 3.3.0 with --diy-proto 1.4); from\n"
                 "3.7.6 every request must carry the real deviceid (else 404)", NULL),
    OPT_ROW_CHOICE(T, "diy-proto", proto, "1.4|2.0",
                   "1.4: info data as a JSON string (fw 3.3/3.4); 2.0: as an object\n"
                   "with fwVersion, deviceid, bssid, signalStrength (default: from V)", NULL,
                   DIY_PROTO_1_4, DIY_PROTO_2_0),
    OPT_ROW_STR(T, "diy-addr", addr, "ADDR",
                "REST API and mDNS A record (0.0.0.0: API on every address,\n"
                "A record = the first interface's address)", "0.0.0.0"),
    OPT_ROW_INT(T, "diy-port", port, 1, 65535, "N", "REST API port", "8081"),
    OPT_ROW_STR(T, "diy-interface", ifname, "IF",
                "publish mDNS on IF only (default: the interface of ADDR, or all)", NULL),
    OPT_ROW_FLAG(T, 0, "no-mdns", no_mdns, "do not publish _ewelink._tcp"),
    OPT_ROW_FLAG(T, 0, "unlocked", unlocked, "OTA already unlocked (otaUnlock true)"),
    OPT_ROW_FLAG(T, 0, "no-internet", no_internet, "ota_unlock cannot reach ITEAD: 503"),
    OPT_ROW_FLAG(T, 0, "unlock-refused", unlock_refused,
                 "ITEAD's unlock service refuses the device: 500"),
    OPT_ROW_FLAG(T, 0, "encrypt", encrypt,
                 "LAN encryption on: TXT encrypt=true, iv; every request gets 401"),
    OPT_ROW_CHOICE(T, "diy-reply", reply, "pre|full",
                   "ota_flash answers after the first 4 KiB chunk (pre) or after the\n"
                   "whole download and SHA-256 check (full: 471 in the reply) [?]", "pre",
                   SIM_DIY_REPLY_PRE, SIM_DIY_REPLY_FULL),
    OPT_ROW_INT(T, "predownload-ms", predownload_ms, 1, 600000, "N",
                "408 when the first chunk takes longer [?]", "10000"),
    OPT_ROW_CHOICE(T, "diy-host-header", host, "auto|itead|url",
                   "Host header of the downloads: auto is dl.itead.cn for fw\n"
                   "3.5.0/3.6.0, the URL's host otherwise [?]", "auto",
                   SIM_DIY_HOST_AUTO, SIM_DIY_HOST_ITEAD, SIM_DIY_HOST_URL),
    OPT_ROW_CHOICE(T, "after-flash", after, "lan|ap",
                   "Tasmota's web server (port --tasmota-port) appears on its own\n"
                   "WiFi AP at --tasmota-addr (ap: a fresh Tasmota knows no WiFi)\n"
                   "or on ADDR (lan: a build with your WiFi compiled in)", "ap",
                   SIM_DIY_AFTER_LAN, SIM_DIY_AFTER_AP),
    OPT_ROW_STR(T, "tasmota-addr", tasmota_addr, "ADDR",
                "Tasmota's web server on its WiFi manager AP", "192.168.4.1"),
    OPT_ROW_INT(T, "tasmota-port", tasmota_port, 1, 65535, "N", "its port", "80"),
    OPT_ROW_INT(T, "boot-ms", boot_ms, 0, 600000, "N",
                "reboot time after the flash, scaled", "3000"),
    OPT_ROW_INT(T, "linger", linger_s, 0, 3600, "S",
                "Tasmota serves S seconds after its first visitor (--mode diy)\n"
                "or after the last request on the LAN address (--tasmota), then\n"
                "the sim exits 0", "5"),
    OPT_ROW_FLAG(T, 0, "strict-gap", strict_gap,
                 "close requests that come < 200 ms after the previous one (always\n"
                 "logged as 'spacing violation')"),
    OPT_ROW_HEADING(
"  --fault diy-error=PATH:CODE  answer error CODE to /zeroconf/PATH (repeatable)\n"
"  --fault diy-limit=N     largest firmware accepted (default 520192) -> 413 above\n"
"  --fault empty-reply     ota_flash closes the connection without a reply, then flashes\n"
"                          (\"Empty reply\", ID#95)\n"
"  --fault no-result-post  skip the POST /api/device/otaFlash after the download [?]\n"
"  --fault no-fetch        ota_flash answers 0 at once and no byte is ever fetched (the\n"
"                          device stays on its stock firmware)\n"
"  (--fault corrupt-chunk=K flips a byte of chunk K: 471; drop-at=N drops the connection)"),
};
#undef T
const size_t sim_diy_rows_n = OPT_TABLE_N(sim_diy_rows);

#define FAIL(...) do { snprintf(err, errcap, __VA_ARGS__); return -1; } while (0)

int sim_diy_fault(struct sim_diy_opts *d, const char *arg)
{
    long v;
    if (!strncmp(arg, "diy-error=", 10)) {
        const char *p = arg + 10, *colon = strchr(p, ':');
        enum diy_cmd cmd;
        char path[64];
        if (!colon || (size_t)(colon - p) + 10 >= sizeof path || d->n_faults >= SIM_DIY_FAULTS_MAX)
            return -1;
        snprintf(path, sizeof path, "/zeroconf/%.*s", (int)(colon - p), p);
        if (diy_cmd_from_path(path, strlen(path), &cmd) || opt_table_long(colon + 1, 1, 999, &v))
            return -1;
        d->faults[d->n_faults].cmd = (int)cmd;
        d->faults[d->n_faults].code = (int)v;
        d->n_faults++;
    } else if (!strncmp(arg, "diy-limit=", 10)) {
        if (opt_table_long(arg + 10, 1, 1L << 20, &v))
            return -1;
        d->max_fw = v;
    } else if (!strcmp(arg, "empty-reply")) {
        d->empty_reply = 1;
    } else if (!strcmp(arg, "no-result-post")) {
        d->no_result_post = 1;
    } else if (!strcmp(arg, "no-fetch")) {
        d->no_fetch = 1;
    } else {
        return -1;
    }
    return 0;
}

int sim_diy_opts_check(const struct sim_diy_opts *d, char *err, size_t errcap)
{
    if (!d->enabled)
        return 0;
    if (d->fw_version && d->proto && (int)diy_proto_for_fw(d->fw_version) != d->proto)
        FAIL("--fw-version %s speaks DIY protocol %s, not %s (v2.0 from %s)", d->fw_version,
             diy_proto_name(diy_proto_for_fw(d->fw_version)), diy_proto_name(d->proto),
             DIY_FW_PROTO_2);
    if (d->no_internet && d->unlock_refused)
        FAIL("--no-internet and --unlock-refused exclude each other");
    return 0;
}
