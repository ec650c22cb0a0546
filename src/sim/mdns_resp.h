/* mdns_resp.h - the simulated DIY device's mDNS responder (PROTOCOL.md §6, DIY14 §4.1):
 * instance and host eWeLink_<deviceid>, service _ewelink._tcp, SRV port 8081, TXT record
 * built by diy_txt, A record; libmdnsd probes, announces, answers queries and sends the
 * goodbye at stop. */
#ifndef SIM_MDNS_RESP_H
#define SIM_MDNS_RESP_H

#include "io/mdns_engine.h"

#include <stddef.h>
#include <stdint.h>

struct mdns_record;

struct mdns_resp {
    struct mdns_engine eng;
    char service[64];         /* "_ewelink._tcp.local." */
    char instance[96];        /* "eWeLink_<id>._ewelink._tcp.local." */
    char host[96];            /* "eWeLink_<id>.local." */
    char ip[16];              /* A record */
    struct mdns_record *txt;
    int running;
};

struct mdns_resp_cfg {
    const char *device_id;
    const char *ip;           /* A record; NULL or "0.0.0.0" = the first joined interface */
    const char *ifname;       /* NULL = the interface holding ip, or all */
    int port;                 /* SRV port */
    const uint8_t *txt;       /* TXT rdata (diy_txt_build) */
    size_t txt_len;
};

/* 0, or -1 with a sentence in err. */
int mdns_resp_start(struct mdns_resp *r, const struct mdns_resp_cfg *c, char *err,
                    size_t errcap);
/* New TXT rdata (seq and data changed): re-announced (DIY14 §4.1). */
void mdns_resp_set_txt(struct mdns_resp *r, const uint8_t *txt, size_t len);
/* Socket to poll, or -1 when not running. */
int mdns_resp_fd(const struct mdns_resp *r);
/* Serves the socket; returns ms until it wants to run again. */
int mdns_resp_step(struct mdns_resp *r);
/* Goodbye (TTL 0) and free; accepts a stopped or never-started responder. */
void mdns_resp_stop(struct mdns_resp *r);

#endif
