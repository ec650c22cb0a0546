/* Unit tests for src/lib/ratelim.c (issue 13, item 5): the token bucket per (peer,
 * kind), its reports, and a table too small for the peers. Time is passed in. */
#include "lib/ratelim.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static const char K1[] = "cloud %s: <- %.*s", K2[] = "cloud %s: %s";

static unsigned passes(struct ratelim *r, const char *peer, const void *kind, int n,
                       int64_t now)
{
    unsigned ok = 0;
    struct ratelim_report rep;
    for (int i = 0; i < n; i++)
        ok += ratelim_admit(r, peer, kind, kind, now, &rep) != RATELIM_DROP;
    return ok;
}

static void burst_then_rate(void **state)
{
    (void)state;
    struct ratelim_entry tab[8];
    struct ratelim r;
    ratelim_init(&r, tab, 8, 30, 200, 5000);
    /* 10,000 frames in the same millisecond: the burst passes, the rest is counted */
    assert_int_equal(passes(&r, "127.0.0.2", K1, 10000, 1000), 30);
    assert_int_equal(r.dropped_total, 9970);
    /* one more every 200 ms */
    assert_int_equal(passes(&r, "127.0.0.2", K1, 10, 1199), 0);
    assert_int_equal(passes(&r, "127.0.0.2", K1, 10, 1200), 1);
    assert_int_equal(passes(&r, "127.0.0.2", K1, 10, 2200), 5);
    /* after a quiet spell the bucket is full again, but not fuller */
    assert_int_equal(passes(&r, "127.0.0.2", K1, 100, 100000), 30);
}

static void keys_are_separate(void **state)
{
    (void)state;
    struct ratelim_entry tab[8];
    struct ratelim r;
    ratelim_init(&r, tab, 8, 3, 1000, 5000);
    assert_int_equal(passes(&r, "127.0.0.2", K1, 10, 0), 3);
    /* another kind from the same peer, the same kind from another peer: full buckets */
    assert_int_equal(passes(&r, "127.0.0.2", K2, 10, 0), 3);
    assert_int_equal(passes(&r, "127.0.0.1", K1, 10, 0), 3);
    /* the kind is an identity, not its text */
    char copy[sizeof K1];
    memcpy(copy, K1, sizeof K1);
    assert_int_equal(passes(&r, "127.0.0.2", copy, 10, 0), 3);
}

static void reports_once_per_interval(void **state)
{
    (void)state;
    struct ratelim_entry tab[8];
    struct ratelim r;
    struct ratelim_report rep;
    ratelim_init(&r, tab, 8, 2, 1000, 5000);
    assert_int_equal(passes(&r, "10.0.0.9", K1, 12, 100), 2);
    assert_int_equal(ratelim_due(&r, 5099, 0, &rep), 0); /* not yet */
    assert_int_equal(ratelim_due(&r, 5100, 0, &rep), 1);
    assert_string_equal(rep.peer, "10.0.0.9");
    assert_ptr_equal(rep.label, K1);
    assert_int_equal(rep.dropped, 10);
    assert_int_equal(rep.since_ms, 100);
    assert_int_equal(ratelim_due(&r, 5100, 1, &rep), 0); /* reported: cleared */
    /* dropped again, then let through: the admit hands the count back */
    assert_int_equal(passes(&r, "10.0.0.9", K1, 5, 5100), 2); /* refilled meanwhile */
    assert_int_equal(ratelim_admit(&r, "10.0.0.9", K1, K1, 6100, &rep), RATELIM_PASS_REPORT);
    assert_int_equal(rep.dropped, 3);
    assert_int_equal(ratelim_admit(&r, "10.0.0.9", K1, K1, 7100, &rep), RATELIM_PASS);
    /* force reports what is pending at once (exit) */
    assert_int_equal(passes(&r, "10.0.0.9", K2, 3, 7100), 2);
    assert_int_equal(ratelim_due(&r, 7100, 1, &rep), 1);
    assert_int_equal(rep.dropped, 1);
    assert_int_equal(r.pending, 0);
}

static void full_table_reuses_and_keeps_counts(void **state)
{
    (void)state;
    struct ratelim_entry tab[2];
    struct ratelim r;
    struct ratelim_report rep;
    ratelim_init(&r, tab, 2, 1, 1000, 5000);
    assert_int_equal(passes(&r, "127.0.0.2", K1, 4, 0), 1);  /* 3 dropped */
    assert_int_equal(passes(&r, "127.0.0.3", K1, 2, 1), 1);  /* 1 dropped */
    /* a third peer takes the least recently used key; its 3 drops are kept */
    assert_int_equal(passes(&r, "127.0.0.4", K1, 1, 2), 1);
    assert_int_equal(ratelim_due(&r, 2, 1, &rep), 1);
    assert_string_equal(rep.peer, "127.0.0.3");
    assert_int_equal(rep.dropped, 1);
    assert_int_equal(ratelim_due(&r, 2, 1, &rep), 1);
    assert_string_equal(rep.peer, ""); /* several addresses */
    assert_int_equal(rep.dropped, 3);
    assert_int_equal(ratelim_due(&r, 2, 1, &rep), 0);
    /* a long peer text is cut, not overrun */
    char longpeer[200];
    memset(longpeer, 'a', sizeof longpeer - 1);
    longpeer[sizeof longpeer - 1] = '\0';
    assert_int_equal(passes(&r, longpeer, K2, 2, 10), 1);
    assert_int_equal(ratelim_due(&r, 10, 1, &rep), 1);
    assert_int_equal(strlen(rep.peer), RATELIM_PEER_MAX - 1);
}

static void time_going_back_does_not_add_credit(void **state)
{
    (void)state;
    struct ratelim_entry tab[4];
    struct ratelim r;
    ratelim_init(&r, tab, 4, 2, 1000, 0);
    assert_int_equal(passes(&r, "p", K1, 5, 10000), 2);
    assert_int_equal(passes(&r, "p", K1, 5, 0), 0);
    assert_int_equal(passes(&r, "p", K1, 5, 10999), 0);
    assert_int_equal(passes(&r, "p", K1, 5, 11000), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_rate),
        cmocka_unit_test(keys_are_separate),
        cmocka_unit_test(reports_once_per_interval),
        cmocka_unit_test(full_table_reuses_and_keeps_counts),
        cmocka_unit_test(time_going_back_does_not_add_credit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
