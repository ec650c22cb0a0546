/* tasmota_opts.c - the options of the simulated Tasmota (see tasmota.h). */
#include "sim/tasmota.h"

#include "lib/tasmota_msg.h"
#include "lib/opt_table.h"

#include <stddef.h>
#include <stdio.h>
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

static int set_version(const struct opt_table_row *r, void *base, char *arg, char *err,
                       size_t errcap)
{
    (void)r;
    struct sim_tasmota_opts *t = base;
    if (!version_ok(arg))
        FAIL("--tasmota-version needs a version like 9.2.0 or 5.x");
    if (tasmota_version_major(arg) < 5)
        FAIL("--tasmota-version: Tasmota before 5.x is not simulated");
    t->version = arg;
    t->legacy = tasmota_version_major(arg) == 5;
    return 0;
}

static int set_home_ssid(const struct opt_table_row *r, void *base, char *arg, char *err,
                         size_t errcap)
{
    (void)r;
    if (!*arg || strlen(arg) > 32)
        FAIL("--tasmota-home-ssid needs 1..32 bytes");
    ((struct sim_tasmota_opts *)base)->home_ssid = arg;
    return 0;
}

static int set_home_psk(const struct opt_table_row *r, void *base, char *arg, char *err,
                        size_t errcap)
{
    (void)r;
    if (!hex64(arg))
        FAIL("--tasmota-home-psk-sha256 needs 64 lowercase hex digits");
    memcpy(((struct sim_tasmota_opts *)base)->home_psk_sha256, arg, 65);
    return 0;
}

#define T struct sim_tasmota_opts
const struct opt_table_row sim_tasmota_rows[] = {
    OPT_ROW_HEADING(
"\n"
"Tasmota after the final image (--tasmota). Once the flash boots a valid\n"
"final image (after the stock flow, or at once on such a flash file) the device runs Tasmota\n"
"(its AP web server: --tasmota-addr, --tasmota-port above; --linger S ends the sim S seconds\n"
"after the last request on the LAN address, or after joining):"),
    OPT_ROW_FLAG(T, 0, "tasmota", enabled, "run Tasmota after the final image"),
    OPT_ROW_CHOICE(T, "after-final", enabled, "tasmota|none",
                   "the same as --tasmota, or none: the sim exits", "none", 1, 0),
    OPT_ROW_FUNC(T, "tasmota-version", version, set_version, "V",
                 "9.2.0 (default): GET /, /cm?cmnd=.. (Status 0/1/2/5/6, Backlog,\n"
                 "SSID1, Password1, MqttHost, MqttPort, MqttUser, MqttPassword, Topic,\n"
                 "Hostname), /wi?s1=&p1=&h=&save=; 5.x: GET / and /sv?w=1|2 only", NULL),
    OPT_ROW_STR(T, "tasmota-lan-addr", lan_addr, "ADDR",
                "where the web server appears once the device joined the home WiFi\n"
                "(default: the serverName provisioned in this run, else 127.0.0.1)", NULL),
    OPT_ROW_INT(T, "tasmota-lan-port", lan_port, 1, 65535, "N", "", "--tasmota-port"),
    OPT_ROW_FUNC(T, "tasmota-home-ssid", home_ssid, set_home_ssid, "S",
                 "the only network the device can join (default: the SSID provisioned\n"
                 "in this run; none known: any)", NULL),
    OPT_ROW_FUNC(T, "tasmota-home-psk-sha256", home_psk_sha256, set_home_psk, "HEX",
                 "sha256 of its password (default: the provisioned one)", NULL),
    OPT_ROW_INT(T, "tasmota-restart-ms", restart_ms, 0, 600000, "N",
                "restart + WiFi connect time, scaled", "3000"),
    OPT_ROW_INT(T, "tasmota-wifi-test-ms", wifi_test_ms, 0, 600000, "N",
                "/wi in manager mode tests the network first (scaled); a failed\n"
                "test keeps the old settings and the AP", "9000"),
    OPT_ROW_INT(T, "tasmota-backlog-ms", backlog_ms, 0, 60000, "N",
                "gap between Backlog commands, scaled", "200"),
    OPT_ROW_HEADING(
"  Strictness: a query with a bad %XX escape gets 400; Host names other than an IP address\n"
"  are redirected to the AP address in manager mode (captive portal); passwords shorter than\n"
"  5 bytes (modern) or holding '*' (5.x) keep the old one, as the firmware does; setting\n"
"  commands restart the device once the Backlog is done. The report's \"tasmota\" object shows\n"
"  the settings; passwords only as set/length/sha256 prefix."),
};
#undef T
const size_t sim_tasmota_rows_n = OPT_TABLE_N(sim_tasmota_rows);
