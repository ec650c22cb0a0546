/* fuzz_tasmota_url.c - libFuzzer target for src/lib/tasmota_url.c and tasmota_msg.c: the
 * input is read as a query string (what sonoff-sim decodes strictly), as Status JSON, as a
 * command and as a Backlog list. Whatever decodes is encoded again and must decode back
 * to the same bytes; targets built from decoded values mask the passwords. The input is
 * also judged as a WiFi password (lib/wifi_pw.c), decoded from the p1= value too. */
#include "lib/tasmota_msg.h"
#include "lib/tasmota_url.h"
#include "lib/wifi_pw.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_cmd(struct so_str c, void *user)
{
    char name[TASMOTA_NAME_MAX];
    struct so_str arg;
    assert(c.n > 0);
    if (tasmota_cmnd_parse(c, name, sizeof name, &arg) == SO_OK) {
        assert(name[0] && strlen(name) < TASMOTA_NAME_MAX);
        assert(arg.p >= c.p && arg.p + arg.n <= c.p + c.n);
    }
    (*(int *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * TASMOTA_TARGET_MAX)
        return 0;
    const char *q = (const char *)data;
    static char dec[TASMOTA_TARGET_MAX], enc[3 * TASMOTA_TARGET_MAX + 1], back[TASMOTA_TARGET_MAX];
    size_t n = 0;
    if (tasmota_url_decode(q, size, dec, sizeof dec, &n) == SO_OK) {
        assert(n < sizeof dec && strlen(dec) == n); /* no NUL can be decoded */
        assert(tasmota_url_encode(dec, enc, sizeof enc) == SO_OK);
        size_t m = 0;
        assert(tasmota_url_decode(enc, strlen(enc), back, sizeof back, &m) == SO_OK);
        assert(m == n && !memcmp(back, dec, n));
    }
    enum so_err chk = tasmota_query_check(q, size);
    assert(chk == SO_OK || chk == SO_E_SYNTAX || chk == SO_E_TOOBIG);
    int found = 0;
    static char v1[128], v2[128];
    enum so_err e = tasmota_query_get(q, size, "s1", v1, sizeof v1, &found);
    if (chk != SO_OK)
        assert(e != SO_OK); /* the lookup decodes the whole query as strictly */
    if (e == SO_OK && found) {
        /* the value goes back out through the builders */
        e = tasmota_query_get(q, size, "p1", v2, sizeof v2, &found);
        if (e == SO_OK && found) {
            enum wifi_pw_verdict pv = wifi_pw_check(v2, strlen(v2));
            assert(wifi_pw_reason(pv) != NULL);
            assert(wifi_pw_acceptable(pv) == (pv == WIFI_PW_OK || pv == WIFI_PW_OPEN));
        }
        struct tasmota_cfg c = {.ssid = v1[0] ? v1 : "x", .wifi_password = found ? v2 : "",
                                .hostname = v1, .mqtt_password = v2, .topic = v1};
        static char url[TASMOTA_TARGET_MAX];
        if (tasmota_url_wi(&c, 1, url, sizeof url) == SO_OK && v2[0] && found)
            assert(strstr(url, "p1=" TASMOTA_MASK));
        int nc = 0;
        if (tasmota_backlog(&c, 1, url, sizeof url, &nc) == SO_OK && v2[0] && found)
            assert(strstr(url, "MqttPassword " TASMOTA_MASK));
    }

    struct tasmota_status st;
    e = tasmota_status_parse(q, size, &st);
    assert(e == SO_OK || e == SO_E_JSON || e == SO_E_TOOBIG);
    if (e == SO_OK) {
        assert(strlen(st.version) < sizeof st.version);
        assert(strlen(st.ip) < sizeof st.ip);
        (void)tasmota_version_major(st.version);
    }

    enum wifi_pw_verdict pw = wifi_pw_check(q, size);
    assert(pw == WIFI_PW_OPEN ? size == 0 : size > 0);
    if (pw == WIFI_PW_OK)
        assert(size >= WIFI_PW_MIN && size <= WIFI_PW_HEX_LEN);

    int cmds = 0;
    int r = tasmota_backlog_split((struct so_str){q, size}, TASMOTA_BACKLOG_MAX, count_cmd, &cmds);
    assert(r == -1 ? cmds == 0 : r == cmds);
    return 0;
}
