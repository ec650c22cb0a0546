/* ratelim.h - how much one peer can make us write (issue 13, item 5): a token bucket
 * per (peer address, kind of message), so a flood of frames or requests costs a few
 * lines and then one summary "N similar messages from ADDR suppressed" per interval
 * instead of a line per packet. A kind is an identity (the address of a format string
 * or an event name); label is its readable form for the summary.
 *
 * A key may write `burst` messages at once and one more every `every_ms`; what goes
 * over is counted. The count is reported (ratelim_due) once report_ms passed since the
 * first unreported drop, or when the key passes again (ratelim_admit hands the count
 * back so the caller prints the summary before the message). The table has a fixed
 * number of keys; when it is full the least recently used key is reused and its
 * unreported count moves to a shared "several addresses" summary.
 * Pure: time is passed in (monotonic ms), no I/O, no allocation. */
#ifndef SO_RATELIM_H
#define SO_RATELIM_H

#include <stddef.h>
#include <stdint.h>

#define RATELIM_PEER_MAX 48     /* an IPv6 text address fits */

struct ratelim_entry {
    char peer[RATELIM_PEER_MAX];
    const void *kind;           /* NULL: free slot */
    const char *label;
    int64_t credit_ms;          /* bucket content, in ms of refill time */
    int64_t refill_ms;          /* when credit was last updated */
    int64_t used_ms;            /* last admit call (least recently used goes first) */
    uint32_t dropped;           /* since the last report */
    int64_t dropped_since_ms;   /* the first unreported drop */
};

struct ratelim {
    struct ratelim_entry *tab;
    size_t cap;
    unsigned burst;
    int64_t every_ms;
    int64_t report_ms;
    uint64_t evicted_dropped;   /* unreported drops of keys that were reused */
    int64_t evicted_since_ms;
    uint64_t dropped_total;     /* every drop ever, for tests and statistics */
    size_t pending;             /* keys with an unreported count (ratelim_due's fast path) */
};

/* A count to report: peer "" means several addresses (reused keys). */
struct ratelim_report {
    char peer[RATELIM_PEER_MAX];
    const char *label;          /* NULL for several kinds */
    uint64_t dropped;
    int64_t since_ms;           /* first drop it counts */
};

enum ratelim_verdict {
    RATELIM_PASS,               /* write it */
    RATELIM_PASS_REPORT,        /* write *rep first (drops of this key), then it */
    RATELIM_DROP,               /* do not write it; counted */
};

/* tab: cap zeroed or not, the caller's; burst >= 1, every_ms >= 1, report_ms >= 0. */
void ratelim_init(struct ratelim *r, struct ratelim_entry *tab, size_t cap, unsigned burst,
                  int64_t every_ms, int64_t report_ms);
/* peer is truncated to RATELIM_PEER_MAX - 1 bytes; kind must not be NULL. */
enum ratelim_verdict ratelim_admit(struct ratelim *r, const char *peer, const void *kind,
                                   const char *label, int64_t now_ms,
                                   struct ratelim_report *rep);
/* One report that is due (force: every unreported count, e.g. at exit). Returns 1 and
 * fills *rep (its count is then cleared), or 0 when nothing is due. */
int ratelim_due(struct ratelim *r, int64_t now_ms, int force, struct ratelim_report *rep);

#endif
