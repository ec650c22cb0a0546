/* fwrules_win.c - pure part of fwcheck.h for Windows Defender Firewall: which profile
 * applies to the network that faces the device, what that profile does with incoming
 * connections, and whether an inbound rule blocks or allows this program or our ports.
 *
 * netsh prints English only on an English Windows; a localized one prints other words
 * ("Regelname:", "Zustand EIN"). Every value is matched to words we know, and text in
 * which they are missing makes the answer FW_UNREADABLE ("unknown"), never "open".
 * Windows' own precedence: a matching block rule beats any allow rule; an allow rule
 * beats the profile's default (BlockInbound); BlockInboundAlways ("block all incoming
 * connections, including those in the list of allowed apps") beats every allow. */
#include "sonota/fwcheck.h"

#include "sonota/fwrules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
#define NAME_MAX_LEN 128
#define HITS_MAX 8

/* No double quotes: Windows PowerShell re-splits its command line, and single quotes
 * survive that unchanged. [char]9 is a tab. */
const char fw_win_networks_ps[] =
    "$ErrorActionPreference='SilentlyContinue'; "
    "Get-NetConnectionProfile | ForEach-Object { 'net' + [char]9 + $_.InterfaceIndex + "
    "[char]9 + $_.NetworkCategory + [char]9 + $_.InterfaceAlias + [char]9 + $_.Name }; "
    "Get-NetIPAddress -AddressFamily IPv4 | ForEach-Object { 'ip' + [char]9 + "
    "$_.InterfaceIndex + [char]9 + $_.IPAddress }";

static const char *const PUBLIC_ADVICE =
    "Windows blocks incoming connections on a Public network: set this network to "
    "Private, or allow sonota in the prompt for Private networks";
static const char *const ALLOW_APP =
    "Windows Security > Firewall & network protection > Allow an app through firewall";

enum prof { P_DOMAIN, P_PRIVATE, P_PUBLIC, P_COUNT };
static const char *const PROF_NAME[P_COUNT] = {"Domain", "Private", "Public"};

enum inbound { IN_UNKNOWN, IN_ALLOW, IN_BLOCK, IN_BLOCK_ALWAYS };

struct profile {
    int seen;
    int state;              /* -1 unknown, 0 off, 1 on */
    enum inbound inbound;
};

/* A block rule that matched: where it applies and which of our ports it blocks. */
struct hit {
    unsigned profiles;      /* bit per enum prof */
    unsigned mask;
    int program;            /* the rule names this program (not only ports) */
    char name[NAME_MAX_LEN];
};

struct verdicts {
    unsigned allowed[P_COUNT]; /* ports an allow rule lets in, per profile */
    struct hit hit[HITS_MAX];
    size_t nhits;
};

/* "Key    value" (netsh's settings) or "Key:   value" (its rules): the key is what comes
 * before the first ':' (when colon) or the first run of two blanks; value is trimmed. */
static int key_value(char *line, int colon, char **key, char **val)
{
    char *sep = colon ? strchr(line, ':') : strstr(line, "  ");
    if (!sep || sep == line)
        return 0;
    *sep = '\0';
    *key = line;
    *val = (char *)fw_skip_blanks(sep + 1);
    for (char *k = sep - 1; k > line && (*k == ' ' || *k == '\t'); k--)
        *k = '\0';
    return 1;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* ---- netsh advfirewall show allprofiles ---- */

static int parse_profiles(const char *text, struct profile *pr)
{
    memset(pr, 0, P_COUNT * sizeof *pr);
    for (int i = 0; i < P_COUNT; i++)
        pr[i].state = -1;
    int cur = -1;
    char line[LINE_MAX_LEN];
    for (const char *p = text; p && fw_next_line(&p, line, sizeof line);) {
        const char *s = fw_skip_blanks(line);
        int header = 0;
        for (int i = 0; i < P_COUNT; i++) {
            char want[48];
            snprintf(want, sizeof want, "%s Profile Settings:", PROF_NAME[i]);
            if (ieq(s, want)) {
                cur = i;
                pr[i].seen = header = 1;
            }
        }
        char *key, *val;
        if (header || cur < 0 || !key_value((char *)s, 0, &key, &val))
            continue;
        if (ieq(key, "State")) {
            /* NotConfigured: no group policy sets it, so Windows' default (on) holds. */
            pr[cur].state = ieq(val, "ON") || ieq(val, "NotConfigured") ? 1
                            : ieq(val, "OFF") ? 0 : -1;
        } else if (ieq(key, "Firewall Policy")) {
            char first[32];
            size_t n = strcspn(val, ",");
            snprintf(first, sizeof first, "%.*s", (int)(n < 31 ? n : 31), val);
            pr[cur].inbound = ieq(first, "BlockInboundAlways") ? IN_BLOCK_ALWAYS
                              : ieq(first, "BlockInbound") || ieq(first, "NotConfigured")
                                  ? IN_BLOCK
                              : ieq(first, "AllowInbound") ? IN_ALLOW : IN_UNKNOWN;
        }
    }
    for (int i = 0; i < P_COUNT; i++)
        if (!pr[i].seen || pr[i].state < 0 || (pr[i].state && pr[i].inbound == IN_UNKNOWN))
            return -1;
    return 0;
}

int fw_win_needs_rules(const char *profiles)
{
    struct profile pr[P_COUNT];
    if (!profiles || parse_profiles(profiles, pr) != 0)
        return 0;
    for (int i = 0; i < P_COUNT; i++)
        if (pr[i].state && pr[i].inbound != IN_BLOCK_ALWAYS)
            return 1;
    return 0;
}

/* ---- netsh advfirewall firewall show rule name=all dir=in verbose ---- */

struct rule {
    char name[NAME_MAX_LEN];
    int enabled, inbound, tcp, block, allow, secure_only;
    unsigned profiles;
    int conditional;        /* addresses or interface types we cannot judge */
    int other_service;      /* only for one service's process */
    int program_any, program_ours;
    char ports[256];        /* LocalPort; "" = not listed (any) */
};

static void rule_reset(struct rule *r, const char *name)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->program_any = 1; /* a rule without a Program line is for every program */
    r->tcp = 1;         /* and without Protocol for every protocol */
}

/* Paths compare case-insensitively with either slash, as Windows does. */
static int same_path(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '/' ? '\\' : (char)tolower((unsigned char)*a);
        char y = *b == '/' ? '\\' : (char)tolower((unsigned char)*b);
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static void rule_field(struct rule *r, const char *key, const char *val, const char *program)
{
    if (ieq(key, "Enabled")) {
        r->enabled = ieq(val, "Yes");
    } else if (ieq(key, "Direction")) {
        r->inbound = ieq(val, "In");
    } else if (ieq(key, "Profiles")) {
        r->profiles = 0;
        for (int i = 0; i < P_COUNT; i++)
            if (fw_has_word(val, PROF_NAME[i]) || ieq(val, "Any"))
                r->profiles |= 1u << i;
    } else if (ieq(key, "Protocol")) {
        r->tcp = ieq(val, "TCP") || ieq(val, "Any") || !strcmp(val, "6");
    } else if (ieq(key, "LocalPort")) {
        snprintf(r->ports, sizeof r->ports, "%s", val);
    } else if (ieq(key, "LocalIP") || ieq(key, "InterfaceTypes")) {
        r->conditional |= !ieq(val, "Any");
    } else if (ieq(key, "RemoteIP")) {
        /* The device is always on this computer's subnet (FinalStage, the home LAN). */
        r->conditional |= !ieq(val, "Any") && !ieq(val, "LocalSubnet");
    } else if (ieq(key, "Program")) {
        r->program_any = ieq(val, "Any");
        r->program_ours = program && *program && same_path(val, program);
    } else if (ieq(key, "Service")) {
        r->other_service = !ieq(val, "Any");
    } else if (ieq(key, "Security")) {
        r->secure_only = !ieq(val, "NotRequired"); /* IPsec: the device cannot */
    } else if (ieq(key, "Action")) {
        r->allow = ieq(val, "Allow");
        r->block = ieq(val, "Block");
    }
}

/* Does LocalPort ("Any", "8080", "8000-9000", "80,443", "RPC"...) include port? */
static int port_listed(const char *list, int port)
{
    if (!*list || ieq(list, "Any"))
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *item = buf; item && *item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        const char *st = fw_skip_blanks(item);
        char *end;
        long lo = strtol(st, &end, 10), hi = lo;
        int num = end != st;
        if (num && *end == '-')
            hi = strtol(end + 1, &end, 10);
        if (num && *fw_skip_blanks(end) == '\0' && port >= lo && port <= hi)
            return 1;
        item = comma ? comma + 1 : NULL;
    }
    return 0;
}

static void rule_done(const struct rule *r, const int *ports, size_t nports,
                      struct verdicts *v)
{
    if (!r->name[0] || !r->enabled || !r->inbound || !r->tcp || r->other_service ||
        (!r->program_any && !r->program_ours))
        return;
    unsigned mask = 0;
    for (size_t i = 0; i < nports; i++)
        if (port_listed(r->ports, ports[i]))
            mask |= 1u << i;
    if (!mask)
        return;
    if (r->block) {
        /* Conservative: a block with conditions still counts (the warning says "may"). */
        for (size_t k = 0; k < v->nhits; k++)
            if (!strcmp(v->hit[k].name, r->name) && v->hit[k].profiles == r->profiles) {
                v->hit[k].mask |= mask;
                return;
            }
        if (v->nhits < HITS_MAX) {
            struct hit *h = &v->hit[v->nhits++];
            h->profiles = r->profiles;
            h->mask = mask;
            h->program = r->program_ours;
            snprintf(h->name, sizeof h->name, "%s", r->name);
        }
    } else if (r->allow && !r->conditional && !r->secure_only) {
        for (int i = 0; i < P_COUNT; i++)
            if (r->profiles & (1u << i))
                v->allowed[i] |= mask;
    }
}

/* Returns -1 when the text is not netsh's English rule listing. */
static int parse_rules(const char *text, const char *program, const int *ports,
                       size_t nports, struct verdicts *v)
{
    memset(v, 0, sizeof *v);
    struct rule r;
    rule_reset(&r, "");
    int any = 0;
    char line[LINE_MAX_LEN];
    for (const char *p = text; p && fw_next_line(&p, line, sizeof line);) {
        char *key, *val;
        if (!key_value(line, 1, &key, &val))
            continue;
        if (ieq(key, "Rule Name")) {
            rule_done(&r, ports, nports, v);
            rule_reset(&r, val);
            any = 1;
        } else {
            rule_field(&r, key, val, program);
        }
    }
    rule_done(&r, ports, nports, v);
    return any || fw_has_word(text, "No rules match") ? 0 : -1;
}

/* ---- Get-NetConnectionProfile / Get-NetIPAddress (fw_win_networks_ps) ---- */

struct net {
    long ifindex;
    int prof;
    char alias[64], name[64];
};

/* Splits a tab-separated line in place; returns the number of fields. */
static size_t tabs(char *line, char **f, size_t cap)
{
    size_t n = 0;
    for (char *s = line; s && n < cap;) {
        f[n++] = s;
        s = strchr(s, '\t');
        if (s)
            *s++ = '\0';
    }
    return n;
}

static size_t parse_networks(const char *text, const char *local_ip, struct net *nets,
                             size_t cap, long *facing)
{
    size_t n = 0;
    *facing = -1;
    char line[LINE_MAX_LEN];
    for (const char *p = text; p && fw_next_line(&p, line, sizeof line);) {
        char *f[5];
        size_t k = tabs(line, f, 5);
        if (k == 5 && !strcmp(f[0], "net") && n < cap) {
            struct net *x = &nets[n];
            x->ifindex = strtol(f[1], NULL, 10);
            x->prof = ieq(f[2], "Public") ? P_PUBLIC : ieq(f[2], "Private") ? P_PRIVATE
                      : ieq(f[2], "DomainAuthenticated") ? P_DOMAIN : -1;
            snprintf(x->alias, sizeof x->alias, "%s", f[3]);
            snprintf(x->name, sizeof x->name, "%s", f[4]);
            n += x->prof >= 0;
        } else if (k == 3 && !strcmp(f[0], "ip") && local_ip && !strcmp(f[2], local_ip)) {
            *facing = strtol(f[1], NULL, 10);
        }
    }
    return n;
}

/* The profiles that may apply (bit per enum prof) and words for each: the network
 * that has local_ip, else every connected network, else all three ("unknown"). */
static unsigned candidates(const struct fw_win_text *in, char where[P_COUNT][FW_WHERE_MAX])
{
    struct net nets[8];
    long facing = -1;
    size_t n = in->networks ? parse_networks(in->networks, in->local_ip, nets, 8, &facing)
                            : 0;
    unsigned set = 0;
    for (int pass = 0; pass < 2 && !set; pass++)
        for (size_t i = 0; i < n; i++) {
            if (pass == 0 && nets[i].ifindex != facing)
                continue;
            int pr = nets[i].prof;
            size_t len = strlen(where[pr]);
            if (!(set & (1u << pr)))
                len = (size_t)snprintf(where[pr], FW_WHERE_MAX, "%s network", PROF_NAME[pr]);
            if (len < FW_WHERE_MAX)
                snprintf(where[pr] + len, FW_WHERE_MAX - len, "%s \"%s\" (%s)",
                         set & (1u << pr) ? "," : "", nets[i].name, nets[i].alias);
            set |= 1u << pr;
        }
    if (!set)
        for (int pr = 0; pr < P_COUNT; pr++) {
            snprintf(where[pr], FW_WHERE_MAX, "%s profile (if this network has it)",
                     PROF_NAME[pr]);
            set |= 1u << pr;
        }
    return set;
}

/* ---- the verdict ---- */

static void judge(int pr, const struct profile *p, const struct verdicts *v, unsigned all,
                  const char *where, struct fw_report *out)
{
    struct fw_finding *f;
    if (!p->state)
        return;
    if (p->inbound == IN_BLOCK_ALWAYS) {
        if ((f = fw_add_advice(out, all, where)) != NULL) {
            f->policy = 1;
            snprintf(f->rule, sizeof f->rule, "the %s profile blocks all incoming "
                     "connections, even for allowed apps", PROF_NAME[pr]);
            snprintf(f->fix, sizeof f->fix, "untick \"Blocks all incoming connections, "
                     "including those in the list of allowed apps\" in Windows Security > "
                     "Firewall & network protection > %s network", PROF_NAME[pr]);
        }
        return;
    }
    unsigned blocked = 0;
    for (size_t k = 0; k < v->nhits; k++) {
        const struct hit *h = &v->hit[k];
        if (!(h->profiles & (1u << pr)) || !(f = fw_add_advice(out, h->mask, where)))
            continue;
        blocked |= h->mask;
        snprintf(f->rule, sizeof f->rule, "inbound rule \"%s\" blocks %s", h->name,
                 h->program ? "sonota" : "these ports");
        if (h->program)
            snprintf(f->fix, sizeof f->fix, "%sallow sonota for %s networks in %s (Windows "
                     "adds such a rule when its question is cancelled)",
                     pr == P_PUBLIC ? "set this network to Private, then " : "",
                     pr == P_PUBLIC ? "Private" : PROF_NAME[pr], ALLOW_APP);
        else
            snprintf(f->fix, sizeof f->fix, "disable that rule in Windows Defender Firewall "
                     "> Advanced settings > Inbound Rules (as an administrator)");
    }
    unsigned rest = all & ~blocked & ~v->allowed[pr];
    if (p->inbound != IN_BLOCK || !(f = fw_add_advice(out, rest, where)))
        return;
    f->policy = 1;
    snprintf(f->rule, sizeof f->rule, "no inbound rule allows sonota, and the %s profile "
             "blocks incoming connections by default", PROF_NAME[pr]);
    if (pr == P_PUBLIC)
        snprintf(f->fix, sizeof f->fix, "%s", PUBLIC_ADVICE);
    else
        snprintf(f->fix, sizeof f->fix, "allow sonota when Windows asks, or tick it for %s "
                 "networks in %s", PROF_NAME[pr], ALLOW_APP);
}

static void unreadable(struct fw_report *out, const char *what, const char *list)
{
    out->status = FW_UNREADABLE;
    snprintf(out->note, sizeof out->note, "could not read Windows Defender Firewall's %s "
             "(netsh failed or printed another language); if the device cannot connect to "
             "TCP %s: %s", what, list, PUBLIC_ADVICE);
}

void fw_scan_windows(const struct fw_win_text *in, const int *ports, size_t nports,
                     struct fw_report *out)
{
    char list[32]; /* FW_PORTS_MAX ports */
    nports = fw_report_start(out, "Windows Defender Firewall", ports, nports, list,
                             sizeof list);
    struct profile pr[P_COUNT];
    if (!in->profiles || parse_profiles(in->profiles, pr) != 0) {
        unreadable(out, "profiles", list);
        return;
    }
    char where[P_COUNT][FW_WHERE_MAX] = {{0}};
    unsigned set = candidates(in, where);
    struct verdicts *v = calloc(1, sizeof *v);
    int need = 0;
    for (int i = 0; i < P_COUNT; i++)
        need |= (set & (1u << i)) && pr[i].state && pr[i].inbound != IN_BLOCK_ALWAYS;
    if (!v || (need && (!in->rules ||
                        parse_rules(in->rules, in->program, ports, nports, v) != 0))) {
        free(v);
        unreadable(out, "inbound rules", list);
        return;
    }
    out->status = FW_CHECKED;
    unsigned all = nports ? (1u << nports) - 1 : 0;
    for (int i = 0; i < P_COUNT; i++)
        if (set & (1u << i))
            judge(i, &pr[i], v, all, where[i], out);
    free(v);
}
