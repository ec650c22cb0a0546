/* Unit tests for src/lib/tasmota_url.c (PROTOCOL.md §7): RFC 3986 encoding, strict
 * decoding, the Backlog, the /cm, /wi and 5.x /sv targets, masking and query lookup.
 * Inputs to the decoders are malloc'd to their exact length so ASan sees over-reads. */
#include "lib/tasmota_url.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static char *exact(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

static void encode_table(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } t[] = {
        {"", ""},
        {"abcXYZ019-._~", "abcXYZ019-._~"},
        {"my wifi", "my%20wifi"},
        {"p@ss+w&rd=1;2", "p%40ss%2Bw%26rd%3D1%3B2"},
        {"a/b?c#d%e*f'g", "a%2Fb%3Fc%23d%25e%2Af%27g"},
        {"\xc3\xa9t\xc3\xa9", "%C3%A9t%C3%A9"},
        {"\x01\x7f", "%01%7F"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(tasmota_url_encode(t[i].in, out, sizeof out), SO_OK);
        assert_string_equal(out, t[i].out);
    }
}

static void encode_limits(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(tasmota_url_encode("abcdefg", out, sizeof out), SO_OK);
    assert_string_equal(out, "abcdefg");
    assert_int_equal(tasmota_url_encode("abcdefgh", out, sizeof out), SO_E_TOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(tasmota_url_encode("ab  ", out, sizeof out), SO_E_TOOBIG);
    assert_int_equal(tasmota_url_encode("ab ", out, sizeof out), SO_OK);
    assert_string_equal(out, "ab%20");
    assert_int_equal(tasmota_url_encode(NULL, out, sizeof out), SO_E_ARG);
}

static enum so_err dec(const char *in, char *out, size_t cap, size_t *n)
{
    char *p = exact(in);
    enum so_err e = tasmota_url_decode(p, strlen(in), out, cap, n);
    free(p);
    return e;
}

static void decode_table(void **state)
{
    (void)state;
    char out[64];
    size_t n;
    assert_int_equal(dec("my%20wifi", out, sizeof out, &n), SO_OK);
    assert_string_equal(out, "my wifi");
    assert_int_equal(n, 7);
    assert_int_equal(dec("a+b%2Bc%2bd", out, sizeof out, &n), SO_OK);
    assert_string_equal(out, "a b+c+d");
    assert_int_equal(dec("", out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 0);
    /* strict: truncated or non-hex escapes, encoded NUL */
    static const char *const bad[] = {"%", "%4", "a%", "%G0", "%0g", "x%zz", "%00", "%%41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(out, "junk");
        assert_int_equal(dec(bad[i], out, sizeof out, &n), SO_E_SYNTAX);
        assert_string_equal(out, "");
    }
    assert_int_equal(dec("abcd", out, 4, &n), SO_E_TOOBIG);
    assert_int_equal(dec("abc", out, 4, &n), SO_OK);
    assert_int_equal(tasmota_url_decode("a\0b", 3, out, sizeof out, &n), SO_E_SYNTAX);
}

/* Every byte survives encode + decode. */
static void roundtrip_all_bytes(void **state)
{
    (void)state;
    char in[256], enc[3 * 256 + 1], back[256];
    for (int i = 1; i < 256; i++)
        in[i - 1] = (char)i;
    in[255] = '\0';
    assert_int_equal(tasmota_url_encode(in, enc, sizeof enc), SO_OK);
    assert_null(strpbrk(enc, " +&=;?#/"));
    size_t n;
    assert_int_equal(tasmota_url_decode(enc, strlen(enc), back, sizeof back, &n), SO_OK);
    assert_int_equal(n, 255);
    assert_memory_equal(back, in, 255);
}

static void values(void **state)
{
    (void)state;
    assert_null(tasmota_value_problem("broker.lan"));
    assert_null(tasmota_value_problem("user name"));
    assert_non_null(tasmota_value_problem(""));
    assert_non_null(tasmota_value_problem(NULL));
    assert_non_null(tasmota_value_problem(" x"));
    assert_non_null(tasmota_value_problem("x "));
    assert_non_null(tasmota_value_problem("a;b"));
    assert_non_null(tasmota_value_problem("a\nb"));
    assert_non_null(tasmota_value_problem("0"));
    assert_non_null(tasmota_value_problem("1"));
    char longv[66];
    memset(longv, 'a', 65);
    longv[65] = '\0';
    assert_non_null(tasmota_value_problem(longv));
    longv[64] = '\0';
    assert_null(tasmota_value_problem(longv));
    assert_null(tasmota_topic_problem("kitchen_lamp"));
    assert_non_null(tasmota_topic_problem("kitchen/lamp"));
    assert_non_null(tasmota_topic_problem("a+b"));
    assert_non_null(tasmota_topic_problem("a#"));
    assert_non_null(tasmota_topic_problem("a b"));
}

static void backlog_full(void **state)
{
    (void)state;
    struct tasmota_cfg c = {.mqtt_host = "broker.lan", .mqtt_user = "bob",
                            .mqtt_password = "s3cr;et?", .topic = "lamp", .hostname = "lamp-1"};
    char out[600];
    int n = -1;
    /* the password holds ';': refused, nothing built */
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_ARG);
    assert_int_equal(n, 0);
    c.mqtt_password = "s3cr et?";
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 5);
    assert_string_equal(out, "Backlog MqttHost broker.lan; MqttUser bob; MqttPassword s3cr et?; "
                             "Topic lamp; Hostname lamp-1");
    assert_int_equal(tasmota_backlog(&c, 1, out, sizeof out, &n), SO_OK);
    assert_string_equal(out, "Backlog MqttHost broker.lan; MqttUser bob; MqttPassword ***; "
                             "Topic lamp; Hostname lamp-1");
    assert_null(strstr(out, "s3cr"));
}

static void backlog_user_first(void **state)
{
    (void)state;
    struct tasmota_cfg c = {.mqtt_host = "h", .backlog = "  backlog Module 1 ;; SetOption19 1;"};
    char out[200];
    int n;
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out, "Backlog Module 1; SetOption19 1; MqttHost h");
    c.mqtt_host = NULL;
    c.backlog = "Backlog";
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    c.backlog = "Power 1; Backlog";
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_ARG);
    c.backlog = "Power 1; backlog0 Power 0";
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_ARG);
    c.backlog = "BacklogX 1"; /* not the Backlog keyword */
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_OK);
    assert_string_equal(out, "Backlog BacklogX 1");
    c.backlog = "SSID1 Home; Password1 hunter22; mqttpassword  x y;WebPassword";
    assert_int_equal(tasmota_backlog(&c, 1, out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 4);
    assert_string_equal(out, "Backlog SSID1 Home; Password1 ***; mqttpassword ***; WebPassword");
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_OK);
    assert_string_equal(out, "Backlog SSID1 Home; Password1 hunter22; mqttpassword  x y; "
                             "WebPassword");
    c.backlog = "Power 1\x01";
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_ARG);
    struct tasmota_cfg none = {0};
    assert_int_equal(tasmota_backlog(&none, 0, out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 0);
    c.topic = "a/b";
    c.backlog = NULL;
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_ARG);
}

static void backlog_limits(void **state)
{
    (void)state;
    char user[400] = "";
    for (int i = 0; i < 30; i++)
        strcat(user, "Power 1;");
    struct tasmota_cfg c = {.backlog = user};
    char out[600];
    int n;
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_OK);
    assert_int_equal(n, 30);
    c.mqtt_host = "h"; /* 31 commands */
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_TOOBIG);
    assert_string_equal(out, "");
    c.mqtt_host = NULL;
    assert_int_equal(tasmota_backlog(&c, 0, out, 20, &n), SO_E_TOOBIG);
    /* over TASMOTA_CMND_MAX bytes */
    char big[700] = "";
    for (int i = 0; i < 20; i++)
        strcat(big, "WebColor1 #123456789012345678;");
    c.backlog = big;
    assert_int_equal(tasmota_backlog(&c, 0, out, sizeof out, &n), SO_E_TOOBIG);
}

static void cm_targets(void **state)
{
    (void)state;
    char out[300];
    assert_int_equal(tasmota_url_cm("Status 2", NULL, 0, out, sizeof out), SO_OK);
    assert_string_equal(out, "/cm?cmnd=Status%202");
    assert_int_equal(tasmota_url_cm("Backlog MqttHost h; Topic t", "w&b pw", 0, out, sizeof out),
                     SO_OK);
    assert_string_equal(out, "/cm?user=admin&password=w%26b%20pw&cmnd=Backlog%20MqttHost%20h%3B"
                             "%20Topic%20t");
    assert_int_equal(tasmota_url_cm("Status 0", "w&b pw", 1, out, sizeof out), SO_OK);
    assert_string_equal(out, "/cm?user=admin&password=***&cmnd=Status%200");
    assert_int_equal(tasmota_url_cm("", NULL, 0, out, sizeof out), SO_E_ARG);
    assert_int_equal(tasmota_url_cm("Status 2", NULL, 0, out, 10), SO_E_TOOBIG);
}

static void wifi_targets(void **state)
{
    (void)state;
    struct tasmota_cfg c = {.ssid = "My Home", .wifi_password = "p@ss w0rd!"};
    char out[300];
    assert_int_equal(tasmota_url_wi(&c, 0, out, sizeof out), SO_OK);
    assert_string_equal(out, "/wi?s1=My%20Home&p1=p%40ss%20w0rd%21&save=");
    c.hostname = "lamp-1";
    assert_int_equal(tasmota_url_wi(&c, 0, out, sizeof out), SO_OK);
    assert_string_equal(out, "/wi?s1=My%20Home&p1=p%40ss%20w0rd%21&h=lamp-1&save=");
    assert_int_equal(tasmota_url_wi(&c, 1, out, sizeof out), SO_OK);
    assert_string_equal(out, "/wi?s1=My%20Home&p1=***&h=lamp-1&save=");
    assert_int_equal(tasmota_url_sv_wifi(&c, 0, out, sizeof out), SO_OK);
    assert_string_equal(out, "/sv?w=1&s1=My%20Home&p1=p%40ss%20w0rd%21&s2=&p2=&h=lamp-1&r=1");
    assert_int_equal(tasmota_url_sv_wifi(&c, 1, out, sizeof out), SO_OK);
    assert_null(strstr(out, "w0rd"));
    c.hostname = NULL;
    c.wifi_password = ""; /* open network: nothing to mask */
    assert_int_equal(tasmota_url_sv_wifi(&c, 1, out, sizeof out), SO_OK);
    assert_string_equal(out, "/sv?w=1&s1=My%20Home&p1=&s2=&p2=&h=&r=1");
    c.ssid = NULL;
    assert_int_equal(tasmota_url_wi(&c, 0, out, sizeof out), SO_E_ARG);
    assert_int_equal(tasmota_url_sv_wifi(&c, 0, out, sizeof out), SO_E_ARG);
}

static void sv_mqtt(void **state)
{
    (void)state;
    struct tasmota_cfg c = {.mqtt_host = "10.0.0.5", .mqtt_password = "m=p", .topic = "t1"};
    char out[300];
    assert_int_equal(tasmota_url_sv_mqtt(&c, 0, 0, out, sizeof out), SO_OK);
    assert_string_equal(out, "/sv?w=2&mh=10.0.0.5&ml=1883&mc=&mu=&mp=m%3Dp&mt=t1&mf=&r=0");
    assert_int_equal(tasmota_url_sv_mqtt(&c, 1, 1, out, sizeof out), SO_OK);
    assert_string_equal(out, "/sv?w=2&mh=10.0.0.5&ml=1883&mc=&mu=&mp=***&mt=t1&mf=&r=1");
}

static enum so_err qget(const char *q, const char *name, char *out, size_t cap, int *found)
{
    char *p = exact(q);
    enum so_err e = tasmota_query_get(p, strlen(q), name, out, cap, found);
    free(p);
    return e;
}

static void query(void **state)
{
    (void)state;
    char out[64];
    int found;
    const char *q = "s1=My%20Home&p1=a%2Bb+c&save=&h";
    assert_int_equal(qget(q, "s1", out, sizeof out, &found), SO_OK);
    assert_true(found);
    assert_string_equal(out, "My Home");
    assert_int_equal(qget(q, "p1", out, sizeof out, &found), SO_OK);
    assert_string_equal(out, "a+b c");
    assert_int_equal(qget(q, "save", out, sizeof out, &found), SO_OK);
    assert_true(found);
    assert_string_equal(out, "");
    assert_int_equal(qget(q, "h", out, sizeof out, &found), SO_OK);
    assert_true(found);
    assert_int_equal(qget(q, "s2", out, sizeof out, &found), SO_OK);
    assert_false(found);
    /* the first of two wins; names decode too */
    assert_int_equal(qget("a=1&%61=2", "a", out, sizeof out, &found), SO_OK);
    assert_string_equal(out, "1");
    /* one bad escape anywhere fails the whole query, whatever is asked */
    assert_int_equal(qget("s1=ok&x=%zz", "s1", out, sizeof out, &found), SO_E_SYNTAX);
    assert_false(found);
    assert_string_equal(out, "");
    assert_int_equal(qget("s1=abcdef", "s1", out, 4, &found), SO_E_TOOBIG);
    char *p = exact("cmnd=Status%202&&x=");
    assert_int_equal(tasmota_query_check(p, 19), SO_OK);
    free(p);
    p = exact("cmnd=Status%2");
    assert_int_equal(tasmota_query_check(p, 13), SO_E_SYNTAX);
    free(p);
    assert_int_equal(tasmota_query_check("", 0), SO_OK);
}

/* What the builders produce, the query reader reads back. */
static void build_then_read(void **state)
{
    (void)state;
    struct tasmota_cfg c = {.ssid = "caf\xc3\xa9 & co", .wifi_password = "x%20y+z=&",
                            .hostname = "h-1"};
    char url[300], v[64];
    int found;
    assert_int_equal(tasmota_url_wi(&c, 0, url, sizeof url), SO_OK);
    const char *q = strchr(url, '?') + 1;
    assert_int_equal(tasmota_query_check(q, strlen(q)), SO_OK);
    assert_int_equal(tasmota_query_get(q, strlen(q), "s1", v, sizeof v, &found), SO_OK);
    assert_string_equal(v, c.ssid);
    assert_int_equal(tasmota_query_get(q, strlen(q), "p1", v, sizeof v, &found), SO_OK);
    assert_string_equal(v, c.wifi_password);
    assert_int_equal(tasmota_query_get(q, strlen(q), "h", v, sizeof v, &found), SO_OK);
    assert_string_equal(v, "h-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_table),     cmocka_unit_test(encode_limits),
        cmocka_unit_test(decode_table),     cmocka_unit_test(roundtrip_all_bytes),
        cmocka_unit_test(values),           cmocka_unit_test(backlog_full),
        cmocka_unit_test(backlog_user_first), cmocka_unit_test(backlog_limits),
        cmocka_unit_test(cm_targets),       cmocka_unit_test(wifi_targets),
        cmocka_unit_test(sv_mqtt),          cmocka_unit_test(query),
        cmocka_unit_test(build_then_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
