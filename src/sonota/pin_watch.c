#include "sonota/pin_watch.h"

#include "lib/str.h"

#include <stdio.h>
#include <string.h>

/* The certificate alerts of RFC 5246 §7.2.2 (the ones tls_cert_refused admits). */
static const char *alert_name(int code)
{
    switch (code) {
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 48: return "unknown_ca";
    default: return "about the certificate";
    }
}

int pin_watch_feed(struct pin_watch *w, const struct srv_event *ev, enum rom_verdict rom)
{
    if (ev->type != SRV_EV_TLS_CLIENT)
        return 0;
    if (ev->error == 0) { /* a completed handshake: this client does not pin */
        w->completed++;
        w->refusals = 0;
        return 0;
    }
    if (!ev->tls_cert_refused)
        return 0;
    char ip[sizeof w->peer_ip];
    so_peer_addr(ev->peer, ip, sizeof ip);
    if (w->refusals && strcmp(ip, w->peer_ip) != 0)
        w->refusals = 0; /* another client: its own count */
    snprintf(w->peer_ip, sizeof w->peer_ip, "%s", ip);
    w->refusals++;
    if (ev->error > 0)
        snprintf(w->how, sizeof w->how, "it sent the TLS alert %s (%d)",
                 alert_name(ev->error), ev->error);
    else
        snprintf(w->how, sizeof w->how, "it closed the connection");
    return w->refusals >= PIN_REFUSALS_MIN && !w->completed && rom != ROM_OK;
}
