/* tls.h - OpenSSL server side for stock Sonoff firmware (PROTOCOL.md §2):
 * a fresh self-signed RSA-2048 certificate per run, kept in memory only, and an
 * SSL_CTX profile that still talks to axTLS 1.4 clients (TLS 1.0/1.1, AES-CBC-SHA,
 * RSA key exchange) while offering modern suites to newer (mbedTLS) builds. */
#ifndef SO_TLS_H
#define SO_TLS_H

#include "lib/err.h"

struct plat_thread;

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stddef.h>

/* Subject and issuer CN, as SonOTA's bundled certificate (§1.6). */
#define SO_TLS_CN "sonoff-ota"
#define SO_TLS_RSA_BITS 2048
#define SO_TLS_VALID_DAYS 3650
/* TLS 1.2 and below: everything OpenSSL considers default plus the two AES-CBC-SHA
 * suites axTLS offers (00 2F, 00 35; §2). Security level 0 is needed on OpenSSL 3
 * for TLS 1.0/1.1 at all; the suite list keeps RC4/NULL/export out. */
#define SO_TLS_CIPHERS "DEFAULT:AES128-SHA:AES256-SHA:@SECLEVEL=0"

/* The run's certificate. Generating RSA-2048 takes 50-500 ms (the primes are random),
 * longer than everything else at start-up, and no device can call before the servers
 * listen; so it is generated on a worker thread (so_tls_cert_begin) as the TLS listener
 * opens, and the first TLS handshake that arrives before it is ready waits for it
 * (so_tls_server_setup). x509, key and der_len are valid once so_tls_cert_wait() said
 * SO_OK; the rest is the worker's. */
struct so_tls_cert {
    X509 *x509;
    EVP_PKEY *key;
    size_t der_len;             /* certificate size on the wire (§11: keep < ~2 KB) */
    struct plat_thread *worker; /* NULL once joined (or never started) */
    int begun;                  /* generation started (so_tls_cert_begin or _wait) */
    enum so_err result;         /* the worker's outcome, read after the join */
    atomic_int done;            /* set by the worker as it ends (so_tls_cert_ready) */
    char err[256];              /* its explanation when result != SO_OK (set_err's
                                   longest: a sentence and OpenSSL's 160) */
};

/* The holder alone, nothing generated yet: so_tls_cert_begin starts the work, and
 * so_tls_server_setup does so itself (the server's TLS listener is set up last, so the
 * worker does not compete with the rest of the start-up; a handshake before the work
 * began generates it itself). SO_E_NOMEM (then *out is NULL). */
enum so_err so_tls_cert_prepare(struct so_tls_cert **out, char *err, size_t errcap);
/* Starts generating on a worker thread and returns at once; again: nothing. SO_E_TLS
 * when no thread starts. */
enum so_err so_tls_cert_begin(struct so_tls_cert *c, char *err, size_t errcap);
/* Waits for the worker if it is still running; SO_OK when the certificate is usable,
 * else its error (and err says why). Cheap once done. */
enum so_err so_tls_cert_wait(struct so_tls_cert *c, char *err, size_t errcap);
/* 1 when so_tls_cert_wait would not block (the worker has ended); 0 before
 * so_tls_cert_begin. */
int so_tls_cert_ready(struct so_tls_cert *c);
/* Frees the certificate and its key, waiting for the worker first; accepts NULL. */
void so_tls_cert_free(struct so_tls_cert *c);

/* Installs cert + key and the legacy-device profile on a server SSL_CTX:
 * TLS 1.0..1.3, SO_TLS_CIPHERS, default TLS 1.3 suites, no client auth,
 * no session tickets, and a ClientHello observer (so_tls_hello_*). A prepared holder is
 * begun here (so_tls_cert_begin): the listener that needs it opens next. A certificate
 * still being generated is installed by the first handshake, which waits for it; c must
 * then outlive ctx. */
enum so_err so_tls_server_setup(SSL_CTX *ctx, struct so_tls_cert *c, char *err,
                                size_t errcap);

/* What the client's ClientHello said (recorded by the observer), for diagnostics:
 * legacy_version (e.g. 0x0301, 0x0303) and the number of cipher suites offered.
 * Returns 0 if nothing was recorded for this connection. */
int so_tls_hello_info(const SSL *ssl, unsigned *legacy_version, unsigned *n_ciphers,
                      int *offers_aes128_sha);

/* "TLSv1.1 AES128-SHA" and, if recorded, " (ClientHello 0x0302, 4 suites)". */
void so_tls_describe(const SSL *ssl, char *buf, size_t cap);

/* One-shot flag per connection so a handshake is reported once (TLS 1.3 can
 * signal "handshake done" more than once). Returns 1 the first time only. */
int so_tls_first_report(SSL *ssl);

/* Certificate pinning (firmware >= 1.6) shows as a client that receives our certificate
 * and then ends the handshake, with a certificate alert or by closing the connection.
 * A handshake we refused (no shared suite or version) ends before our certificate; a
 * bare connect-and-close sends no ClientHello at all. */
/* Call from the info callback on SSL_CB_LOOP: notes when our certificate has gone out. */
void so_tls_note_state(SSL *ssl);
/* 1 once our certificate was sent on this connection. */
int so_tls_cert_sent(const SSL *ssl);
/* Server-side TLS handshakes under way in this process: one more at each accept of the
 * TLS listener (so_tls_handshake_accepted), one less at the end of the handshake
 * (so_tls_handshake_done) or when the connection is freed before it. The server pauses
 * accepting above a bound: each handshake holds about 40 KB of OpenSSL buffers. Main
 * thread only. */
void so_tls_handshake_accepted(void);
void so_tls_handshake_done(SSL *ssl);
int so_tls_handshakes(void);
/* 1 when the handshake just failed because the peer closed the connection (OpenSSL's
 * error queue: unexpected EOF). */
int so_tls_failed_on_eof(void);
/* 1 for the alerts a client sends when it does not accept the server's certificate:
 * bad_certificate (42), unsupported (43), revoked (44), expired (45), unknown (46),
 * unknown_ca (48). */
int so_tls_alert_refuses_cert(int code);

#endif
