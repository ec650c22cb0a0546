/* stock.h - the stock eWeLink client's WebSocket logic as an I/O-free state machine
 * (PROTOCOL.md §1.4, §1.5): register → date → update → query, owner-apikey rule, command
 * handling and the upgrade checks. The caller (stock_sess.c) moves the bytes. */
#ifndef SIM_STOCK_H
#define SIM_STOCK_H

#include "lib/ewl_msg.h"

#include <stddef.h>
#include <stdint.h>

enum stock_state {
    STK_REGISTER,   /* register sent, waiting for its reply */
    STK_DATE,       /* date sent */
    STK_UPDATE,     /* update sent */
    STK_QUERY,      /* query sent */
    STK_READY,      /* all replies in; commands only */
};

struct stock_cfg {
    const char *deviceid;
    const char *factory_apikey;
    const char *model;
    const char *rom_version;
    const char *mac;
    int variant_ig;        /* newer IG checks: autoRestart, version, exactly 2 bins */
    int running_slot;      /* 1 or 2 */
    int refuse_model;      /* fault: every upgrade → 406 */
};

#define STOCK_OUT_MAX 4

struct stock_out {
    char *msg[STOCK_OUT_MAX];  /* JSON texts to send in order; caller frees */
    int n;
    int registered;            /* the register reply was accepted just now */
    int upgrade;               /* an upgrade was accepted (ack 0 queued) */
    struct ewl_bin bin;        /* the entry to fetch */
    uint32_t write_addr;       /* 0x81000 or 0x1000 */
    int target_slot;
    char sequence[EWL_SEQ_MAX];
    int upgrade_acked;         /* an upgrade ack was queued, with ack_error */
    int ack_error;
    int restart;               /* server asked for a restart (acked) */
    int fail;                  /* the session must end */
    char why[200];             /* for fail, or a log line for an ignored message */
};

struct stock_fsm {
    struct stock_cfg cfg;
    enum stock_state st;
    char owner[EWL_UUID_LEN + 1];  /* apikey from the register reply */
    int hb, hb_interval;           /* from the register reply config */
    int switch_on;
    int busy;                      /* an upgrade is in progress: further ones ignored */
    int n_ignored;
};

void stock_init(struct stock_fsm *f, const struct stock_cfg *cfg);
/* The register message (sent right after the 101), or NULL on OOM. */
char *stock_start(struct stock_fsm *f, uint32_t ts);
/* Handles one text message from the server. */
void stock_on_text(struct stock_fsm *f, const char *json, size_t n, struct stock_out *out);
void stock_out_free(struct stock_out *out);

/* Built messages the session sends on its own. */
char *stock_ack(const struct stock_fsm *f, const char *sequence, int error);
char *stock_upgrade_state(const struct stock_fsm *f, int state);

#endif
