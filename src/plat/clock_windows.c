/* clock_windows.c - plat/clock.h on Windows. */
#include "plat/clock.h"

#include <windows.h>

int64_t plat_mono_ms(void)
{
    static LARGE_INTEGER freq; /* fixed at boot, so reading it once is enough */
    LARGE_INTEGER now;
    if (freq.QuadPart == 0)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (int64_t)(now.QuadPart / freq.QuadPart * 1000 +
                     now.QuadPart % freq.QuadPart * 1000 / freq.QuadPart);
}

int64_t plat_wall_ms(void)
{
    FILETIME ft; /* 100 ns ticks since 1601 */
    GetSystemTimePreciseAsFileTime(&ft);
    ULARGE_INTEGER u;
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    return (int64_t)(u.QuadPart / 10000u) - 11644473600000LL;
}

int plat_gmtime(time_t t, struct tm *out)
{
    return gmtime_s(out, &t) == 0 ? 0 : -1;
}

void plat_sleep_ms(unsigned ms)
{
    Sleep(ms);
}

void plat_sleep_us(unsigned us)
{
    Sleep((us + 999u) / 1000u);
}
