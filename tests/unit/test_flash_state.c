/* flash_state: the record of the stage an earlier `sonota flash` run reached. */
#include "sonota/flash_state.h"

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

static int decode(const char *s, struct flash_record *r)
{
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1); /* exact length, no NUL: ASan catches over-reads */
    assert_non_null(p);
    memcpy(p, s, n);
    int rc = flash_record_decode(p, n, r);
    free(p);
    return rc;
}

static void round_trip(void **state)
{
    (void)state;
    struct flash_record r = {.stage = STAGE_CLOUD, .deviceid = "100016aa70",
                             .serving_ip = "192.168.1.23", .https_port = 8443,
                             .ssid = "Home", .updated = 1700000000};
    char *text = flash_record_encode(&r);
    assert_non_null(text);
    assert_null(strstr(text, "password"));
    struct flash_record back;
    assert_int_equal(decode(text, &back), 0);
    free(text);
    assert_int_equal(back.stage, STAGE_CLOUD);
    assert_string_equal(back.deviceid, "100016aa70");
    assert_string_equal(back.serving_ip, "192.168.1.23");
    assert_int_equal(back.https_port, 8443);
    assert_string_equal(back.ssid, "Home");
    assert_int_equal(back.updated, 1700000000);
    assert_string_equal(stage_name(STAGE_PROVISIONED), "provisioned");
    assert_string_equal(stage_name(STAGE_FINAL), "final");
}

static void rejects_what_is_not_a_record(void **state)
{
    (void)state;
    struct flash_record r;
    static const char *const bad[] = {
        "", "[]", "{}", "not json",
        "{\"version\":2,\"stage\":\"cloud\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":8443}",
        "{\"version\":1,\"stage\":\"later\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":8443}",
        /* stages of the one enum that a record never holds */
        "{\"version\":1,\"stage\":\"done\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":8443}",
        "{\"version\":1,\"stage\":\"wait-ap\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":8443}",
        "{\"version\":1,\"stage\":\"failed\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":8443}",
        "{\"version\":1,\"stage\":\"cloud\",\"servingIp\":\"home\",\"httpsPort\":8443}",
        "{\"version\":1,\"stage\":\"cloud\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":0}",
        ("{\"version\":1,\"stage\":\"cloud\",\"servingIp\":\"1.2.3.4\",\"httpsPort\":8443,"
         "\"deviceid\":\"1000000000000000000000000\"}"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&r, 0x55, sizeof r);
        assert_int_equal(decode(bad[i], &r), -1);
        assert_int_equal(r.stage, STAGE_NONE);
        assert_string_equal(r.serving_ip, "");
    }
    /* Missing optional fields are fine. */
    assert_int_equal(decode("{\"version\":1,\"stage\":\"final\",\"servingIp\":\"192.168.4.2\","
                            "\"httpsPort\":443}", &r), 0);
    assert_int_equal(r.stage, STAGE_FINAL);
    assert_string_equal(r.deviceid, "");
}

static void path_in_state_dir(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(flash_state_path_in("/x/state/sonota", p, sizeof p), 0);
    assert_string_equal(p, "/x/state/sonota/flash-state.json");
    assert_int_equal(flash_state_path_in("C:\\Users\\u\\AppData\\Local\\sonota", p, sizeof p),
                     0);
    assert_string_equal(p, "C:\\Users\\u\\AppData\\Local\\sonota/flash-state.json");
    assert_int_equal(flash_state_path_in("", p, sizeof p), -1);
    assert_int_equal(flash_state_path_in(NULL, p, sizeof p), -1);
    assert_int_equal(flash_state_path_in("/x", p, 8), -1);
}

static void save_load_remove(void **state)
{
    (void)state;
    char dir[] = "/tmp/sonota-state-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/flash-state.json", dir);
    struct flash_record r = {.stage = STAGE_PROVISIONED, .deviceid = "1000abcdef",
                             .serving_ip = "10.1.2.3", .https_port = 8443, .ssid = "S"};
    char err[512];
    struct flash_record back;
    assert_int_equal(flash_record_load(path, &back, err, sizeof err), 0); /* none yet */
    assert_int_equal(flash_record_save(path, &r, err, sizeof err), 0);
    assert_true(r.updated > 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(flash_record_load(path, &back, err, sizeof err), 1);
    assert_int_equal(back.stage, STAGE_PROVISIONED);
    assert_string_equal(back.deviceid, "1000abcdef");
    assert_int_equal(flash_record_remove(path), 0);
    assert_int_equal(flash_record_remove(path), 0); /* already gone: fine */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"something\":\"else\"}", f);
    fclose(f);
    assert_int_equal(flash_record_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a sonota state file"));
    unlink(path);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(rejects_what_is_not_a_record),
        cmocka_unit_test(path_in_state_dir),
        cmocka_unit_test(save_load_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
