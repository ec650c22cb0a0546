/* plat_argv: the Windows command line for an argv, checked by splitting it again the way
 * the MSVC runtime (and CommandLineToArgvW) does. */
#include "plat/plat_argv.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* The MSVC rules for the arguments after the program name: 2n backslashes and a quote
 * give n backslashes and toggle quoting, 2n+1 and a quote give n and a literal quote,
 * other backslashes are literal; blanks outside quotes separate. Returns the count. */
static size_t split_msvc(const char *s, char out[][256], size_t cap)
{
    size_t n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || n == cap)
            return n;
        char *o = out[n++];
        size_t len = 0;
        int quoted = 0;
        while (*s && (quoted || (*s != ' ' && *s != '\t'))) {
            size_t bs = 0;
            while (*s == '\\') {
                bs++;
                s++;
            }
            if (*s == '"') {
                for (size_t i = 0; i < bs / 2; i++)
                    o[len++] = '\\';
                if (bs % 2)
                    o[len++] = '"';
                else
                    quoted = !quoted;
                s++;
            } else {
                for (size_t i = 0; i < bs; i++)
                    o[len++] = '\\';
                if (*s && (quoted || (*s != ' ' && *s != '\t')))
                    o[len++] = *s++;
            }
        }
        o[len] = '\0';
    }
}

/* The program name: up to the next quote when it starts with one, else the next blank. */
static const char *skip_program(const char *s, char *prog)
{
    size_t len = 0;
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++)
            prog[len++] = *s;
        s += *s == '"';
    } else {
        while (*s && *s != ' ' && *s != '\t')
            prog[len++] = *s++;
    }
    prog[len] = '\0';
    return s;
}

static void round_trip(const char *const argv[])
{
    char *line = plat_win_cmdline(argv);
    assert_non_null(line);
    char prog[256], got[16][256];
    const char *rest = skip_program(line, prog);
    assert_string_equal(prog, argv[0]);
    size_t n = split_msvc(rest, got, 16);
    size_t want = 0;
    while (argv[want + 1])
        want++;
    assert_int_equal(n, want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(got[i], argv[i + 1]);
    free(line);
}

static void plain_arguments_stay_as_they_are(void **state)
{
    (void)state;
    const char *const argv[] = {"C:\\Windows\\System32\\netsh.exe", "advfirewall",
                                "firewall", "show", "rule", "name=all", "dir=in", NULL};
    char *line = plat_win_cmdline(argv);
    assert_string_equal(line, "C:\\Windows\\System32\\netsh.exe advfirewall firewall show "
                              "rule name=all dir=in");
    free(line);
    round_trip(argv);
}

static void quotes_blanks_and_backslashes_come_back(void **state)
{
    (void)state;
    const char *const argv[] = {"C:\\Program Files\\sonota\\x.exe", "", "a b", "say \"hi\"",
                                "C:\\dir with space\\", "a\\\\\"b", "tab\there",
                                "back\\slash", "\\\\server\\share", "\"", "end\\", NULL};
    char *line = plat_win_cmdline(argv);
    assert_non_null(line);
    /* The program name is only quoted; the rest escaped by the rules. */
    assert_string_equal(line,
                        "\"C:\\Program Files\\sonota\\x.exe\" \"\" \"a b\" \"say \\\"hi\\\"\" "
                        "\"C:\\dir with space\\\\\" \"a\\\\\\\\\\\"b\" \"tab\there\" "
                        "back\\slash \\\\server\\share \"\\\"\" end\\");
    free(line);
    round_trip(argv);
    const char *const ps[] = {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                              "-NoProfile", "-Command",
                              "Get-NetIPAddress | ForEach-Object { 'ip' + [char]9 }", NULL};
    round_trip(ps);
}

static void refuses_what_cannot_be_passed(void **state)
{
    (void)state;
    const char *const quote0[] = {"C:\\a\"b.exe", "x", NULL};
    assert_null(plat_win_cmdline(quote0));
    const char *const none[] = {NULL};
    assert_null(plat_win_cmdline(none));
    char *big = malloc(PLAT_CMDLINE_MAX + 1);
    assert_non_null(big);
    memset(big, 'x', PLAT_CMDLINE_MAX);
    big[PLAT_CMDLINE_MAX] = '\0';
    const char *const toolong[] = {"C:\\x.exe", big, NULL};
    assert_null(plat_win_cmdline(toolong));
    big[PLAT_CMDLINE_MAX - 10] = '\0'; /* "C:\x.exe " + 32757 = 32766: fits */
    char *line = plat_win_cmdline(toolong);
    assert_non_null(line);
    assert_int_equal(strlen(line), PLAT_CMDLINE_MAX - 1);
    free(line);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_arguments_stay_as_they_are),
        cmocka_unit_test(quotes_blanks_and_backslashes_come_back),
        cmocka_unit_test(refuses_what_cannot_be_passed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
