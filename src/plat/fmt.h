/* plat/fmt.h - printf-format checking that matches the printf we link: mingw-w64 with
 * __USE_MINGW_ANSI_STDIO has the C99 one (%zu, %lld), which gcc calls gnu_printf there
 * (plain "printf" would check against Microsoft's older rules). */
#ifndef SO_PLAT_FMT_H
#define SO_PLAT_FMT_H

#ifdef __MINGW32__
#define PLAT_PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#else
#define PLAT_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#endif

#endif
