/* tasmota_msg.h - what Tasmota answers on /cm (PROTOCOL.md §7): the Status JSON sonota
 * reads back after configuring, and the command syntax ("Name args", Backlog lists) the
 * simulator executes. Pure: no I/O. */
#ifndef SO_TASMOTA_MSG_H
#define SO_TASMOTA_MSG_H

#include "lib/err.h"
#include "lib/str.h"

#include <stddef.h>

#define TASMOTA_REPLY_MAX 8192   /* Status 0 is ~1.5 KB; anything far bigger is not Tasmota */
#define TASMOTA_NAME_MAX 32      /* command names ("MqttPassword") */

/* Fields found (bits of tasmota_status.have). */
enum {
    TASMOTA_ST_VERSION = 1u << 0,  /* StatusFWR.Version */
    TASMOTA_ST_TOPIC = 1u << 1,    /* Status.Topic */
    TASMOTA_ST_HOSTNAME = 1u << 2, /* StatusNET.Hostname */
    TASMOTA_ST_IP = 1u << 3,       /* StatusNET.IPAddress */
    TASMOTA_ST_MQTT_HOST = 1u << 4,/* StatusMQT.MqttHost */
    TASMOTA_ST_MQTT_USER = 1u << 5,/* StatusMQT.MqttUser */
    TASMOTA_ST_BOOTCOUNT = 1u << 6,/* StatusPRM.BootCount */
    TASMOTA_ST_WARNING = 1u << 7,  /* {"WARNING": "..."} (e.g. web password needed) */
};

struct tasmota_status {
    unsigned have;
    char version[32];
    char topic[72];
    char hostname[72];
    char ip[16];
    char mqtt_host[72];
    char mqtt_user[72];
    long boot_count;
    char warning[128];
};

/* Parses the JSON object /cm?cmnd=Status%20N answers (any N: 0 holds them all). Fields
 * that are missing, of another type or too long are left out of `have`. SO_OK when the
 * input is a JSON object, SO_E_JSON otherwise, SO_E_TOOBIG above TASMOTA_REPLY_MAX. */
enum so_err tasmota_status_parse(const char *json, size_t n, struct tasmota_status *out);

/* Major version of "9.2.0(tasmota)" / "5.14.0": 9 / 5, or -1 when not a number. */
int tasmota_version_major(const char *v);

/* One command "Name args": the name is the leading run of letters, digits and '_'
 * (1..TASMOTA_NAME_MAX-1), then blanks, then the argument (trimmed view into s, may be
 * empty). SO_E_SYNTAX when the name is empty or followed by something else than a
 * blank or the end. */
enum so_err tasmota_cmnd_parse(struct so_str s, char *name, size_t ncap, struct so_str *arg);

/* Splits a Backlog argument at ';': calls each() with every trimmed, non-empty command
 * in order and returns how many there were, or -1 above max (each() not called at all). */
int tasmota_backlog_split(struct so_str list, int max,
                          void (*each)(struct so_str cmd, void *user), void *user);

#endif
