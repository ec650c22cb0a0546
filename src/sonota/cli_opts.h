/* cli_opts.h - the options every `sonota` subcommand shares, defined once as option-table
 * rows (lib/opt_table.h): output (--json, --log, --no-color, -q, -v, --timeout, -h), the
 * WiFi the device joins (--wifi-ssid, --wifi-password, SONOTA_WIFI_PASSWORD) and the
 * Tasmota/MQTT settings. A command's options struct names its own fields; the rows take
 * the field names, so `sonota flash` and `sonota configure` parse and describe them the
 * same way. Secrets are copied, registered with the log's redaction and overwritten in
 * argv (the process list); no row ever puts a password into an error. */
#ifndef SONOTA_CLI_OPTS_H
#define SONOTA_CLI_OPTS_H

#include "lib/opt_table.h"

#include <stddef.h>

#define CLI_ENV_WIFI_PASSWORD "SONOTA_WIFI_PASSWORD"
#define CLI_ENV_MQTT_PASSWORD "SONOTA_MQTT_PASSWORD"
#define CLI_SSID_MAX 32          /* 802.11 SSID; the device stores 32 B (PROTOCOL.md §1.2) */
#define CLI_WIFI_PW_MAX 64       /* WPA2: 8..63 characters or 64 hex digits */

/* FUNC rows: a secret into the char * field at off (owned; the old one wiped), 1 into the
 * int field at off2 (it came from the command line); the WiFi one checks the WPA2 rule. */
int cli_opts_wifi_password(const struct opt_table_row *r, void *base, char *arg, char *err,
                           size_t errcap);
int cli_opts_secret(const struct opt_table_row *r, void *base, char *arg, char *err,
                    size_t errcap);
/* --wifi-ssid: 1..32 bytes into the const char * field. */
int cli_opts_ssid(const struct opt_table_row *r, void *base, char *arg, char *err,
                  size_t errcap);

/* ---- output ---- */
#define CLI_ROW_JSON(T, h) OPT_ROW_FLAG(T, 0, "json", json, h)
#define CLI_ROW_LOG(T)                                                                     \
    OPT_ROW_PATH(T, "log", log_file, "FILE",                                               \
                 "also write a detailed log to FILE (created 0600; passwords as ***)", NULL)
#define CLI_ROW_NO_COLOR(T)                                                                \
    OPT_ROW_FLAG(T, 0, "no-color", no_color, "no colours (also when NO_COLOR is set)")
#define CLI_ROW_QUIET(T, h) OPT_ROW_COUNT(T, 'q', "quiet", quiet, h)
#define CLI_ROW_VERBOSE(T, h) OPT_ROW_COUNT(T, 'v', "verbose", verbose, h)
#define CLI_ROW_TIMEOUT(T, f, max, d)                                                      \
    {.name = "timeout", .kind = OPT_TABLE_INT, .off = offsetof(T, f), .lo = 1, .hi = (max), \
     .arg = "SECONDS", .what = "a number of seconds", .help = "give up after this long",   \
     .dflt = (d)}
#define CLI_ROW_HELP(T) OPT_ROW_FLAG(T, 'h', "help", help, "this text")

/* ---- the WiFi the device joins ---- */
#define CLI_ROW_WIFI_SSID(T, f)                                                            \
    OPT_ROW_FUNC(T, "wifi-ssid", f, cli_opts_ssid, "SSID",                                \
                 "your WiFi network, the one the device joins (asked when missing\n"       \
                 "and a terminal is there)", NULL)
#define CLI_ROW_WIFI_PASSWORD(T, f, from_flag)                                             \
    {.name = "wifi-password", .kind = OPT_TABLE_FUNC, .off = offsetof(T, f),              \
     .off2 = offsetof(T, from_flag), .fn = cli_opts_wifi_password, .arg = "PW",           \
     .help = "its password; visible in the process list: prefer the environment\n"       \
             "variable " CLI_ENV_WIFI_PASSWORD " or the prompt (input not shown)"}

/* ---- Tasmota and MQTT settings ---- */
#define CLI_ROW_SECRET(T, n, f, from_flag, h)                                              \
    {.name = (n), .kind = OPT_TABLE_FUNC, .off = offsetof(T, f), .off2 = offsetof(T, from_flag), \
     .fn = cli_opts_secret, .arg = "PW", .help = (h)}
#define CLI_ROWS_MQTT(T, host, user, pw, pw_flag, topic_f, hostname_f, backlog_f)          \
    OPT_ROW_STR(T, "mqtt-host", host, "HOST", "MQTT broker", NULL),                        \
    OPT_ROW_STR(T, "mqtt-user", user, "USER", "MQTT user", NULL),                          \
    CLI_ROW_SECRET(T, "mqtt-password", pw, pw_flag,                                        \
                   "visible in the process list: prefer " CLI_ENV_MQTT_PASSWORD),          \
    OPT_ROW_STR(T, "topic", topic_f, "TOPIC", "MQTT topic (no '/', '+', '#' or spaces)",   \
                NULL),                                                                     \
    OPT_ROW_STR(T, "hostname", hostname_f, "NAME", "the device's host name on your network", \
                NULL),                                                                     \
    OPT_ROW_STR(T, "tasmota-backlog", backlog_f, "CMDS",                                   \
                "more Tasmota commands, ';'-separated (e.g. \"Module 1; SetOption19 1\"),\n" \
                "sent before sonota's settings; not possible on Tasmota 5.x", NULL)

/* Replaces the owned secret *dst with a copy of v (NULL: none), registered with the log's
 * redaction; the old one is wiped. 0, or -1 out of memory. */
int cli_opts_set_secret(char **dst, const char *v);
/* Wipes and frees *dst. */
void cli_opts_free_secret(char **dst);

/* The environment, after the command line: SONOTA_WIFI_PASSWORD when *pw is still NULL
 * (1 taken, 0 not set, -1 unusable or out of memory with err), SONOTA_MQTT_PASSWORD when
 * *pw is NULL (0, -1 out of memory), NO_COLOR (1 when set and not empty). */
int cli_opts_env_wifi_password(char **pw, char *err, size_t errcap);
int cli_opts_env_mqtt_password(char **pw, char *err, size_t errcap);
int cli_opts_env_no_color(void);

#endif
