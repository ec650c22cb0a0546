/* cloud.h - the fake eWeLink cloud as an lws protocol (PROTOCOL.md §1.3, §1.4):
 * POST /dispatch/device over HTTP(S) and the /api/ws WebSocket, whose text
 * messages go through lib/cloud_fsm. The same protocol serves the TLS port and,
 * with legacy, the plain port (§1.6). */
#ifndef SONOTA_CLOUD_H
#define SONOTA_CLOUD_H

#include <libwebsockets.h>
#include <stddef.h>

/* Gap between two frames to the same device: each frame must arrive as its own
 * packet (§1.4), so back-to-back frames must not be coalesced by TCP. */
#define CLOUD_WS_FRAME_GAP_MS 50
#define CLOUD_WS_QUEUE_MAX 16

size_t cloud_pss_size(void);
/* The lws protocol callback (h1 + ws roles); also protocols[0] of the TLS vhost,
 * so it receives the OpenSSL setup and TLS info callbacks. */
int cloud_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                   void *in, size_t len);

#endif
