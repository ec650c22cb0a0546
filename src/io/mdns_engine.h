/* mdns_engine.h - libmdnsd (troglobit/mdnsd, an mDNS engine without I/O) driven by an
 * mdns_sock: every received packet is bounds-checked, parsed by libmdnsd and handed to
 * mdnsd_in() (its Additional section too, which mdnsd_in() alone would skip); whatever
 * libmdnsd wants to send goes out of every joined interface. The owner publishes records
 * (sim) or asks questions (tool) on e->d with the libmdnsd API and calls
 * mdns_engine_step() whenever e->sock.fd is readable or the returned time has passed. */
#ifndef SO_MDNS_ENGINE_H
#define SO_MDNS_ENGINE_H

#include "io/mdns_sock.h"

#include <stddef.h>
#include <stdint.h>

struct mdns_daemon; /* libmdnsd's mdns_daemon_t */
struct message;

struct mdns_engine {
    struct mdns_daemon *d;
    struct mdns_sock sock;
    struct message *msg;          /* libmdnsd message (~70 KiB, heap) */
    unsigned char *pkt;           /* MAX_PACKET_LEN zeroed bytes: message_parse reads here */
    size_t last_len;
    unsigned long packets_in, packets_out, echoes, repaired;
    /* Fingerprints of the packets we sent lately: multicast loopback brings them back,
     * and libmdnsd would take its own announcements for a rival's (a name conflict). */
    uint64_t sent[16];
    unsigned sent_next;
};

/* frame: largest packet libmdnsd may build (a record larger than this is never sent).
 * Interfaces as in mdns_sock_open. 0, or -1 with a sentence in err. */
int mdns_engine_open(struct mdns_engine *e, int frame, const char *ifname, const char *ip,
                     char *err, size_t errcap);
/* Reads what is waiting (at most 64 packets), sends what is due. Returns the number of
 * milliseconds after which it wants to run again (0..1000). */
int mdns_engine_step(struct mdns_engine *e);
/* Sends goodbye packets for published records (TTL 0, RFC 6762 §10.1) and frees
 * everything; accepts a never-opened (zeroed) engine. */
void mdns_engine_close(struct mdns_engine *e);

#endif
