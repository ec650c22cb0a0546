#include "io/tls.h"

#include "io/crypto.h"
#include "io/log.h"
#include "plat/thread.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The signature digest of our certificate. SonOTA's was sha1WithRSA (§1.6); ≤1.5.x
 * firmware does not verify the certificate (§2), so sha256 is used. */
#define SO_TLS_SIG_MD EVP_sha256()

/* Per-connection facts kept in one SSL ex_data slot, packed into a pointer-sized
 * integer so nothing needs freeing: bits 0-15 ClientHello legacy_version,
 * 16-27 number of suites (capped), 28 offers AES128-SHA, 29 recorded, 30 reported,
 * 31 our certificate went out. */
#define HELLO_VER_MASK 0xffffu
#define HELLO_NC_SHIFT 16
#define HELLO_NC_MAX 0xfffu
#define HELLO_AES128 (1u << 28)
#define HELLO_SEEN (1u << 29)
#define HELLO_REPORTED (1u << 30)
#define HELLO_CERT_SENT (1u << 31)

static int g_ex_index = -1;

static int ex_index(void)
{
    /* Single-threaded program: the first caller creates the slot. */
    if (g_ex_index < 0)
        g_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    return g_ex_index;
}

static uintptr_t ex_get(const SSL *ssl)
{
    int idx = ex_index();
    return idx < 0 ? 0 : (uintptr_t)SSL_get_ex_data(ssl, idx);
}

static void ex_set(SSL *ssl, uintptr_t v)
{
    int idx = ex_index();
    if (idx >= 0)
        SSL_set_ex_data(ssl, idx, (void *)v);
}

/* ---- handshakes under way (so_tls_handshakes) ---- */

static int g_handshakes;     /* main thread only: accepts, SSL_free and callbacks run there */
static int g_hs_index = -1;  /* per SSL: non-NULL once its handshake was counted over */

/* OpenSSL calls this for every SSL it frees, with or without our data: a server
 * connection freed before its handshake finished ends its handshake here. */
static void hs_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (!ptr && parent && SSL_is_server(parent) && g_handshakes > 0)
        g_handshakes--;
}

static int hs_index(void)
{
    if (g_hs_index < 0)
        g_hs_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, hs_free);
    return g_hs_index;
}

void so_tls_handshake_accepted(void)
{
    g_handshakes++;
}

void so_tls_handshake_done(SSL *ssl)
{
    int idx = hs_index();
    if (!ssl || idx < 0 || SSL_get_ex_data(ssl, idx))
        return;
    SSL_set_ex_data(ssl, idx, (void *)1);
    if (g_handshakes > 0)
        g_handshakes--;
}

int so_tls_handshakes(void)
{
    return g_handshakes;
}

static void set_err(char *err, size_t errcap, const char *what)
{
    if (!err || !errcap)
        return;
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[160];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, errcap, "%s (%s)", what, buf);
    } else {
        snprintf(err, errcap, "%s", what);
    }
    ERR_clear_error();
}

static void cert_clear(struct so_tls_cert *c)
{
    X509_free(c->x509);
    EVP_PKEY_free(c->key); /* OpenSSL clears key material on free */
    c->x509 = NULL;
    c->key = NULL;
}

void so_tls_cert_free(struct so_tls_cert *c)
{
    if (!c)
        return;
    plat_thread_join(c->worker);
    cert_clear(c);
    free(c);
}

static int set_serial(X509 *x)
{
    unsigned char rnd[8];
    if (so_random_bytes(rnd, sizeof rnd) != SO_OK)
        return -1;
    rnd[0] &= 0x7f; /* positive */
    rnd[0] |= 0x01; /* non-zero */
    BIGNUM *bn = BN_bin2bn(rnd, sizeof rnd, NULL);
    if (!bn)
        return -1;
    int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

/* Fills c->key, c->x509 and c->der_len; touches nothing else (it runs on the worker). */
static enum so_err cert_generate(struct so_tls_cert *c, char *err, size_t errcap)
{
    c->key = EVP_RSA_gen(SO_TLS_RSA_BITS);
    if (!c->key) {
        set_err(err, errcap, "cannot generate the RSA key for the TLS certificate");
        goto fail;
    }
    c->x509 = X509_new();
    if (!c->x509 || !X509_set_version(c->x509, 2) || set_serial(c->x509) != 0) {
        set_err(err, errcap, "cannot create the TLS certificate");
        goto fail;
    }
    /* Back-date an hour: clocks of the peers are not ours to trust. */
    if (!X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(c->x509), (long)SO_TLS_VALID_DAYS * 86400L)) {
        set_err(err, errcap, "cannot set the TLS certificate validity");
        goto fail;
    }
    X509_NAME *name = X509_get_subject_name(c->x509);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)SO_TLS_CN, -1, -1, 0) ||
        !X509_set_issuer_name(c->x509, name) || !X509_set_pubkey(c->x509, c->key)) {
        set_err(err, errcap, "cannot fill in the TLS certificate");
        goto fail;
    }
    if (!X509_sign(c->x509, c->key, SO_TLS_SIG_MD)) {
        set_err(err, errcap, "cannot sign the TLS certificate");
        goto fail;
    }
    int der = i2d_X509(c->x509, NULL);
    if (der <= 0) {
        set_err(err, errcap, "cannot encode the TLS certificate");
        goto fail;
    }
    c->der_len = (size_t)der;
    return SO_OK;
fail:
    cert_clear(c);
    return SO_E_TLS;
}

static void cert_worker(void *arg)
{
    struct so_tls_cert *c = arg;
    c->result = cert_generate(c, c->err, sizeof c->err);
    /* OpenSSL keeps an error queue per thread; this one ends here. */
    OPENSSL_thread_stop();
    atomic_store(&c->done, 1);
}

int so_tls_cert_ready(struct so_tls_cert *c)
{
    return !c || (c->begun && (!c->worker || atomic_load(&c->done)));
}

enum so_err so_tls_cert_prepare(struct so_tls_cert **out, char *err, size_t errcap)
{
    *out = calloc(1, sizeof **out);
    if (!*out) {
        set_err(err, errcap, "out of memory creating the TLS certificate");
        return SO_E_NOMEM;
    }
    (*out)->result = SO_E_TLS;
    return SO_OK;
}

enum so_err so_tls_cert_begin(struct so_tls_cert *c, char *err, size_t errcap)
{
    if (!c)
        return SO_E_ARG;
    if (c->begun)
        return SO_OK;
    if (plat_thread_start(&c->worker, cert_worker, c) != 0) {
        set_err(err, errcap, "cannot start a thread to generate the TLS certificate");
        return SO_E_TLS;
    }
    c->begun = 1;
    return SO_OK;
}

enum so_err so_tls_cert_wait(struct so_tls_cert *c, char *err, size_t errcap)
{
    if (!c)
        return SO_E_ARG;
    if (!c->begun) { /* asked before the worker was started: made here, now */
        c->begun = 1;
        c->result = cert_generate(c, c->err, sizeof c->err);
    }
    if (c->worker) {
        plat_thread_join(c->worker); /* the join orders the worker's stores before ours */
        c->worker = NULL;
    }
    if (c->result != SO_OK && err && errcap)
        snprintf(err, errcap, "%s", c->err[0] ? c->err : "no TLS certificate");
    return c->result;
}

/* Observes the ClientHello (OpenSSL ≥ 1.1.1) so a failed or odd handshake can be
 * explained: axTLS sends legacy_version 0x0302 at most; mbedTLS builds 0x0303 (§2). */
static int hello_cb(SSL *ssl, int *al, void *arg)
{
    (void)al;
    (void)arg;
    const unsigned char *suites = NULL;
    size_t n = SSL_client_hello_get0_ciphers(ssl, &suites);
    uintptr_t v = HELLO_SEEN | (SSL_client_hello_get0_legacy_version(ssl) & HELLO_VER_MASK);
    size_t count = n / 2;
    v |= (uintptr_t)(count > HELLO_NC_MAX ? HELLO_NC_MAX : count) << HELLO_NC_SHIFT;
    for (size_t i = 0; i + 1 < n; i += 2)
        if (suites[i] == 0x00 && suites[i + 1] == 0x2f) /* TLS_RSA_WITH_AES_128_CBC_SHA */
            v |= HELLO_AES128;
    ex_set(ssl, v | (ex_get(ssl) & HELLO_REPORTED));
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* Runs for every ClientHello before the suite is chosen. While the run's certificate is
 * still being generated nothing is loaded; the first handshake waits for the worker
 * (only a client calling within the first few hundred ms can), then loads the
 * certificate into the SSL_CTX for every later connection and into this one, which was
 * created before. */
static int cert_cb(SSL *ssl, void *arg)
{
    struct so_tls_cert *c = arg;
    if (SSL_get_certificate(ssl))
        return 1;
    char why[sizeof c->err];
    if (so_tls_cert_wait(c, why, sizeof why) != SO_OK) {
        LOG_E("TLS handshake refused: %s", why);
        return 0;
    }
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    if (!SSL_CTX_get0_certificate(ctx) &&
        (SSL_CTX_use_certificate(ctx, c->x509) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1)) {
        LOG_E("TLS handshake refused: cannot load the TLS certificate into OpenSSL");
        return 0;
    }
    if (SSL_use_certificate(ssl, c->x509) != 1 || SSL_use_PrivateKey(ssl, c->key) != 1) {
        LOG_E("TLS handshake refused: cannot load the TLS certificate into OpenSSL");
        return 0;
    }
    return 1;
}

enum so_err so_tls_server_setup(SSL_CTX *ctx, struct so_tls_cert *c, char *err,
                                size_t errcap)
{
    if (!ctx || !c) {
        set_err(err, errcap, "TLS setup called without a context or certificate");
        return SO_E_ARG;
    }
    /* the listener that needs it is about to open: the worker starts now, not earlier */
    if (so_tls_cert_begin(c, err, errcap) != SO_OK)
        return SO_E_TLS;
    if (ex_index() < 0 || hs_index() < 0) {
        set_err(err, errcap, "cannot allocate OpenSSL per-connection data");
        return SO_E_TLS;
    }
    /* Security level 0 first: at the default level OpenSSL 3 refuses TLS 1.0/1.1
     * and SHA-1 MACs outright (§2), and the cipher string below repeats it. */
    SSL_CTX_set_security_level(ctx, 0);
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, 0 /* highest: TLS 1.3 */)) {
        set_err(err, errcap, "cannot enable TLS 1.0 to 1.3");
        return SO_E_TLS;
    }
    if (!SSL_CTX_set_cipher_list(ctx, SO_TLS_CIPHERS)) {
        set_err(err, errcap, "cannot set the TLS cipher list " SO_TLS_CIPHERS);
        return SO_E_TLS;
    }
    /* TLS 1.3 suites stay at OpenSSL's default. No client certificates. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* No session tickets needed (§2); they would only add records the device ignores. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    /* No session cache either: a device makes one handshake per connection (§2) and
     * nothing here resumes, so every cached session (500 devices: 1000) would only be
     * memory and a cache insert per handshake. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* A connection holds its 16 KiB read and write buffers only while a record is in
     * flight: open WebSockets idle for most of a device's session (issue 15: peak RSS).
     * libwebsockets 4.1 sets it on each connection too; here it does not depend on that. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* Our certificate is self-signed and sent alone: without this OpenSSL tries to build
     * a chain from the (empty) store on every handshake (X509_verify_cert). */
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    if (c->begun && !c->worker) {
        /* Ready (or failed) already: load it now, as before the worker existed. */
        if (c->result != SO_OK) {
            set_err(err, errcap, c->err[0] ? c->err : "no TLS certificate");
            return SO_E_TLS;
        }
        if (SSL_CTX_use_certificate(ctx, c->x509) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, c->key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
            set_err(err, errcap, "cannot load the TLS certificate into OpenSSL");
            return SO_E_TLS;
        }
    } else {
        SSL_CTX_set_cert_cb(ctx, cert_cb, (void *)c);
    }
    SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
    return SO_OK;
}

int so_tls_hello_info(const SSL *ssl, unsigned *legacy_version, unsigned *n_ciphers,
                      int *offers_aes128_sha)
{
    uintptr_t v = ssl ? ex_get(ssl) : 0;
    if (!(v & HELLO_SEEN))
        return 0;
    if (legacy_version)
        *legacy_version = (unsigned)(v & HELLO_VER_MASK);
    if (n_ciphers)
        *n_ciphers = (unsigned)((v >> HELLO_NC_SHIFT) & HELLO_NC_MAX);
    if (offers_aes128_sha)
        *offers_aes128_sha = !!(v & HELLO_AES128);
    return 1;
}

void so_tls_describe(const SSL *ssl, char *buf, size_t cap)
{
    if (!cap)
        return;
    buf[0] = '\0';
    if (!ssl)
        return;
    const char *cipher = SSL_get_cipher_name(ssl);
    int n = snprintf(buf, cap, "%s %s", SSL_get_version(ssl), cipher ? cipher : "(none)");
    unsigned ver, nc;
    int aes;
    if (n > 0 && (size_t)n < cap && so_tls_hello_info(ssl, &ver, &nc, &aes))
        snprintf(buf + n, cap - (size_t)n, " (ClientHello 0x%04x, %u suites%s)", ver, nc,
                 aes ? ", AES128-SHA offered" : "");
}

int so_tls_first_report(SSL *ssl)
{
    uintptr_t v = ex_get(ssl);
    if (v & HELLO_REPORTED)
        return 0;
    ex_set(ssl, v | HELLO_REPORTED);
    return 1;
}

void so_tls_note_state(SSL *ssl)
{
    switch (SSL_get_state(ssl)) {
    case TLS_ST_SW_CERT:      /* TLS 1.2 and older: Certificate, then the rest */
    case TLS_ST_SW_KEY_EXCH:
    case TLS_ST_SW_CERT_REQ:
    case TLS_ST_SW_SRVR_DONE:
    case TLS_ST_SW_CERT_VRFY: /* TLS 1.3 */
        ex_set(ssl, ex_get(ssl) | HELLO_CERT_SENT);
        break;
    default:
        break;
    }
}

int so_tls_cert_sent(const SSL *ssl)
{
    return ssl && (ex_get(ssl) & HELLO_CERT_SENT) != 0;
}

int so_tls_failed_on_eof(void)
{
    unsigned long e = ERR_peek_last_error();
    return e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
           ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

int so_tls_alert_refuses_cert(int code)
{
    /* RFC 5246 §7.2.2: what a client sends when it does not accept the certificate. */
    return code == SSL_AD_BAD_CERTIFICATE || code == SSL_AD_UNSUPPORTED_CERTIFICATE ||
           code == SSL_AD_CERTIFICATE_REVOKED || code == SSL_AD_CERTIFICATE_EXPIRED ||
           code == SSL_AD_CERTIFICATE_UNKNOWN || code == SSL_AD_UNKNOWN_CA;
}
