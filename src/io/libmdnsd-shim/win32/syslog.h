/* syslog.h - Windows stand-in (see README): the priority names libmdnsd uses, and no-op
 * syslog calls, since Windows has no syslog and sonota never turns libmdnsd's on. */
#ifndef SO_W32_SYSLOG_H
#define SO_W32_SYSLOG_H
#include <stdarg.h>
#define LOG_EMERG   0
#define LOG_ALERT   1
#define LOG_CRIT    2
#define LOG_ERR     3
#define LOG_WARNING 4
#define LOG_NOTICE  5
#define LOG_INFO    6
#define LOG_DEBUG   7
#define LOG_PID     0x01
#define LOG_CONS    0x02
#define LOG_NDELAY  0x08
#define LOG_DAEMON  (3 << 3)
#define LOG_USER    (1 << 3)
#define LOG_MASK(p) (1 << (p))
#define LOG_UPTO(p) ((1 << ((p) + 1)) - 1)
static inline void openlog(const char *ident, int option, int facility)
{ (void)ident; (void)option; (void)facility; }
static inline void closelog(void) {}
static inline int setlogmask(int mask) { return mask; }
static inline void vsyslog(int pri, const char *fmt, va_list ap) { (void)pri; (void)fmt; (void)ap; }
static inline void syslog(int pri, const char *fmt, ...) { (void)pri; (void)fmt; }
#endif
