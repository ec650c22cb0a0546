#include "io/log.h"

#include "lib/ratelim.h"
#include "lib/text_esc.h"
#include "plat/clock.h"
#include "plat/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_SECRETS_MAX 8
#define LOG_CUT_MARK " [cut]"

static enum so_log_level g_level = SO_LOG_INFO;
static const char *g_tag = "sonota";
static FILE *g_file;
static char *g_secrets[LOG_SECRETS_MAX];

/* The rate limit: who the current lines are about, and the buckets. */
static so_log_peer_fn g_peer_fn;
static void *g_peer_ctx;
static struct ratelim_entry g_limit_tab[LOG_LIMIT_KEYS];
static struct ratelim g_limit;
static int g_limit_ready;

void so_log_set_level(enum so_log_level lvl) { g_level = lvl; }
void so_log_set_tag(const char *tag) { g_tag = tag; }

int so_log_open_file(const char *path)
{
    so_log_close_file();
    g_file = plat_fopen_private_append(path);
    if (!g_file)
        return -1;
    return 0;
}

void so_log_close_file(void)
{
    so_log_flush_suppressed();
    if (g_file)
        fclose(g_file);
    g_file = NULL;
}

void so_log_add_secret(const char *secret)
{
    if (!secret || !*secret)
        return;
    for (int i = 0; i < LOG_SECRETS_MAX; i++) {
        if (!g_secrets[i]) {
            g_secrets[i] = strdup(secret);
            return;
        }
    }
}

void so_log_forget_secrets(void)
{
    for (int i = 0; i < LOG_SECRETS_MAX; i++) {
        if (g_secrets[i]) {
            plat_wipe(g_secrets[i], strlen(g_secrets[i]));
            free(g_secrets[i]);
            g_secrets[i] = NULL;
        }
    }
}

/* Replaces every occurrence of each secret in line (in place, NUL-terminated). */
static void redact(char *line, size_t cap)
{
    for (int i = 0; i < LOG_SECRETS_MAX; i++) {
        const char *s = g_secrets[i];
        if (!s)
            continue;
        size_t sn = strlen(s);
        char *hit;
        while ((hit = strstr(line, s)) != NULL) {
            size_t tail = strlen(hit + sn);
            if (sn >= 3) {
                memcpy(hit, "***", 3);
                memmove(hit + 3, hit + sn, tail + 1);
            } else {
                memset(hit, '*', sn);
            }
        }
    }
    (void)cap;
}

static const char *level_name(enum so_log_level lvl)
{
    switch (lvl) {
    case SO_LOG_ERROR: return "error";
    case SO_LOG_WARN: return "warn";
    case SO_LOG_INFO: return "info";
    case SO_LOG_DEBUG: return "debug";
    case SO_LOG_TRACE: return "trace";
    }
    return "?";
}

/* Writes one finished line (redacted, not yet escaped) to stderr and the file. */
static void emit(enum so_log_level lvl, char *line)
{
    redact(line, LOG_LINE_MAX);
    char safe[LOG_LINE_MAX];
    int cut = 0;
    size_t n = text_esc(safe, sizeof safe - (sizeof LOG_CUT_MARK - 1), line, strlen(line), 0,
                        &cut);
    if (cut)
        memcpy(safe + n, LOG_CUT_MARK, sizeof LOG_CUT_MARK);
    if (lvl <= g_level)
        fprintf(stderr, "%s: %s%s%s\n", g_tag,
                lvl <= SO_LOG_WARN ? level_name(lvl) : "",
                lvl <= SO_LOG_WARN ? ": " : "", safe);
    if (g_file) {
        int64_t now = plat_wall_ms();
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        plat_gmtime((time_t)(now / 1000), &tm);
        fprintf(g_file, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s %s\n",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, (int)(now % 1000), g_tag, level_name(lvl), safe);
        fflush(g_file); /* each line whole on disk at once (Windows has no line buffering) */
    }
}

/* ---- rate limit (issue 13, item 5) ---- */

static struct ratelim *limiter(void)
{
    if (!g_limit_ready) {
        ratelim_init(&g_limit, g_limit_tab, LOG_LIMIT_KEYS, LOG_LIMIT_BURST,
                     LOG_LIMIT_EVERY_MS, LOG_LIMIT_REPORT_MS);
        g_limit_ready = 1;
    }
    return &g_limit;
}

static void emit_report(const struct ratelim_report *rep, int64_t now)
{
    char line[LOG_LINE_MAX];
    double secs = (double)(now - rep->since_ms) / 1000.0;
    if (rep->peer[0])
        snprintf(line, sizeof line, "%llu similar messages from %s suppressed in %.1f s "
                 "(\"%.60s\")", (unsigned long long)rep->dropped, rep->peer, secs,
                 rep->label ? rep->label : "?");
    else
        snprintf(line, sizeof line, "%llu similar messages from several addresses "
                 "suppressed in %.1f s", (unsigned long long)rep->dropped, secs);
    emit(SO_LOG_WARN, line);
}

/* Summaries whose interval has passed (or all of them with force). */
static void flush_due(int64_t now, int force)
{
    if (!g_limit_ready || !g_limit.pending)
        return;
    struct ratelim_report rep;
    while (ratelim_due(&g_limit, now, force, &rep))
        emit_report(&rep, now);
}

/* 1: the line (of this kind, for the current peer) may be written. */
static int admit(const void *kind, const char *label, int64_t now)
{
    if (!g_peer_fn)
        return 1;
    char ip[RATELIM_PEER_MAX];
    const char *peer = g_peer_fn(g_peer_ctx, ip, sizeof ip);
    if (!peer || !*peer)
        return 1;
    struct ratelim_report rep;
    switch (ratelim_admit(limiter(), peer, kind, label, now, &rep)) {
    case RATELIM_DROP: return 0;
    case RATELIM_PASS_REPORT: emit_report(&rep, now); return 1;
    case RATELIM_PASS: return 1;
    }
    return 1;
}

void so_log_set_peer(so_log_peer_fn ip_of, void *ctx, so_log_peer_fn *prev_fn,
                     void **prev_ctx)
{
    if (prev_fn)
        *prev_fn = g_peer_fn;
    if (prev_ctx)
        *prev_ctx = g_peer_ctx;
    g_peer_fn = ip_of;
    g_peer_ctx = ip_of ? ctx : NULL;
}

int so_log_admit(const void *kind, const char *label)
{
    int64_t now = plat_mono_ms();
    flush_due(now, 0);
    return admit(kind, label, now);
}

void so_log_flush_suppressed(void)
{
    flush_due(plat_mono_ms(), 1);
}

unsigned long long so_log_suppressed_total(void)
{
    return g_limit_ready ? (unsigned long long)g_limit.dropped_total : 0;
}

SO_PRINTF(3, 0)
static void vlog(enum so_log_level lvl, int limited, const char *fmt, va_list ap)
{
    if (lvl > g_level && !g_file)
        return;
    int64_t now = plat_mono_ms();
    flush_due(now, 0);
    if (limited && !admit(fmt, fmt, now))
        return;
    char line[LOG_LINE_MAX];
    vsnprintf(line, sizeof line, fmt, ap);
    emit(lvl, line);
}

void so_log(enum so_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, 1, fmt, ap);
    va_end(ap);
}

void so_log_nolimit(enum so_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, 0, fmt, ap);
    va_end(ap);
}
