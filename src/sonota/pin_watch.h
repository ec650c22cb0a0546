/* pin_watch.h - deciding from the cloud's TLS handshakes that a device pins the eWeLink
 * certificate (stock firmware >= 1.6 and >= 2.6, PROTOCOL.md §2/§3), so a run can stop
 * within seconds instead of waiting for --timeout. Pure: fed server events, no I/O. */
#ifndef SONOTA_PIN_WATCH_H
#define SONOTA_PIN_WATCH_H

#include "sonota/server.h"
#include "sonota/stage.h"

/* Refusals of our certificate in a row, from one address, before the verdict: a device
 * retries its dispatch every few seconds, so three take seconds, and a single refusal
 * (a browser, a stray client) is not enough. */
#define PIN_REFUSALS_MIN 3

struct pin_watch {
    int refusals;               /* in a row from peer_ip */
    int completed;              /* handshakes that completed: no pinning then */
    char peer_ip[64];
    char how[80];               /* the last refusal: "alert unknown CA" / "closed" */
};

/* Feeds a TLS_CLIENT event. rom: what the device said of its firmware so far
 * (ROM_UNKNOWN when it never got that far). Returns 1 once the evidence says pinning:
 * PIN_REFUSALS_MIN handshakes in a row from one address ended after our certificate
 * (certificate alert or close), none completed, and the firmware is not one known to
 * work. Handshakes we refused and bare connect-and-close do not count either way. */
int pin_watch_feed(struct pin_watch *w, const struct srv_event *ev, enum rom_verdict rom);

#endif
