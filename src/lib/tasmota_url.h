/* tasmota_url.h - the requests that configure a freshly flashed Tasmota over its web server
 * (PROTOCOL.md §7), and the strict query decoding the simulator applies to them. Pure: no
 * I/O. Every builder writes a request target ("/wi?..."), never a whole URL; with mask = 1
 * each password is written as TASMOTA_MASK instead, for logs. */
#ifndef SO_TASMOTA_URL_H
#define SO_TASMOTA_URL_H

#include "lib/err.h"

#include <stddef.h>

#define TASMOTA_TARGET_MAX 2048  /* longest request target built or accepted */
/* Decoded cmnd: Tasmota < 8 takes < INPUT_BUFFER_SIZE (520) bytes, later versions
 * < MQTT_MAX_PACKET_SIZE (1200): stay under the smaller one (§7, Tasmota webserver) [?]. */
#define TASMOTA_CMND_MAX 519
#define TASMOTA_BACKLOG_MAX 30   /* MAX_BACKLOG: commands per Backlog */
#define TASMOTA_VALUE_MAX 64     /* one setting; Tasmota 5.x keeps 33 bytes for most [?] */
#define TASMOTA_MASK "***"
#define TASMOTA_WEB_USER "admin" /* WEB_USERNAME, the only user /cm accepts */
#define TASMOTA_MQTT_PORT 1883

/* What the user asked for. NULL (or "") members are left alone. */
struct tasmota_cfg {
    const char *ssid;            /* home WiFi; NULL: no WiFi step */
    const char *wifi_password;   /* "" for an open network */
    const char *hostname;
    const char *mqtt_host;
    const char *mqtt_user;
    const char *mqtt_password;
    const char *topic;
    const char *backlog;         /* the user's own commands, ';'-separated */
    const char *web_password;    /* the device's web admin password (/cm user=admin) */
};

/* RFC 3986: unreserved characters (ALPHA DIGIT - . _ ~) are kept, every other byte
 * becomes %XX (upper-case hex; a space is %20). SO_OK, or SO_E_TOOBIG when out (cap
 * bytes incl. NUL) is too small (out is then ""). */
enum so_err tasmota_url_encode(const char *in, char *out, size_t cap);

/* application/x-www-form-urlencoded decoding as the ESP8266 web server does it ('+' is a
 * space), but strict: '%' must be followed by two hex digits and may not encode NUL.
 * SO_OK with *outlen, SO_E_SYNTAX, or SO_E_TOOBIG (out holds cap bytes incl. NUL). */
enum so_err tasmota_url_decode(const char *in, size_t n, char *out, size_t cap, size_t *outlen);

/* A value sonota may put into a command or form field: 1..TASMOTA_VALUE_MAX bytes, no
 * control bytes, no ';' (Backlog separator), no leading or trailing blank. "0" and "1"
 * are refused too: Tasmota reads them as "clear" and "default" (SC_CLEAR, SC_DEFAULT).
 * Returns NULL when fine, else a sentence saying what is wrong. */
const char *tasmota_value_problem(const char *v);
/* A topic also may not hold '+', '#', '/' or ' ': Tasmota replaces them (MakeValidMqtt). */
const char *tasmota_topic_problem(const char *v);

/* The Backlog for the settings of c: the user's own commands first (so a "Reset 5" in them
 * cannot undo sonota's settings, and sonota's settings being visible means every command
 * before them has run), then "MqttHost h; MqttUser u; MqttPassword p; Topic t; Hostname n"
 * for each member set. The user's text may start with "Backlog"; empty commands are
 * dropped; with mask, the argument of any command named *Password* is masked too. A
 * Backlog inside the user's text is refused (SO_E_ARG): an empty one clears the queue. *n_cmds gets the number of commands (0: nothing to send, out = "").
 * SO_E_ARG when a value has a problem (see above), SO_E_TOOBIG above TASMOTA_BACKLOG_MAX
 * commands, TASMOTA_CMND_MAX bytes or cap. */
enum so_err tasmota_backlog(const struct tasmota_cfg *c, int mask, char *out, size_t cap,
                            int *n_cmds);

/* "/cm?cmnd=<cmnd>" or, with a web password, "/cm?user=admin&password=<pw>&cmnd=<cmnd>"
 * (the order Tasmota's own WebSend uses). */
enum so_err tasmota_url_cm(const char *cmnd, const char *web_password, int mask, char *out,
                           size_t cap);
/* Modern WiFi form: "/wi?s1=<ssid>&p1=<pw>[&h=<hostname>]&save=" (§7). */
enum so_err tasmota_url_wi(const struct tasmota_cfg *c, int mask, char *out, size_t cap);
/* Tasmota 5.x: "/sv?w=1&s1=..&p1=..&s2=&p2=&h=..&r=1" (HandleSaveSettings, §7). */
enum so_err tasmota_url_sv_wifi(const struct tasmota_cfg *c, int mask, char *out, size_t cap);
/* Tasmota 5.x MQTT form: "/sv?w=2&mh=..&ml=1883&mc=&mu=..&mp=..&mt=..&mf=&r=R". Empty fields
 * mean "default" to 5.x, so members not set stay at their defaults. */
enum so_err tasmota_url_sv_mqtt(const struct tasmota_cfg *c, int restart, int mask, char *out,
                                size_t cap);

/* Query strings ("a=1&b=2", without '?'). Every name and value must decode (strict). */
enum so_err tasmota_query_check(const char *q, size_t n);
/* First parameter called name: SO_OK with its decoded value and *found = 1, SO_OK with
 * *found = 0 when absent, SO_E_SYNTAX / SO_E_TOOBIG as tasmota_url_decode. */
enum so_err tasmota_query_get(const char *q, size_t n, const char *name, char *out, size_t cap,
                              int *found);

#endif
