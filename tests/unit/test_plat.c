/* plat: the state-directory rules of every OS, the file helpers and the TCP counters
 * (on a loopback connection) of the platform layer this test runs on. */
#include "plat/clock.h"
#include "plat/fs.h"
#include "plat/net.h"
#include "plat/paths.h"
#include "plat/tcpinfo.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void state_dir_xdg(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(plat_state_dir_xdg("/x/state", "/home/u", p, sizeof p), 0);
    assert_string_equal(p, "/x/state/sonota");
    /* XDG: a relative XDG_STATE_HOME is ignored. */
    assert_int_equal(plat_state_dir_xdg("rel", "/home/u", p, sizeof p), 0);
    assert_string_equal(p, "/home/u/.local/state/sonota");
    assert_int_equal(plat_state_dir_xdg(NULL, "/home/u", p, sizeof p), 0);
    assert_int_equal(plat_state_dir_xdg(NULL, NULL, p, sizeof p), -1);
    assert_int_equal(plat_state_dir_xdg("", "", p, sizeof p), -1);
    assert_int_equal(plat_state_dir_xdg("/x", NULL, p, 8), -1);
}

static void state_dir_macos(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(plat_state_dir_macos("/Users/u", p, sizeof p), 0);
    assert_string_equal(p, "/Users/u/Library/Application Support/sonota");
    assert_int_equal(plat_state_dir_macos("Users/u", p, sizeof p), -1);
    assert_int_equal(plat_state_dir_macos(NULL, p, sizeof p), -1);
    assert_int_equal(plat_state_dir_macos("/Users/u", p, 20), -1);
}

static void state_dir_windows(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(plat_state_dir_windows("C:\\Users\\u\\AppData\\Local", p, sizeof p), 0);
    assert_string_equal(p, "C:\\Users\\u\\AppData\\Local\\sonota");
    assert_int_equal(plat_state_dir_windows("\\\\srv\\home\\u", p, sizeof p), 0);
    assert_string_equal(p, "\\\\srv\\home\\u\\sonota");
    assert_int_equal(plat_state_dir_windows("AppData\\Local", p, sizeof p), -1);
    assert_int_equal(plat_state_dir_windows("C:", p, sizeof p), -1);
    assert_int_equal(plat_state_dir_windows("", p, sizeof p), -1);
    assert_int_equal(plat_state_dir_windows(NULL, p, sizeof p), -1);
}

static void parents_and_replace(void **state)
{
    (void)state;
    char base[] = "/tmp/sonota-plat-XXXXXX";
    assert_non_null(mkdtemp(base));
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/state.json", base);
    assert_int_equal(plat_mkdir_parents(path), 0);
    assert_int_equal(plat_mkdir_parents(path), 0); /* already there */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b", base);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);

    assert_int_equal(plat_file_replace(path, "one", 3, 0600), 0);
    assert_int_equal(plat_file_replace(path, "second", 6, 0600), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *f = plat_fopen_read(path);
    assert_non_null(f);
    uint64_t size = 0;
    assert_int_equal(plat_file_size(f, &size), 0);
    assert_true(size == 6);
    char buf[8] = "";
    assert_int_equal(fread(buf, 1, sizeof buf, f), 6);
    assert_memory_equal(buf, "second", 6);
    fclose(f);
    f = plat_fopen_read(dir); /* a directory is not a file to read */
    if (f) {
        assert_int_equal(plat_file_size(f, &size), -1);
        fclose(f);
    }
    unlink(path);
    rmdir(dir);
    snprintf(dir, sizeof dir, "%s/a", base);
    rmdir(dir);
    rmdir(base);
}

static void wipe_and_clock(void **state)
{
    (void)state;
    char secret[16] = "password123";
    plat_wipe(secret, sizeof secret);
    for (size_t i = 0; i < sizeof secret; i++)
        assert_int_equal(secret[i], 0);
    int64_t t0 = plat_mono_ms();
    plat_sleep_ms(20);
    int64_t dt = plat_mono_ms() - t0;
    assert_true(dt >= 19 && dt < 5000);
    assert_true(plat_wall_ms() > 1600000000000LL); /* after 2020 */
}

/* A loopback connection: what the peer acknowledged is what it read. */
static void tcp_counters(void **state)
{
    (void)state;
    int l = plat_socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    int c = plat_socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    int s = accept(l, NULL, NULL);
    assert_true(s >= 0);
    char data[1000];
    memset(data, 'x', sizeof data);
    assert_int_equal(plat_send(s, data, sizeof data), (ssize_t)sizeof data);
    char got[1000];
    size_t n = 0;
    while (n < sizeof got) {
        ssize_t r = recv(c, got + n, sizeof got - n, 0);
        assert_true(r > 0);
        n += (size_t)r;
    }
    uint64_t acked = 0;
    /* qemu-user (scripts/check-platform.sh sets SONOTA_EMULATED) does not translate
     * TCP_INFO or SIOCOUTQ: what it cannot run is skipped there, never on a real system */
    if (getenv("SONOTA_EMULATED") && plat_tcp_bytes_acked(s, &acked) != 0) {
        plat_sock_close(s);
        plat_sock_close(c);
        plat_sock_close(l);
        skip();
    }
    for (int i = 0; i < 400; i++) { /* a delayed ACK takes up to 40 ms, more when loaded */
        assert_int_equal(plat_tcp_bytes_acked(s, &acked), 0);
        if (acked == sizeof data)
            break;
        plat_sleep_ms(5);
    }
    assert_true(acked == sizeof data);
    assert_int_equal(plat_tcp_unsent(s), 0);
    assert_true(plat_tcp_rtt_ms(s) >= 0);
    assert_int_equal(plat_tcp_unsent(-1), -1);
    plat_sock_close(s);
    plat_sock_close(c);
    plat_sock_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_dir_xdg),
        cmocka_unit_test(state_dir_macos),
        cmocka_unit_test(state_dir_windows),
        cmocka_unit_test(parents_and_replace),
        cmocka_unit_test(wipe_and_clock),
        cmocka_unit_test(tcp_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
