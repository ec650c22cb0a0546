/* mdns_resp.c - DIY device mDNS records on libmdnsd (see mdns_resp.h). */
#include "sim/mdns_resp.h"

#include "io/log.h"

#include <libmdnsd/mdnsd.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define TTL_HOST 120   /* RFC 6762 §10: host records (SRV, A) */
#define TTL_OTHER 4500 /* PTR, TXT */

static void conflict(char *name, int type, void *arg)
{
    (void)arg;
    LOG_W("mdns: another host claims %s (type %d); this record is withdrawn", name, type);
}

int mdns_resp_start(struct mdns_resp *r, const struct mdns_resp_cfg *c, char *err,
                    size_t errcap)
{
    memset(r, 0, sizeof *r);
    const char *ip = c->ip && strcmp(c->ip, "0.0.0.0") ? c->ip : NULL;
    /* frame: the largest record is the TXT (<= 1300 B, DIY14 §4.1) plus its name */
    if (mdns_engine_open(&r->eng, 1472, c->ifname, c->ifname ? NULL : ip, err, errcap) != 0)
        return -1;
    snprintf(r->ip, sizeof r->ip, "%s", ip ? ip : r->eng.sock.ifs[0].ip);
    struct in_addr a;
    if (inet_pton(AF_INET, r->ip, &a) != 1) {
        snprintf(err, errcap, "bad address %s for the mDNS A record", r->ip);
        mdns_engine_close(&r->eng);
        return -1;
    }
    snprintf(r->service, sizeof r->service, "_ewelink._tcp.local.");
    snprintf(r->instance, sizeof r->instance, "eWeLink_%s._ewelink._tcp.local.", c->device_id);
    snprintf(r->host, sizeof r->host, "eWeLink_%s.local.", c->device_id);
    mdns_daemon_t *d = r->eng.d;
    /* No _services._dns-sd._udp enumeration record: once anyone queries that name,
     * libmdnsd 0.12 sends nothing but enumeration PTRs from then on (d->disco is never
     * reset). Browsers ask for _ewelink._tcp directly (DIY14 §4.2). */
    mdns_record_t *rec = mdnsd_shared(d, r->service, QTYPE_PTR, TTL_OTHER);
    mdnsd_set_host(d, rec, r->instance);
    rec = mdnsd_unique(d, r->instance, QTYPE_SRV, TTL_HOST, conflict, r);
    mdnsd_set_srv(d, rec, 0, 0, (unsigned short)c->port, r->host);
    r->txt = mdnsd_unique(d, r->instance, QTYPE_TXT, TTL_OTHER, conflict, r);
    mdnsd_set_raw(d, r->txt, (const char *)c->txt, (unsigned short)c->txt_len);
    rec = mdnsd_unique(d, r->host, QTYPE_A, TTL_HOST, conflict, r);
    mdnsd_set_ip(d, rec, a);
    r->running = 1;
    LOG_I("mdns: publishing %s -> %s:%d on %d interface(s)", r->instance, r->ip, c->port,
          r->eng.sock.n_ifs);
    return 0;
}

void mdns_resp_set_txt(struct mdns_resp *r, const uint8_t *txt, size_t len)
{
    if (!r->running || !r->txt)
        return;
    mdnsd_set_raw(r->eng.d, r->txt, (const char *)txt, (unsigned short)len);
}

int mdns_resp_fd(const struct mdns_resp *r)
{
    return r->running ? r->eng.sock.fd : -1;
}

int mdns_resp_step(struct mdns_resp *r)
{
    return r->running ? mdns_engine_step(&r->eng) : 1000;
}

void mdns_resp_stop(struct mdns_resp *r)
{
    if (!r->running)
        return;
    LOG_I("mdns: goodbye for %s (%lu packets in, %lu out, %lu malformed dropped)", r->instance,
          r->eng.packets_in, r->eng.packets_out, r->eng.sock.rejected);
    mdns_engine_close(&r->eng);
    r->running = 0;
    r->txt = NULL;
}
