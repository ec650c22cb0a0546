/* log.h - the one log sink: levels, optional file copy, secret redaction.
 * Human progress and --json events go elsewhere (the tool's ui module).
 * Every line is escaped on its way out (lib/text_esc.h: control characters, ESC,
 * invalid UTF-8 become visible escapes; a line is never longer than LOG_LINE_MAX), so
 * text from the network may be passed to "%s" as it is (issue 13, item 4).
 * While a peer is set (so_log_set_peer: the servers set it around each connection's
 * callbacks) every line is also rate-limited per (peer address, format string):
 * LOG_LIMIT_BURST at once, then one every LOG_LIMIT_EVERY_MS; what is dropped is
 * reported as one warning "N similar messages from ADDR suppressed" per key at most
 * every LOG_LIMIT_REPORT_MS (issue 13, item 5). Lines without a peer are never
 * dropped. */
#ifndef SO_LOG_H
#define SO_LOG_H

#include "lib/fmt_attr.h"

#include <stdarg.h>
#include <stddef.h>

enum so_log_level { SO_LOG_ERROR, SO_LOG_WARN, SO_LOG_INFO, SO_LOG_DEBUG, SO_LOG_TRACE };

/* Messages above this level are dropped (default SO_LOG_INFO). */
void so_log_set_level(enum so_log_level lvl);
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

#define LOG_LINE_MAX 2048
#define LOG_LIMIT_BURST 30          /* lines per (peer, kind) at once... */
#define LOG_LIMIT_EVERY_MS 200      /* ...then one more every 200 ms (5 a second) */
#define LOG_LIMIT_REPORT_MS 5000    /* a "suppressed" summary per key at most this often */
#define LOG_LIMIT_KEYS 512          /* (peer, kind) pairs remembered */

/* Who the lines logged from now on are about: ip_of(ctx, buf, cap) writes the peer's
 * address into buf and returns buf, or NULL if unknown (not limited). It is called
 * only when a line is about to be written. ip_of NULL: no peer (never limited).
 * Returns the previous setting through prev_fn/prev_ctx (may be NULL), for nesting. */
typedef const char *(*so_log_peer_fn)(void *ctx, char *buf, size_t cap);
void so_log_set_peer(so_log_peer_fn ip_of, void *ctx, so_log_peer_fn *prev_fn,
                     void **prev_ctx);
/* For writers other than so_log (the tool's terminal output): whether a line of this
 * kind (any stable pointer; label: its readable form) may be written now for the
 * current peer. Writes a pending summary first. 1: write it, 0: suppressed. */
int so_log_admit(const void *kind, const char *label);
/* Like so_log, without the rate limit (a line so_log_admit already let through). */
void so_log_nolimit(enum so_log_level lvl, const char *fmt, ...)
    SO_PRINTF(2, 3);
/* Writes every pending "suppressed" summary now (before exit; so_log_close_file too). */
void so_log_flush_suppressed(void);
/* Lines dropped by the rate limit so far (tests). */
unsigned long long so_log_suppressed_total(void);

void so_log(enum so_log_level lvl, const char *fmt, ...)
    SO_PRINTF(2, 3);

#define LOG_E(...) so_log(SO_LOG_ERROR, __VA_ARGS__)
#define LOG_W(...) so_log(SO_LOG_WARN, __VA_ARGS__)
#define LOG_I(...) so_log(SO_LOG_INFO, __VA_ARGS__)
#define LOG_D(...) so_log(SO_LOG_DEBUG, __VA_ARGS__)
#define LOG_T(...) so_log(SO_LOG_TRACE, __VA_ARGS__)

#endif
