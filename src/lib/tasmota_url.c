#include "lib/tasmota_url.h"

#include <string.h>

/* ---- a bounded string being built ---- */

struct sb {
    char *p;
    size_t cap, len;
    int over;
};

static void sb_init(struct sb *b, char *out, size_t cap)
{
    b->p = out;
    b->cap = cap;
    b->len = 0;
    b->over = cap == 0;
    if (cap)
        out[0] = '\0';
}

static void sb_mem(struct sb *b, const char *s, size_t n)
{
    if (b->over || b->len + n + 1 > b->cap) {
        b->over = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_mem(b, s, strlen(s));
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static void sb_enc(struct sb *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (unreserved(*q)) {
            sb_mem(b, (const char *)q, 1);
        } else {
            char e[3] = {'%', hex[*q >> 4], hex[*q & 15]};
            sb_mem(b, e, 3);
        }
    }
}

/* "name=<encoded value>" (or the mask), preceded by '&' unless first. */
static void sb_param(struct sb *b, const char *name, const char *value, int secret, int mask)
{
    if (b->len && b->p[b->len - 1] != '?')
        sb_str(b, "&");
    sb_str(b, name);
    sb_str(b, "=");
    if (secret && mask && value && *value)
        sb_str(b, TASMOTA_MASK);
    else if (value)
        sb_enc(b, value);
}

static enum so_err sb_done(struct sb *b)
{
    if (b->over) {
        if (b->cap)
            b->p[0] = '\0';
        return SO_E_TOOBIG;
    }
    return SO_OK;
}

static int set(const char *s)
{
    return s && *s;
}

/* ---- encoding / decoding ---- */

enum so_err tasmota_url_encode(const char *in, char *out, size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    if (!in)
        return SO_E_ARG;
    sb_enc(&b, in);
    return sb_done(&b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum so_err tasmota_url_decode(const char *in, size_t n, char *out, size_t cap, size_t *outlen)
{
    size_t k = 0;
    enum so_err e = SO_OK;
    if (outlen)
        *outlen = 0;
    if (cap == 0)
        return SO_E_TOOBIG;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '%') {
            if (n - i < 3) { /* fewer than two characters left */
                e = SO_E_SYNTAX;
                break;
            }
            int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                e = SO_E_SYNTAX;
                break;
            }
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        } else if (c == '\0') {
            e = SO_E_SYNTAX;
            break;
        }
        if (k + 1 >= cap) {
            e = SO_E_TOOBIG;
            break;
        }
        out[k++] = c;
    }
    if (e != SO_OK) {
        out[0] = '\0';
        return e;
    }
    out[k] = '\0';
    if (outlen)
        *outlen = k;
    return SO_OK;
}

/* ---- values ---- */

const char *tasmota_value_problem(const char *v)
{
    if (!v || !*v)
        return "is empty";
    size_t n = strlen(v);
    if (n > TASMOTA_VALUE_MAX)
        return "is longer than 64 bytes";
    if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t')
        return "starts or ends with a blank (Tasmota trims it)";
    if (!strcmp(v, "0") || !strcmp(v, "1"))
        return "is \"0\" or \"1\", which Tasmota reads as \"clear\" or \"default\"";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return "holds a control character";
        if (*p == ';')
            return "holds ';', which separates Backlog commands";
    }
    return NULL;
}

const char *tasmota_topic_problem(const char *v)
{
    const char *p = tasmota_value_problem(v);
    if (p)
        return p;
    if (strpbrk(v, "+#/ "))
        return "holds '+', '#', '/' or a space, which Tasmota replaces in a topic";
    return NULL;
}

/* ---- Backlog ---- */

static int ieq_prefix(const char *s, const char *word)
{
    for (; *word; s++, word++) {
        char a = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (a != *word)
            return 0;
    }
    return 1;
}

/* Appends one command; counts it. */
static void add_cmd(struct sb *b, int *n, const char *text, size_t len)
{
    sb_str(b, *n ? "; " : "Backlog ");
    sb_mem(b, text, len);
    (*n)++;
}

static void add_setting(struct sb *b, int *n, const char *cmd, const char *v, int secret,
                        int mask)
{
    sb_str(b, *n ? "; " : "Backlog ");
    sb_str(b, cmd);
    sb_str(b, " ");
    sb_str(b, secret && mask ? TASMOTA_MASK : v);
    (*n)++;
}

/* A command whose name holds "password" (Password1, MqttPassword, WebPassword, ...). */
static int secret_cmd(const char *a, const char *z)
{
    const char *end = a;
    while (end < z && *end != ' ' && *end != '\t')
        end++;
    for (const char *p = a; p + 8 <= end; p++)
        if (ieq_prefix(p, "password"))
            return 1;
    return 0;
}

/* The user's commands: optional leading "Backlog", split at ';', blanks trimmed; with mask
 * the argument of a password command becomes TASMOTA_MASK. */
static enum so_err add_user(struct sb *b, int *n, const char *s, int mask)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (ieq_prefix(s, "backlog") && (s[7] == ' ' || s[7] == '\t' || s[7] == '\0'))
        s += 7;
    while (*s) {
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *a = s, *z = s + len;
        while (a < z && (*a == ' ' || *a == '\t'))
            a++;
        while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
            z--;
        for (const char *p = a; p < z; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return SO_E_ARG;
        /* A nested Backlog would run apart from the rest; an empty one clears the queue. */
        if (z - a >= 7 && ieq_prefix(a, "backlog") &&
            (a + 7 == z || a[7] == ' ' || a[7] == '\t' || a[7] == '0'))
            return SO_E_ARG;
        if (z > a && mask && secret_cmd(a, z)) {
            const char *sp = a;
            while (sp < z && *sp != ' ' && *sp != '\t')
                sp++;
            add_cmd(b, n, a, (size_t)(sp - a));
            if (sp < z)
                sb_str(b, " " TASMOTA_MASK);
        } else if (z > a) {
            add_cmd(b, n, a, (size_t)(z - a));
        }
        s += len;
        if (*s == ';')
            s++;
    }
    return SO_OK;
}

enum so_err tasmota_backlog(const struct tasmota_cfg *c, int mask, char *out, size_t cap,
                            int *n_cmds)
{
    struct sb b;
    sb_init(&b, out, cap);
    int n = 0;
    if (n_cmds)
        *n_cmds = 0;
    if (!c)
        return SO_E_ARG;
    const struct {
        const char *cmd, *v;
        int secret, topic;
    } s[] = {
        {"MqttHost", c->mqtt_host, 0, 0},       {"MqttUser", c->mqtt_user, 0, 0},
        {"MqttPassword", c->mqtt_password, 1, 0}, {"Topic", c->topic, 0, 1},
        {"Hostname", c->hostname, 0, 0},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (set(s[i].v) && (s[i].topic ? tasmota_topic_problem(s[i].v)
                                       : tasmota_value_problem(s[i].v)))
            return SO_E_ARG;
    if (set(c->backlog) && add_user(&b, &n, c->backlog, mask) != SO_OK) {
        out[0] = '\0';
        return SO_E_ARG;
    }
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (set(s[i].v))
            add_setting(&b, &n, s[i].cmd, s[i].v, s[i].secret, mask);
    enum so_err e = sb_done(&b);
    if (e == SO_OK && (n > TASMOTA_BACKLOG_MAX || b.len > TASMOTA_CMND_MAX)) {
        out[0] = '\0';
        e = SO_E_TOOBIG;
    }
    if (e == SO_OK && n_cmds)
        *n_cmds = n;
    return e;
}

/* ---- request targets ---- */

enum so_err tasmota_url_cm(const char *cmnd, const char *web_password, int mask, char *out,
                           size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    if (!set(cmnd))
        return SO_E_ARG;
    sb_str(&b, "/cm?");
    if (set(web_password)) {
        sb_param(&b, "user", TASMOTA_WEB_USER, 0, mask);
        sb_param(&b, "password", web_password, 1, mask);
    }
    sb_param(&b, "cmnd", cmnd, 0, mask);
    return sb_done(&b);
}

enum so_err tasmota_url_wi(const struct tasmota_cfg *c, int mask, char *out, size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    if (!c || !set(c->ssid))
        return SO_E_ARG;
    sb_str(&b, "/wi?");
    sb_param(&b, "s1", c->ssid, 0, mask);
    sb_param(&b, "p1", c->wifi_password ? c->wifi_password : "", 1, mask);
    if (set(c->hostname))
        sb_param(&b, "h", c->hostname, 0, mask);
    sb_param(&b, "save", "", 0, mask);
    return sb_done(&b);
}

enum so_err tasmota_url_sv_wifi(const struct tasmota_cfg *c, int mask, char *out, size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    if (!c || !set(c->ssid))
        return SO_E_ARG;
    sb_str(&b, "/sv?w=1");
    sb_param(&b, "s1", c->ssid, 0, mask);
    sb_param(&b, "p1", c->wifi_password ? c->wifi_password : "", 1, mask);
    sb_param(&b, "s2", "", 0, mask);
    sb_param(&b, "p2", "", 0, mask);
    sb_param(&b, "h", set(c->hostname) ? c->hostname : "", 0, mask);
    sb_param(&b, "r", "1", 0, mask);
    return sb_done(&b);
}

enum so_err tasmota_url_sv_mqtt(const struct tasmota_cfg *c, int restart, int mask, char *out,
                                size_t cap)
{
    struct sb b;
    sb_init(&b, out, cap);
    if (!c)
        return SO_E_ARG;
    sb_str(&b, "/sv?w=2");
    sb_param(&b, "mh", set(c->mqtt_host) ? c->mqtt_host : "", 0, mask);
    sb_param(&b, "ml", "1883", 0, mask);
    sb_param(&b, "mc", "", 0, mask);
    sb_param(&b, "mu", set(c->mqtt_user) ? c->mqtt_user : "", 0, mask);
    sb_param(&b, "mp", set(c->mqtt_password) ? c->mqtt_password : "", 1, mask);
    sb_param(&b, "mt", set(c->topic) ? c->topic : "", 0, mask);
    sb_param(&b, "mf", "", 0, mask);
    sb_param(&b, "r", restart ? "1" : "0", 0, mask);
    return sb_done(&b);
}

/* ---- query strings ---- */

/* Decodes every "name=value" pair (strict); the first one called want (may be NULL) goes
 * to out. Names longer than 63 bytes are refused (SO_E_TOOBIG). */
static enum so_err each_param(const char *q, size_t n, const char *want, char *out, size_t cap,
                              int *found)
{
    char name[64];
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        size_t eq = i;
        while (eq < j && q[eq] != '=')
            eq++;
        if (j > i) {
            size_t nl;
            enum so_err e = tasmota_url_decode(q + i, eq - i, name, sizeof name, &nl);
            if (e != SO_OK)
                return e;
            const char *v = eq < j ? q + eq + 1 : q + j;
            size_t vn = eq < j ? j - eq - 1 : 0;
            if (want && !strcmp(name, want) && !*found) {
                e = tasmota_url_decode(v, vn, out, cap, NULL);
                if (e != SO_OK)
                    return e;
                *found = 1;
            } else {
                char tmp[TASMOTA_TARGET_MAX];
                e = tasmota_url_decode(v, vn, tmp, sizeof tmp, NULL);
                if (e != SO_OK)
                    return e;
            }
        }
        i = j + 1;
    }
    return SO_OK;
}

enum so_err tasmota_query_check(const char *q, size_t n)
{
    int found = 0;
    return each_param(q, n, NULL, NULL, 0, &found);
}

enum so_err tasmota_query_get(const char *q, size_t n, const char *name, char *out, size_t cap,
                              int *found)
{
    *found = 0;
    if (cap)
        out[0] = '\0';
    enum so_err e = each_param(q, n, name, out, cap, found);
    if (e != SO_OK) {
        *found = 0;
        if (cap)
            out[0] = '\0';
    }
    return e;
}
