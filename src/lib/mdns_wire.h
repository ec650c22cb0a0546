/* mdns_wire.h - strict bounds check of a DNS/mDNS message (RFC 1035 §4.1, RFC 6762 §18)
 * before it reaches libmdnsd. libmdnsd's parser (message_parse) takes no length: it reads
 * a packet out of a zeroed 64 KiB buffer and trusts the counts, names and rdata lengths
 * it finds. Packets from the LAN are untrusted, so both programs accept a packet only
 * when everything libmdnsd will read lies inside the received bytes (docs/DESIGN.md,
 * "DIY mode: mDNS"). Pure. */
#ifndef SO_MDNS_WIRE_H
#define SO_MDNS_WIRE_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define MDNS_PORT 5353
#define MDNS_GROUP "224.0.0.251"
#define MDNS_PACKET_MAX 9000      /* RFC 6762 §17: messages up to 9000 bytes */
#define MDNS_RECORDS_MAX 64       /* questions + records we accept in one message */
#define MDNS_NAME_MAX 255         /* wire length of a name (RFC 1035 §3.1) */

#define MDNS_TYPE_A 1
#define MDNS_TYPE_PTR 12
#define MDNS_TYPE_TXT 16
#define MDNS_TYPE_AAAA 28
#define MDNS_TYPE_SRV 33

/* SO_OK when the message is well formed for libmdnsd: 12-byte header; at most
 * MDNS_RECORDS_MAX questions and records in total; every name made of labels of 1..63
 * bytes ending in a zero byte or a compression pointer to an earlier offset that holds
 * a name that is itself well formed (so no loops), at most 255 bytes expanded; every
 * record's fixed fields and rdata inside the message; A rdata exactly 4 bytes, PTR /
 * NS / CNAME rdata exactly one name, SRV rdata exactly 6 bytes plus one name (libmdnsd
 * parses these by content, not by rdlength). Trailing bytes after the last record are
 * allowed. SO_E_SYNTAX otherwise; SO_E_TOOBIG for n > MDNS_PACKET_MAX or too many
 * records. */
enum so_err mdns_wire_check(const uint8_t *p, size_t n);

/* Cuts a query (QR bit clear) down to its header and well-formed question section:
 * answer, authority and additional counts become 0. Returns the new length, or 0 when p
 * is not a query or its questions are malformed. Known answers are an optimisation
 * (RFC 6762 §7.1), so the shorter query asks the same. */
size_t mdns_wire_questions_only(uint8_t *p, size_t n);

#endif
