/* mdns_engine.c - libmdnsd glue (see mdns_engine.h; DIY mode, PROTOCOL.md §6). */
#include "io/mdns_engine.h"

#include "io/log.h"
#include "lib/mdns_wire.h"
#include "plat/net.h"

#include <libmdnsd/mdnsd.h>

#include <stdlib.h>
#include <string.h>

int mdns_engine_open(struct mdns_engine *e, int frame, const char *ifname, const char *ip,
                     char *err, size_t errcap)
{
    memset(e, 0, sizeof *e);
    e->sock.fd = -1;
    e->msg = calloc(1, sizeof *e->msg);
    e->pkt = calloc(1, MAX_PACKET_LEN);
    e->d = mdnsd_new(QCLASS_IN, frame);
    if (!e->msg || !e->pkt || !e->d) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (mdns_sock_open(&e->sock, ifname, ip, err, errcap) != 0)
        goto fail;
    return 0;
fail:
    if (e->d)
        mdnsd_free(e->d);
    free(e->msg);
    free(e->pkt);
    memset(e, 0, sizeof *e);
    e->sock.fd = -1;
    return -1;
}

/* FNV-1a, to recognise our own packets coming back over multicast loopback. */
static uint64_t fingerprint(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ n;
}

static int is_echo(const struct mdns_engine *e, uint64_t fp)
{
    for (size_t i = 0; i < sizeof e->sent / sizeof e->sent[0]; i++)
        if (e->sent[i] == fp)
            return 1;
    return 0;
}

static void flush_out(struct mdns_engine *e)
{
    struct in_addr ip;
    unsigned short port;
    struct in_addr group;
    inet_pton(AF_INET, MDNS_GROUP, &group);
    /* bounded: libmdnsd drains its lists, but never trust a loop on a library */
    for (int i = 0; i < 32 && mdnsd_out(e->d, e->msg, &ip, &port); i++) {
        unsigned char *p = message_packet(e->msg);
        int n = message_packet_len(e->msg);
        if (n <= 12)
            continue;
        /* libmdnsd 0.12 sometimes writes a known answer with two rdata fields into a
         * re-sent query; send such a query without its answers instead */
        if (mdns_wire_check(p, (size_t)n) != SO_OK) {
            size_t q = mdns_wire_questions_only(p, (size_t)n);
            if (!q) {
                LOG_D("mdns: dropped a malformed %d-byte packet built by libmdnsd", n);
                continue;
            }
            e->repaired++;
            n = (int)q;
        }
        e->sent[e->sent_next++ % (sizeof e->sent / sizeof e->sent[0])] =
            fingerprint(p, (size_t)n);
        struct sockaddr_in to;
        memset(&to, 0, sizeof to);
        to.sin_family = AF_INET;
        to.sin_addr = ip;
        /* multicast: libmdnsd gives the port in network order; unicast answers to a
         * legacy querier carry the source port we passed to mdnsd_in (host order) */
        to.sin_port = ip.s_addr == group.s_addr ? port : htons(port);
        if (mdns_sock_send(&e->sock, p, (size_t)n, &to) > 0)
            e->packets_out++;
    }
}

int mdns_engine_step(struct mdns_engine *e)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_in from;
        ssize_t n = mdns_sock_recv(&e->sock, e->pkt, MDNS_PACKET_MAX, &from, NULL);
        if (n < 0)
            break;
        if (n == 0)
            continue;
        /* message_parse reads a zero-padded MAX_PACKET_LEN buffer */
        if (is_echo(e, fingerprint(e->pkt, (size_t)n))) {
            e->echoes++;
            continue;
        }
        if ((size_t)n < e->last_len)
            memset(e->pkt + n, 0, e->last_len - (size_t)n);
        e->last_len = (size_t)n;
        memset(e->msg, 0, sizeof *e->msg);
        if (message_parse(e->msg, e->pkt) != 0)
            continue;
        e->packets_in++;
        mdnsd_in(e->d, e->msg, from.sin_addr, ntohs(from.sin_port));
        /* mdnsd_in reads only the Answer section of a response; devices often put
         * SRV/TXT/A in the Additional section (RFC 6763 §12) */
        if (e->msg->header.qr && e->msg->arcount) {
            e->msg->an = e->msg->ar;
            e->msg->ancount = e->msg->arcount;
            e->msg->arcount = 0;
            e->msg->qdcount = 0;
            mdnsd_in(e->d, e->msg, from.sin_addr, ntohs(from.sin_port));
        }
    }
    flush_out(e);
    struct timeval *tv = mdnsd_sleep(e->d);
    long ms = tv ? tv->tv_sec * 1000L + tv->tv_usec / 1000 : 1000;
    if (ms < 0)
        ms = 0;
    return ms > 1000 ? 1000 : (int)ms;
}

void mdns_engine_close(struct mdns_engine *e)
{
    if (e->d) {
        if (e->sock.fd >= 0) {
            mdnsd_shutdown(e->d);
            flush_out(e);
        }
        mdnsd_free(e->d);
    }
    if (e->sock.fd >= 0)
        mdns_sock_close(&e->sock);
    free(e->msg);
    free(e->pkt);
    memset(e, 0, sizeof *e);
    e->sock.fd = -1;
}
