/* Unit tests for src/lib/mdns_wire.c: the bounds check that guards libmdnsd's
 * length-less parser (RFC 1035 §4.1 names, compression pointers, RR layout).
 * Messages are malloc'd to their exact length so ASan reports over-reads. */
#include "lib/mdns_wire.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static enum so_err check_exact(const uint8_t *m, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, m, n);
    enum so_err e = mdns_wire_check(p, n);
    free(p);
    return e;
}

struct pkt {
    uint8_t b[1600];
    size_t n;
};

static void put(struct pkt *k, const void *d, size_t n)
{
    memcpy(k->b + k->n, d, n);
    k->n += n;
}

static void put16(struct pkt *k, unsigned v)
{
    k->b[k->n++] = (uint8_t)(v >> 8);
    k->b[k->n++] = (uint8_t)v;
}

static void hdr(struct pkt *k, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    k->n = 0;
    put16(k, 0);
    put16(k, 0x8400);
    put16(k, qd);
    put16(k, an);
    put16(k, ns);
    put16(k, ar);
}

#define NAME_SVC "\x08_ewelink\x04_tcp\x05local" /* + terminating zero via sizeof */

/* A full answer as a device sends it: PTR, SRV, TXT, A with compression. */
static void device_answer(void **state)
{
    (void)state;
    struct pkt k;
    hdr(&k, 0, 4, 0, 0);
    size_t svc = k.n;
    put(&k, NAME_SVC, sizeof NAME_SVC);       /* PTR owner */
    put16(&k, MDNS_TYPE_PTR);
    put16(&k, 1);
    put(&k, "\0\0\x11\x94", 4);
    size_t rdl = k.n;
    put16(&k, 0);
    size_t inst = k.n;
    put(&k, "\x12" "eWeLink_1000abcdef", 19);
    put16(&k, 0xC000 | (unsigned)svc);
    k.b[rdl + 1] = (uint8_t)(k.n - rdl - 2);
    put16(&k, 0xC000 | (unsigned)inst);       /* SRV owner */
    put16(&k, MDNS_TYPE_SRV);
    put16(&k, 0x8001);
    put(&k, "\0\0\0\x78", 4);
    rdl = k.n;
    put16(&k, 0);
    put(&k, "\0\0\0\0\x1f\x91", 6);
    size_t host = k.n;
    put(&k, "\x12" "eWeLink_1000abcdef", 19);
    put16(&k, 0xC000 | (unsigned)(svc + 14)); /* "local" */
    k.b[rdl + 1] = (uint8_t)(k.n - rdl - 2);
    put16(&k, 0xC000 | (unsigned)inst);       /* TXT owner */
    put16(&k, MDNS_TYPE_TXT);
    put16(&k, 0x8001);
    put(&k, "\0\0\x11\x94", 4);
    put16(&k, 10);
    put(&k, "\x09txtvers=1", 10);
    put16(&k, 0xC000 | (unsigned)host);       /* A owner */
    put16(&k, MDNS_TYPE_A);
    put16(&k, 0x8001);
    put(&k, "\0\0\0\x78", 4);
    put16(&k, 4);
    put(&k, "\xc0\xa8\x01\x68", 4);
    assert_int_equal(check_exact(k.b, k.n), SO_OK);
    /* every truncation fails, never reads past the end */
    for (size_t n = 0; n < k.n; n++)
        assert_int_equal(check_exact(k.b, n), SO_E_SYNTAX);
    /* trailing bytes are fine */
    k.b[k.n] = 0xAA;
    assert_int_equal(check_exact(k.b, k.n + 1), SO_OK);
}

static void query(void **state)
{
    (void)state;
    struct pkt k;
    hdr(&k, 1, 0, 0, 0);
    put(&k, NAME_SVC, sizeof NAME_SVC);
    put16(&k, MDNS_TYPE_PTR);
    put16(&k, 1);
    assert_int_equal(check_exact(k.b, k.n), SO_OK);
    k.n--;
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
}

static void bad_names(void **state)
{
    (void)state;
    struct pkt k;
    /* pointer to itself, forward, into the header, label type 0x40 */
    const unsigned targets[] = {12, 20, 4};
    for (size_t i = 0; i < 3; i++) {
        hdr(&k, 1, 0, 0, 0);
        put16(&k, 0xC000 | targets[i]);
        put(&k, "\0\x0c\0\x01\0\0\0\0", 8);
        assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    }
    hdr(&k, 1, 0, 0, 0);
    put(&k, "\x41x\0\0\x0c\0\x01", 7);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    /* two names pointing at each other: the second may point to the first, not back */
    hdr(&k, 2, 0, 0, 0);
    put(&k, "\x01" "a", 2);
    put16(&k, 0xC000 | 18);   /* points forward to the second name */
    put16(&k, 12);
    put16(&k, 1);
    put16(&k, 0xC000 | 12);
    put16(&k, 12);
    put16(&k, 1);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    /* a name longer than 255 bytes */
    hdr(&k, 1, 0, 0, 0);
    for (int i = 0; i < 5; i++) {
        k.b[k.n++] = 63;
        memset(k.b + k.n, 'a', 63);
        k.n += 63;
    }
    put(&k, "\0\0\x0c\0\x01", 5);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
}

static void bad_rdata(void **state)
{
    (void)state;
    struct pkt k;
    /* A with 5 bytes; PTR with slack after the name; SRV too short; rdlength past end */
    hdr(&k, 0, 1, 0, 0);
    put(&k, "\x01h\0\0\x01\0\x01\0\0\0\x78\0\x05\x01\x02\x03\x04\x05", 18);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    hdr(&k, 0, 1, 0, 0);
    put(&k, "\x01h\0\0\x0c\0\x01\0\0\0\x78\0\x04\x01x\0\xff", 17);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    hdr(&k, 0, 1, 0, 0);
    put(&k, "\x01h\0\0\x21\0\x01\0\0\0\x78\0\x06\0\0\0\0\x1f\x91", 19);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    hdr(&k, 0, 1, 0, 0);
    put(&k, "\x01h\0\0\x10\0\x01\0\0\0\x78\0\x09" "abc", 16);
    assert_int_equal(check_exact(k.b, k.n), SO_E_SYNTAX);
    /* unknown types are skipped by rdlength */
    hdr(&k, 0, 1, 0, 0);
    put(&k, "\x01h\0\0\x63\0\x01\0\0\0\x78\0\x03" "abc", 16);
    assert_int_equal(check_exact(k.b, k.n), SO_OK);
}

static void limits(void **state)
{
    (void)state;
    struct pkt k;
    hdr(&k, 65, 0, 0, 0);
    assert_int_equal(check_exact(k.b, k.n), SO_E_TOOBIG);
    hdr(&k, 0, 0xffff, 0xffff, 0xffff);
    assert_int_equal(check_exact(k.b, k.n), SO_E_TOOBIG);
    assert_int_equal(check_exact(k.b, 11), SO_E_SYNTAX);
    assert_int_equal(mdns_wire_check(NULL, 0), SO_E_SYNTAX);
    uint8_t *big = calloc(1, MDNS_PACKET_MAX + 1);
    assert_non_null(big);
    assert_int_equal(mdns_wire_check(big, MDNS_PACKET_MAX + 1), SO_E_TOOBIG);
    assert_int_equal(mdns_wire_check(big, MDNS_PACKET_MAX), SO_OK);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_answer),
        cmocka_unit_test(query),
        cmocka_unit_test(bad_names),
        cmocka_unit_test(bad_rdata),
        cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
