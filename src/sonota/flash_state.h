/* flash_state.h - what `sonota flash` remembers between runs, so that a run interrupted
 * anywhere (Ctrl-C, a crash, a laptop that lost its WiFi) can be started again with the
 * same command line and pick up at the right stage without --no-prov (PROTOCOL.md §8:
 * "need --no-prov to resume"). One small JSON file, mode 0600 in a 0700 directory:
 * device id, stage reached, serving IP, https port, WiFi name, time. Never the password.
 * Only runs that watch the local addresses (no --no-check-ip) read or write it. */
#ifndef SONOTA_FLASH_STATE_H
#define SONOTA_FLASH_STATE_H

#include "io/netif.h"
#include "lib/ewl_msg.h"
#include "sonota/stage.h"

#include <stddef.h>
#include <stdint.h>

#define FLASH_STATE_VERSION 1
#define FLASH_STATE_MAX 4096        /* the file is ~250 bytes; bigger is not ours */
#define FLASH_STATE_NAME "flash-state.json"

struct flash_record {
    /* How far the device got, as far as sonota knows: STAGE_NONE, STAGE_PROVISIONED
     * (POST /ap went out: it joins the home WiFi and calls us), STAGE_CLOUD (it called
     * the fake cloud) or STAGE_FINAL (it has the intermediate firmware). Stored under
     * stage_name() ("none", "provisioned", "cloud", "final"): the file format of
     * version 1, unchanged. */
    enum flash_stage stage;
    char deviceid[EWL_DEVICEID_MAX];     /* 10 hex chars (§1.2); "" when unknown */
    char serving_ip[NETIF_IP_MAX];  /* the serverName the device was given */
    int https_port;                 /* the port it was given */
    char ssid[33];                  /* the WiFi it was sent to (for messages only) */
    int64_t updated;                /* Unix time of the last change */
};

/* Pure. Encode returns a malloc'd JSON text (NULL: out of memory). Decode returns 0, or
 * -1 when the text is not a record of this version (out is then zeroed). */
char *flash_record_encode(const struct flash_record *r);
int flash_record_decode(const char *text, size_t len, struct flash_record *out);

/* The record's path in a state directory (plat_state_dir: $XDG_STATE_HOME/sonota on
 * Linux, ~/Library/Application Support/sonota on macOS, %LOCALAPPDATA%\sonota on
 * Windows). 0, or -1 when dir is empty or out too small (then there is no memory
 * between runs). Pure. */
int flash_state_path_in(const char *dir, char *out, size_t cap);

/* Loads the record: 1 loaded, 0 no file, -1 unreadable or not a record (err says why). */
int flash_record_load(const char *path, struct flash_record *out, char *err, size_t errcap);
/* Saves it (stamps `updated`), creating the directory (0700) when needed; the file is
 * written to a temporary name with mode 0600 and renamed. 0, or -1 with err. */
int flash_record_save(const char *path, struct flash_record *r, char *err, size_t errcap);
/* Removes the file; 0 also when there was none. */
int flash_record_remove(const char *path);

#endif
