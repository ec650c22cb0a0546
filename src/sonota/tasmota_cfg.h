/* tasmota_cfg.h - finish the job after the final image (PROTOCOL.md §7): wait until the new
 * firmware's WiFi manager AP answers (user joins tasmota_XXXXXX-#### or sonoff-####), tell
 * its generation apart (/cm Status 2 answers: 6.x and later; /cm and /wi missing: 5.x),
 * send the MQTT settings and the user's Backlog first (while it is reachable on its AP),
 * wait for the restart they cause, then the home WiFi (/wi, or /sv on 5.x), and optionally
 * check that it answers on the home LAN. A state machine over httpc (no proxy, bounded
 * retries and timeouts, no sleeps): tcfg_start / tcfg_step for an event loop, tcfg_run
 * for commands without one.
 * Passwords never reach the log or the screen: the URLs that carry them are logged with
 * "***" instead, and tcfg_add_secrets registers them (also URL-encoded) for redaction. */
#ifndef SONOTA_TASMOTA_CFG_H
#define SONOTA_TASMOTA_CFG_H

#include "lib/tasmota_url.h"
#include "sonota/ui.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define TCFG_DEVICE_URL "http://192.168.4.1"  /* the ESP softAP address (§7) */
#define TCFG_URL_MAX 200
#define TCFG_REQUEST_MS 4000   /* one request; the ESP8266 answers in well under a second */
#define TCFG_POLL_MS 500       /* between attempts while waiting */
#define TCFG_ENV_MQTT_PASSWORD "SONOTA_MQTT_PASSWORD"

struct tcfg_opts {
    char device_url[TCFG_URL_MAX + 1];  /* "http://192.168.4.1", no trailing '/' */
    struct tasmota_cfg cfg;             /* what to set; strings borrowed */
    char lan_url[TCFG_URL_MAX + 1];     /* "" = no LAN check */
    int request_ms;
    int poll_ms;
};

struct tcfg_result {
    char version[32];       /* StatusFWR.Version, or "5.x" */
    int legacy;
    int backlog_cmds;       /* commands sent in the Backlog */
    int mqtt_form;          /* 5.x: the MQTT form was saved */
    int wifi_sent;
    int lan_ok;
    char lan_ip[16];        /* StatusNET.IPAddress on the LAN */
};

/* Builds a base URL from "--device"/"--lan-check" input: an http:// URL, or an IPv4
 * address or host name with an optional ":port". 0, or -1 with a sentence in err. */
int tcfg_base_url(const char *in, char *out, size_t cap, char *err, size_t errcap);

/* Checks the values before anything is sent: NULL when fine, else a sentence (in err). */
const char *tcfg_check(const struct tasmota_cfg *c, char *err, size_t errcap);

/* Registers every password of c, as given and URL-encoded, with the log's redaction. */
void tcfg_add_secrets(const struct tasmota_cfg *c);

#define TCFG_RUNNING (-1)   /* tcfg_step: not finished (exit statuses are >= 0) */

struct httpc;
struct tcfg;

/* Starts the whole configuration on h. Reports through u (JSON events "action", "tasmota",
 * "configured", "lan"; info/warning/error). Gives up at deadline (plat_mono_ms() value) or
 * when *stop (may be NULL) is set. o, u, stop and res must outlive the handle. NULL when
 * out of memory (reported through u). */
struct tcfg *tcfg_start(struct httpc *h, const struct tcfg_opts *o, struct ui *u,
                        int64_t deadline, volatile sig_atomic_t *stop,
                        struct tcfg_result *res);
/* Advances after httpc_step and when the wake-up time has come. Returns TCFG_RUNNING with
 * *wake = the monotonic time to be called again (-1: only an HTTP answer moves it), or an
 * exit status of cmds.h (EXIT_OK when configured). */
int tcfg_step(struct tcfg *t, int64_t now, int64_t *wake);
/* Drops the handle (cancelling its request); accepts NULL. */
void tcfg_free(struct tcfg *t);

/* The whole configuration, blocking, on a client of its own (sonota configure, the end
 * of sonota flash). Returns an exit status of cmds.h (EXIT_OK when configured). */
int tcfg_run(const struct tcfg_opts *o, struct ui *u, int64_t deadline,
             volatile sig_atomic_t *stop, struct tcfg_result *res);

#endif
