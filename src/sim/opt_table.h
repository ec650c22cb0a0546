/* opt_table.h - table-driven parsing of the simple options of an options struct (the DIY
 * and Tasmota groups, spliced into opts.c): flags, bounded integers, strings and word
 * choices are one table row each; options that need their own checks stay in code. */
#ifndef SIM_OPT_TABLE_H
#define SIM_OPT_TABLE_H

#include <stddef.h>

enum sim_opt_kind {
    SIM_OPT_FLAG,   /* --NAME: the int field becomes 1 */
    SIM_OPT_INT,    /* --NAME N: decimal in [lo, hi] into the int field, else "bad --NAME" */
    SIM_OPT_STR,    /* --NAME S: the const char * field points at the argument */
    SIM_OPT_CHOICE, /* --NAME W: W is the i-th of words ("a|b|c"): vals[i] into the int
                     * field, else "--NAME is a, b or c" */
};

#define SIM_OPT_CHOICES 4

struct sim_opt_def {
    const char *name;
    enum sim_opt_kind kind;
    size_t off;                 /* offsetof() the field in the options struct */
    long lo, hi;                /* SIM_OPT_INT */
    const char *words;          /* SIM_OPT_CHOICE, '|'-separated, at most SIM_OPT_CHOICES */
    int vals[SIM_OPT_CHOICES];  /* SIM_OPT_CHOICE */
};

/* Table rows for the options struct type T. */
#define SIM_OPT_FLAG_ROW(T, n, f) {.name = (n), .kind = SIM_OPT_FLAG, .off = offsetof(T, f)}
#define SIM_OPT_STR_ROW(T, n, f) {.name = (n), .kind = SIM_OPT_STR, .off = offsetof(T, f)}
#define SIM_OPT_INT_ROW(T, n, f, l, h)                                                    \
    {.name = (n), .kind = SIM_OPT_INT, .off = offsetof(T, f), .lo = (l), .hi = (h)}
#define SIM_OPT_CHOICE_ROW(T, n, f, w, ...)                                               \
    {.name = (n), .kind = SIM_OPT_CHOICE, .off = offsetof(T, f), .words = (w),            \
     .vals = {__VA_ARGS__}}

/* A decimal number in [lo, hi], nothing else. 0, or -1. */
int sim_opt_long(const char *s, long lo, long hi, long *out);

/* Sets option `name` (argument arg, NULL for flags) in the struct at base when tab (n rows)
 * has it. 1 done, 0 not in the table, -1 bad argument with a sentence in err. */
int sim_opt_table_set(const struct sim_opt_def *tab, size_t n, void *base, const char *name,
                      const char *arg, char *err, size_t errcap);

#endif
