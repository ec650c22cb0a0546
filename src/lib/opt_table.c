/* opt_table.c - table-driven option parsing and help text (see opt_table.h). */
#include "lib/opt_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opt_table_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s || *s == ' ' || *s == '+')
        return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
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

/* "--NAME is a, b or c, not 'X'". */
static void choice_error(const struct opt_table_row *r, const char *arg, char *err,
                         size_t errcap)
{
    int used = snprintf(err, errcap, "--%s is ", r->name);
    for (const char *w = r->words; *w && used >= 0 && (size_t)used < errcap;) {
        size_t len = strcspn(w, "|");
        int last = !w[len], before_last = !last && !strchr(w + len + 1, '|');
        used += snprintf(err + used, errcap - (size_t)used, "%.*s%s", (int)len, w,
                         last ? "" : before_last ? " or " : ", ");
        w += len + !last;
    }
    if (arg && used >= 0 && (size_t)used < errcap)
        snprintf(err + used, errcap - (size_t)used, ", not '%s'", arg);
}

static int row_set(const struct opt_table_row *r, void *base, char *arg, char *err,
                   size_t errcap)
{
    char *field = (char *)base + r->off;
    long v;
    int k;
    switch (r->kind) {
    case OPT_TABLE_FLAG:
        *(int *)field = 1;
        return 0;
    case OPT_TABLE_COUNT:
        ++*(int *)field;
        return 0;
    case OPT_TABLE_STR:
        if (r->lo && !*arg) {
            snprintf(err, errcap, "--%s needs a non-empty %s", r->name, r->arg ? r->arg
                                                                             : "value");
            return -1;
        }
        *(const char **)field = arg;
        return 0;
    case OPT_TABLE_INT:
        if (opt_table_long(arg, r->lo, r->hi, &v)) {
            snprintf(err, errcap, "--%s needs %s (%ld-%ld), not '%s'", r->name,
                     r->what ? r->what : "a number", r->lo, r->hi, arg);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    case OPT_TABLE_CHOICE:
        k = arg ? choice_index(r->words, arg) : 0;
        if (k < 0 || k >= OPT_TABLE_CHOICES) {
            choice_error(r, arg, err, errcap);
            return -1;
        }
        *(int *)field = r->vals[k];
        return 0;
    case OPT_TABLE_FUNC:
        return r->fn(r, base, arg, err, errcap);
    case OPT_TABLE_HEADING:
        break;
    }
    snprintf(err, errcap, "--%s cannot be set", r->name ? r->name : "?");
    return -1;
}

static int takes_arg(const struct opt_table_row *r)
{
    return r->arg != NULL;
}

/* The row of a long name (len bytes), exact or a unique prefix; *ambiguous set when
 * several rows start with it. */
static const struct opt_table_row *find_long(const struct opt_table_part *parts, size_t np,
                                             const char *name, size_t len, void **base,
                                             int *ambiguous)
{
    const struct opt_table_row *hit = NULL;
    int hits = 0;
    *ambiguous = 0;
    for (size_t p = 0; p < np; p++)
        for (size_t i = 0; i < parts[p].n; i++) {
            const struct opt_table_row *r = &parts[p].rows[i];
            if (r->kind == OPT_TABLE_HEADING || strncmp(r->name, name, len))
                continue;
            if (!r->name[len]) {
                *base = parts[p].base;
                return r; /* exact */
            }
            if (!hit || r != hit) {
                hit = r;
                *base = parts[p].base;
                hits++;
            }
        }
    if (hits > 1) {
        *ambiguous = 1;
        return NULL;
    }
    return hit;
}

static const struct opt_table_row *find_short(const struct opt_table_part *parts, size_t np,
                                              char c, void **base)
{
    for (size_t p = 0; p < np; p++)
        for (size_t i = 0; i < parts[p].n; i++)
            if (parts[p].rows[i].kind != OPT_TABLE_HEADING &&
                parts[p].rows[i].short_name == c) {
                *base = parts[p].base;
                return &parts[p].rows[i];
            }
    return NULL;
}

/* "--NAME=VALUE" may hold a password: name only the part before '='. */
static int unknown_long(const char *word, char *err, size_t errcap, int ambiguous)
{
    size_t n = strcspn(word, "=");
    snprintf(err, errcap, "%s option '%.*s'", ambiguous ? "ambiguous" : "unknown",
             (int)(n > 200 ? 200 : n), word);
    return -1;
}

/* One "--..." word at argv[*i]; may consume the next word. 0 or -1. */
static int long_option(const struct opt_table_part *parts, size_t np, int argc, char **argv,
                       int *i, char *err, size_t errcap)
{
    char *word = argv[*i];
    char *name = word + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    void *base = NULL;
    int ambiguous;
    const struct opt_table_row *r = find_long(parts, np, name, len, &base, &ambiguous);
    if (!r)
        return unknown_long(word, err, errcap, ambiguous);
    char *arg = NULL;
    if (eq) {
        if (!takes_arg(r)) {
            snprintf(err, errcap, "--%s takes no value", r->name);
            return -1;
        }
        arg = eq + 1;
    } else if (takes_arg(r) && !r->arg_optional) {
        if (*i + 1 >= argc) {
            snprintf(err, errcap, "--%s needs a value (%s)", r->name, r->arg);
            return -1;
        }
        arg = argv[++*i];
    }
    return row_set(r, base, arg, err, errcap);
}

/* A "-abc" word at argv[*i]. 0 or -1. */
static int short_options(const struct opt_table_part *parts, size_t np, int argc,
                         char **argv, int *i, char *err, size_t errcap)
{
    char *word = argv[*i];
    for (char *c = word + 1; *c; c++) {
        void *base = NULL;
        const struct opt_table_row *r = find_short(parts, np, *c, &base);
        if (!r) {
            snprintf(err, errcap, "unknown option '-%c'", *c);
            return -1;
        }
        char *arg = NULL;
        if (takes_arg(r) && !r->arg_optional) {
            if (c[1])
                arg = c + 1;
            else if (*i + 1 < argc)
                arg = argv[++*i];
            else {
                snprintf(err, errcap, "-%c needs a value (%s)", *c, r->arg);
                return -1;
            }
        }
        if (row_set(r, base, arg, err, errcap) != 0)
            return -1;
        if (arg)
            break;
    }
    return 0;
}

int opt_table_parse(const struct opt_table_part *parts, size_t nparts, int argc, char **argv,
                    char **pos, int poscap, char *err, size_t errcap)
{
    int npos = 0, only_operands = 0;
    if (err && errcap)
        err[0] = '\0';
    for (int i = 1; i < argc; i++) {
        char *w = argv[i];
        int rc = 0;
        if (only_operands || w[0] != '-' || !w[1]) {
            if (npos >= poscap) {
                snprintf(err, errcap, "unexpected argument '%s'", w);
                return -1;
            }
            pos[npos++] = w;
            continue;
        }
        if (!strcmp(w, "--")) {
            only_operands = 1;
            continue;
        }
        if (w[1] == '-')
            rc = long_option(parts, nparts, argc, argv, &i, err, errcap);
        else
            rc = short_options(parts, nparts, argc, argv, &i, err, errcap);
        if (rc != 0)
            return -1;
    }
    return npos;
}

int opt_table_set(const struct opt_table_part *part, const char *name, char *arg, char *err,
                  size_t errcap)
{
    for (size_t i = 0; i < part->n; i++) {
        const struct opt_table_row *r = &part->rows[i];
        if (r->kind != OPT_TABLE_HEADING && !strcmp(r->name, name))
            return row_set(r, part->base, arg, err, errcap) ? -1 : 1;
    }
    return 0;
}

/* ---- help ---- */

#define HELP_COL 26 /* where the text starts */

struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len - 1;
        memcpy(o->buf + o->len, s, n < room ? n : room);
        o->buf[o->len + (n < room ? n : room)] = '\0';
    }
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void spaces(struct out *o, size_t n)
{
    while (n--)
        put(o, " ", 1);
}

static void help_row(struct out *o, const struct opt_table_row *r)
{
    size_t start = o->len;
    spaces(o, 2);
    if (r->short_name) {
        char s[5] = {'-', r->short_name, ',', ' ', 0};
        puts_(o, s);
    }
    puts_(o, "--");
    puts_(o, r->name);
    if (r->arg) {
        puts_(o, r->arg_optional ? "[=" : " ");
        puts_(o, r->arg);
        if (r->arg_optional)
            puts_(o, "]");
    }
    size_t used = o->len - start;
    spaces(o, used + 2 <= HELP_COL ? HELP_COL - used : 2);
    for (const char *t = r->help ? r->help : ""; *t;) {
        size_t n = strcspn(t, "\n");
        put(o, t, n);
        t += n;
        if (*t == '\n') {
            t++;
            puts_(o, "\n");
            spaces(o, HELP_COL);
        }
    }
    if (r->dflt) {
        puts_(o, r->help && *r->help ? " (default " : "(default ");
        puts_(o, r->dflt);
        puts_(o, ")");
    }
    puts_(o, "\n");
}

size_t opt_table_help(const struct opt_table_part *parts, size_t nparts, unsigned group,
                      char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    for (size_t p = 0; p < nparts; p++)
        for (size_t i = 0; i < parts[p].n; i++) {
            const struct opt_table_row *r = &parts[p].rows[i];
            if (group && r->show && !(r->show & group))
                continue;
            if (r->kind == OPT_TABLE_HEADING) {
                puts_(&o, r->help);
                puts_(&o, "\n");
            } else {
                help_row(&o, r);
            }
        }
    return o.len;
}
