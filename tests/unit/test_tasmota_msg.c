/* Unit tests for src/lib/tasmota_msg.c (PROTOCOL.md §7): Status JSON as Tasmota answers
 * /cm?cmnd=Status%20N, command and Backlog syntax. Inputs malloc'd to exact length. */
#include "lib/tasmota_msg.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static enum so_err parse(const char *json, struct tasmota_status *st)
{
    size_t n = strlen(json);
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, json, n);
    enum so_err e = tasmota_status_parse(p, n, st);
    free(p);
    return e;
}

/* Shape of a real Tasmota 9.x "Status 0" answer (abridged, TD Commands). */
static const char STATUS0[] =
    "{\"Status\":{\"Module\":1,\"DeviceName\":\"Tasmota\",\"FriendlyName\":[\"Tasmota\"],"
    "\"Topic\":\"lamp\",\"ButtonTopic\":\"0\",\"Power\":0},"
    "\"StatusPRM\":{\"Baudrate\":115200,\"GroupTopic\":\"tasmotas\",\"Uptime\":\"0T00:01:02\","
    "\"BootCount\":7,\"RestartReason\":\"Software/System restart\"},"
    "\"StatusFWR\":{\"Version\":\"9.2.0(tasmota)\",\"Core\":\"2_7_4_9\"},"
    "\"StatusNET\":{\"Hostname\":\"lamp-1\",\"IPAddress\":\"192.168.1.57\","
    "\"Gateway\":\"192.168.1.1\"},"
    "\"StatusMQT\":{\"MqttHost\":\"broker.lan\",\"MqttPort\":1883,\"MqttUser\":\"bob\","
    "\"MqttCount\":0}}";

static void status0(void **state)
{
    (void)state;
    struct tasmota_status st;
    assert_int_equal(parse(STATUS0, &st), SO_OK);
    unsigned all = TASMOTA_ST_VERSION | TASMOTA_ST_TOPIC | TASMOTA_ST_HOSTNAME | TASMOTA_ST_IP |
                   TASMOTA_ST_MQTT_HOST | TASMOTA_ST_MQTT_USER | TASMOTA_ST_BOOTCOUNT;
    assert_int_equal(st.have, all);
    assert_string_equal(st.version, "9.2.0(tasmota)");
    assert_string_equal(st.topic, "lamp");
    assert_string_equal(st.hostname, "lamp-1");
    assert_string_equal(st.ip, "192.168.1.57");
    assert_string_equal(st.mqtt_host, "broker.lan");
    assert_string_equal(st.mqtt_user, "bob");
    assert_int_equal(st.boot_count, 7);
}

static void partial_and_wrong_types(void **state)
{
    (void)state;
    struct tasmota_status st;
    assert_int_equal(parse("{\"StatusFWR\":{\"Version\":\"5.14.0\"}}", &st), SO_OK);
    assert_int_equal(st.have, TASMOTA_ST_VERSION);
    /* "StatusFW" is not what Tasmota sends (Status 2 is "StatusFWR"): no version */
    assert_int_equal(parse("{\"StatusFW\":{\"Version\":\"9.2.0\"}}", &st), SO_OK);
    assert_int_equal(st.have, 0);
    assert_int_equal(parse("{\"StatusFWR\":{\"Version\":9},\"Status\":[1],"
                           "\"StatusPRM\":{\"BootCount\":-1},\"StatusNET\":\"x\"}", &st), SO_OK);
    assert_int_equal(st.have, 0);
    assert_int_equal(parse("{\"WARNING\":\"Need user=<username>&password=<password>\"}", &st),
                     SO_OK);
    assert_int_equal(st.have, TASMOTA_ST_WARNING);
    assert_string_equal(st.warning, "Need user=<username>&password=<password>");
    /* too long for the field: left out */
    char big[300];
    strcpy(big, "{\"StatusFWR\":{\"Version\":\"");
    size_t head = strlen(big);
    memset(big + head, '9', 40);
    strcpy(big + head + 40, "\"}}");
    assert_int_equal(parse(big, &st), SO_OK);
    assert_int_equal(st.have, 0);
}

static void not_json(void **state)
{
    (void)state;
    struct tasmota_status st;
    assert_int_equal(parse("<html>Tasmota</html>", &st), SO_E_JSON);
    assert_int_equal(parse("[]", &st), SO_E_JSON);
    assert_int_equal(parse("", &st), SO_E_JSON);
    assert_int_equal(parse("{\"a\":", &st), SO_E_JSON);
    char *big = malloc(TASMOTA_REPLY_MAX + 1);
    assert_non_null(big);
    memset(big, ' ', TASMOTA_REPLY_MAX + 1);
    assert_int_equal(tasmota_status_parse(big, TASMOTA_REPLY_MAX + 1, &st), SO_E_TOOBIG);
    free(big);
}

static void versions(void **state)
{
    (void)state;
    assert_int_equal(tasmota_version_major("9.2.0(tasmota)"), 9);
    assert_int_equal(tasmota_version_major("5.14.0"), 5);
    assert_int_equal(tasmota_version_major("12.1"), 12);
    assert_int_equal(tasmota_version_major("v9"), -1);
    assert_int_equal(tasmota_version_major(""), -1);
    assert_int_equal(tasmota_version_major(NULL), -1);
    assert_int_equal(tasmota_version_major("99999"), -1);
}

#define S(lit) ((struct so_str){lit, sizeof(lit) - 1})

static void commands(void **state)
{
    (void)state;
    char name[TASMOTA_NAME_MAX];
    struct so_str arg;
    assert_int_equal(tasmota_cmnd_parse(S("  MqttHost   broker lan  "), name, sizeof name, &arg),
                     SO_OK);
    assert_string_equal(name, "MqttHost");
    assert_true(so_str_eq(arg, "broker lan"));
    assert_int_equal(tasmota_cmnd_parse(S("Status"), name, sizeof name, &arg), SO_OK);
    assert_string_equal(name, "Status");
    assert_int_equal(arg.n, 0);
    assert_int_equal(tasmota_cmnd_parse(S("SSID1 x"), name, sizeof name, &arg), SO_OK);
    assert_string_equal(name, "SSID1");
    assert_int_equal(tasmota_cmnd_parse(S(""), name, sizeof name, &arg), SO_E_SYNTAX);
    assert_int_equal(tasmota_cmnd_parse(S(" = 1"), name, sizeof name, &arg), SO_E_SYNTAX);
    assert_int_equal(tasmota_cmnd_parse(S("Power=1"), name, sizeof name, &arg), SO_E_SYNTAX);
    assert_int_equal(tasmota_cmnd_parse(S("abcdefghijklmnopqrstuvwxyz0123456 1"), name,
                                        sizeof name, &arg), SO_E_SYNTAX);
    assert_int_equal(tasmota_cmnd_parse(S("Topic 1"), name, 4, &arg), SO_E_SYNTAX);
}

struct seen {
    char buf[256];
    int n;
};

static void collect(struct so_str c, void *user)
{
    struct seen *s = user;
    strncat(s->buf, c.p, c.n);
    strcat(s->buf, "|");
    s->n++;
}

static void backlog(void **state)
{
    (void)state;
    struct seen s = {"", 0};
    assert_int_equal(tasmota_backlog_split(S(" MqttHost h ;;Topic t; "), 30, collect, &s), 2);
    assert_string_equal(s.buf, "MqttHost h|Topic t|");
    memset(&s, 0, sizeof s);
    assert_int_equal(tasmota_backlog_split(S("a;b;c"), 2, collect, &s), -1);
    assert_int_equal(s.n, 0);
    assert_int_equal(tasmota_backlog_split(S(""), 2, collect, &s), 0);
    assert_int_equal(tasmota_backlog_split((struct so_str){NULL, 0}, 2, collect, &s), 0);
    assert_int_equal(tasmota_backlog_split(S("a;b"), 2, NULL, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status0), cmocka_unit_test(partial_and_wrong_types),
        cmocka_unit_test(not_json), cmocka_unit_test(versions),
        cmocka_unit_test(commands), cmocka_unit_test(backlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
