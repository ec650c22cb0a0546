/* mdns_browse.c - DNS-SD browse for _ewelink._tcp on libmdnsd (see mdns_browse.h).
 * Answers are read from libmdnsd's cache (mdnsd_list) after every packet, so records that
 * arrive before we ask for them (in the Additional section, or as announcements) count
 * as well as answers to our own questions. */
#include "sonota/mdns_browse.h"

#include "io/log.h"
#include "io/mdns_engine.h"
#include "sonota/diy_client.h"
#include "plat/clock.h"
#include "plat/net.h"

#include <libmdnsd/mdnsd.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SERVICE "_ewelink._tcp.local."

struct entry {
    struct mdns_found f;
    int asked_srv, asked_txt;
    char asked_a[128];
};

struct browse {
    mdns_daemon_t *d;
    struct entry e[MDNS_BROWSE_MAX];
    size_t n;
};

/* libmdnsd wants a callback per question; the cache is read in refresh() instead. */
static int on_answer(mdns_answer_t *a, void *arg)
{
    (void)a;
    (void)arg;
    return 0;
}

int mdns_found_complete(const struct mdns_found *f)
{
    return f->have_srv && f->have_txt && f->have_a;
}

static struct entry *entry_for(struct browse *b, const char *instance)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcasecmp(b->e[i].f.instance, instance))
            return &b->e[i];
    if (b->n >= MDNS_BROWSE_MAX || strlen(instance) >= sizeof b->e[0].f.instance)
        return NULL;
    struct entry *e = &b->e[b->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->f.instance, sizeof e->f.instance, "%s", instance);
    LOG_D("mdns: found %s", instance);
    return e;
}

static void refresh(struct browse *b)
{
    mdns_answer_t *a = NULL;
    while ((a = mdnsd_list(b->d, SERVICE, QTYPE_PTR, a)))
        if (a->rdname && a->ttl)
            entry_for(b, a->rdname);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        struct mdns_found *f = &e->f;
        mdns_answer_t *srv = mdnsd_list(b->d, f->instance, QTYPE_SRV, NULL);
        if (srv && srv->rdname && strlen(srv->rdname) < sizeof f->host) {
            snprintf(f->host, sizeof f->host, "%s", srv->rdname);
            f->port = srv->srv.port;
            f->have_srv = 1;
        } else if (!e->asked_srv) {
            mdnsd_query(b->d, f->instance, QTYPE_SRV, on_answer, NULL);
            e->asked_srv = 1;
        }
        mdns_answer_t *txt = mdnsd_list(b->d, f->instance, QTYPE_TXT, NULL);
        if (txt && (txt->rdata || !txt->rdlen)) {
            f->txt_err = diy_txt_parse(txt->rdata, txt->rdlen, &f->txt);
            f->have_txt = 1;
        } else if (!e->asked_txt) {
            mdnsd_query(b->d, f->instance, QTYPE_TXT, on_answer, NULL);
            e->asked_txt = 1;
        }
        if (!f->have_srv)
            continue;
        mdns_answer_t *ar = mdnsd_list(b->d, f->host, QTYPE_A, NULL);
        if (ar && ar->ip.s_addr) {
            inet_ntop(AF_INET, &ar->ip, f->ip, sizeof f->ip);
            f->have_a = 1;
        } else if (strcmp(e->asked_a, f->host)) {
            mdnsd_query(b->d, f->host, QTYPE_A, on_answer, NULL);
            size_t n = strnlen(f->host, sizeof e->asked_a - 1); /* (-O0 -Wrestrict: no snprintf) */
            memcpy(e->asked_a, f->host, n);
            e->asked_a[n] = '\0';
        }
    }
}

static int wanted(const struct browse *b, const struct mdns_browse_opts *o)
{
    if (!o->want_id && !o->want_ip)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct mdns_found *f = &b->e[i].f;
        if (!mdns_found_complete(f))
            continue;
        if (o->want_id && f->txt.id[0] && !strcasecmp(f->txt.id, o->want_id))
            return 1;
        if (o->want_ip && !strcmp(f->ip, o->want_ip))
            return 1;
    }
    return 0;
}

int mdns_browse(const struct mdns_browse_opts *o, struct mdns_found *out, size_t cap,
                char *err, size_t errcap)
{
    struct mdns_engine eng;
    if (mdns_engine_open(&eng, 1472, o->ifname, o->ifname ? NULL : o->bind_ip, err, errcap))
        return -1;
    static struct browse b; /* ~50 KiB: not on the stack */
    memset(&b, 0, sizeof b);
    b.d = eng.d;
    mdnsd_query(b.d, SERVICE, QTYPE_PTR, on_answer, NULL);
    for (int i = 0; i < eng.sock.n_ifs; i++)
        LOG_D("mdns: browsing %s on %s (%s)", SERVICE, eng.sock.ifs[i].name,
              eng.sock.ifs[i].ip);
    int64_t deadline = plat_mono_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 3000);
    int wait = 0;
    for (;;) {
        int64_t left = deadline - plat_mono_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = eng.sock.fd, .events = POLLIN};
        plat_poll(&p, 1, (int)(wait < left ? wait : left));
        wait = mdns_engine_step(&eng);
        refresh(&b);
        if (wanted(&b, o))
            break;
        /* new questions from refresh() go out on the next step */
        if (wait > 50)
            wait = 50;
    }
    LOG_D("mdns: browse done: %zu instance(s), %lu packets in, %lu out, %lu malformed",
          b.n, eng.packets_in, eng.packets_out, eng.sock.rejected);
    size_t n = b.n < cap ? b.n : cap;
    for (size_t i = 0; i < n; i++)
        out[i] = b.e[i].f;
    mdns_engine_close(&eng);
    return (int)n;
}
