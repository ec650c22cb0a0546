/* diy_txt.h - the TXT record a DIY-mode device publishes with its _ewelink._tcp service
 * (PROTOCOL.md §6; DIY14 §4.1; RFC 6763 §6): length-prefixed "key=value" strings
 * txtvers, id, type, apivers, seq, data1 (device information JSON; above 249 bytes it
 * continues in data2..data4), optionally encrypt and iv (ID#10). Parser for the tool,
 * builder for the simulator. Pure. */
#ifndef SO_DIY_TXT_H
#define SO_DIY_TXT_H

#include "lib/diy_msg.h"
#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

#define DIY_TXT_MAX 1300          /* whole TXT record (DIY14 §4.1) */
#define DIY_TXT_STRING_MAX 255    /* one length-prefixed string (RFC 6763 §6.1) */
#define DIY_TXT_DATA_CHUNK 249    /* JSON bytes per dataN: 255 - strlen("dataN=") */
#define DIY_TXT_DATA_PARTS 4
#define DIY_TXT_DATA_MAX (DIY_TXT_DATA_CHUNK * DIY_TXT_DATA_PARTS)

/* Bits of diy_txt.missing: required keys that were absent (DIY14 §4.1). */
#define DIY_TXT_K_TXTVERS 0x01u
#define DIY_TXT_K_ID 0x02u
#define DIY_TXT_K_TYPE 0x04u
#define DIY_TXT_K_APIVERS 0x08u
#define DIY_TXT_K_SEQ 0x10u
#define DIY_TXT_K_DATA1 0x20u

struct diy_txt {
    char txtvers[8];
    char id[DIY_ID_MAX];
    char type[24];                /* "diy_plug" */
    char apivers[8];              /* "1" */
    int has_seq;
    long seq;
    int encrypt;                  /* -1 absent, 0 "false", 1 "true" (data is then ciphertext) */
    char iv[64];
    unsigned missing;             /* DIY_TXT_K_* */
    char data[DIY_TXT_DATA_MAX + 1]; /* data1..dataN joined, NUL-terminated */
    size_t data_len;
    int n_parts;                  /* dataN strings joined (contiguous from data1) */
    /* Result of reading data as device information: SO_OK (st filled), SO_E_SYNTAX
     * (data2..4 without the part before it), SO_E_JSON (not a JSON object),
     * SO_E_MSG_FIELD / SO_E_TOOBIG (a member of the wrong type / too long), SO_E_ARG
     * (not read: absent, or encrypted). */
    enum so_err data_err;
    struct diy_state st;
};

/* Parses TXT rdata. Keys are case-insensitive, the first occurrence of a key wins, a
 * string without '=' is a boolean attribute and ignored, empty strings are skipped
 * (RFC 6763 §6.4). SO_E_SYNTAX when a string runs past len, a known value holds a NUL
 * byte or seq is not a decimal number; SO_E_TOOBIG when a known value does not fit its
 * field. Missing keys are not an error (see missing). *out is reset first. */
enum so_err diy_txt_parse(const uint8_t *rdata, size_t len, struct diy_txt *out);

/* What the device publishes. */
struct diy_txt_rec {
    const char *id;
    const char *type;             /* NULL → "diy_plug" */
    const char *apivers;          /* NULL → "1" */
    long seq;
    int encrypt;                  /* -1 omit, 0 "encrypt=false", 1 "encrypt=true" */
    const char *iv;               /* written with encrypt when not NULL */
    const char *data;             /* device information text, split into data1..data4 */
};

/* Writes the rdata: txtvers=1, id, type, apivers, seq, [encrypt, iv], data1..dataN with
 * at most 249 data bytes each. SO_E_TOOBIG when data exceeds 4 parts, a string 255
 * bytes, the record 1300 bytes or cap; SO_E_ARG for a NULL id or data. */
enum so_err diy_txt_build(const struct diy_txt_rec *r, uint8_t *out, size_t cap, size_t *len);

/* One line for listings: "switch=off fw=3.5.0 ota=unlocked rssi=-70"; unknown values
 * print as "?" ("ota=?"), encrypted data as "data=encrypted". Returns strlen (output
 * truncated to cap - 1). */
size_t diy_txt_summary(const struct diy_txt *t, char *buf, size_t cap);

#endif
