/* opt_table.h - one option table per command: each row names an option, says how its
 * value lands in the options struct (by offset) and carries its help line. The same
 * rows drive the argv walk and the generated --help, so what is parsed and what the help
 * says cannot drift. Pure: no printing, no environment; errors are sentences in the
 * caller's buffer that name the option (never its value for FUNC rows, which may hold
 * a password). */
#ifndef SO_OPT_TABLE_H
#define SO_OPT_TABLE_H

#include <stddef.h>

enum opt_table_kind {
    OPT_TABLE_FLAG,    /* --NAME: the int field becomes 1 */
    OPT_TABLE_COUNT,   /* -v -v: the int field counts */
    OPT_TABLE_INT,     /* --NAME N: decimal in [lo, hi] into the int field */
    OPT_TABLE_STR,     /* --NAME S: the const char * field points at the argument;
                        * lo = 1: an empty argument is refused */
    OPT_TABLE_CHOICE,  /* --NAME W: W is the i-th of words ("a|b|c"): vals[i] into the int
                        * field; with arg_optional, no argument means vals[0] */
    OPT_TABLE_FUNC,    /* --NAME [ARG]: fn does the work (checks, copies, secrets) */
    OPT_TABLE_HEADING, /* no option: a heading line in the help (help = its text) */
};

#define OPT_TABLE_CHOICES 4

struct opt_table_row;
/* arg is writable (argv itself) so a password can be hidden from the process list; it
 * is NULL for rows without an argument. 0, or -1 with a sentence in err. */
typedef int (*opt_table_fn)(const struct opt_table_row *row, void *base, char *arg,
                            char *err, size_t errcap);

struct opt_table_row {
    const char *name;          /* long name without "--" */
    char short_name;           /* -x, or 0 */
    enum opt_table_kind kind;
    size_t off;                /* offsetof() the field in the part's struct */
    size_t off2;               /* FUNC: a second field the function may use */
    long lo, hi;               /* INT range; STR: lo = 1 refuses "" */
    const char *words;         /* CHOICE, '|'-separated, at most OPT_TABLE_CHOICES */
    int vals[OPT_TABLE_CHOICES];
    opt_table_fn fn;           /* FUNC */
    const char *arg;           /* the argument's name in the help ("N", "FILE"); NULL: none */
    int arg_optional;          /* --NAME[=ARG] */
    const char *what;          /* INT: what a good value is ("a port number"); default
                                * "a number" */
    const char *help;          /* the help text; '\n' continues it on the next line */
    const char *dflt;          /* shown as "(default X)"; NULL: nothing */
    unsigned show;             /* help groups the row is shown in; 0 = every group */
};

/* A command's options: the rows of one struct (base), possibly several parts. */
struct opt_table_part {
    const struct opt_table_row *rows;
    size_t n;
    void *base;
};

#define OPT_TABLE_N(a) (sizeof(a) / sizeof((a)[0]))

/* Rows for the options struct type T. */
#define OPT_ROW_HEADING(text) {.kind = OPT_TABLE_HEADING, .help = (text)}
#define OPT_ROW_FLAG(T, s, n, f, h)                                                        \
    {.name = (n), .short_name = (s), .kind = OPT_TABLE_FLAG, .off = offsetof(T, f),         \
     .help = (h)}
#define OPT_ROW_COUNT(T, s, n, f, h)                                                       \
    {.name = (n), .short_name = (s), .kind = OPT_TABLE_COUNT, .off = offsetof(T, f),        \
     .help = (h)}
#define OPT_ROW_STR(T, n, f, a, h, d)                                                      \
    {.name = (n), .kind = OPT_TABLE_STR, .off = offsetof(T, f), .arg = (a), .help = (h),   \
     .dflt = (d)}
#define OPT_ROW_PATH(T, n, f, a, h, d)                                                     \
    {.name = (n), .kind = OPT_TABLE_STR, .off = offsetof(T, f), .lo = 1, .arg = (a),       \
     .help = (h), .dflt = (d)}
#define OPT_ROW_INT(T, n, f, l, hh, a, h, d)                                               \
    {.name = (n), .kind = OPT_TABLE_INT, .off = offsetof(T, f), .lo = (l), .hi = (hh),     \
     .arg = (a), .help = (h), .dflt = (d)}
#define OPT_ROW_CHOICE(T, n, f, w, h, d, ...)                                              \
    {.name = (n), .kind = OPT_TABLE_CHOICE, .off = offsetof(T, f), .words = (w),           \
     .vals = {__VA_ARGS__}, .arg = (w), .help = (h), .dflt = (d)}
#define OPT_ROW_FUNC(T, n, f, fun, a, h, d)                                                \
    {.name = (n), .kind = OPT_TABLE_FUNC, .off = offsetof(T, f), .fn = (fun), .arg = (a),  \
     .help = (h), .dflt = (d)}

/* A decimal number in [lo, hi], nothing else. 0, or -1. */
int opt_table_long(const char *s, long lo, long hi, long *out);

/* Walks argv[1..argc-1] (argv[0] is the command). Options may come anywhere; "--" ends
 * them; "-" and every other word that does not start with '-' is an operand, gathered in
 * order into pos (more than poscap: "unexpected argument"). Long options take "--NAME
 * ARG" or "--NAME=ARG" and may be shortened to a unique prefix; short ones may be grouped
 * ("-qv"). Returns the number of operands, or -1 with a sentence in err. */
int opt_table_parse(const struct opt_table_part *parts, size_t nparts, int argc, char **argv,
                    char **pos, int poscap, char *err, size_t errcap);

/* Sets one option by long name (no dashes) as the parser would. 1 done, 0 not in the
 * part, -1 bad argument with a sentence in err. */
int opt_table_set(const struct opt_table_part *part, const char *name, char *arg, char *err,
                  size_t errcap);

/* The option lines of the rows shown in group (0: every row) into buf, NUL-terminated and
 * cut to cap. Returns the full length, as snprintf does. */
size_t opt_table_help(const struct opt_table_part *parts, size_t nparts, unsigned group,
                      char *buf, size_t cap);

#endif
