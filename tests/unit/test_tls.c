/* io/tls.c: the per-run certificate made on a worker thread (issue 15). A client whose
 * handshake starts while the key is still being generated waits for it and gets our
 * certificate; later connections get it from the SSL_CTX; the legacy profile (TLS 1.1,
 * AES128-SHA, §2) still works; a synchronous certificate behaves as before. */
#include "io/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

/* A server SSL from ctx and a TLS 1.1 AES128-SHA client (the stock firmware's only
 * profile), joined by a BIO pair; runs the handshake to its end. 1 when both finished. */
static int handshake(SSL_CTX *sctx, X509 **peer_cert)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(cctx);
    SSL_CTX_set_security_level(cctx, 0);
    assert_int_equal(SSL_CTX_set_min_proto_version(cctx, TLS1_1_VERSION), 1);
    assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION), 1);
    assert_int_equal(SSL_CTX_set_cipher_list(cctx, "AES128-SHA:@SECLEVEL=0"), 1);
    SSL *srv = SSL_new(sctx), *cli = SSL_new(cctx);
    assert_non_null(srv);
    assert_non_null(cli);
    BIO *a = NULL, *b = NULL;
    assert_int_equal(BIO_new_bio_pair(&a, 0, &b, 0), 1);
    SSL_set_bio(srv, a, a);
    SSL_set_bio(cli, b, b);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    int s_done = 0, c_done = 0;
    for (int turn = 0; turn < 100 && !(s_done && c_done); turn++) {
        if (!c_done) {
            int r = SSL_do_handshake(cli);
            if (r == 1)
                c_done = 1;
            else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ)
                break;
        }
        if (!s_done) {
            int r = SSL_do_handshake(srv);
            if (r == 1)
                s_done = 1;
            else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ)
                break;
        }
    }
    int ok = s_done && c_done;
    if (ok) {
        assert_string_equal(SSL_get_version(cli), "TLSv1.1");
        assert_string_equal(SSL_get_cipher_name(cli), "AES128-SHA");
        if (peer_cert)
            *peer_cert = SSL_get1_peer_certificate(cli);
    }
    SSL_free(srv);
    SSL_free(cli);
    SSL_CTX_free(cctx);
    ERR_clear_error();
    return ok;
}

/* A holder whose key is under way on the worker. */
static struct so_tls_cert *started(void)
{
    struct so_tls_cert *c = NULL;
    char err[256] = "";
    assert_int_equal(so_tls_cert_prepare(&c, err, sizeof err), SO_OK);
    assert_int_equal(so_tls_cert_begin(c, err, sizeof err), SO_OK);
    assert_non_null(c->worker);
    return c;
}

static void first_handshake_waits_for_the_worker(void **state)
{
    (void)state;
    struct so_tls_cert *c = started();
    char err[256] = "";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    /* set up at once, as the server does while the key is still being made */
    assert_int_equal(so_tls_server_setup(ctx, c, err, sizeof err), SO_OK);
    /* not waited for: the certificate callback stands in for it */
    assert_null(SSL_CTX_get0_certificate(ctx));
    X509 *seen = NULL;
    assert_int_equal(handshake(ctx, &seen), 1);
    assert_non_null(seen);
    /* the worker is done now, and the client got exactly its certificate */
    assert_int_equal(so_tls_cert_wait(c, err, sizeof err), SO_OK);
    assert_int_equal(X509_cmp(seen, c->x509), 0);
    assert_true(c->der_len > 500 && c->der_len < 2048);
    X509_free(seen);
    /* later connections take it from the SSL_CTX */
    assert_non_null(SSL_CTX_get0_certificate(ctx));
    seen = NULL;
    assert_int_equal(handshake(ctx, &seen), 1);
    assert_int_equal(X509_cmp(seen, c->x509), 0);
    X509_free(seen);
    SSL_CTX_free(ctx);
    so_tls_cert_free(c);
}

static void ready_certificate_loads_at_setup(void **state)
{
    (void)state;
    struct so_tls_cert *c = started();
    char err[256] = "";
    assert_int_equal(so_tls_cert_wait(c, err, sizeof err), SO_OK);
    assert_int_equal(so_tls_cert_wait(c, err, sizeof err), SO_OK); /* cheap, repeatable */
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_int_equal(so_tls_server_setup(ctx, c, err, sizeof err), SO_OK);
    assert_non_null(SSL_CTX_get0_certificate(ctx));
    assert_int_equal(handshake(ctx, NULL), 1);
    SSL_CTX_free(ctx);
    so_tls_cert_free(c);

    /* made on this thread (a holder never begun), then set up */
    assert_int_equal(so_tls_cert_prepare(&c, err, sizeof err), SO_OK);
    assert_int_equal(so_tls_cert_wait(c, err, sizeof err), SO_OK);
    ctx = SSL_CTX_new(TLS_server_method());
    assert_int_equal(so_tls_server_setup(ctx, c, err, sizeof err), SO_OK);
    assert_int_equal(handshake(ctx, NULL), 1);
    SSL_CTX_free(ctx);
    so_tls_cert_free(c);
}

/* The server prepares the holder before its listeners; the TLS listener's setup begins
 * the work; a wait on a holder never begun makes the certificate itself. */
static void prepared_then_begun(void **state)
{
    (void)state;
    struct so_tls_cert *c = NULL;
    char err[256] = "";
    assert_int_equal(so_tls_cert_prepare(&c, err, sizeof err), SO_OK);
    assert_false(so_tls_cert_ready(c));
    assert_null(c->worker);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_int_equal(so_tls_server_setup(ctx, c, err, sizeof err), SO_OK);
    assert_non_null(c->worker); /* begun by the setup */
    X509 *seen = NULL;
    assert_int_equal(handshake(ctx, &seen), 1);
    assert_true(so_tls_cert_ready(c));
    assert_int_equal(X509_cmp(seen, c->x509), 0);
    X509_free(seen);
    assert_int_equal(so_tls_cert_begin(c, err, sizeof err), SO_OK); /* nothing more */
    assert_null(c->worker);
    SSL_CTX_free(ctx);
    so_tls_cert_free(c);

    /* never begun: the wait makes it on this thread */
    assert_int_equal(so_tls_cert_prepare(&c, err, sizeof err), SO_OK);
    assert_int_equal(so_tls_cert_wait(c, err, sizeof err), SO_OK);
    assert_null(c->worker);
    assert_true(so_tls_cert_ready(c));
    assert_non_null(c->x509);
    so_tls_cert_free(c);

    /* the usual order: begun, then waited for */
    assert_int_equal(so_tls_cert_prepare(&c, err, sizeof err), SO_OK);
    assert_int_equal(so_tls_cert_begin(c, err, sizeof err), SO_OK);
    assert_int_equal(so_tls_cert_begin(c, err, sizeof err), SO_OK); /* once */
    assert_int_equal(so_tls_cert_wait(c, err, sizeof err), SO_OK);
    assert_true(so_tls_cert_ready(c));
    assert_non_null(c->x509);
    so_tls_cert_free(c);
    /* prepared, never begun: freed without a worker */
    assert_int_equal(so_tls_cert_prepare(&c, err, sizeof err), SO_OK);
    so_tls_cert_free(c);
    assert_int_equal(so_tls_cert_begin(NULL, NULL, 0), SO_E_ARG);
}

static void free_while_generating(void **state)
{
    (void)state;
    struct so_tls_cert *c = started();
    so_tls_cert_free(c); /* joins the worker; ASan/LSan check that nothing leaks */
    so_tls_cert_free(NULL);
    assert_int_equal(so_tls_cert_wait(NULL, NULL, 0), SO_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_handshake_waits_for_the_worker),
        cmocka_unit_test(ready_certificate_loads_at_setup),
        cmocka_unit_test(prepared_then_begun),
        cmocka_unit_test(free_while_generating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
