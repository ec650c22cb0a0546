#include "io/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_SECRETS_MAX 8

static enum so_log_level g_level = SO_LOG_INFO;
static const char *g_tag = "sonota";
static FILE *g_file;
static char *g_secrets[LOG_SECRETS_MAX];

void so_log_set_level(enum so_log_level lvl) { g_level = lvl; }
enum so_log_level so_log_get_level(void) { return g_level; }
void so_log_set_tag(const char *tag) { g_tag = tag; }

int so_log_open_file(const char *path)
{
    so_log_close_file();
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    (void)fchmod(fd, 0600); /* an existing file may have been wider */
    g_file = fdopen(fd, "a");
    if (!g_file) {
        close(fd);
        return -1;
    }
    setvbuf(g_file, NULL, _IOLBF, 0);
    return 0;
}

void so_log_close_file(void)
{
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
            explicit_bzero(g_secrets[i], strlen(g_secrets[i]));
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

void so_vlog(enum so_log_level lvl, const char *fmt, va_list ap)
{
    if (lvl > g_level && !g_file)
        return;
    char line[LOG_LINE_MAX];
    vsnprintf(line, sizeof line, fmt, ap);
    redact(line, sizeof line);
    if (lvl <= g_level)
        fprintf(stderr, "%s: %s%s%s\n", g_tag,
                lvl <= SO_LOG_WARN ? level_name(lvl) : "",
                lvl <= SO_LOG_WARN ? ": " : "", line);
    if (g_file) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        fprintf(g_file, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s\n",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, ts.tv_nsec / 1000000, g_tag, level_name(lvl), line);
    }
}

void so_log(enum so_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    so_vlog(lvl, fmt, ap);
    va_end(ap);
}
