#include "lib/ratelim.h"

#include <string.h>

void ratelim_init(struct ratelim *r, struct ratelim_entry *tab, size_t cap, unsigned burst,
                  int64_t every_ms, int64_t report_ms)
{
    memset(r, 0, sizeof *r);
    memset(tab, 0, cap * sizeof *tab);
    r->tab = tab;
    r->cap = cap;
    r->burst = burst ? burst : 1;
    r->every_ms = every_ms > 0 ? every_ms : 1;
    r->report_ms = report_ms > 0 ? report_ms : 0;
}

static int same_peer(const struct ratelim_entry *e, const char *peer)
{
    return !strncmp(e->peer, peer, RATELIM_PEER_MAX - 1);
}

/* The key's entry: found, a free one, or the least recently used one reused. */
static struct ratelim_entry *entry_for(struct ratelim *r, const char *peer, const void *kind,
                                       int64_t now)
{
    struct ratelim_entry *free_e = NULL, *lru = NULL;
    for (size_t i = 0; i < r->cap; i++) {
        struct ratelim_entry *e = &r->tab[i];
        if (!e->kind) {
            if (!free_e)
                free_e = e;
            continue;
        }
        if (e->kind == kind && same_peer(e, peer))
            return e;
        if (!lru || e->used_ms < lru->used_ms)
            lru = e;
    }
    struct ratelim_entry *e = free_e ? free_e : lru;
    if (!e)
        return NULL;
    if (e->kind && e->dropped) {
        /* Its count is not lost: it joins the "several addresses" report. */
        if (!r->evicted_dropped) {
            r->evicted_since_ms = e->dropped_since_ms;
            r->pending++;
        }
        r->evicted_dropped += e->dropped;
        r->pending--;
    }
    memset(e, 0, sizeof *e);
    size_t n = strnlen(peer, RATELIM_PEER_MAX - 1);
    memcpy(e->peer, peer, n);
    e->kind = kind;
    e->credit_ms = (int64_t)r->burst * r->every_ms; /* a new key starts full */
    e->refill_ms = now;
    return e;
}

static void take_report(struct ratelim *r, struct ratelim_entry *e, struct ratelim_report *rep)
{
    memset(rep, 0, sizeof *rep);
    memcpy(rep->peer, e->peer, sizeof rep->peer);
    rep->label = e->label;
    rep->dropped = e->dropped;
    rep->since_ms = e->dropped_since_ms;
    e->dropped = 0;
    r->pending--;
}

enum ratelim_verdict ratelim_admit(struct ratelim *r, const char *peer, const void *kind,
                                   const char *label, int64_t now_ms,
                                   struct ratelim_report *rep)
{
    struct ratelim_entry *e = entry_for(r, peer ? peer : "", kind, now_ms);
    if (!e)
        return RATELIM_PASS; /* no table: never silence anything */
    e->label = label;
    e->used_ms = now_ms;
    int64_t full = (int64_t)r->burst * r->every_ms;
    if (now_ms > e->refill_ms) {
        int64_t gained = now_ms - e->refill_ms;
        e->credit_ms = gained >= full - e->credit_ms ? full : e->credit_ms + gained;
        e->refill_ms = now_ms;
    }
    if (e->credit_ms < r->every_ms) {
        if (!e->dropped++) {
            e->dropped_since_ms = now_ms;
            r->pending++;
        }
        r->dropped_total++;
        return RATELIM_DROP;
    }
    e->credit_ms -= r->every_ms;
    if (e->dropped && rep) {
        take_report(r, e, rep);
        return RATELIM_PASS_REPORT;
    }
    return RATELIM_PASS;
}

int ratelim_due(struct ratelim *r, int64_t now_ms, int force, struct ratelim_report *rep)
{
    if (!r->pending)
        return 0;
    for (size_t i = 0; i < r->cap; i++) {
        struct ratelim_entry *e = &r->tab[i];
        if (e->kind && e->dropped && (force || now_ms - e->dropped_since_ms >= r->report_ms)) {
            take_report(r, e, rep);
            return 1;
        }
    }
    if (r->evicted_dropped && (force || now_ms - r->evicted_since_ms >= r->report_ms)) {
        memset(rep, 0, sizeof *rep);
        rep->dropped = r->evicted_dropped;
        rep->since_ms = r->evicted_since_ms;
        r->evicted_dropped = 0;
        r->pending--;
        return 1;
    }
    return 0;
}
