/* clock_posix.c - plat/clock.h for Linux and macOS (clock_gettime, nanosleep). */
#include "plat/clock.h"

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t plat_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

int64_t plat_wall_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}

int plat_gmtime(time_t t, struct tm *out)
{
    return gmtime_r(&t, out) ? 0 : -1;
}

void plat_sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
}

void plat_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}
