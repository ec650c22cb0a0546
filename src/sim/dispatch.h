/* dispatch.h - the station side before the WebSocket: the HTTPS dispatch request
 * (PROTOCOL.md §1.3) and the fixed WebSocket handshake (§1.4). */
#ifndef SIM_DISPATCH_H
#define SIM_DISPATCH_H

#include "lib/err.h"
#include "sim/netio.h"
#include "sim/sim.h"

#define DISPATCH_TIMEOUT_MS 10000

/* One dispatch attempt against the provisioned server. SO_OK with ip/port of the WS
 * server, else an error with a sentence in err. */
enum so_err dispatch_once(struct sim_ctx *s, char *ip, size_t ipcap, int *port, char *err,
                          size_t errcap);
/* Connects to ip:port with the session's TLS profile and does the handshake. On SO_OK
 * c is open and rx holds *rxlen bytes that followed the 101 reply. */
enum so_err dispatch_ws_open(struct sim_ctx *s, struct netio_conn *c, const char *ip,
                             int port, unsigned char *rx, size_t rxcap, size_t *rxlen,
                             char *err, size_t errcap);

#endif
