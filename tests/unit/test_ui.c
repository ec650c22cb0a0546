/* ui: --json lines are single JSON objects with a stable "event"; progress is throttled;
 * quiet mode keeps warnings and the summary; no colour off a terminal. */
#include "sonota/ui.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap {
    char *out_buf, *err_buf;
    size_t out_len, err_len;
    FILE *out, *err;
    struct ui ui;
};

static void cap_open(struct cap *c, int json, int quiet, int verbose)
{
    memset(c, 0, sizeof *c);
    c->out = open_memstream(&c->out_buf, &c->out_len);
    c->err = open_memstream(&c->err_buf, &c->err_len);
    assert_non_null(c->out);
    assert_non_null(c->err);
    ui_init(&c->ui, c->out, c->err, json, quiet, verbose, 0);
}

static void cap_close(struct cap *c)
{
    fclose(c->out);
    fclose(c->err);
}

static void cap_free(struct cap *c)
{
    free(c->out_buf);
    free(c->err_buf);
}

/* Every line is a JSON object with a string "event"; returns the count of `event`. */
static int count_events(const char *text, const char *event, int *lines)
{
    int n = 0, total = 0;
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        cJSON *o = cJSON_ParseWithLength(p, (size_t)(eol - p));
        assert_non_null(o);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "event");
        assert_true(cJSON_IsString(e));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "t")));
        if (!strcmp(e->valuestring, event))
            n++;
        total++;
        cJSON_Delete(o);
        p = eol + 1;
    }
    if (lines)
        *lines = total;
    return n;
}

static void json_lines_and_throttled_progress(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 1, 0, 0);
    struct ui_ctx ctx = {.ssid = "Home \"quoted\"", .serving_ip = "192.168.1.20",
                         .device_url = "http://10.10.7.1", .http_port = 8080,
                         .https_port = 8443, .check_ip = 1};
    ui_start(&c.ui, "0.1.0", &ctx, "auto");
    ui_stage(&c.ui, "provision");
    ui_action(&c.ui, UI_ACT_JOIN_AP, &ctx);
    ui_action(&c.ui, UI_ACT_RECONNECT_HOME, &ctx);
    ui_device(&c.ui, "dispatch", "100016aa70", "ITA-GZ1-GL", "1.5.5");
    ui_warn(&c.ui, "tls", "line\nbreak and \"quotes\"");
    ui_download(&c.ui, "start", "image_user2-0x81000.bin", "10.0.0.5:1234", 0, 100000, 0);
    for (uint64_t off = 4096; off < 100000; off += 4096)
        ui_download(&c.ui, "progress", "image_user2-0x81000.bin", "10.0.0.5:1234", off,
                    100000, 0);
    ui_download(&c.ui, "done", "image_user2-0x81000.bin", "10.0.0.5:1234", 100000, 100000, 0);
    ui_error(&c.ui, "device-refused", 4, "refused");
    cap_close(&c);
    int lines = 0;
    assert_int_equal(count_events(c.out_buf, "start", &lines), 1);
    assert_int_equal(count_events(c.out_buf, "action", NULL), 2);
    assert_int_equal(count_events(c.out_buf, "warning", NULL), 1);
    assert_int_equal(count_events(c.out_buf, "error", NULL), 1);
    int dl = count_events(c.out_buf, "download", NULL);
    /* start + done + at most one line per 10 % (24 progress calls in well under 1 s) */
    assert_true(dl >= 2 && dl <= 12);
    assert_non_null(strstr(c.out_buf, "\"exit\":4"));
    assert_non_null(strstr(c.out_buf, "\"etaSeconds\":"));
    assert_non_null(strstr(c.out_buf, "Home \\\"quoted\\\""));
    assert_int_equal(c.err_len, 0); /* JSON mode: nothing on stderr from the ui */
    cap_free(&c);
}

static void human_quiet_and_plain(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 0, 1, 0);
    ui_info(&c.ui, "info line %d", 1);
    ui_stage(&c.ui, "cloud");
    ui_warn(&c.ui, "x", "careful");
    ui_error(&c.ui, "y", 1, "broken");
    struct ui_summary s = {.deviceid = "100016aa70", .model = "ITA-GZ1-GL",
                           .rom_version = "1.5.5", .n_images = 1,
                           .stage_s = {-1, 65.2, 3.0}, .total_s = 68.2};
    s.images[0] = (struct ui_image){"final", "image_arduino.bin", "a.bin", 482432,
                                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                    1};
    ui_done(&c.ui, &s);
    cap_close(&c);
    assert_null(strstr(c.out_buf, "info line"));
    assert_null(strstr(c.out_buf, "Stage 2/3"));
    assert_non_null(strstr(c.err_buf, "warning: careful"));
    assert_non_null(strstr(c.err_buf, "error: broken"));
    assert_non_null(strstr(c.out_buf, "== Done =="));
    assert_non_null(strstr(c.out_buf, "provision skipped, cloud 1:05, final 0:03"));
    assert_non_null(strstr(c.out_buf, "sha256 0123456789abcdef"));
    assert_null(strchr(c.out_buf, '\033')); /* no colour off a terminal */
    assert_null(strchr(c.err_buf, '\033'));
    cap_free(&c);
}

static void human_progress_off_terminal(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 0, 0, 0);
    ui_info(&c.ui, "hello");
    ui_download(&c.ui, "start", "f.bin", "1.2.3.4:5", 0, 1000, 1);
    for (uint64_t off = 10; off <= 990; off += 10)
        ui_download(&c.ui, "progress", "f.bin", "1.2.3.4:5", off, 1000, 1);
    ui_download(&c.ui, "abort", "f.bin", "1.2.3.4:5", 990, 1000, 1);
    cap_close(&c);
    assert_non_null(strstr(c.out_buf, "hello\n"));
    assert_non_null(strstr(c.out_buf, "sending f.bin (1000 B, paced)"));
    assert_non_null(strstr(c.out_buf, "dropped f.bin at 990/1000 B"));
    int n = 0;
    for (const char *p = c.out_buf; (p = strstr(p, "f.bin ")) != NULL; p++)
        n++;
    assert_true(n <= 5); /* every 25 %, not every call */
    assert_non_null(strstr(c.out_buf, "f.bin [#####...............]  25%  250/1000 B"));
    assert_non_null(strstr(c.out_buf, "ETA 0:")); /* time left at the rate so far */
    assert_null(strchr(c.out_buf, '\r'));
    cap_free(&c);
}

/* The bar ends at 100 % when the download is done, not at its last step (92 %). */
static void human_progress_ends_full(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 0, 0, 0);
    ui_download(&c.ui, "start", "g.bin", "1.2.3.4:5", 0, 1000, 0);
    for (uint64_t off = 230; off <= 920; off += 230)
        ui_download(&c.ui, "progress", "g.bin", "1.2.3.4:5", off, 1000, 0);
    ui_download(&c.ui, "done", "g.bin", "1.2.3.4:5", 1000, 1000, 0);
    cap_close(&c);
    assert_non_null(strstr(c.out_buf, "g.bin [##################..]  92%  920/1000 B"));
    const char *full = strstr(c.out_buf, "g.bin [####################] 100%  1000/1000 B");
    assert_non_null(full);
    const char *done = strstr(c.out_buf, "g.bin sent completely");
    assert_non_null(done);
    assert_true(full < done); /* the full bar comes before the closing line */
    assert_null(strstr(full, "ETA")); /* nothing left to wait for */
    cap_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_lines_and_throttled_progress),
        cmocka_unit_test(human_quiet_and_plain),
        cmocka_unit_test(human_progress_off_terminal),
        cmocka_unit_test(human_progress_ends_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
