/* opt_table: every row kind, long/short forms, operands, errors naming the option, and the
 * generated help. */
#include "lib/opt_table.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct o {
    int flag, count, num, choice, func_calls, help;
    const char *str, *path, *func_arg;
};

static int take(const struct opt_table_row *r, void *base, char *arg, char *err, size_t cap)
{
    struct o *o = base;
    if (arg && !strcmp(arg, "bad")) {
        snprintf(err, cap, "--%s refused", r->name);
        return -1;
    }
    o->func_calls++;
    o->func_arg = arg;
    return 0;
}

#define T struct o
static const struct opt_table_row rows[] = {
    OPT_ROW_HEADING("Things:"),
    OPT_ROW_FLAG(T, 'f', "flag", flag, "a flag"),
    OPT_ROW_COUNT(T, 'v', "verbose", count, "more"),
    OPT_ROW_INT(T, "num", num, 1, 100, "N", "a number", "7"),
    OPT_ROW_CHOICE(T, "mode", choice, "alpha|beta|gamma", "how", "alpha", 10, 20, 30),
    {.name = "pin", .kind = OPT_TABLE_CHOICE, .off = offsetof(T, choice), .words = "on|off",
     .vals = {1, 2}, .arg = "on|off", .arg_optional = 1, .help = "optional"},
    OPT_ROW_STR(T, "str", str, "S", "any string\nsecond line", NULL),
    OPT_ROW_PATH(T, "path", path, "FILE", "a file", NULL),
    OPT_ROW_FUNC(T, "func", func_arg, take, "X", "a function", NULL),
    OPT_ROW_FLAG(T, 'h', "help", help, "this text"),
    OPT_ROW_FLAG(T, 0, "number-two", flag, "shares a prefix with --num"),
};
#undef T

static struct o g;
static char g_err[256];
static char *g_pos[4];

static int parse(int poscap, const char *const *list)
{
    static char words[16][64];
    char *argv[17];
    int argc = 0;
    memset(&g, 0, sizeof g);
    for (; *list; list++, argc++) {
        snprintf(words[argc], sizeof words[argc], "%s", *list);
        argv[argc] = words[argc];
    }
    argv[argc] = NULL;
    struct opt_table_part part = {rows, OPT_TABLE_N(rows), &g};
    return opt_table_parse(&part, 1, argc, argv, g_pos, poscap, g_err, sizeof g_err);
}

static void every_kind(void **state)
{
    (void)state;
    const char *a[] = {"cmd", "--flag", "-vv", "--verbose", "--num", "42", "--mode=beta",
                       "--str", "", "--path", "p", "--func", "x", "op1", "--", "--op2",
                       NULL};
    assert_int_equal(parse(4, a), 2);
    assert_int_equal(g.flag, 1);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.num, 42);
    assert_int_equal(g.choice, 20);
    assert_string_equal(g.str, "");
    assert_string_equal(g.path, "p");
    assert_int_equal(g.func_calls, 1);
    assert_string_equal(g.func_arg, "x");
    assert_string_equal(g_pos[0], "op1");
    assert_string_equal(g_pos[1], "--op2");

    const char *b[] = {"cmd", "--pin", "-", "--mo", "gamma", "-fh", NULL};
    assert_int_equal(parse(1, b), 1);
    assert_int_equal(g.choice, 30); /* unique prefix --mo */
    assert_true(g.flag && g.help);
    assert_string_equal(g_pos[0], "-");
    const char *c[] = {"cmd", "--pin", NULL};
    assert_int_equal(parse(0, c), 0);
    assert_int_equal(g.choice, 1); /* optional argument absent: the first word */
    const char *d[] = {"cmd", "--pin=off", NULL};
    assert_int_equal(parse(0, d), 0);
    assert_int_equal(g.choice, 2);
}

struct bad {
    const char *args[4];
    const char *needle;
};

static void errors_name_the_option(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {{"--num", "0"}, "--num needs a number (1-100), not '0'"},
        {{"--num", "12x"}, "--num"},
        {{"--num"}, "--num needs a value"},
        {{"--mode", "delta"}, "--mode is alpha, beta or gamma, not 'delta'"},
        {{"--path", ""}, "--path needs a non-empty FILE"},
        {{"--func", "bad"}, "--func refused"},
        {{"--flag=1"}, "--flag takes no value"},
        {{"--bogus=secret"}, "unknown option '--bogus'"},
        {{"--nu", "3"}, "ambiguous option '--nu'"},
        {{"-x"}, "unknown option '-x'"},
        {{"stray"}, "unexpected argument 'stray'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[6] = {"cmd"};
        int n = 1;
        for (int j = 0; cases[i].args[j]; j++)
            argv[n++] = cases[i].args[j];
        argv[n] = NULL;
        int rc = parse(0, argv);
        if (rc != -1 || !strstr(g_err, cases[i].needle))
            fail_msg("case %zu: rc %d, err '%s'", i, rc, g_err);
        assert_null(strstr(g_err, "secret"));
    }
}

static void set_by_name(void **state)
{
    (void)state;
    struct opt_table_part part = {rows, OPT_TABLE_N(rows), &g};
    char v[] = "9";
    memset(&g, 0, sizeof g);
    assert_int_equal(opt_table_set(&part, "num", v, g_err, sizeof g_err), 1);
    assert_int_equal(g.num, 9);
    assert_int_equal(opt_table_set(&part, "nope", v, g_err, sizeof g_err), 0);
    char w[] = "500";
    assert_int_equal(opt_table_set(&part, "num", w, g_err, sizeof g_err), -1);
}

static void help_is_generated(void **state)
{
    (void)state;
    struct opt_table_part part = {rows, OPT_TABLE_N(rows), NULL};
    size_t n = opt_table_help(&part, 1, 0, NULL, 0);
    char *text = malloc(n + 1);
    assert_non_null(text);
    assert_int_equal(opt_table_help(&part, 1, 0, text, n + 1), n);
    assert_int_equal(strlen(text), n);
    assert_non_null(strstr(text, "Things:\n"));
    assert_non_null(strstr(text, "  -f, --flag              a flag\n"));
    assert_non_null(strstr(text, "  --num N                 a number (default 7)\n"));
    assert_non_null(strstr(text, "  --mode alpha|beta|gamma how (default alpha)\n") ||
                    strstr(text, "  --mode alpha|beta|gamma  how (default alpha)\n"));
    assert_non_null(strstr(text, "  --pin[=on|off]"));
    assert_non_null(strstr(text, "any string\n                          second line\n"));
    /* Cut short: still terminated, same full length reported. */
    char small[20];
    assert_int_equal(opt_table_help(&part, 1, 0, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind),
        cmocka_unit_test(errors_name_the_option),
        cmocka_unit_test(set_by_name),
        cmocka_unit_test(help_is_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
