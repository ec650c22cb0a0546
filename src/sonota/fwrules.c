/* fwrules.c - pure part of fwcheck.h: nftables and iptables INPUT rules, walked for a new
 * TCP connection to each of sonota's ports; and the text helpers every parser shares
 * (fwrules_int.h). */
#include "sonota/fwcheck.h"

#include "sonota/fwrules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
#define TOKENS_MAX 96

enum verdict { V_NONE, V_ACCEPT, V_DROP };

/* What a rule says about a new IPv4 TCP connection to one port. */
struct rule {
    enum verdict v;
    int other_proto;   /* only UDP, ICMP, IPv6, ...: never our connections */
    int ct_not_new;    /* ct state / --state without "new" */
    int qualified;     /* interface, address, rate... conditions we cannot judge */
    int has_ports;     /* a destination-port condition */
    int negate;        /* != / ! before it */
    int unknown_ports; /* a named set (@name) */
    int lo[16], hi[16];
    int nranges;
};

void fw_ports_text(const int *ports, size_t nports, unsigned mask, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nports && len < cap; i++)
        if (mask & (1u << i))
            len += (size_t)snprintf(out + len, cap - len, "%s%d", len ? ", " : "", ports[i]);
}

int fw_next_line(const char **p, char *buf, size_t cap)
{
    const char *line = *p;
    if (!line || !*line)
        return 0;
    const char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    *p = eol ? eol + 1 : line + len;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, line, len);
    while (len && (buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    buf[len] = '\0';
    return 1;
}

const char *fw_skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int fw_has_word(const char *s, const char *word)
{
    for (; *s; s++) {
        size_t i = 0;
        while (word[i] && tolower((unsigned char)s[i]) == tolower((unsigned char)word[i]))
            i++;
        if (!word[i])
            return 1;
    }
    return 0;
}

static size_t split(char *line, char **tok, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(line, " \t\r\n", &save); p && n < cap;
         p = strtok_r(NULL, " \t\r\n", &save))
        tok[n++] = p;
    return n;
}

/* "8080" / "8000-9000" / "8000:9000" / a few service names; 0 or -1. */
static int parse_port_item(const char *s, int *lo, int *hi)
{
    static const struct { const char *name; int port; } names[] = {
        {"http", 80}, {"https", 443}, {"http-alt", 8080}, {"webcache", 8080},
    };
    char buf[32];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof buf; p++)
        if (*p != '{' && *p != '}' && *p != ',')
            buf[n++] = *p;
    buf[n] = '\0';
    if (!n)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(buf, names[i].name)) {
            *lo = *hi = names[i].port;
            return 0;
        }
    if (!isdigit((unsigned char)buf[0]))
        return -1;
    char *end;
    long a = strtol(buf, &end, 10), b = a;
    if (*end == '-' || *end == ':')
        b = strtol(end + 1, &end, 10);
    if (*end || a < 0 || b < a || b > 65535)
        return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

static void add_range(struct rule *r, const char *item)
{
    int lo, hi;
    if (parse_port_item(item, &lo, &hi) != 0) {
        r->unknown_ports = 1;
        return;
    }
    if (r->nranges < 16) {
        r->lo[r->nranges] = lo;
        r->hi[r->nranges++] = hi;
    }
}

/* 1 the rule decides for `port` (with the conservative asymmetry of fwcheck.h), 0 not. */
static int applies(const struct rule *r, int port)
{
    if (r->v == V_NONE || r->other_proto || r->ct_not_new)
        return 0;
    int drop = r->v == V_DROP;
    if (r->has_ports) {
        if (r->unknown_ports)
            return drop;
        int in = 0;
        for (int i = 0; i < r->nranges; i++)
            if (port >= r->lo[i] && port <= r->hi[i])
                in = 1;
        if (in == r->negate)
            return 0;
    }
    return r->qualified ? drop : 1;
}

static int is_other_proto(const char *t)
{
    static const char *const other[] = {"udp", "udplite", "icmp", "icmpv6", "sctp", "dccp",
                                        "esp", "ah", "igmp", "gre", "ipv6-icmp"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (!strcmp(t, other[i]))
            return 1;
    return 0;
}

static int mentions(char **tok, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(tok[i], word))
            return 1;
    return 0;
}

/* ---- nftables ---- */

static void nft_rule(char **tok, size_t n, struct rule *r)
{
    memset(r, 0, sizeof *r);
    int tcp = 0, other = 0, ip6 = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = tok[i];
        ip6 |= !strcmp(t, "ip6"); /* an IPv6-only match in an inet table */
        if (!strcmp(t, "comment"))
            break; /* the rest is free text */
        if (!strcmp(t, "accept")) {
            r->v = V_ACCEPT;
            break;
        }
        if (!strcmp(t, "drop") || !strcmp(t, "reject")) {
            r->v = V_DROP;
            break;
        }
        if (!strcmp(t, "jump") || !strcmp(t, "goto") || !strcmp(t, "return") ||
            !strcmp(t, "queue") || !strcmp(t, "continue"))
            break; /* not a verdict for this walk */
        if (!strcmp(t, "tcp") || !strcmp(t, "th"))
            tcp = 1;
        else if (is_other_proto(t))
            other = 1;
        if (!strcmp(t, "ct") && i + 1 < n && !strcmp(tok[i + 1], "state")) {
            int is_new = 0;
            size_t j = i + 2;
            if (j < n && !strcmp(tok[j], "!="))
                j++;
            int set = j < n && tok[j][0] == '{';
            for (; j < n; j++) {
                if (strstr(tok[j], "new"))
                    is_new = 1;
                if (!set || strchr(tok[j], '}'))
                    break;
            }
            if (!is_new)
                r->ct_not_new = 1;
            i = j;
            continue;
        }
        if (!strcmp(t, "dport")) {
            r->has_ports = 1;
            size_t j = i + 1;
            if (j < n && !strcmp(tok[j], "!=")) {
                r->negate = 1;
                j++;
            }
            if (j < n && tok[j][0] == '@') {
                r->unknown_ports = 1;
            } else if (j < n && tok[j][0] == '{') {
                for (; j < n; j++) {
                    if (strcmp(tok[j], "{") != 0 && strcmp(tok[j], "}") != 0)
                        add_range(r, tok[j]);
                    if (strchr(tok[j], '}'))
                        break;
                }
            } else if (j < n) {
                add_range(r, tok[j]);
            }
            i = j;
            continue;
        }
        if (!strcmp(t, "iifname") || !strcmp(t, "iif") || !strcmp(t, "saddr") ||
            !strcmp(t, "daddr") || !strcmp(t, "sport") || !strcmp(t, "limit") ||
            !strcmp(t, "flags") || !strcmp(t, "mark") || !strcmp(t, "skuid") ||
            !strcmp(t, "fib"))
            r->qualified = 1;
    }
    r->other_proto = ip6 || (other && !tcp);
}

struct nft_chain {
    char where[96];
    int input, policy_drop;
    int decided[FW_PORTS_MAX];   /* a rule already decided for this port */
};

static void nft_fix(const struct nft_chain *c, const int *ports, size_t nports, unsigned mask,
                    char *out, size_t cap)
{
    char list[64];
    fw_ports_text(ports, nports, mask, list, sizeof list);
    snprintf(out, cap, "sudo nft insert rule %s tcp dport %s%s%s accept", c->where,
             strchr(list, ',') ? "{ " : "", list, strchr(list, ',') ? " }" : "");
}

static size_t nft_add(struct fw_finding *out, size_t cap, size_t k, const struct nft_chain *c,
                      const int *ports, size_t nports, unsigned mask, const char *rule,
                      int policy)
{
    if (!mask || k >= cap)
        return k;
    struct fw_finding *f = &out[k];
    memset(f, 0, sizeof *f);
    f->port_mask = mask;
    f->policy = policy;
    snprintf(f->where, sizeof f->where, "%s", c->where);
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    nft_fix(c, ports, nports, mask, f->fix, sizeof f->fix);
    return k + 1;
}

size_t fw_scan_nft(const char *text, const int *ports, size_t nports,
                   struct fw_finding *out, size_t cap)
{
    if (nports > FW_PORTS_MAX)
        nports = FW_PORTS_MAX;
    char family[16] = "", table[40] = "";
    struct nft_chain c;
    memset(&c, 0, sizeof c);
    int depth = 0, in_chain = 0, chain_depth = 0;
    size_t k = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[LINE_MAX_LEN], shown[LINE_MAX_LEN];
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = eol ? eol + 1 : NULL;
        char *hash = strstr(buf, " # handle");
        if (hash)
            *hash = '\0';
        char *start = buf;
        while (*start == ' ' || *start == '\t')
            start++;
        snprintf(shown, sizeof shown, "%s", start);
        int opens = 0, closes = 0;
        for (const char *p = start; *p; p++) {
            opens += *p == '{';
            closes += *p == '}';
        }
        char *tok[TOKENS_MAX];
        size_t n = split(start, tok, TOKENS_MAX);
        if (n >= 3 && depth == 0 && !strcmp(tok[0], "table")) {
            snprintf(family, sizeof family, "%s", n >= 4 ? tok[1] : "ip");
            snprintf(table, sizeof table, "%s", n >= 4 ? tok[2] : tok[1]);
        } else if (n >= 2 && depth == 1 && !strcmp(tok[0], "chain")) {
            memset(&c, 0, sizeof c);
            snprintf(c.where, sizeof c.where, "%s %s %s", family, table, tok[1]);
            in_chain = 1;
            chain_depth = depth + 1;
        } else if (in_chain && depth == chain_depth && n >= 1 && !strcmp(tok[0], "type")) {
            /* "type filter hook input priority filter; policy drop;" (IPv4 families). */
            c.input = mentions(tok, n, "hook") && mentions(tok, n, "input") &&
                      (!strcmp(family, "ip") || !strcmp(family, "inet"));
            for (size_t i = 0; i + 1 < n; i++)
                if (!strcmp(tok[i], "policy") && !strncmp(tok[i + 1], "drop", 4))
                    c.policy_drop = 1;
        } else if (in_chain && c.input && depth == chain_depth && n > 0 && opens == closes) {
            struct rule r;
            nft_rule(tok, n, &r);
            unsigned blocked = 0;
            for (size_t p = 0; p < nports; p++) {
                if (c.decided[p] || !applies(&r, ports[p]))
                    continue;
                c.decided[p] = 1;
                if (r.v == V_DROP)
                    blocked |= 1u << p;
            }
            k = nft_add(out, cap, k, &c, ports, nports, blocked, shown, 0);
        }
        depth += opens - closes;
        if (depth < 0)
            depth = 0;
        if (in_chain && depth < chain_depth) {
            in_chain = 0;
            if (c.input && c.policy_drop) {
                unsigned blocked = 0;
                for (size_t p = 0; p < nports; p++)
                    if (!c.decided[p])
                        blocked |= 1u << p;
                k = nft_add(out, cap, k, &c, ports, nports, blocked, "policy drop", 1);
            }
        }
    }
    return k;
}

/* ---- iptables -S ---- */

static void ipt_rule(char **tok, size_t n, struct rule *r)
{
    memset(r, 0, sizeof *r);
    int neg = 0;
    for (size_t i = 2; i < n; i++) { /* after "-A INPUT" */
        const char *t = tok[i];
        const char *arg = i + 1 < n ? tok[i + 1] : "";
        if (!strcmp(t, "!")) {
            neg = 1;
            continue;
        }
        if (!strcmp(t, "-p") || !strcmp(t, "--protocol")) {
            int tcp = !strcmp(arg, "tcp") || !strcmp(arg, "6");
            if (tcp == neg) /* -p udp, or ! -p tcp */
                r->other_proto = 1;
            i++;
        } else if (!strcmp(t, "--dport") || !strcmp(t, "--destination-port") ||
                   !strcmp(t, "--dports") || !strcmp(t, "--destination-ports")) {
            r->has_ports = 1;
            r->negate = neg;
            char item[256];
            snprintf(item, sizeof item, "%s", arg);
            char *save = NULL;
            for (char *p = strtok_r(item, ",", &save); p; p = strtok_r(NULL, ",", &save))
                add_range(r, p);
            i++;
        } else if (!strcmp(t, "--state") || !strcmp(t, "--ctstate")) {
            char low[128];
            size_t m = 0;
            for (const char *p = arg; *p && m + 1 < sizeof low; p++)
                low[m++] = (char)tolower((unsigned char)*p);
            low[m] = '\0';
            if ((strstr(low, "new") == NULL) != neg)
                r->ct_not_new = 1;
            i++;
        } else if (!strcmp(t, "-i") || !strcmp(t, "-s") || !strcmp(t, "-d") ||
                   !strcmp(t, "--sport") || !strcmp(t, "--sports") || !strcmp(t, "--in-interface") ||
                   !strcmp(t, "--source") || !strcmp(t, "--limit") || !strcmp(t, "--match-set") ||
                   !strcmp(t, "--tcp-flags") || !strcmp(t, "--syn") || !strcmp(t, "--uid-owner")) {
            r->qualified = 1;
            if (strcmp(t, "--syn") != 0)
                i++;
        } else if (!strcmp(t, "-j") || !strcmp(t, "--jump")) {
            r->v = !strcmp(arg, "ACCEPT") ? V_ACCEPT
                   : !strcmp(arg, "DROP") || !strcmp(arg, "REJECT") ? V_DROP : V_NONE;
            break;
        }
        neg = 0;
    }
}

static size_t ipt_add(struct fw_finding *out, size_t cap, size_t k, const int *ports,
                      size_t nports, unsigned mask, const char *rule, int policy)
{
    if (!mask || k >= cap)
        return k;
    struct fw_finding *f = &out[k];
    memset(f, 0, sizeof *f);
    f->port_mask = mask;
    f->policy = policy;
    snprintf(f->where, sizeof f->where, "INPUT");
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    char list[64];
    fw_ports_text(ports, nports, mask, list, sizeof list);
    for (char *p = list; *p; p++)
        if (*p == ' ')
            memmove(p, p + 1, strlen(p)); /* "8080,8443" */
    snprintf(f->fix, sizeof f->fix, "sudo iptables -I INPUT -p tcp -m multiport --dports %s "
             "-j ACCEPT", list);
    return k + 1;
}

size_t fw_scan_iptables(const char *text, const int *ports, size_t nports,
                        struct fw_finding *out, size_t cap)
{
    if (nports > FW_PORTS_MAX)
        nports = FW_PORTS_MAX;
    int decided[FW_PORTS_MAX] = {0};
    int policy_drop = 0;
    size_t k = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[LINE_MAX_LEN], shown[LINE_MAX_LEN];
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = eol ? eol + 1 : NULL;
        snprintf(shown, sizeof shown, "%s", buf);
        char *tok[TOKENS_MAX];
        size_t n = split(buf, tok, TOKENS_MAX);
        if (n < 3 || strcmp(tok[1], "INPUT") != 0)
            continue;
        if (!strcmp(tok[0], "-P")) {
            policy_drop = !strcmp(tok[2], "DROP");
            continue;
        }
        if (strcmp(tok[0], "-A") != 0)
            continue;
        struct rule r;
        ipt_rule(tok, n, &r);
        unsigned blocked = 0;
        for (size_t p = 0; p < nports; p++) {
            if (decided[p] || !applies(&r, ports[p]))
                continue;
            decided[p] = 1;
            if (r.v == V_DROP)
                blocked |= 1u << p;
        }
        k = ipt_add(out, cap, k, ports, nports, blocked, shown, 0);
    }
    if (policy_drop) {
        unsigned blocked = 0;
        for (size_t p = 0; p < nports; p++)
            if (!decided[p])
                blocked |= 1u << p;
        k = ipt_add(out, cap, k, ports, nports, blocked, "-P INPUT DROP", 1);
    }
    return k;
}

struct fw_finding *fw_add_advice(struct fw_report *out, unsigned mask, const char *where)
{
    if (!mask || out->n >= FW_FINDINGS_MAX)
        return NULL;
    struct fw_finding *f = &out->f[out->n++];
    memset(f, 0, sizeof *f);
    f->port_mask = mask;
    f->advice = 1;
    snprintf(f->where, sizeof f->where, "%s", where);
    return f;
}

size_t fw_report_start(struct fw_report *out, const char *tool, const int *ports,
                       size_t nports, char *list, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (nports > FW_PORTS_MAX)
        nports = FW_PORTS_MAX;
    out->tool = tool;
    fw_ports_text(ports, nports, ~0u, list, cap);
    return nports;
}
