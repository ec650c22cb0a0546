/* ui: --json lines are single JSON objects with a stable "event"; progress is throttled;
 * quiet mode keeps warnings and the summary; no colour off a terminal; text from the
 * network is escaped and one peer's lines are rate-limited (issue 13, items 4 and 5). */
#include "sonota/ui.h"

#include "io/log.h"
#include "sonota/fwcheck.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A fleet: 100 downloads at once, their events interleaved. Each keeps its own line
 * budget (start, done, one per 10 %), as one download alone does. */
static void fleet_downloads_keep_their_own_progress(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 1, 0, 0);
    char peer[32];
    for (int i = 0; i < 100; i++) {
        snprintf(peer, sizeof peer, "10.0.%d.%d:4000", i / 200, 2 + i % 200);
        ui_download(&c.ui, "start", "image_user2-0x81000.bin", peer, 0, 100000, 0);
    }
    for (uint64_t off = 4096; off < 100000; off += 4096)
        for (int i = 0; i < 100; i++) {
            snprintf(peer, sizeof peer, "10.0.%d.%d:%d", i / 200, 2 + i % 200, 4001);
            ui_download(&c.ui, "progress", "image_user2-0x81000.bin", peer, off, 100000, 0);
        }
    for (int i = 0; i < 100; i++) {
        snprintf(peer, sizeof peer, "10.0.%d.%d:4002", i / 200, 2 + i % 200);
        ui_download(&c.ui, "done", "image_user2-0x81000.bin", peer, 100000, 100000, 0);
    }
    cap_close(&c);
    int dl = count_events(c.out_buf, "download", NULL);
    /* 100 x (start + done + at most 10 steps); a table too small for 100 recycled
     * slots and printed all 2600 events */
    assert_true(dl >= 200 && dl <= 1200);
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


/* ---- issue 13: escaping and rate limits ---- */

static const char EVIL_ID[] = "\x1b]0;pwned\x07", EVIL_MODEL[] = "\x1b[2J\n fake line\xff";

static void no_control_bytes(const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_true((unsigned char)text[i] >= 0x20 || text[i] == '\n');
    assert_null(memchr(text, 0x1b, n));
}

static void peer_text_is_escaped(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 0, 0, 1);
    ui_device(&c.ui, "register", EVIL_ID, EVIL_MODEL, "1.5.5");
    ui_warn(&c.ui, "x", "message from %s ignored", EVIL_ID);
    ui_info(&c.ui, "two lines of ours:\n  model %s", EVIL_MODEL);
    cap_close(&c);
    no_control_bytes(c.out_buf, c.out_len);
    no_control_bytes(c.err_buf, c.err_len);
    assert_non_null(strstr(c.out_buf, "device \\x1b]0;pwned\\x07: model \\x1b[2J\\n fake "
                                      "line\\xff, firmware 1.5.5"));
    assert_non_null(strstr(c.err_buf, "message from \\x1b]0;pwned\\x07 ignored"));
    /* the format's newline stays; the peer's does not */
    assert_non_null(strstr(c.out_buf, "two lines of ours:\n  model \\x1b[2J\\n fake"));
    cap_free(&c);

    /* a format without a newline of its own: every newline is the peer's */
    cap_open(&c, 0, 0, 1);
    ui_warn(&c.ui, "x", "%s", "id x\nsonota: == Done ==");
    ui_info(&c.ui, "device %s called", "a\nforged line");
    cap_close(&c);
    assert_non_null(strstr(c.err_buf, "id x\\nsonota: == Done =="));
    assert_null(strstr(c.err_buf, "\nsonota: == Done"));
    assert_non_null(strstr(c.out_buf, "device a\\nforged line called"));
    assert_null(strstr(c.out_buf, "\nforged"));
    cap_free(&c);

    cap_open(&c, 1, 0, 0);
    ui_device(&c.ui, "register", EVIL_ID, EVIL_MODEL, "1.5.5\xc2\x9b");
    cap_close(&c);
    no_control_bytes(c.out_buf, c.out_len);
    assert_null(strstr(c.out_buf, "\xc2\x9b"));
    int lines = 0;
    assert_int_equal(count_events(c.out_buf, "device", &lines), 1);
    cJSON *o = cJSON_Parse(c.out_buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "deviceid")->valuestring, EVIL_ID);
    assert_string_equal(cJSON_GetObjectItem(o, "romVersion")->valuestring, "1.5.5\xc2\x9b");
    assert_string_equal(cJSON_GetObjectItem(o, "model")->valuestring,
                        "\x1b[2J\n fake line\\xff"); /* not UTF-8: shown as text */
    cJSON_Delete(o);
    cap_free(&c);
}

/* Firewall findings: Linux's rule and command as before; a Windows / macOS finding in
 * words, its first letter raised; a network name (an SSID anyone nearby can choose) is
 * escaped; JSON says which kind it is. */
static void firewall_findings(void **state)
{
    (void)state;
    struct fw_finding nft = {.port_mask = 2, .where = "inet lapfw input",
                             .rule = "tcp dport 8443 drop",
                             .fix = "sudo nft insert rule inet lapfw input tcp dport 8443 "
                                    "accept"};
    struct fw_finding win = {.port_mask = 1, .policy = 1, .advice = 1,
                             .where = "Public network \"Final\x1b[2JStage\" (Wi-Fi)",
                             .rule = "no inbound rule allows sonota",
                             .fix = "windows blocks incoming connections on a Public network"};
    struct cap c;
    cap_open(&c, 0, 0, 0);
    ui_firewall(&c.ui, "nftables", &nft, "8443");
    ui_firewall(&c.ui, "Windows Defender Firewall", &win, "8080");
    cap_close(&c);
    no_control_bytes(c.err_buf, c.err_len);
    assert_non_null(strstr(c.err_buf, "warning: the firewall (nftables, inet lapfw input) may "
                                      "drop the device's connections to TCP 8443: rule \"tcp "
                                      "dport 8443 drop\". The device then never reaches this "
                                      "computer. Allow them, e.g.: sudo nft insert rule"));
    assert_non_null(strstr(c.err_buf, "warning: Windows Defender Firewall may block the "
                                      "device's connections to TCP 8080 (Public network "
                                      "\"Final\\x1b[2JStage\" (Wi-Fi): no inbound rule allows "
                                      "sonota). The device then never reaches this computer. "
                                      "Windows blocks incoming connections on a Public "
                                      "network.\n"));
    cap_free(&c);

    cap_open(&c, 1, 0, 0);
    ui_firewall(&c.ui, "Windows Defender Firewall", &win, "8080");
    ui_firewall(&c.ui, "nftables", &nft, "8443");
    cap_close(&c);
    no_control_bytes(c.out_buf, c.out_len);
    assert_int_equal(count_events(c.out_buf, "warning", NULL), 2);
    cJSON *o = cJSON_Parse(c.out_buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "code")->valuestring, "firewall");
    assert_string_equal(cJSON_GetObjectItem(o, "chain")->valuestring, win.where);
    assert_string_equal(cJSON_GetObjectItem(o, "ports")->valuestring, "8080");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "advice")));
    cJSON_Delete(o);
    o = cJSON_Parse(strchr(c.out_buf, '\n') + 1);
    assert_non_null(o);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "advice")));
    assert_string_equal(cJSON_GetObjectItem(o, "fix")->valuestring, nft.fix);
    cJSON_Delete(o);
    cap_free(&c);
}

static const char *peer_2(void *ctx, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", (const char *)ctx);
    return buf;
}

static size_t count_lines(const char *path, const char *needle, unsigned long long *sum)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    size_t n = 0;
    *sum = 0;
    while (fgets(line, sizeof line, f)) {
        const char *p = needle ? strstr(line, needle) : line;
        if (!p)
            continue;
        n++;
        if (needle && p > line + 1 && p[-1] == ' ') { /* "N similar messages from" */
            const char *q = p - 1;
            while (q > line && q[-1] >= '0' && q[-1] <= '9')
                q--;
            *sum += strtoull(q, NULL, 10);
        }
    }
    fclose(f);
    return n;
}

/* 10,000 warnings caused by one peer: a bounded number of lines in the log file and on
 * the terminal, the rest counted in a summary; lines without a peer are never dropped. */
static void one_peer_is_rate_limited(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ui_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(so_log_open_file(path), 0);
    so_log_set_level(SO_LOG_ERROR); /* the file gets every level, stderr stays quiet */
    struct cap c;
    cap_open(&c, 0, 0, 1);
    unsigned long long before = so_log_suppressed_total();
    so_log_set_peer(peer_2, (void *)"127.0.0.2", NULL, NULL);
    for (int i = 0; i < 10000; i++) {
        LOG_D("cloud %s: <- %s", "127.0.0.2:5000", "{}");
        ui_warn(&c.ui, "ignored", "cloud %s: a message without action ignored", "127.0.0.2");
    }
    so_log_set_peer(NULL, NULL, NULL, NULL);
    for (int i = 0; i < 100; i++)
        LOG_D("no peer: line %d", i);
    cap_close(&c);
    assert_true(so_log_suppressed_total() - before >= 2 * (10000 - 2 * LOG_LIMIT_BURST));
    so_log_close_file(); /* writes the pending summaries */
    so_log_set_level(SO_LOG_INFO); /* the sink's default: the level the other tests see */
    unsigned long long sum = 0, unused;
    size_t total = count_lines(path, NULL, &unused);
    size_t reports = count_lines(path, "similar messages from 127.0.0.2 suppressed", &sum);
    assert_true(total < 200);
    assert_true(reports >= 2);
    assert_int_equal(count_lines(path, "no peer: line", &unused), 100);
    /* every line a peer caused was written or counted: 10,000 of each kind */
    size_t written = count_lines(path, "<- {}", &unused) +
                     count_lines(path, "ui warning: cloud 127.0.0.2", &unused);
    assert_int_equal(written + sum, 20000);
    /* the terminal: as many warnings as the log let through */
    size_t term = 0;
    for (const char *p = c.err_buf; (p = strstr(p, "warning: cloud")) != NULL; p++)
        term++;
    assert_true(term <= LOG_LIMIT_BURST + 5);
    cap_free(&c);
    unlink(path);
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

/* ui_text (a command's result): the format's newlines stay, an argument's are escaped
 * like ESC; one line per call, never silenced by --quiet, no colour off a terminal. */
static void result_text_is_escaped(void **state)
{
    (void)state;
    struct cap c;
    cap_open(&c, 0, 1, 0);
    ui_text(&c.ui, c.ui.out, "\033[1;31m", "%s: fit\n  %-6s %s\n", "a\nb.bin", "size",
            "\033]0;x\007");
    ui_text(&c.ui, c.ui.err, NULL, "%s", "no newline");
    cap_close(&c);
    assert_string_equal(c.out_buf, "a\\nb.bin: fit\n  size   \\x1b]0;x\\x07\n");
    assert_string_equal(c.err_buf, "no newline\n");
    cap_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_lines_and_throttled_progress),
        cmocka_unit_test(fleet_downloads_keep_their_own_progress),
        cmocka_unit_test(human_quiet_and_plain),
        cmocka_unit_test(human_progress_off_terminal),
        cmocka_unit_test(peer_text_is_escaped),
        cmocka_unit_test(firewall_findings),
        cmocka_unit_test(one_peer_is_rate_limited),
        cmocka_unit_test(human_progress_ends_full),
        cmocka_unit_test(result_text_is_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
