/* tasmota_opts.c - the options of the simulated Tasmota (see tasmota.h). */
#include "sim/tasmota.h"

#include "lib/tasmota_msg.h"
#include "sim/opt_table.h"

#include <stddef.h>
#include <string.h>

void sim_tasmota_opts_defaults(struct sim_tasmota_opts *t)
{
    memset(t, 0, sizeof *t);
    t->version = "9.2.0";
    t->restart_ms = 3000;
    t->wifi_test_ms = 9000;
    t->backlog_ms = 200;
}

static int version_ok(const char *s)
{
    if (!*s || strlen(s) >= 24 || *s < '1' || *s > '9')
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'x'))
            return 0;
    return 1;
}

static int hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return 0;
    return 1;
}

#define FAIL(...) do { snprintf(err, errcap, __VA_ARGS__); return -1; } while (0)

#define FLAG(n, f) SIM_OPT_FLAG_ROW(struct sim_tasmota_opts, n, f)
#define STR(n, f) SIM_OPT_STR_ROW(struct sim_tasmota_opts, n, f)
#define INT(n, f, lo, hi) SIM_OPT_INT_ROW(struct sim_tasmota_opts, n, f, lo, hi)
#define CHOICE(n, f, w, ...) SIM_OPT_CHOICE_ROW(struct sim_tasmota_opts, n, f, w, __VA_ARGS__)
static const struct sim_opt_def tasmota_table[] = {
    FLAG("tasmota", enabled),
    CHOICE("after-final", enabled, "tasmota|none", 1, 0),
    STR("tasmota-lan-addr", lan_addr),
    INT("tasmota-lan-port", lan_port, 1, 65535),
    INT("tasmota-restart-ms", restart_ms, 0, 600000),
    INT("tasmota-wifi-test-ms", wifi_test_ms, 0, 600000),
    INT("tasmota-backlog-ms", backlog_ms, 0, 60000),
};
#undef FLAG
#undef STR
#undef INT
#undef CHOICE

int sim_tasmota_opt(struct sim_tasmota_opts *t, const char *name, const char *arg, char *err,
                    size_t errcap)
{
    int r = sim_opt_table_set(tasmota_table, sizeof tasmota_table / sizeof tasmota_table[0], t,
                              name, arg, err, errcap);
    if (r != 0)
        return r < 0 ? -1 : 0;
    if (!strcmp(name, "tasmota-version")) {
        if (!version_ok(arg))
            FAIL("--tasmota-version needs a version like 9.2.0 or 5.x");
        if (tasmota_version_major(arg) < 5)
            FAIL("--tasmota-version: Tasmota before 5.x is not simulated");
        t->version = arg;
        t->legacy = tasmota_version_major(arg) == 5;
    } else if (!strcmp(name, "tasmota-home-ssid")) {
        if (!*arg || strlen(arg) > 32)
            FAIL("--tasmota-home-ssid needs 1..32 bytes");
        t->home_ssid = arg;
    } else if (!strcmp(name, "tasmota-home-psk-sha256")) {
        if (!hex64(arg))
            FAIL("--tasmota-home-psk-sha256 needs 64 lowercase hex digits");
        memcpy(t->home_psk_sha256, arg, 65);
    } else {
        FAIL("unknown Tasmota option --%s", name);
    }
    return 0;
}

void sim_tasmota_usage(FILE *f)
{
    fprintf(f,
"\n"
"Tasmota after the final image (--tasmota). Once the flash boots a valid\n"
"final image (after the stock flow, or at once on such a flash file) the device runs Tasmota:\n"
"  --tasmota, --after-final tasmota|none\n"
"                          run Tasmota after the final image (default none: the sim exits)\n"
"  --tasmota-version V     9.2.0 (default): GET /, /cm?cmnd=.. (Status 0/1/2/5/6, Backlog,\n"
"                          SSID1, Password1, MqttHost, MqttPort, MqttUser, MqttPassword, Topic,\n"
"                          Hostname), /wi?s1=&p1=&h=&save=; 5.x: GET / and /sv?w=1|2 only\n"
"  --tasmota-addr ADDR     the WiFi manager AP's web server (default 192.168.4.1)\n"
"  --tasmota-port N        (default 80)\n"
"  --tasmota-lan-addr ADDR where the web server appears once the device joined the home WiFi\n"
"                          (default: the serverName provisioned in this run, else 127.0.0.1)\n"
"  --tasmota-lan-port N    (default: --tasmota-port)\n"
"  --tasmota-home-ssid S   the only network the device can join (default: the SSID provisioned\n"
"                          in this run; none known: any)\n"
"  --tasmota-home-psk-sha256 HEX  sha256 of its password (default: the provisioned one)\n"
"  --tasmota-restart-ms N  restart + WiFi connect time (default 3000, scaled)\n"
"  --tasmota-wifi-test-ms N  /wi in manager mode tests the network first (default 9000,\n"
"                          scaled); a failed test keeps the old settings and the AP\n"
"  --tasmota-backlog-ms N  gap between Backlog commands (default 200, scaled)\n"
"  --linger S              the sim ends S seconds after the last request on the LAN address\n"
"                          (or after joining), exit 0 (default 5)\n"
"  Strictness: a query with a bad %%XX escape gets 400; Host names other than an IP address\n"
"  are redirected to the AP address in manager mode (captive portal); passwords shorter than\n"
"  5 bytes (modern) or holding '*' (5.x) keep the old one, as the firmware does; setting\n"
"  commands restart the device once the Backlog is done. The report's \"tasmota\" object shows\n"
"  the settings; passwords only as set/length/sha256 prefix.\n");
}
