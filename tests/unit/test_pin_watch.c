/* pin_watch: the pinning verdict counts only handshakes that ended after our certificate
 * (certificate alert or close), in a row, from one address; never a handshake we refused,
 * a bare connect-and-close, a client that completed TLS or a firmware known to work. */
#include "sonota/pin_watch.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static int feed(struct pin_watch *w, const char *peer, int error, int refused,
                enum rom_verdict rom)
{
    struct srv_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SRV_EV_TLS_CLIENT;
    ev.peer = peer;
    ev.error = error;
    ev.tls_cert_refused = refused;
    ev.detail = "handshake failed";
    return pin_watch_feed(w, &ev, rom);
}

static void three_refusals_from_one_address(void **state)
{
    (void)state;
    struct pin_watch w;
    memset(&w, 0, sizeof w);
    assert_int_equal(feed(&w, "192.168.1.50:4001", 48, 1, ROM_UNKNOWN), 0);
    assert_int_equal(feed(&w, "192.168.1.50:4002", -1, 1, ROM_UNKNOWN), 0);
    assert_int_equal(feed(&w, "192.168.1.50:4003", 48, 1, ROM_UNKNOWN), 1);
    assert_string_equal(w.peer_ip, "192.168.1.50");
    assert_int_equal(w.refusals, 3);
    assert_string_equal(w.how, "it sent the TLS alert unknown_ca (48)");
    memset(&w, 0, sizeof w);
    for (int i = 0; i < 2; i++)
        assert_int_equal(feed(&w, "10.0.0.2:1", -1, 1, ROM_PINNED), 0);
    assert_int_equal(feed(&w, "10.0.0.2:1", -1, 1, ROM_PINNED), 1);
    assert_string_equal(w.how, "it closed the connection");
}

static void other_failures_do_not_count(void **state)
{
    (void)state;
    struct pin_watch w;
    memset(&w, 0, sizeof w);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(feed(&w, "192.168.1.50:1", 40, 0, ROM_UNKNOWN), 0); /* ours */
        assert_int_equal(feed(&w, "192.168.1.50:2", -1, 0, ROM_UNKNOWN), 0); /* bare close */
    }
    assert_int_equal(w.refusals, 0);
    /* ... and they do not break a run of refusals either */
    feed(&w, "192.168.1.50:3", 42, 1, ROM_UNKNOWN);
    feed(&w, "192.168.1.50:4", 40, 0, ROM_UNKNOWN);
    feed(&w, "192.168.1.50:5", 42, 1, ROM_UNKNOWN);
    assert_int_equal(feed(&w, "192.168.1.50:6", 42, 1, ROM_UNKNOWN), 1);
}

static void completed_handshakes_and_good_firmware_rule_it_out(void **state)
{
    (void)state;
    struct pin_watch w;
    memset(&w, 0, sizeof w);
    feed(&w, "192.168.1.50:1", 0, 0, ROM_UNKNOWN); /* TLS works with this client */
    for (int i = 0; i < 5; i++)
        assert_int_equal(feed(&w, "192.168.1.50:2", 48, 1, ROM_UNKNOWN), 0);
    memset(&w, 0, sizeof w);
    for (int i = 0; i < 5; i++) /* 1.5.5 told us its version: it does not pin */
        assert_int_equal(feed(&w, "192.168.1.50:2", 48, 1, ROM_OK), 0);
}

static void addresses_count_apart(void **state)
{
    (void)state;
    struct pin_watch w;
    memset(&w, 0, sizeof w);
    assert_int_equal(feed(&w, "192.168.1.50:1", 48, 1, ROM_UNKNOWN), 0);
    assert_int_equal(feed(&w, "192.168.1.50:2", 48, 1, ROM_UNKNOWN), 0);
    assert_int_equal(feed(&w, "192.168.1.77:1", 48, 1, ROM_UNKNOWN), 0); /* another client */
    assert_int_equal(w.refusals, 1);
    assert_int_equal(feed(&w, "192.168.1.77:2", 48, 1, ROM_UNKNOWN), 0);
    assert_int_equal(feed(&w, "192.168.1.77:3", 48, 1, ROM_UNKNOWN), 1);
    assert_string_equal(w.peer_ip, "192.168.1.77");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_refusals_from_one_address),
        cmocka_unit_test(other_failures_do_not_count),
        cmocka_unit_test(completed_handshakes_and_good_firmware_rule_it_out),
        cmocka_unit_test(addresses_count_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
