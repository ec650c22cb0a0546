/* flash_opts.h - options of `sonota flash`: one struct with a defaults macro, filled from
 * argv and the environment here and nowhere else (STYLE.md habit 8). */
#ifndef SONOTA_FLASH_OPTS_H
#define SONOTA_FLASH_OPTS_H

#include "sonota/cli_opts.h"
#include "sonota/server.h"
#include "sonota/tasmota_cfg.h"

#include <stddef.h>
#include <stdio.h>

/* SonOTA's file names. The intermediate firmware hard-codes the user2 and final URLs
 * (/ota/image_user2-0x81000.bin, /ota/image_arduino.bin, PROTOCOL.md §4), so the server
 * offers every image under these names whatever the local file is called. */
#define FLASH_NAME_USER1 "image_user1-0x01000.bin"
#define FLASH_NAME_USER2 "image_user2-0x81000.bin"
#define FLASH_NAME_FINAL "image_arduino.bin"

/* E2A's own address on its FinalStage AP (§4, §8): where the final image is fetched from. */
#define FLASH_FINAL_DEVICE "192.168.4.1"
#define FLASH_ENV_PASSWORD CLI_ENV_WIFI_PASSWORD
#define FLASH_DEVICE_URL_MAX 200
#define FLASH_SSID_MAX CLI_SSID_MAX
#define FLASH_PASSWORD_MAX CLI_WIFI_PW_MAX

enum flash_pw_source { FLASH_PW_NONE, FLASH_PW_FLAG, FLASH_PW_ENV, FLASH_PW_PROMPT };

struct flash_opts {
    const char *serving_host;      /* IPv4 the device is sent to; NULL = choose (borrowed) */
    const char *wifi_ssid;         /* home WiFi; NULL = ask (borrowed from argv, or
                                      ssid_answer) */
    char ssid_answer[FLASH_SSID_MAX + 2]; /* the SSID typed at the prompt */
    char *wifi_password;           /* owned; wiped by flash_opts_free; NULL = ask */
    enum flash_pw_source pw_source;
    int no_prov;                   /* skip stage 1 (device already points at us) */
    int no_check_ip;               /* do not wait for local addresses */
    char device_url[FLASH_DEVICE_URL_MAX + 1]; /* pairing-AP base URL, no trailing '/' */
    int http_port;                 /* firmware file server */
    int https_port;                /* dispatch + WSS */
    int https_port_set;
    int plain_port;                /* legacy plain dispatch + WS */
    int legacy;
    char *user1, *user2, *final;   /* owned image paths */
    const char *firmware_dir;      /* borrowed */
    enum srv_pace pace;
    int force;                     /* serve images that fail validation */
    int json;
    int quiet, verbose;
    const char *log_file;          /* borrowed */
    int timeout_s;                 /* whole run */
    int no_color;                  /* --no-color or NO_COLOR set */
    char *state_file;              /* owned; where runs remember the stage reached
                                      (flash_state.h); NULL: nowhere */
    int fresh;                     /* forget what an earlier run recorded */
    int bind_any;                  /* listen on 0.0.0.0 instead of the needed addresses */
    /* The intermediate firmware's address on FinalStage (§4): a final image fetched from
     * it, or from the device's stage-2 address, completes the run; from elsewhere it is
     * served but not counted (docs/DESIGN.md "Who may steer a run"). */
    char final_device[16];
    /* After the evidence of certificate pinning, the run ends this long later unless the
     * device registers: a LAN peer can imitate a pinning client (0 = end at once). */
    int pin_grace_s;
    /* After the final image: configure the new firmware (tasmota_cfg.h) with the same
     * WiFi. On with --configure or any of the options below it implies. */
    int configure;
    char configure_url[TCFG_URL_MAX + 1]; /* Tasmota on its own AP (default 192.168.4.1) */
    char lan_url[TCFG_URL_MAX + 1];       /* --lan-check; "" = none */
    const char *mqtt_host, *mqtt_user, *topic, *hostname, *backlog; /* borrowed */
    char *mqtt_password;           /* owned, registered as a secret; NULL = none */
    int mqtt_pw_flag;              /* it came from the command line (warn) */
    /* --fleet: the servers stay up for one device after another (flash_fleet.c). */
    int fleet;
    int fleet_size;                /* stop once this many are done; 0 = until Ctrl-C */
    int help;
};

#define FLASH_OPTS_DEFAULT                                                                  \
    {                                                                                       \
        .device_url = "http://10.10.7.1", .http_port = 8080, .https_port = 8443,            \
        .plain_port = 8081, .pace = SRV_PACE_AUTO, .timeout_s = 1800,                       \
        .configure_url = TCFG_DEVICE_URL, .final_device = FLASH_FINAL_DEVICE,               \
        .pin_grace_s = 60,                                                                  \
    }

/* Parses argv (argv[0] is the command name) with the option table that also writes
 * flash_opts_usage, and the environment (SONOTA_WIFI_PASSWORD,
 * SONOTA_MQTT_PASSWORD, NO_COLOR, XDG_STATE_HOME / HOME for the default --state file). A password given on the command line is copied, registered with the log's
 * redaction, and overwritten in argv so the process list stops showing it. Returns 0, or
 * -1 with a sentence in err; *o must start as FLASH_OPTS_DEFAULT and be released with
 * flash_opts_free in both cases. */
int flash_opts_parse(int argc, char **argv, struct flash_opts *o, char *err, size_t errcap);
/* Sets an owned password (copied, registered as a secret); replaces any earlier one. */
int flash_opts_set_password(struct flash_opts *o, const char *pw, enum flash_pw_source src);
/* Wipes the password and frees owned strings; accepts a parsed or half-parsed struct. */
void flash_opts_free(struct flash_opts *o);
void flash_opts_usage(FILE *f, const char *prog);

const char *flash_opts_pace_name(enum srv_pace p);

#endif
