/* srv_loop.c - waiting for the servers' next event: one turn of the loop.
 *
 * Two ways, chosen when the context is made:
 *  - libev (where libwebsockets has its libev plugin and libev is found at build
 *    time: Debian's native build). libev waits with epoll, so a wake-up costs the
 *    sockets that are ready, not all of them: a fleet of 500 devices holds ~1000
 *    sockets, and poll() over all of them at every wake-up was a fifth of the
 *    server's CPU (docs/BENCHMARKS.md).
 *  - lws's own poll() loop everywhere else (the static builds), and as the fallback
 *    when the plugin cannot be loaded. */
#include "sonota/srv_priv.h"

#include "io/log.h"
#include "plat/clock.h"

#include <stdlib.h>

#ifdef SRV_WITH_LIBEV
#include <ev.h>

/* A timer of lws that is this late was not seen by lws's libev glue: lws 4.1 arms
 * its libev timer again only after socket I/O or its own timer, so a timer set
 * outside an lws callback (the flow sending a cloud command) would wait for the next
 * I/O. Such a timer is run by waking lws (lws_cancel_service). */
#define SRV_LOOP_LATE_US 2000

struct srv_ev {
    struct ev_loop *loop;
    void *loops[1];             /* lws's foreign_loops: one service thread */
    ev_timer wake;              /* bounds a turn's wait */
    lws_usec_t poked_for;       /* the overdue timer we woke lws for */
};

static void wake_ev_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents; /* only ends ev_run's wait */
}
#endif

static void wake_cb(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* only ends the poll wait */
}

int srv_loop_prepare(struct srv *s, struct lws_context_creation_info *ci, int use_ev)
{
#ifdef SRV_WITH_LIBEV
    if (!use_ev)
        return 0;
    struct srv_ev *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
    if (!e->loop) {
        free(e);
        return 0; /* lws's poll loop then */
    }
    ev_timer_init(&e->wake, wake_ev_cb, 0, 0);
    /* Lowest priority: libev runs idle handlers only when nothing of their priority or
     * above is pending, and lws runs its due timers from one; a wake-up of ours that
     * has expired (every turn, when a turn is slow) must not keep it from running. */
    ev_set_priority(&e->wake, EV_MINPRI);
    e->loops[0] = e->loop;
    e->poked_for = -1;
    s->ev = e;
    ci->options |= LWS_SERVER_OPTION_LIBEV;
    ci->foreign_loops = e->loops;
#else
    (void)s, (void)ci, (void)use_ev;
#endif
    return 0;
}

int srv_loop_uses_ev(const struct srv *s)
{
    return s->ev != NULL;
}

void srv_loop_free(struct srv *s)
{
#ifdef SRV_WITH_LIBEV
    struct srv_ev *e = s->ev;
    if (!e)
        return;
    ev_timer_stop(e->loop, &e->wake);
    ev_loop_destroy(e->loop);
    free(e);
    s->ev = NULL;
#else
    (void)s;
#endif
}

/* The time of lws's earliest scheduled event (connection timers and timeouts, our
 * wake-up), in lws_now_usecs() terms; -1 when none. lws keeps them in one sorted
 * list (lws-timeout-timer.h: lws_sorted_usec_list_t), found once through our
 * wake-up's owner (sul_owner_find), so its head is the earliest of them. */
static lws_usec_t next_event_at(struct srv *s)
{
    lws_usec_t best = -1, t;
    const lws_dll2_owner_t *own = s->sul_owner;
    if (own && own->head) {
        const lws_sorted_usec_list_t *first =
            lws_container_of(own->head, lws_sorted_usec_list_t, list);
        best = first->us;
    }
    if (!lws_sul_earliest_wakeable_event(s->ctx, &t) && (best < 0 || t < best))
        best = t;
    return best;
}

static lws_usec_t next_event_in(struct srv *s)
{
    lws_usec_t at = next_event_at(s), now = lws_now_usecs();
    if (at < 0)
        return -1;
    return at > now ? at - now : 0;
}

/* Beyond any timer of ours (the longest is the WebSocket idle timeout). */
#define SRV_TIMER_HORIZON_US ((lws_usec_t)24 * 3600 * LWS_US_PER_SEC)

void srv_loop_started(struct srv *s)
{
    /* Scheduling our wake-up once shows the list it goes into; it stays the same for
     * the context's life. Scheduling far out at each turn would walk every timer. */
    lws_sul_schedule(s->ctx, 0, &s->wake, wake_cb, SRV_TIMER_HORIZON_US);
    s->sul_owner = s->wake.list.owner;
    lws_sul_cancel(&s->wake);
    LOG_D("waiting with %s", s->ev ? "libev (epoll)" : "lws's poll()");
}

int srv_next_timer_ms(struct srv *s)
{
    if (!s || !s->ctx)
        return -1;
    lws_usec_t left = next_event_in(s);
    if (left < 0)
        return -1;
    lws_usec_t ms = (left + 999) / 1000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

#ifdef SRV_WITH_LIBEV
static int turn_ev(struct srv *s, int timeout_ms)
{
    struct srv_ev *e = s->ev;
    lws_usec_t at = next_event_at(s);
    lws_usec_t now = lws_now_usecs();
    lws_usec_t wait = timeout_ms > 0 ? (lws_usec_t)timeout_ms * 1000 : 0;
    if (at >= 0) {
        lws_usec_t late = at + SRV_LOOP_LATE_US - now;
        if (late > 0) {
            if (late < wait)
                wait = late;
        } else if (at != e->poked_for) {
            /* lws runs it from its idle handler once woken */
            e->poked_for = at;
            lws_cancel_service(s->ctx);
        }
    }
    if (wait <= 0)
        return ev_run(e->loop, EVRUN_NOWAIT) < 0 ? -1 : 0;
    ev_timer_set(&e->wake, (ev_tstamp)wait / 1e6, 0);
    ev_timer_start(e->loop, &e->wake);
    ev_run(e->loop, EVRUN_ONCE);
    ev_timer_stop(e->loop, &e->wake);
    return 0;
}
#endif

static int turn_poll(struct srv *s, int timeout_ms)
{
    /* lws 4.x ignores the service timeout and sleeps until its next scheduled
     * event, so a scheduled no-op bounds the wait. */
    int wait = timeout_ms > 0;
    if (wait) {
        lws_sul_schedule(s->ctx, 0, &s->wake, wake_cb, (lws_usec_t)timeout_ms * 1000);
        /* lws hands poll() the time to its next event rounded down to whole ms, so
         * an event due in under 1 ms becomes poll(..., 0) calls until it is due: a
         * busy loop of up to 1 ms per timer (thousands of polls per paced download,
         * issue 13). Such a short wait is done here, to the microsecond, instead. */
        lws_usec_t left = next_event_in(s);
        /* An event already due (our wake-up included) is run by lws before it polls,
         * and the poll then waits for the event after it: up to lws's 30 s
         * housekeeping. So once the next event is due, service without waiting. */
        if (left < 1000) {
            if (left > 0)
                plat_sleep_us((unsigned)left);
            wait = 0;
        }
    }
    int n = lws_service(s->ctx, wait ? 0 : -1);
    lws_sul_cancel(&s->wake);
    return n < 0 ? -1 : 0;
}

int srv_loop_turn(struct srv *s, int timeout_ms)
{
#ifdef SRV_WITH_LIBEV
    if (s->ev)
        return turn_ev(s, timeout_ms);
#endif
    return turn_poll(s, timeout_ms);
}
