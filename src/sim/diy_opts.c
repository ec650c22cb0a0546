/* diy_opts.c - parsing of the DIY-mode options (see diy_opts.h). */
#include "sim/diy_opts.h"

#include "lib/diy_msg.h"
#include "sim/opt_table.h"

#include <stddef.h>
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

#define FAIL(...) do { snprintf(err, errcap, __VA_ARGS__); return -1; } while (0)

/* Enum fields are set through int (opt_table.h). */
_Static_assert(sizeof(enum sim_diy_reply) == sizeof(int) &&
               sizeof(enum sim_diy_host) == sizeof(int) &&
               sizeof(enum sim_diy_after) == sizeof(int), "enum fields must be int-sized");

#define FLAG(n, f) SIM_OPT_FLAG_ROW(struct sim_diy_opts, n, f)
#define STR(n, f) SIM_OPT_STR_ROW(struct sim_diy_opts, n, f)
#define INT(n, f, lo, hi) SIM_OPT_INT_ROW(struct sim_diy_opts, n, f, lo, hi)
#define CHOICE(n, f, w, ...) SIM_OPT_CHOICE_ROW(struct sim_diy_opts, n, f, w, __VA_ARGS__)
static const struct sim_opt_def diy_table[] = {
    CHOICE("mode", enabled, "stock|diy", 0, 1),
    CHOICE("diy-proto", proto, "1.4|2.0", DIY_PROTO_1_4, DIY_PROTO_2_0),
    STR("diy-addr", addr),
    INT("diy-port", port, 1, 65535),
    STR("diy-interface", ifname),
    FLAG("no-mdns", no_mdns),
    FLAG("no-internet", no_internet),
    FLAG("unlock-refused", unlock_refused),
    FLAG("unlocked", unlocked),
    FLAG("encrypt", encrypt),
    CHOICE("diy-reply", reply, "pre|full", SIM_DIY_REPLY_PRE, SIM_DIY_REPLY_FULL),
    INT("predownload-ms", predownload_ms, 1, 600000),
    CHOICE("diy-host-header", host, "auto|itead|url", SIM_DIY_HOST_AUTO, SIM_DIY_HOST_ITEAD,
           SIM_DIY_HOST_URL),
    CHOICE("after-flash", after, "lan|ap", SIM_DIY_AFTER_LAN, SIM_DIY_AFTER_AP),
    STR("tasmota-addr", tasmota_addr),
    INT("tasmota-port", tasmota_port, 1, 65535),
    INT("boot-ms", boot_ms, 0, 600000),
    INT("linger", linger_s, 0, 3600),
    FLAG("strict-gap", strict_gap),
};
#undef FLAG
#undef STR
#undef INT
#undef CHOICE

int sim_diy_opt(struct sim_diy_opts *d, const char *name, const char *arg, char *err,
                size_t errcap)
{
    int r = sim_opt_table_set(diy_table, sizeof diy_table / sizeof diy_table[0], d, name, arg,
                              err, errcap);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (!strcmp(name, "fw-version")) {
        if (!version_ok(arg))
            FAIL("--fw-version needs a version like 3.6.0");
        d->fw_version = arg;
    } else {
        FAIL("unknown DIY option --%s", name);
    }
    return 0;
}

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
        if (diy_cmd_from_path(path, strlen(path), &cmd) || sim_opt_long(colon + 1, 1, 999, &v))
            return -1;
        d->faults[d->n_faults].cmd = (int)cmd;
        d->faults[d->n_faults].code = (int)v;
        d->n_faults++;
    } else if (!strncmp(arg, "diy-limit=", 10)) {
        if (sim_opt_long(arg + 10, 1, 1L << 20, &v))
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

void sim_diy_usage(FILE *f)
{
    fprintf(f,
"\n"
"DIY mode (--mode diy): ITEAD firmware 3.x in DIY mode, then Tasmota:\n"
"  --mode stock|diy        stock (default): the eWeLink 1.x/2.x path above\n"
"  --fw-version V          DIY firmware (default 3.6.0; 3.3.0 with --diy-proto 1.4); from\n"
"                          3.7.6 every request must carry the real deviceid (else 404)\n"
"  --diy-proto 1.4|2.0     1.4: info data as a JSON string (fw 3.3/3.4); 2.0: as an object\n"
"                          with fwVersion, deviceid, bssid, signalStrength (default: from V)\n"
"  --diy-addr ADDR         REST API and mDNS A record (default 0.0.0.0: API on every address,\n"
"                          A record = the first interface's address)\n"
"  --diy-port N            REST API port (default 8081)\n"
"  --diy-interface IF      publish mDNS on IF only (default: the interface of ADDR, or all)\n"
"  --no-mdns               do not publish _ewelink._tcp\n"
"  --unlocked              OTA already unlocked (otaUnlock true)\n"
"  --no-internet           ota_unlock cannot reach ITEAD: 503\n"
"  --unlock-refused        ITEAD's unlock service refuses the device: 500\n"
"  --encrypt               LAN encryption on: TXT encrypt=true, iv; every request gets 401\n"
"  --diy-reply pre|full    ota_flash answers after the first 4 KiB chunk (pre, default) or\n"
"                          after the whole download and SHA-256 check (full: 471 in the reply) [?]\n"
"  --predownload-ms N      408 when the first chunk takes longer (default 10000) [?]\n"
"  --diy-host-header H     auto (default: dl.itead.cn for fw 3.5.0/3.6.0, the URL's host\n"
"                          otherwise), itead or url [?]\n"
"  --after-flash ap|lan    Tasmota's web server (port --tasmota-port) appears on its own\n"
"                          WiFi AP at --tasmota-addr (ap, default: a fresh Tasmota knows no\n"
"                          WiFi) or on ADDR (lan: a build with your WiFi compiled in)\n"
"  --tasmota-addr ADDR     default 192.168.4.1 with --after-flash ap\n"
"  --tasmota-port N        default 80\n"
"  --boot-ms N             reboot time after the flash (default 3000, scaled)\n"
"  --linger S              Tasmota serves S seconds after its first visitor, then the sim\n"
"                          exits 0 (default 5)\n"
"  --strict-gap            close requests that come < 200 ms after the previous one (always\n"
"                          logged as 'spacing violation')\n"
"  --fault diy-error=PATH:CODE  answer error CODE to /zeroconf/PATH (repeatable)\n"
"  --fault diy-limit=N     largest firmware accepted (default 520192) -> 413 above\n"
"  --fault empty-reply     ota_flash closes the connection without a reply, then flashes\n"
"                          (\"Empty reply\", ID#95)\n"
"  --fault no-result-post  skip the POST /api/device/otaFlash after the download [?]\n"
"  --fault no-fetch        ota_flash answers 0 at once and no byte is ever fetched (the\n"
"                          device stays on its stock firmware)\n"
"  (--fault corrupt-chunk=K flips a byte of chunk K: 471; drop-at=N drops the connection)\n");
}
