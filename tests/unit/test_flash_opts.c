/* flash_opts: defaults, every option, bad values, firmware-dir resolution, password sources. */
#include "sonota/flash_opts.h"

#include "io/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXARGS 40

struct args {
    int argc;
    char *argv[MAXARGS + 1];
};

/* Writable copies, like a real argv (the parser overwrites a password in place). */
static void args_make(struct args *a, const char *const *list)
{
    a->argc = 0;
    for (; *list && a->argc < MAXARGS; list++)
        a->argv[a->argc++] = strdup(*list);
    a->argv[a->argc] = NULL;
}

static void args_free(struct args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    a->argc = 0;
}

static struct flash_opts g_o;
static struct args g_a;
static char g_err[512];

static int parse(const char *const *list)
{
    flash_opts_free(&g_o);
    args_free(&g_a);
    struct flash_opts d = FLASH_OPTS_DEFAULT;
    g_o = d;
    args_make(&g_a, list);
    g_err[0] = '\0';
    return flash_opts_parse(g_a.argc, g_a.argv, &g_o, g_err, sizeof g_err);
}

static int setup(void **state)
{
    (void)state;
    unsetenv(FLASH_ENV_PASSWORD);
    unsetenv("NO_COLOR");
    struct flash_opts d = FLASH_OPTS_DEFAULT;
    g_o = d;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    flash_opts_free(&g_o);
    args_free(&g_a);
    so_log_forget_secrets();
    unsetenv(FLASH_ENV_PASSWORD);
    unsetenv("NO_COLOR");
    return 0;
}

static void defaults(void **state)
{
    (void)state;
    const char *argv[] = {"flash", "--firmware-dir", "fw", NULL};
    assert_int_equal(parse(argv), 0);
    assert_string_equal(g_o.device_url, "http://10.10.7.1");
    assert_int_equal(g_o.http_port, 8080);
    assert_int_equal(g_o.https_port, 8443);
    assert_int_equal(g_o.plain_port, 8081);
    assert_false(g_o.legacy);
    assert_int_equal(g_o.pace, SRV_PACE_AUTO);
    assert_int_equal(g_o.timeout_s, 1800);
    assert_null(g_o.serving_host);
    assert_null(g_o.wifi_ssid);
    assert_null(g_o.wifi_password);
    assert_int_equal(g_o.pw_source, FLASH_PW_NONE);
    assert_false(g_o.no_prov || g_o.no_check_ip || g_o.force || g_o.json || g_o.quiet ||
                 g_o.verbose || g_o.no_color || g_o.help);
    assert_null(g_o.log_file);
    assert_string_equal(g_o.user1, "fw/" FLASH_NAME_USER1);
    assert_string_equal(g_o.user2, "fw/" FLASH_NAME_USER2);
    assert_string_equal(g_o.final, "fw/" FLASH_NAME_FINAL);
}

static void state_file_from_environment(void **state)
{
    (void)state;
    const char *argv[] = {"flash", "--firmware-dir", "fw", NULL};
    setenv("XDG_STATE_HOME", "/x/state", 1);
    assert_int_equal(parse(argv), 0);
    assert_string_equal(g_o.state_file, "/x/state/sonota/flash-state.json");
    assert_false(g_o.fresh || g_o.bind_any);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/u", 1);
    assert_int_equal(parse(argv), 0);
    assert_string_equal(g_o.state_file, "/home/u/.local/state/sonota/flash-state.json");
    const char *bad[] = {"flash", "--firmware-dir", "fw", "--state", "", NULL};
    assert_int_equal(parse(bad), -1);
    assert_non_null(strstr(g_err, "--state"));
}

static void every_option(void **state)
{
    (void)state;
    const char *argv[] = {"flash", "--serving-host", "192.168.1.20", "--wifi-ssid", "Home",
                          "--wifi-password", "s3cret-pass", "--no-prov", "--no-check-ip",
                          "--device", "http://127.0.0.1:8099/", "--http-port", "18080",
                          "--https-port", "18443", "--plain-port", "18081", "--legacy",
                          "--user1", "a.bin", "--user2", "b.bin", "--final", "c.bin",
                          "--pace", "slow", "--force", "--log", "run.log", "--json",
                          "--timeout", "60", "--no-color", "-v", "--verbose",
                          "--state", "/tmp/st.json", "--fresh", "--bind-any", NULL};
    assert_int_equal(parse(argv), 0);
    assert_string_equal(g_o.serving_host, "192.168.1.20");
    assert_string_equal(g_o.wifi_ssid, "Home");
    assert_string_equal(g_o.wifi_password, "s3cret-pass");
    assert_int_equal(g_o.pw_source, FLASH_PW_FLAG);
    assert_true(g_o.no_prov && g_o.no_check_ip && g_o.legacy && g_o.force && g_o.json &&
                g_o.no_color);
    assert_string_equal(g_o.device_url, "http://127.0.0.1:8099");
    assert_int_equal(g_o.http_port, 18080);
    assert_int_equal(g_o.https_port, 18443); /* explicit port wins over --legacy's 443 */
    assert_int_equal(g_o.plain_port, 18081);
    assert_string_equal(g_o.user1, "a.bin");
    assert_string_equal(g_o.user2, "b.bin");
    assert_string_equal(g_o.final, "c.bin");
    assert_int_equal(g_o.pace, SRV_PACE_SLOW);
    assert_string_equal(g_o.log_file, "run.log");
    assert_int_equal(g_o.timeout_s, 60);
    assert_int_equal(g_o.verbose, 2);
    assert_string_equal(g_o.state_file, "/tmp/st.json");
    assert_true(g_o.fresh && g_o.bind_any);
    /* The password no longer shows in argv (the process list). */
    assert_null(strstr(g_a.argv[6], "s3cret"));
    assert_string_equal(g_a.argv[6], "***********");

    const char *q[] = {"flash", "-q", "--pace=fast", "--firmware-dir=fw", "-h", NULL};
    assert_int_equal(parse(q), 0);
    assert_int_equal(g_o.quiet, 1);
    assert_int_equal(g_o.pace, SRV_PACE_FAST);
    assert_true(g_o.help);
}

static void legacy_moves_https_to_443(void **state)
{
    (void)state;
    const char *argv[] = {"flash", "--legacy", "--firmware-dir", "fw", NULL};
    assert_int_equal(parse(argv), 0);
    assert_int_equal(g_o.https_port, 443);
    assert_int_equal(g_o.plain_port, 8081);
    const char *clash[] = {"flash", "--legacy", "--plain-port", "8080", "--firmware-dir",
                           "fw", NULL};
    assert_int_equal(parse(clash), -1);
    assert_non_null(strstr(g_err, "ports must differ"));
}

static void help_needs_nothing_else(void **state)
{
    (void)state;
    const char *argv[] = {"flash", "--help", NULL};
    assert_int_equal(parse(argv), 0);
    assert_true(g_o.help);
}

struct bad {
    const char *args[8];
    const char *needle;
};

static void bad_values(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {{"--http-port", "0"}, "--http-port"},
        {{"--http-port", "65536"}, "--http-port"},
        {{"--https-port", "12a"}, "--https-port"},
        {{"--plain-port", "-1"}, "--plain-port"},
        {{"--https-port", "8080"}, "ports must differ"},
        {{"--pace", "turbo"}, "--pace"},
        {{"--timeout", "0"}, "--timeout"},
        {{"--timeout", "ten"}, "--timeout"},
        {{"--serving-host", "my.pc.lan"}, "--serving-host"},
        {{"--serving-host", "0.0.0.0"}, "--serving-host"},
        {{"--serving-host", "192.168.1"}, "--serving-host"},
        {{"--device", "https://10.10.7.1"}, "http://"},
        {{"--device", "10.10.7.1"}, "http://"},
        {{"--device", "http://"}, "http://"},
        {{"--wifi-ssid", ""}, "--wifi-ssid"},
        {{"--wifi-ssid", "123456789012345678901234567890123"}, "--wifi-ssid"},
        {{"--wifi-password", "short"}, "--wifi-password"},
        {{"--wifi-password",
          "12345678901234567890123456789012345678901234567890123456789012345"},
         "--wifi-password"},
        {{"--bogus"}, "--bogus"},
        {{"-x"}, "-x"},
        {{"--http-port"}, "--http-port"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"-q", "-v"}, "contradict"},
        {{"--user1", ""}, "empty"},
        {{"--log", ""}, "--log"},
        {{"--topic", "a/b"}, "--topic"},
        {{"--topic", "a b"}, "--topic"},
        {{"--mqtt-host", "bad;host"}, "--mqtt-host"},
        {{"--lan-check", "ftp://x"}, "--lan-check"},
        {{"--configure-device", ""}, "--configure-device"},
        {{"--pin-grace", "-1"}, "--pin-grace"},
        {{"--pin-grace", "3601"}, "--pin-grace"},
        {{"--fleet-size", "3"}, "--fleet-size needs --fleet"},
        {{"--fleet", "--fleet-size", "0"}, "--fleet-size"},
        {{"--fleet", "--mqtt-host", "b"}, "--fleet does not configure"},
        {{"--fleet", "--configure"}, "--fleet does not configure"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[16] = {"flash", "--firmware-dir", "fw"};
        int n = 3;
        for (int j = 0; cases[i].args[j]; j++)
            argv[n++] = cases[i].args[j];
        argv[n] = NULL;
        int rc = parse(argv);
        if (rc != -1 || !strstr(g_err, cases[i].needle))
            fail_msg("case %zu (%s): rc %d, err '%s'", i, cases[i].args[0], rc, g_err);
    }
}

static void firmware_dir_resolution(void **state)
{
    (void)state;
    const char *slashes[] = {"flash", "--firmware-dir", "/srv/fw///", NULL};
    assert_int_equal(parse(slashes), 0);
    assert_string_equal(g_o.user1, "/srv/fw/" FLASH_NAME_USER1);
    assert_string_equal(g_o.final, "/srv/fw/" FLASH_NAME_FINAL);

    const char *root[] = {"flash", "--firmware-dir", "/", NULL};
    assert_int_equal(parse(root), 0);
    assert_string_equal(g_o.user2, "/" FLASH_NAME_USER2);

    /* Explicit files win over the directory, in either order. */
    const char *mixed[] = {"flash", "--final", "tasmota-lite.bin", "--firmware-dir", "fw",
                           "--user1", "u1.bin", NULL};
    assert_int_equal(parse(mixed), 0);
    assert_string_equal(g_o.user1, "u1.bin");
    assert_string_equal(g_o.user2, "fw/" FLASH_NAME_USER2);
    assert_string_equal(g_o.final, "tasmota-lite.bin");

    const char *none[] = {"flash", NULL};
    assert_int_equal(parse(none), -1);
    assert_non_null(strstr(g_err, "--firmware-dir"));

    const char *partial[] = {"flash", "--user1", "a", "--final", "c", NULL};
    assert_int_equal(parse(partial), -1);
    assert_non_null(strstr(g_err, "--user2"));
    assert_null(strstr(g_err, "--user1"));

    /* A repeated option keeps the last value without leaking the first. */
    const char *twice[] = {"flash", "--user1", "a", "--user1", "b", "--firmware-dir", "d",
                           NULL};
    assert_int_equal(parse(twice), 0);
    assert_string_equal(g_o.user1, "b");
}

static void password_from_env(void **state)
{
    (void)state;
    setenv(FLASH_ENV_PASSWORD, "env-password-1", 1);
    const char *argv[] = {"flash", "--firmware-dir", "fw", NULL};
    assert_int_equal(parse(argv), 0);
    assert_string_equal(g_o.wifi_password, "env-password-1");
    assert_int_equal(g_o.pw_source, FLASH_PW_ENV);

    /* The flag wins over the environment. */
    const char *flag[] = {"flash", "--wifi-password", "flag-password", "--firmware-dir", "fw",
                          NULL};
    assert_int_equal(parse(flag), 0);
    assert_string_equal(g_o.wifi_password, "flag-password");
    assert_int_equal(g_o.pw_source, FLASH_PW_FLAG);

    /* Empty means an open network; too short is refused. */
    setenv(FLASH_ENV_PASSWORD, "", 1);
    assert_int_equal(parse(argv), 0);
    assert_string_equal(g_o.wifi_password, "");
    setenv(FLASH_ENV_PASSWORD, "1234", 1);
    assert_int_equal(parse(argv), -1);
    assert_non_null(strstr(g_err, FLASH_ENV_PASSWORD));
    assert_null(strstr(g_err, "1234"));
}

static void no_color_from_env(void **state)
{
    (void)state;
    const char *argv[] = {"flash", "--firmware-dir", "fw", NULL};
    setenv("NO_COLOR", "1", 1);
    assert_int_equal(parse(argv), 0);
    assert_true(g_o.no_color);
    setenv("NO_COLOR", "", 1); /* no-color.org: only a non-empty value counts */
    assert_int_equal(parse(argv), 0);
    assert_false(g_o.no_color);
}

static void password_is_redacted_in_the_log(void **state)
{
    (void)state;
    char path[] = "/tmp/test_flash_opts_logXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(so_log_open_file(path), 0);
    const char *argv[] = {"flash", "--wifi-password", "hunter2-hunter2", "--firmware-dir", "fw",
                          NULL};
    assert_int_equal(parse(argv), 0);
    so_log_set_level(SO_LOG_ERROR); /* keep stderr quiet; the file gets every level */
    so_log(SO_LOG_INFO, "body {\"password\":\"%s\"}", g_o.wifi_password);
    so_log_close_file();
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[1024] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    assert_null(strstr(buf, "hunter2"));
    assert_non_null(strstr(buf, "***"));
    /* Freeing wipes and drops the copy. */
    flash_opts_free(&g_o);
    assert_null(g_o.wifi_password);
    assert_int_equal(g_o.pw_source, FLASH_PW_NONE);
}

/* Any Tasmota setting turns the configure step on; the defaults and the MQTT password's
 * sources (flag: hidden from argv; environment) are as documented. */
static void configure_options(void **state)
{
    (void)state;
    const char *plain[] = {"flash", "--firmware-dir", "fw", NULL};
    assert_int_equal(parse(plain), 0);
    assert_false(g_o.configure);
    assert_string_equal(g_o.configure_url, TCFG_DEVICE_URL);
    assert_null(g_o.mqtt_password);

    const char *implied[] = {"flash", "--firmware-dir", "fw", "--hostname", "lamp", NULL};
    assert_int_equal(parse(implied), 0);
    assert_true(g_o.configure);
    assert_string_equal(g_o.hostname, "lamp");

    const char *all[] = {"flash", "--firmware-dir", "fw", "--configure-device", "127.0.0.1:81",
                         "--lan-check", "lamp.lan", "--mqtt-host", "broker", "--mqtt-user", "u",
                         "--mqtt-password", "mqtt-secret", "--topic", "t1",
                         "--tasmota-backlog", "SetOption19 1", NULL};
    assert_int_equal(parse(all), 0);
    assert_true(g_o.configure);
    assert_string_equal(g_o.configure_url, "http://127.0.0.1:81");
    assert_string_equal(g_o.lan_url, "http://lamp.lan");
    assert_string_equal(g_o.mqtt_password, "mqtt-secret");
    assert_true(g_o.mqtt_pw_flag);
    for (int i = 0; i < g_a.argc; i++)
        assert_null(strstr(g_a.argv[i], "mqtt-secret")); /* gone from the process list */

    setenv(TCFG_ENV_MQTT_PASSWORD, "env-secret", 1);
    const char *env[] = {"flash", "--firmware-dir", "fw", "--configure", NULL};
    assert_int_equal(parse(env), 0);
    unsetenv(TCFG_ENV_MQTT_PASSWORD);
    assert_string_equal(g_o.mqtt_password, "env-secret");
    assert_false(g_o.mqtt_pw_flag);

    const char *fleet[] = {"flash", "--firmware-dir", "fw", "--fleet", "--fleet-size", "12",
                           NULL};
    assert_int_equal(parse(fleet), 0);
    assert_true(g_o.fleet);
    assert_int_equal(g_o.fleet_size, 12);
    assert_false(g_o.configure);

    const char *grace[] = {"flash", "--firmware-dir", "fw", NULL};
    assert_int_equal(parse(grace), 0);
    assert_int_equal(g_o.pin_grace_s, 60); /* a LAN peer can imitate pinning: wait by default */
    const char *now[] = {"flash", "--firmware-dir", "fw", "--pin-grace", "0", NULL};
    assert_int_equal(parse(now), 0);
    assert_int_equal(g_o.pin_grace_s, 0);
}

static void usage_mentions_every_option(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    flash_opts_usage(f, "sonota");
    fclose(f);
    static const char *const names[] = {
        "--serving-host", "--pin-grace", "--wifi-ssid", "--wifi-password", "--no-prov", "--no-check-ip",
        "--device", "--http-port", "--https-port", "--plain-port", "--legacy", "--user1",
        "--user2", "--final", "--firmware-dir", "--pace", "--force", "--log", "--json",
        "--timeout", "--no-color", "--quiet", "--verbose", "--help", "--state", "--fresh",
        "--bind-any", FLASH_ENV_PASSWORD, "--configure", "--configure-device", "--lan-check",
        "--mqtt-host", "--mqtt-user", "--mqtt-password", "--topic", "--hostname",
        "--tasmota-backlog", TCFG_ENV_MQTT_PASSWORD, "--fleet", "--fleet-size"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strstr(text, names[i]))
            fail_msg("usage lacks %s", names[i]);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(every_option, setup, teardown),
        cmocka_unit_test_setup_teardown(state_file_from_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(legacy_moves_https_to_443, setup, teardown),
        cmocka_unit_test_setup_teardown(help_needs_nothing_else, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(firmware_dir_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(password_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(no_color_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(password_is_redacted_in_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(configure_options, setup, teardown),
        cmocka_unit_test_setup_teardown(usage_mentions_every_option, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
