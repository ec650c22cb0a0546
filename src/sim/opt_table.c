#include "sim/opt_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_opt_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Index of arg among the '|'-separated words, or -1. */
static int choice_index(const char *words, const char *arg)
{
    size_t n = strlen(arg);
    int i = 0;
    for (const char *w = words; *w; i++) {
        size_t len = strcspn(w, "|");
        if (len == n && !strncmp(w, arg, n))
            return i;
        w += len + (w[len] == '|');
    }
    return -1;
}

/* "--NAME is a, b or c". */
static void choice_error(const struct sim_opt_def *d, char *err, size_t errcap)
{
    int used = snprintf(err, errcap, "--%s is ", d->name);
    for (const char *w = d->words; *w && used >= 0 && (size_t)used < errcap;) {
        size_t len = strcspn(w, "|");
        int last = !w[len], before_last = !last && !strchr(w + len + 1, '|');
        used += snprintf(err + used, errcap - (size_t)used, "%.*s%s", (int)len, w,
                         last ? "" : before_last ? " or " : ", ");
        w += len + !last;
    }
}

int sim_opt_table_set(const struct sim_opt_def *tab, size_t n, void *base, const char *name,
                      const char *arg, char *err, size_t errcap)
{
    const struct sim_opt_def *d = NULL;
    for (size_t i = 0; i < n && !d; i++)
        if (!strcmp(tab[i].name, name))
            d = &tab[i];
    if (!d)
        return 0;
    char *field = (char *)base + d->off;
    long v;
    int k;
    switch (d->kind) {
    case SIM_OPT_FLAG:
        *(int *)field = 1;
        return 1;
    case SIM_OPT_STR:
        *(const char **)field = arg;
        return 1;
    case SIM_OPT_INT:
        if (!arg || sim_opt_long(arg, d->lo, d->hi, &v)) {
            snprintf(err, errcap, "bad --%s", d->name);
            return -1;
        }
        *(int *)field = (int)v;
        return 1;
    case SIM_OPT_CHOICE:
        k = arg ? choice_index(d->words, arg) : -1;
        if (k < 0 || k >= SIM_OPT_CHOICES) {
            choice_error(d, err, errcap);
            return -1;
        }
        *(int *)field = d->vals[k];
        return 1;
    }
    return 0;
}
