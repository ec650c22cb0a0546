/* plat_run (POSIX): exit status, output cap, the deadline (also for a child that closes
 * stdout and goes on), a program that does not exist or dies of a signal, and stdin /
 * stderr on the null device rather than ours. */
#include "plat/plat_run.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sh(const char *script, unsigned ms, size_t cap, char **out)
{
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    return plat_run(argv, ms, cap, out);
}

static void exit_status_and_output(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(sh("printf 'two\\nlines'; exit 3", 5000, 1024, &out), 3);
    assert_string_equal(out, "two\nlines");
    free(out);
    assert_int_equal(sh("true", 5000, 16, &out), 0);
    assert_string_equal(out, "");
    free(out);
}

static void output_is_cut_at_cap_and_drained(void **state)
{
    (void)state;
    char *out;
    /* 200 KB: more than a pipe holds, so the child only ends if the rest is read. */
    int rc = sh("i=0; while [ $i -lt 2000 ]; do printf '%0100d' 0; i=$((i+1)); done", 10000,
                10, &out);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "0000000000");
    free(out);
}

static void the_deadline_kills(void **state)
{
    (void)state;
    char *out = (char *)1;
    long long t0 = now_ms();
    assert_int_equal(sh("echo early; sleep 5", 300, 64, &out), -1);
    assert_null(out);
    assert_true(now_ms() - t0 < 3000);
    /* stdout closed, still running: the wait for its end has the same deadline. */
    t0 = now_ms();
    assert_int_equal(sh("exec >&-; sleep 5", 300, 64, &out), -1);
    assert_null(out);
    assert_true(now_ms() - t0 < 3000);
}

static void failures_are_minus_one(void **state)
{
    (void)state;
    char *out = (char *)1;
    const char *const missing[] = {"/nonexistent/tool", "x", NULL};
    assert_int_equal(plat_run(missing, 1000, 64, &out), -1);
    assert_null(out);
    assert_int_equal(sh("kill -9 $$", 5000, 64, &out), -1);
    assert_null(out);
}

/* With our own stdin and stderr on pipes, the child must still see the null device. */
static void stdin_and_stderr_are_the_null_device(void **state)
{
    (void)state;
    int in[2], err[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(err), 0);
    int save0 = dup(0), save2 = dup(2);
    dup2(in[0], 0);
    dup2(err[1], 2);
    char *out;
    int rc = sh("if [ -c /dev/stdin ]; then echo char; else echo other; fi; echo oops >&2",
                5000, 64, &out);
    dup2(save0, 0);
    dup2(save2, 2);
    close(save0);
    close(save2);
    close(in[0]);
    close(in[1]);
    close(err[1]);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    char buf[16];
    ssize_t got = read(err[0], buf, sizeof buf);
    close(err[0]);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "char\n");
    free(out);
    assert_true(got <= 0); /* nothing reached our stderr */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status_and_output),
        cmocka_unit_test(output_is_cut_at_cap_and_drained),
        cmocka_unit_test(the_deadline_kills),
        cmocka_unit_test(failures_are_minus_one),
        cmocka_unit_test(stdin_and_stderr_are_the_null_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
