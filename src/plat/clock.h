/* plat/clock.h - the one monotonic clock of the tool (timers, deadlines, pacing), the
 * wall clock (timestamps shown to people), UTC broken-down time, and sleeping. */
#ifndef SO_PLAT_CLOCK_H
#define SO_PLAT_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of a clock that never jumps (CLOCK_MONOTONIC; QueryPerformanceCounter). */
int64_t plat_mono_ms(void);
/* Milliseconds since 1970 (UTC). */
int64_t plat_wall_ms(void);
/* gmtime_r / gmtime_s: 0, or -1. */
int plat_gmtime(time_t t, struct tm *out);
/* Sleeps; on POSIX a signal (Ctrl-C) cuts it short, which is what callers want. */
void plat_sleep_ms(unsigned ms);
/* Sub-millisecond sleep; Windows rounds up to its timer tick (about 1 ms). */
void plat_sleep_us(unsigned us);

#endif
