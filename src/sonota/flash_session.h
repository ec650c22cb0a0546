/* flash_session.h - one device in a `sonota flash` run, and the table of them: the pure
 * part of the flow (no I/O, no clock reads: time is passed in). A single-device run is a
 * table of one (`lone`); --fleet is a table that grows as devices come.
 *
 * Events go in (the server's events, srv_event in server.h; the result of stage 1's
 * POST /ap), actions come out (what to show, which address to pace, the stage a device
 * entered): flash_events.c performs them. Who may move a device (docs/DESIGN.md "Who may
 * steer a run"): a row is a cloud identity (deviceid + factory apikey, srv_event.ident),
 * a download counts only from the address the device used in stage 2 after it was sent
 * the upgrade, or from --final-device for the images the intermediate firmware fetches;
 * anything else is a STRANGER action and moves nothing. */
#ifndef SONOTA_FLASH_SESSION_H
#define SONOTA_FLASH_SESSION_H

#include "io/netif.h"
#include "lib/ewl_msg.h"
#include "sonota/server.h"
#include "sonota/stage.h"

#include <stddef.h>
#include <stdint.h>

#define FLASH_MAX_404 4             /* failed downloads (ack 404) before giving up */
/* Rows in one run: as many as --fleet-size accepts. The table grows as devices come
 * (about 0.4 KB a row, so at most ~4 MB); past the limit devices are served but not
 * listed. */
#define FLASH_DEVICES_MAX 10000
#define FLASH_ACTS_MAX 8

/* One device (a row of the table). */
struct flash_dev {
    char deviceid[EWL_DEVICEID_MAX], model[EWL_MODEL_MAX], rom[EWL_VERSION_MAX];
    unsigned ident;                 /* its cloud identity; 0 until it registers */
    int provisioned;                /* stage 1 of this run: only the trusted key is it */
    int ordered;                    /* that identity was sent the upgrade command */
    char ip[NETIF_IP_MAX];          /* where it called from in stage 2 */
    char stock_file[64];            /* the image the stock firmware fetched (user1/user2) */
    const char *slot;               /* "user1"/"user2" once that download completed */
    enum flash_stage st;
    int n404;
    int64_t first_ms, provisioned_ms, inter_ms, end_ms;
    char detail[240];               /* why it failed */
};

struct flash_table {
    struct flash_dev *dev;          /* grows; never hold a row pointer across an add */
    size_t n, cap, n_done;
    int lone;                       /* a single-device run: one row, which the first
                                       identity claims when stage 1 trusted none */
    const char *final_device;       /* --final-device: where the intermediate firmware
                                       fetches from (192.168.4.1, §4) */
    int pace_auto;                  /* --pace auto: an ack 404 paces the device's address */
};

enum flash_act_type {
    FLASH_ACT_STRANGER,     /* why, key, text: someone who is not a device of the run did
                               something; answered or served, not counted */
    FLASH_ACT_DEVICE,       /* dev, text = source ("dispatch", "register"): what is known
                               about the device changed */
    FLASH_ACT_OTHER_DEVICE, /* dev, text = the id recorded before (lone): another id called */
    FLASH_ACT_ROM_WARN,     /* dev: its romVersion is new; warn if it refuses this path */
    FLASH_ACT_CALLED,       /* dev, text = source: the device itself called the cloud */
    FLASH_ACT_REGISTERED,   /* dev: the device itself registered (cancels a pinning verdict) */
    FLASH_ACT_PACE,         /* text = address whose whole-body downloads are paced from now */
    FLASH_ACT_CODE,         /* dev, text = "ack"/"state", code, n404, fatal */
    FLASH_ACT_STAGE,        /* dev, from, to: the device entered stage `to` */
    FLASH_ACT_SAY,          /* dev, say, text = file, at, total */
    FLASH_ACT_FULL,         /* text = id: the table is full; the device is served, not listed */
};

enum flash_why {             /* STRANGER: why it does not count */
    FLASH_WHY_SESSION,       /* a cloud session that is not a device of the run */
    FLASH_WHY_CLAIMS_ID,     /* a session with the provisioned id but another key (lone) */
    FLASH_WHY_NO_DEVICE,     /* a download: no device registered yet (lone) */
    FLASH_WHY_OTHER_ADDR,    /* a download from where no device of the run fetches */
    FLASH_WHY_NOT_FINAL,     /* the final image, but the device is not at FinalStage yet */
    FLASH_WHY_NOT_ORDERED,   /* a device image before the device was sent the upgrade */
    FLASH_WHY_WRONG_STAGE,   /* fleet: from a device's address, not at that stage */
};

enum flash_say {
    FLASH_SAY_INTERMEDIATE,  /* the stock firmware has the intermediate image (file) */
    FLASH_SAY_SLOT2,         /* the intermediate firmware moved itself to slot 2 (file) */
    FLASH_SAY_FINAL_SENT,    /* the final image went out completely */
    FLASH_SAY_VANISHED,      /* it stopped downloading file (at of total; 0 unknown) */
};

struct flash_act {
    enum flash_act_type type;
    size_t dev;                     /* row index */
    enum flash_stage from, to;
    enum flash_why why;
    enum flash_say say;
    int code, n404, fatal;
    uint64_t at, total;
    char key[64];                   /* STRANGER: told once per key */
    char text[96];
};

struct flash_acts {
    int hide;                       /* the event is not the run's: show only the STRANGER */
    size_t n;
    struct flash_act a[FLASH_ACTS_MAX];
};

/* An empty table. lone: a single-device run (its row is added by the caller first). */
void flash_table_init(struct flash_table *t, int lone, const char *final_device,
                      int pace_auto);
void flash_table_free(struct flash_table *t);
/* A new row for id (first seen at now_ms); NULL when the table is full (FLASH_DEVICES_MAX,
 * one row when lone) or out of memory. Row pointers move: keep indexes. */
struct flash_dev *flash_table_add(struct flash_table *t, const char *id, int64_t now_ms);
struct flash_dev *flash_table_find_id(struct flash_table *t, const char *id);

/* One server event: finds the device it belongs to (if any) and moves it. ip = the
 * peer's address without port ("" unknown). out is emptied first. */
void flash_table_on_event(struct flash_table *t, const struct srv_event *ev, const char *ip,
                          int64_t now_ms, struct flash_acts *out);

/* Stage 1's POST /ap went out for row d (answered, or the device left its AP before
 * answering): the device has the settings; only its factory key is it from now on.
 * out is emptied first. */
void flash_dev_provisioned(struct flash_table *t, size_t d, int64_t now_ms,
                           struct flash_acts *out);
/* Row d starts again (a device on its pairing AP whose id sessions had claimed): only its
 * id stays. */
void flash_dev_restart(struct flash_table *t, size_t d, int64_t now_ms);
/* Moves row d to stage st (no-op when there or done); appends a STAGE action to out. */
void flash_dev_set_stage(struct flash_table *t, size_t d, enum flash_stage st, int64_t now_ms,
                         struct flash_acts *out);

/* An address scan of this computer, as a single run sees it (PROTOCOL.md §10.1, §8). */
struct flash_scan {
    int ap;                         /* a 10.10.7.x address (the pairing AP) */
    int ap_rose;                    /* ... that appeared since the last scan */
    int serving;                    /* the serving IP */
    int final;                      /* 192.168.4.2 (FinalStage) */
};

enum flash_scan_why {
    FLASH_SCAN_STAY,        /* nothing that moves the device */
    FLASH_SCAN_FINAL,       /* on FinalStage: stage 3 */
    FLASH_SCAN_AP,          /* on a pairing AP: ask the device (stage 1) */
    FLASH_SCAN_LEFT_AP,     /* left the pairing AP before the device was provisioned */
    FLASH_SCAN_LEFT_RECHECK,/* left it, and the device was provisioned before: stage 2 */
    FLASH_SCAN_SERVING,     /* the serving IP is up: wait for the device's call */
    FLASH_SCAN_BACK_TO_AP,  /* a pairing AP again in stage 2: the device in pairing mode? */
    FLASH_SCAN_ABSENT,      /* stay; the serving IP may be gone for good (say so later) */
};

/* Where a single run's device goes after an address scan: the stage (d->st when it
 * stays) and why. recheck: stage 1 asks a device provisioned before; contacted: the
 * device called or fetched something in stage 2 (a pairing AP then is someone else's). */
enum flash_stage flash_dev_on_scan(const struct flash_dev *d, int recheck, int contacted,
                                   const struct flash_scan *s, enum flash_scan_why *why);

/* The clocks of a single run's stage (PROTOCOL.md §8, §10.1): how long sonota waits for
 * this computer to join a network by hand, and when it says what to check because
 * nothing arrives. A hint comes first after its delay in the stage, then every
 * FLASH_HINT_REPEAT_MS; the stage-2 hint ends once the device called or fetched. */
#define FLASH_WAIT_AP_MS (10 * 60 * 1000)   /* joining ITEAD-<id> by hand */
#define FLASH_WAIT_HOME_MS (10 * 60 * 1000) /* getting the serving IP back after stage 1 */
#define FLASH_HINT_CLOUD_MS (90 * 1000)     /* no dispatch by then: say what to check */
#define FLASH_HINT_FINAL_MS (120 * 1000)    /* no final image asked for by then */
#define FLASH_HINT_REPEAT_MS (5 * 60 * 1000)

enum flash_clock_due {
    FLASH_CLOCK_NONE,
    FLASH_CLOCK_GIVE_UP_AP,     /* WAIT_AP: no pairing AP joined in FLASH_WAIT_AP_MS */
    FLASH_CLOCK_GIVE_UP_HOME,   /* PROVISIONED: no serving IP in FLASH_WAIT_HOME_MS */
    FLASH_CLOCK_HINT_CLOUD,     /* CLOUD: nothing from the device yet */
    FLASH_CLOCK_HINT_FINAL,     /* FINAL: the final image not asked for yet */
};

/* When the next clock of stage st is due (INT64_MAX: none). st_since: when the device
 * entered st; last_hint: the mark flash_dev_clock keeps (start it at or before st_since;
 * set it to now when something shows the device busy: the hint waits its whole delay
 * again); contacted: the device called or fetched something in stage 2. */
int64_t flash_dev_clock_next(enum flash_stage st, int contacted, int64_t st_since,
                             int64_t last_hint);
/* The clock due at now, if any (a due hint moves *last_hint so that it repeats after
 * FLASH_HINT_REPEAT_MS). Due exactly when now >= flash_dev_clock_next(...). */
enum flash_clock_due flash_dev_clock(enum flash_stage st, int contacted, int64_t st_since,
                                     int64_t *last_hint, int64_t now);

/* A fleet's device answered GET /device on its pairing WiFi with its id. */
#define FLASH_REPROV_MS (60 * 1000) /* the same device in pairing mode again after this:
                                       it could not join the WiFi; provision it again */
enum flash_pairing {
    FLASH_PAIRING_IGNORE,   /* done, or provisioned less than FLASH_REPROV_MS ago (still
                               leaving its AP): nothing to do */
    FLASH_PAIRING_RESTART,  /* the row was sessions' that only claimed the id (another
                               factory key): it started again (flash_dev_restart) */
    FLASH_PAIRING_AGAIN,    /* back in pairing mode (it could not join the WiFi?) */
    FLASH_PAIRING_RETRY,    /* it failed here before: provisioned again */
    FLASH_PAIRING_NEW,      /* a new row */
    FLASH_PAIRING_FULL,     /* the table is full: not listed, not provisioned */
};

/* What a device on its pairing WiFi means for the table (a RESTART or NEW row is made
 * here); *row: the device's row, for every outcome but FULL. */
enum flash_pairing flash_table_on_pairing(struct flash_table *t, const char *id,
                                          int64_t now_ms, size_t *row);

/* Whether an ack/state code ends the device's run (n404: its failed downloads so far,
 * this one included). */
int flash_code_fatal(int code, int n404);
/* The table's name of a stage ("provisioned", "cloud", "intermediate", "done", "failed"). */
const char *flash_dev_stage_name(enum flash_stage st);

#endif
