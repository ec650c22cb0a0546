/* cloud.h - the fake eWeLink cloud as an lws raw-socket protocol (PROTOCOL.md §1.3,
 * §1.4): POST /dispatch/device and the /api/ws WebSocket, parsed and built here with
 * the strict codecs of src/lib (http_head, ws_frame), so every byte a device or an
 * attacker sends is checked by our rules and every reply is exactly what we write.
 * WebSocket text messages go through lib/cloud_fsm. The same protocol serves the
 * TLS port and, with legacy, the plain port (§1.6). */
#ifndef SONOTA_CLOUD_H
#define SONOTA_CLOUD_H

#include "lib/cloud_fsm.h"

#include <libwebsockets.h>
#include <stddef.h>

/* Gap between two writes to the same device: each frame must arrive as its own
 * packet (§1.4), so back-to-back frames must not be coalesced by TCP. */
#define CLOUD_WS_FRAME_GAP_MS 50
/* Frames waiting for one device. A real device sends one message and waits for the
 * answer; one that keeps more than this many answers waiting (a flood) is closed
 * with 1008 instead of being buffered without bound. */
#define CLOUD_WS_QUEUE_MAX 16
/* A new WebSocket must register (§1.4) this long after its handshake; else 1008.
 * The firmware sends register right after the 101. */
#define CLOUD_WS_REGISTER_TIMEOUT_MS 30000
/* A registered device pings every hbInterval (145 s, §1.4): nothing at all received
 * for two intervals and some slack closes the session with 1001 (server.h:
 * ws_idle_timeout_s overrides it for tests). */
#define CLOUD_WS_IDLE_TIMEOUT_MS ((2 * CLOUD_HB_INTERVAL + 10) * 1000)
/* Largest single write: an HTTP reply, or one frame (< 1400 B of JSON, §1.4). */
#define CLOUD_WRITE_MAX 4096

/* The lws protocol callback (raw-skt role); also protocols[0] of the TLS vhost,
 * so it receives the OpenSSL setup and TLS info callbacks. */
int cloud_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                   void *in, size_t len);

#endif
