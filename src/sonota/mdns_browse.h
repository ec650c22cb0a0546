/* mdns_browse.h - finds DIY-mode devices: DNS-SD browse for _ewelink._tcp (PTR), then each
 * instance's SRV and TXT and the host's A record (DIY14 §4.2, PROTOCOL.md §6), on libmdnsd
 * through mdns_engine. Bounded by a timeout; may stop early once a wanted device is
 * complete. */
#ifndef SONOTA_MDNS_BROWSE_H
#define SONOTA_MDNS_BROWSE_H

#include "lib/diy_txt.h"

#include <stddef.h>

#define MDNS_BROWSE_MAX 32

struct mdns_found {
    char instance[128];       /* "eWeLink_1000abcdef._ewelink._tcp.local." */
    char host[128];           /* SRV target */
    int port;
    char ip[16];              /* A record */
    int have_srv, have_txt, have_a;
    struct diy_txt txt;
    enum so_err txt_err;      /* diy_txt_parse result */
};

struct mdns_browse_opts {
    const char *ifname;       /* browse on this interface only */
    const char *bind_ip;      /* ... or on the interface holding this address */
    int timeout_ms;
    const char *want_id;      /* stop when this device id is complete */
    const char *want_ip;      /* stop when a device with this address is complete */
};

/* A device is complete when SRV, TXT and A are known. */
int mdns_found_complete(const struct mdns_found *f);

/* Returns the number of devices found (complete or not, up to cap), or -1 with a
 * sentence in err when mDNS cannot run here (socket, interfaces). */
int mdns_browse(const struct mdns_browse_opts *o, struct mdns_found *out, size_t cap,
                char *err, size_t errcap);

#endif
