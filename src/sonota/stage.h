/* stage.h - which step of the stock OTA path the computer is in, read from its own IPv4
 * addresses (PROTOCOL.md §10.1, §1.2, §4), the serving-IP choice, and the stock firmware
 * verdict by romVersion (§3). Pure: the caller passes the address list in. */
#ifndef SONOTA_STAGE_H
#define SONOTA_STAGE_H

#include "io/netif.h"

#include <stddef.h>
#include <stdint.h>

/* Networks the device and the intermediate firmware impose (§1.2, §4). */
#define STAGE_AP_NET 0x0A0A0700u        /* 10.10.7.0/24: ITEAD-<id> pairing AP */
#define STAGE_AP_DEVICE "10.10.7.1"
#define STAGE_FINAL_NET 0xC0A80400u     /* 192.168.4.0/24: E2A's open "FinalStage" AP */
#define STAGE_FINAL_HOST 0xC0A80402u    /* E2A only ever connects to 192.168.4.2:8080 */
#define STAGE_FINAL_HOST_STR "192.168.4.2"
#define STAGE_NET24_MASK 0xFFFFFF00u

/* THE stage of a device in a `sonota flash` run (PROTOCOL.md §1, §4, §10.1): the device
 * session (flash_session.h) moves through it, the resume record (flash_state.h) stores
 * it, the address scan below names the network a computer is on with a subset of it
 * (NONE, PROVISION, CLOUD, FINAL). Ordered. */
enum flash_stage {
    STAGE_NONE,        /* nothing known; scan: none of the networks below */
    STAGE_WAIT_AP,     /* 1: waiting for a 10.10.7.x address (the pairing AP) */
    STAGE_PROVISION,   /* 1: on the pairing AP: GET /device (scan: 10.10.7.x present) */
    STAGE_POST_AP,     /* 1: POST /ap with the WiFi and the serving address */
    STAGE_PROVISIONED, /* 2: the device has the settings; waiting for the serving IP or
                          its call (record: "provisioned") */
    STAGE_CLOUD,       /* 2: the serving IP is up / the device called: dispatch, register,
                          upgrade, intermediate download (record: "cloud") */
    STAGE_FINAL,       /* 3: the device has the intermediate firmware: FinalStage, final
                          image (record: "final"; scan: 192.168.4.2 present) */
    STAGE_DONE,        /* the final image was sent completely */
    STAGE_FAILED,      /* the device refused the upgrade for good */
};

/* What a scan of local addresses showed. */
struct stage_seen {
    int ap;                             /* an address in 10.10.7.0/24 (not the serving IP) */
    char ap_ip[NETIF_IP_MAX], ap_if[NETIF_NAME_MAX];
    int serving;                        /* the serving IP is configured */
    int final;                          /* 192.168.4.2 is configured */
    char final_if[NETIF_NAME_MAX];
    int final_other;                    /* another 192.168.4.x (someone else got .2) */
    char final_other_ip[NETIF_IP_MAX];
    int home_other;                     /* another address on the default-route interface,
                                           outside the device networks (a home network
                                           without the serving IP) */
    char home_other_ip[NETIF_IP_MAX], home_other_if[NETIF_NAME_MAX];
};

/* serving_ip may be NULL. */
void stage_scan(const struct netif_addr *a, size_t n, const char *serving_ip,
                struct stage_seen *out);
/* FinalStage wins over the pairing AP, which wins over the home network. */
enum flash_stage stage_guess(const struct stage_seen *s);
/* "none", "wait-ap", "provision", "post-ap", "provisioned", "cloud", "final", "done",
 * "failed" */
const char *stage_name(enum flash_stage st);

/* Where a run starts, from the addresses now and how far an earlier run got (`reached`:
 * STAGE_NONE nothing recorded, STAGE_PROVISIONED or STAGE_CLOUD the device was
 * provisioned (it calls the serving IP), STAGE_FINAL it has the intermediate firmware).
 * Returns WAIT_AP (wait for 10.10.7.x), PROVISION (on the pairing AP now; *recheck: the
 * device was provisioned already, so ask it whether it is in pairing mode again and
 * otherwise wait for the home network), PROVISIONED (wait for the serving IP), CLOUD
 * (the serving IP is up) or FINAL. PROTOCOL.md §10.1, §8. */
enum flash_stage stage_plan(const struct stage_seen *s, enum flash_stage reached, int *recheck);
/* The plan's name in the "detected" event: "wait-ap", "provision", "recheck",
 * "wait-home", "cloud", "final". */
const char *stage_start_name(enum flash_stage plan, int recheck);

/* Serving IP inside a network the flow needs for something else (§10.1). */
#define STAGE_CLASH_AP 1u     /* 10.10.7.0/24: indistinguishable from the pairing AP */
#define STAGE_CLASH_FINAL 2u  /* 192.168.4.0/24: same subnet as FinalStage */
unsigned stage_serving_clash(const char *serving_ip);

/* Candidate serving addresses: non-loopback, outside 10.10.7.0/24 (the device's AP is
 * not where the device will look for us) and link-local 169.254/16. Writes indexes into
 * idx (≤ cap); returns how many. Order is the input order (default route first). */
size_t stage_serving_candidates(const struct netif_addr *a, size_t n, size_t *idx, size_t cap);

/* Numeric dotted-version comparison ("1.10.0" > "1.9.9"); missing parts count as 0,
 * trailing non-digits are ignored. <0, 0, >0. */
int stage_version_cmp(const char *a, const char *b);

enum rom_verdict {
    ROM_UNKNOWN,      /* empty or unparsable */
    ROM_OK,           /* ≤ 1.5.x, or 2.0–2.5 (§3: 1.5.5 and 2.0.x work) */
    ROM_PINNED,       /* 1.6–1.x, 2.6+: certificate pinning / TLS refusal (§2, §3) */
    ROM_DIY,          /* 3.x and later: the stock OTA path is closed; DIY mode (§6) */
};
enum rom_verdict stage_rom_verdict(const char *rom_version);

#endif
