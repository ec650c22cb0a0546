/* diy_txt.c - DIY-mode TXT records (PROTOCOL.md §6, DIY14 §4.1, RFC 6763 §6). */
#include "lib/diy_txt.h"

#include <stdio.h>
#include <string.h>

static int key_ieq(const uint8_t *k, size_t n, const char *want)
{
    size_t i = 0;
    for (; i < n && want[i]; i++) {
        unsigned char a = k[i], b = (unsigned char)want[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return i == n && !want[i];
}

/* Copies a value; SO_E_SYNTAX for a NUL byte, SO_E_TOOBIG when it does not fit. */
static enum so_err copy_val(const uint8_t *v, size_t n, char *dst, size_t cap)
{
    if (memchr(v, 0, n))
        return SO_E_SYNTAX;
    if (n >= cap)
        return SO_E_TOOBIG;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return SO_OK;
}

static enum so_err parse_seq(const uint8_t *v, size_t n, long *out)
{
    if (n == 0 || n > 9)
        return SO_E_SYNTAX;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return SO_E_SYNTAX;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return SO_OK;
}

enum so_err diy_txt_parse(const uint8_t *rdata, size_t len, struct diy_txt *out)
{
    memset(out, 0, sizeof *out);
    out->encrypt = -1;
    out->data_err = SO_E_ARG;
    diy_state_init(&out->st);
    if (!rdata && len)
        return SO_E_ARG;
    unsigned seen = 0; /* keys already taken: the first occurrence wins */
    enum { S_TXTVERS, S_ID, S_TYPE, S_APIVERS, S_SEQ, S_ENCRYPT, S_IV, S_DATA1 };
    const uint8_t *part[DIY_TXT_DATA_PARTS] = {0};
    size_t part_len[DIY_TXT_DATA_PARTS] = {0};
    size_t off = 0;
    while (off < len) {
        size_t n = rdata[off++];
        if (n > len - off)
            return SO_E_SYNTAX;
        const uint8_t *s = rdata + off;
        off += n;
        const uint8_t *eq = n ? memchr(s, '=', n) : NULL;
        if (!eq)
            continue; /* empty string or boolean attribute */
        size_t kn = (size_t)(eq - s);
        const uint8_t *v = eq + 1;
        size_t vn = n - kn - 1;
        enum so_err e = SO_OK;
        int slot = -1;
        if (key_ieq(s, kn, "txtvers"))
            slot = S_TXTVERS;
        else if (key_ieq(s, kn, "id"))
            slot = S_ID;
        else if (key_ieq(s, kn, "type"))
            slot = S_TYPE;
        else if (key_ieq(s, kn, "apivers"))
            slot = S_APIVERS;
        else if (key_ieq(s, kn, "seq"))
            slot = S_SEQ;
        else if (key_ieq(s, kn, "encrypt"))
            slot = S_ENCRYPT;
        else if (key_ieq(s, kn, "iv"))
            slot = S_IV;
        else if (kn == 5 && key_ieq(s, 4, "data") && s[4] >= '1' && s[4] <= '4')
            slot = S_DATA1 + (s[4] - '1');
        if (slot < 0 || (seen & (1u << slot)))
            continue;
        seen |= 1u << slot;
        switch (slot) {
        case S_TXTVERS: e = copy_val(v, vn, out->txtvers, sizeof out->txtvers); break;
        case S_ID: e = copy_val(v, vn, out->id, sizeof out->id); break;
        case S_TYPE: e = copy_val(v, vn, out->type, sizeof out->type); break;
        case S_APIVERS: e = copy_val(v, vn, out->apivers, sizeof out->apivers); break;
        case S_SEQ:
            e = parse_seq(v, vn, &out->seq);
            out->has_seq = e == SO_OK;
            break;
        case S_ENCRYPT:
            if (vn == 4 && key_ieq(v, 4, "true"))
                out->encrypt = 1;
            else if (vn == 5 && key_ieq(v, 5, "false"))
                out->encrypt = 0;
            else
                e = SO_E_SYNTAX;
            break;
        case S_IV: e = copy_val(v, vn, out->iv, sizeof out->iv); break;
        default:
            if (memchr(v, 0, vn))
                return SO_E_SYNTAX;
            part[slot - S_DATA1] = v;
            part_len[slot - S_DATA1] = vn;
            break;
        }
        if (e != SO_OK)
            return e;
    }
    if (!(seen & (1u << S_TXTVERS)))
        out->missing |= DIY_TXT_K_TXTVERS;
    if (!(seen & (1u << S_ID)))
        out->missing |= DIY_TXT_K_ID;
    if (!(seen & (1u << S_TYPE)))
        out->missing |= DIY_TXT_K_TYPE;
    if (!(seen & (1u << S_APIVERS)))
        out->missing |= DIY_TXT_K_APIVERS;
    if (!(seen & (1u << S_SEQ)))
        out->missing |= DIY_TXT_K_SEQ;
    if (!part[0])
        out->missing |= DIY_TXT_K_DATA1;
    /* Join data1..dataN; a part after a gap means the record is inconsistent. */
    int n = 0;
    while (n < DIY_TXT_DATA_PARTS && part[n]) {
        memcpy(out->data + out->data_len, part[n], part_len[n]);
        out->data_len += part_len[n];
        n++;
    }
    out->data[out->data_len] = '\0';
    out->n_parts = n;
    for (int k = n; k < DIY_TXT_DATA_PARTS; k++)
        if (part[k])
            out->data_err = SO_E_SYNTAX;
    if (out->data_err == SO_E_SYNTAX || n == 0 || out->encrypt == 1)
        return SO_OK;
    out->data_err = diy_state_parse(out->data, out->data_len, &out->st);
    if (out->data_err != SO_OK)
        diy_state_init(&out->st);
    return SO_OK;
}

/* Appends one length-prefixed string "key=value" (value of vn bytes). */
static enum so_err put(uint8_t *out, size_t cap, size_t *len, const char *key, const char *v,
                       size_t vn)
{
    size_t kn = strlen(key);
    size_t n = kn + 1 + vn;
    if (n > DIY_TXT_STRING_MAX || *len + 1 + n > cap || *len + 1 + n > DIY_TXT_MAX)
        return SO_E_TOOBIG;
    out[(*len)++] = (uint8_t)n;
    memcpy(out + *len, key, kn);
    *len += kn;
    out[(*len)++] = '=';
    memcpy(out + *len, v, vn);
    *len += vn;
    return SO_OK;
}

#define PUT(k, v, n) do { enum so_err e_ = put(out, cap, len, k, v, n); if (e_) return e_; } while (0)

enum so_err diy_txt_build(const struct diy_txt_rec *r, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (!r || !r->id || !r->data || !out)
        return SO_E_ARG;
    size_t dn = strlen(r->data);
    if (dn > DIY_TXT_DATA_MAX)
        return SO_E_TOOBIG;
    const char *type = r->type ? r->type : "diy_plug";
    const char *api = r->apivers ? r->apivers : "1";
    char seq[24];
    snprintf(seq, sizeof seq, "%ld", r->seq);
    PUT("txtvers", "1", 1);
    PUT("id", r->id, strlen(r->id));
    PUT("type", type, strlen(type));
    PUT("apivers", api, strlen(api));
    PUT("seq", seq, strlen(seq));
    if (r->encrypt >= 0) {
        PUT("encrypt", r->encrypt ? "true" : "false", r->encrypt ? 4 : 5);
        if (r->iv)
            PUT("iv", r->iv, strlen(r->iv));
    }
    /* data1 always, even when empty; then as many parts as the text needs */
    size_t done = 0;
    char key[] = "data1";
    do {
        size_t chunk = dn - done > DIY_TXT_DATA_CHUNK ? DIY_TXT_DATA_CHUNK : dn - done;
        PUT(key, r->data + done, chunk);
        key[4]++;
        done += chunk;
    } while (done < dn);
    return SO_OK;
}

size_t diy_txt_summary(const struct diy_txt *t, char *buf, size_t cap)
{
    if (!cap)
        return 0;
    const struct diy_state *st = &t->st;
    int ok = t->data_err == SO_OK;
    char rssi[16] = "?";
    if (ok && st->has_rssi)
        snprintf(rssi, sizeof rssi, "%d", st->rssi);
    else if (ok && st->has_signal)
        snprintf(rssi, sizeof rssi, "%d", st->signal);
    int n;
    if (t->encrypt == 1)
        n = snprintf(buf, cap, "data=encrypted");
    else
        n = snprintf(buf, cap, "switch=%s fw=%s ota=%s rssi=%s",
                     ok && st->sw[0] ? st->sw : "?",
                     ok && st->fw_version[0] ? st->fw_version : "?",
                     !ok || st->ota_unlock < 0 ? "?" : st->ota_unlock ? "unlocked" : "locked",
                     rssi);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
