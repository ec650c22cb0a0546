/* plat_argv.c - see plat_argv.h. */
#include "plat/plat_argv.h"

#include <stdlib.h>
#include <string.h>

static int needs_quotes(const char *s)
{
    return !*s || strpbrk(s, " \t\n\v\"") != NULL;
}

/* Appends c to out (when out) at *n; counts either way. */
static void put(char *out, size_t *n, char c)
{
    if (out)
        out[*n] = c;
    (*n)++;
}

static void put_arg(char *out, size_t *n, const char *s)
{
    if (!needs_quotes(s)) {
        while (*s)
            put(out, n, *s++);
        return;
    }
    put(out, n, '"');
    for (;;) {
        size_t bs = 0;
        while (*s == '\\') {
            bs++;
            s++;
        }
        /* Backslashes are literal unless a quote follows: before the closing quote or
         * an escaped '"' they are doubled. */
        size_t reps = *s == '"' || !*s ? 2 * bs : bs;
        for (size_t i = 0; i < reps; i++)
            put(out, n, '\\');
        if (!*s)
            break;
        if (*s == '"')
            put(out, n, '\\');
        put(out, n, *s++);
    }
    put(out, n, '"');
}

/* Writes (out != NULL) or measures the command line; returns its length. */
static size_t build(const char *const argv[], char *out)
{
    size_t n = 0;
    int q = needs_quotes(argv[0]);
    if (q)
        put(out, &n, '"');
    for (const char *s = argv[0]; *s; s++)
        put(out, &n, *s);
    if (q)
        put(out, &n, '"');
    for (size_t i = 1; argv[i]; i++) {
        put(out, &n, ' ');
        put_arg(out, &n, argv[i]);
    }
    return n;
}

char *plat_win_cmdline(const char *const argv[])
{
    if (!argv || !argv[0] || strchr(argv[0], '"'))
        return NULL;
    size_t n = build(argv, NULL);
    if (n >= PLAT_CMDLINE_MAX)
        return NULL;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    build(argv, out);
    out[n] = '\0';
    return out;
}
