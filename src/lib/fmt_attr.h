/* fmt_attr.h - printf-style format checking on every compiler we build with. mingw-w64's
 * "printf" archetype is msvcrt's (no %zu, %lld); with __USE_MINGW_ANSI_STDIO the C99
 * formats are right, and gcc checks them as "gnu_printf". */
#ifndef SO_FMT_ATTR_H
#define SO_FMT_ATTR_H

#if defined(__MINGW32__)
#define SO_PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#else
#define SO_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#endif

#endif
