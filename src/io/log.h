/* log.h - the one log sink: levels, optional file copy, secret redaction.
 * Human progress and --json events go elsewhere (the tool's ui module). */
#ifndef SO_LOG_H
#define SO_LOG_H

#include <stdarg.h>

enum so_log_level { SO_LOG_ERROR, SO_LOG_WARN, SO_LOG_INFO, SO_LOG_DEBUG, SO_LOG_TRACE };

/* Messages above this level are dropped (default SO_LOG_INFO). */
void so_log_set_level(enum so_log_level lvl);
enum so_log_level so_log_get_level(void);
/* Prefix for every line, e.g. "sonota" or "sim"; the pointer must stay valid. */
void so_log_set_tag(const char *tag);
/* Also write every message (at any kept level) to this file, created 0600.
 * Returns 0, or -1 with errno set. */
int so_log_open_file(const char *path);
void so_log_close_file(void);
/* A secret the sink must never print: every occurrence becomes "***".
 * The string is copied; so_log_forget_secrets() wipes the copies. */
void so_log_add_secret(const char *secret);
void so_log_forget_secrets(void);

void so_log(enum so_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void so_vlog(enum so_log_level lvl, const char *fmt, va_list ap);

#define LOG_E(...) so_log(SO_LOG_ERROR, __VA_ARGS__)
#define LOG_W(...) so_log(SO_LOG_WARN, __VA_ARGS__)
#define LOG_I(...) so_log(SO_LOG_INFO, __VA_ARGS__)
#define LOG_D(...) so_log(SO_LOG_DEBUG, __VA_ARGS__)
#define LOG_T(...) so_log(SO_LOG_TRACE, __VA_ARGS__)

#endif
