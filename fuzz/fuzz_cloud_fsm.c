/* fuzz_cloud_fsm.c - libFuzzer target for src/lib/cloud_fsm.c: the input is a script
 * for one cloud. Byte 0 picks the pace mode; the rest is split at '\n' into lines:
 *   "!"      time passes (CLOUD_REISSUE_DELAY_MS) and cloud_sess_on_tick runs,
 *   "~"      the device reconnects (cloud_sess_end + a new session, same cloud),
 *   anything else is one WebSocket text message for the current session.
 * (byte 0 / 3) & 1 provisions device 100008db11 with one factory key first (cloud_trust).
 * Checks: a trusted session is that identity, with that key; every frame to send is under CLOUD_FRAME_MAX and parses as an eWeLink
 * message that carries the session's owner key and device id; CLOSE only after
 * oversize input; the live-session count ends at zero. */
#include "lib/cloud_fsm.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cloud_sess *s, const struct cloud_actions *a, size_t in_len)
{
    for (size_t i = 0; i < a->n; i++) {
        const struct cloud_action *x = &a->a[i];
        if (x->type == CLOUD_ACT_CLOSE)
            assert(in_len > EWL_JSON_MAX);
        if (x->type != CLOUD_ACT_SEND)
            continue;
        size_t n = strlen(x->text);
        assert(n < CLOUD_FRAME_MAX);
        struct ewl_msg m;
        assert(ewl_parse_msg(x->text, n, &m) == SO_OK);
        assert(!strcmp(m.apikey, s->apikey));
        assert(!strcmp(m.deviceid, s->deviceid));
        assert(ewl_is_uuid(m.apikey));
        assert(strcasecmp(m.apikey, s->factory_apikey) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct cloud_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.http_port = 8080;
    cfg.pace = (enum cloud_pace)(data[0] % 3);
    memcpy(cfg.version, "99.99.99", 9);
    memcpy(cfg.file[0], "image_user1-0x01000.bin", 24);
    memcpy(cfg.file[1], "image_user2-0x81000.bin", 24);
    memset(cfg.digest[0], 'a', EWL_DIGEST_LEN);
    memset(cfg.digest[1], '0', EWL_DIGEST_LEN);
    static struct cloud c; /* large: keep it off the stack */
    if (cloud_init(&c, &cfg) != SO_OK)
        abort();
    static const char trust_id[] = "100008db11";
    static const char trust_key[] = "94676db5-88f3-4dc0-8573-5e6615eaacc4";
    if ((data[0] / 3) & 1)
        assert(cloud_trust(&c, trust_id, trust_key) == SO_OK);

    struct cloud_sess s;
    cloud_sess_init(&s, &c, "192.168.1.50", "192.168.1.6");
    struct cloud_actions a = {0};
    uint64_t now = 1505608036953ull;
    uint8_t rnd[16] = {0};
    size_t pos = 1;
    unsigned k = 0;
    while (pos <= size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t n = end - pos;
        /* an exact-length copy, so reads past the line are caught */
        char *line = malloc(n ? n : 1);
        assert(line);
        memcpy(line, data + pos, n);
        cloud_actions_clear(&a);
        if (n == 1 && line[0] == '!') {
            now += CLOUD_REISSUE_DELAY_MS;
            assert(cloud_sess_on_tick(&s, now, &a) == SO_OK);
            check(&s, &a, 0);
        } else if (n == 1 && line[0] == '~') {
            cloud_sess_end(&s);
            assert(c.live_sessions == 0);
            cloud_sess_init(&s, &c, (k & 1) ? "192.168.1.51" : "192.168.1.50", "192.168.1.6");
        } else {
            rnd[k % 16] ^= (uint8_t)(k * 131 + 7);
            assert(cloud_sess_on_text(&s, line, n, now, rnd, &a) == SO_OK);
            check(&s, &a, n);
            if (s.trusted) {
                const struct cloud_device *d = cloud_find_ident(&c, s.ident);
                assert(d && d->trusted && !strcmp(d->deviceid, trust_id) &&
                       !strcasecmp(d->factory_apikey, trust_key));
            }
        }
        free(line);
        now += 17;
        k++;
        pos = end + 1;
    }
    uint64_t dl = cloud_sess_next_deadline(&s);
    assert(dl == 0 || s.state == DEV_RETRY_WAIT);
    cloud_actions_clear(&a);
    cloud_sess_end(&s);
    assert(c.live_sessions == 0);
    assert(c.n_devices <= CLOUD_DEVICES_MAX);
    assert(c.n_trusted <= 1);
    return 0;
}
