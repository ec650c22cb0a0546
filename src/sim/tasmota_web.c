/* tasmota_web.c - the simulated Tasmota's web server (PROTOCOL.md §7): one request per
 * connection, GET only. Modern: "/" (the WiFi form in manager mode, else the main menu),
 * /cm?cmnd=.. (HandleHttpCommand), /wi?..&save= (WifiSaveSettings; in manager mode the new
 * network is tested first). 5.x: "/" and /sv?w=1|2 (HandleSaveSettings), nothing else.
 * Stricter than the firmware: a query that does not decode (bad %XX, encoded NUL) gets
 * 400. In manager mode a Host header that is not an IP address is redirected to the AP
 * address (CaptivePortal). */
#include "sim/tasmota_int.h"

#include "io/log.h"
#include "lib/http_head.h"
#include "sim/netio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQ_TIMEOUT_MS 3000

#define PAGE_HEAD "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
#define PAGE_WIFI "Wifi parameters</title></head><body><h2>Tasmota</h2><form action=\"wi\">" \
                  "<input id=\"s1\" name=\"s1\"><input id=\"p1\" name=\"p1\" type=\"password\">" \
                  "<input id=\"h\" name=\"h\"><button name=\"save\">Save</button></form>"       \
                  "</body></html>"
#define PAGE_MAIN "Tasmota - Main Menu</title></head><body><h2>Tasmota</h2>"                  \
                  "<p>Sonoff Basic Module</p></body></html>"
#define PAGE_TRY "Wifi parameters</title></head><body><h2>Tasmota</h2><p>Trying to connect "   \
                 "device to network<br>If it fails, connect to the AP again to try</p>"         \
                 "</body></html>"
#define PAGE_SAVED "Save Configuration</title></head><body><b>Configuration saved</b><br>"   \
                   "Device will restart in a few seconds</body></html>"

static const char *reason(int st)
{
    switch (st) {
    case 200: return "OK";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Error";
    }
}

static void send_reply(struct netio_conn *c, int status, const char *type, const char *body,
                       const char *location)
{
    char head[400];
    size_t bl = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s%s"
                     "Connection: close\r\n\r\n",
                     status, reason(status), type, bl, location ? "Location: " : "",
                     location ? location : "", location ? "\r\n" : "");
    if (n > 0 && (size_t)n < sizeof head && netio_write(c, head, (size_t)n, 2000) == 0 && bl)
        netio_write(c, body, bl, 2000);
}

static void html(struct netio_conn *c, int status, const char *page)
{
    char *body = malloc(strlen(PAGE_HEAD) + strlen(page) + 1);
    if (!body)
        return;
    strcpy(body, PAGE_HEAD);
    strcat(body, page);
    send_reply(c, status, "text/html", body, NULL);
    free(body);
}

static void record(struct tas_dev *d, struct so_str method, struct so_str path, int status)
{
    struct sim_tasmota_state *st = d->st;
    if (d->lan)
        st->lan_requests++;
    else
        st->ap_requests++;
    if (status == 400)
        st->bad_requests++;
    if (st->n_req >= SIM_TAS_REQS)
        return;
    so_str_copy((struct so_str){method.p, method.n < 7 ? method.n : 7}, st->req[st->n_req].method,
                sizeof st->req[0].method);
    so_str_copy((struct so_str){path.p, path.n < 39 ? path.n : 39}, st->req[st->n_req].path,
                sizeof st->req[0].path);
    st->req[st->n_req].status = status;
    st->req[st->n_req].lan = d->lan;
    st->n_req++;
}

/* A query parameter (decoded; "" when absent). 0, or -1 when too long. */
static int arg(struct so_str q, const char *name, char *out, size_t cap, int *found)
{
    int f = 0;
    if (tasmota_query_get(q.p, q.n, name, out, cap, &f) != SO_OK)
        return -1;
    if (found)
        *found = f;
    return 0;
}

static int is_ipv4(struct so_str host)
{
    int dots = 0, digits = 0;
    for (size_t i = 0; i < host.n; i++) {
        char ch = host.p[i];
        if (ch == ':')
            break; /* the port */
        if (ch == '.') {
            if (!digits)
                return 0;
            dots++;
            digits = 0;
        } else if (ch >= '0' && ch <= '9' && digits < 3) {
            digits++;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

/* /cm (modern only). */
static int handle_cm(struct tas_dev *d, struct netio_conn *c, struct so_str q)
{
    char *cmnd = malloc(TASMOTA_TARGET_MAX);
    if (!cmnd)
        return 500;
    int found = 0;
    char *body = NULL;
    if (arg(q, "cmnd", cmnd, TASMOTA_TARGET_MAX, &found) != 0 || !found || !cmnd[0] ||
        strlen(cmnd) > TASMOTA_CMND_MAX)
        body = strdup("{\"WARNING\":\"Enter command cmnd=\"}");
    else
        body = tas_exec(d, (struct so_str){cmnd, strlen(cmnd)}, 0);
    free(cmnd);
    send_reply(c, 200, "application/json", body ? body : "{}", NULL);
    free(body);
    return 200;
}

/* WifiSaveSettings: h (empty or with '%' = default), s1, p1 (empty = none, shorter than
 * 5 bytes = keep the old one). */
static void take_wifi(struct tas_dev *d, struct so_str q, int legacy_pw)
{
    char h[SIM_TAS_TEXT], s1[SIM_TAS_TEXT], p1[SIM_TAS_TEXT + 1];
    int have_p1 = 0;
    if (arg(q, "h", h, sizeof h, NULL) || !h[0] || strchr(h, '%'))
        tas_default_hostname(d, h, sizeof h);
    if (arg(q, "s1", s1, sizeof s1, NULL))
        s1[0] = '\0';
    if (arg(q, "p1", p1, sizeof p1, &have_p1))
        p1[0] = '\0';
    snprintf(d->new_host, sizeof d->new_host, "%s", h);
    snprintf(d->new_ssid, sizeof d->new_ssid, "%s", s1);
    int keep = legacy_pw ? strchr(p1, '*') != NULL : (p1[0] && strlen(p1) < 5);
    if (keep)
        d->new_pw = d->st->pw1;
    else
        tas_secret_set(&d->new_pw, p1);
    explicit_bzero(p1, sizeof p1);
    LOG_I("tasmota: WiFi settings: SSId1 '%s'%s, Hostname %s", s1,
          keep ? " (password unchanged: placeholder)" : "", h);
}

static void apply_wifi(struct tas_dev *d)
{
    snprintf(d->st->ssid1, sizeof d->st->ssid1, "%s", d->new_ssid);
    d->st->pw1 = d->new_pw;
    snprintf(d->st->hostname, sizeof d->st->hostname, "%s", d->new_host);
}

static int handle_wi(struct tas_dev *d, struct netio_conn *c, struct so_str q)
{
    char dummy[8];
    int save = 0;
    if (arg(q, "save", dummy, sizeof dummy, &save) || !save) {
        html(c, 200, PAGE_WIFI);
        return 200;
    }
    take_wifi(d, q, 0);
    tas_record_cmd(d, "/wi save");
    if (!d->lan) { /* manager mode: test the network before saving (§7) */
        d->wifi_test = 1;
        d->wifi_test_at = plat_mono_ms() + tas_scaled(d, d->t->wifi_test_ms);
        html(c, 200, PAGE_TRY);
    } else {
        apply_wifi(d);
        tas_schedule_restart(d, SIM_TAS_RESTART_DELAY_MS);
        html(c, 200, PAGE_SAVED);
    }
    return 200;
}

/* 5.x HandleSaveSettings: w=1 WiFi, w=2 MQTT; r (default 1) restarts. */
static int handle_sv(struct tas_dev *d, struct netio_conn *c, struct so_str q)
{
    char w[8], r[8], v[SIM_TAS_TEXT];
    if (arg(q, "w", w, sizeof w, NULL))
        w[0] = '\0';
    if (arg(q, "r", r, sizeof r, NULL))
        r[0] = '\0';
    struct sim_tasmota_state *st = d->st;
    if (!strcmp(w, "1")) {
        take_wifi(d, q, 1);
        apply_wifi(d);
        tas_record_cmd(d, "/sv w=1");
    } else if (!strcmp(w, "2")) {
        if (arg(q, "mt", v, sizeof v, NULL) || !v[0])
            tas_default_topic(d, v, sizeof v);
        for (char *p = v; *p; p++)
            if (*p == '+' || *p == '#' || *p == ' ' || *p == '/')
                *p = '_';
        snprintf(st->topic, sizeof st->topic, "%s", v);
        if (arg(q, "mh", v, sizeof v, NULL))
            v[0] = '\0';
        snprintf(st->mqtt_host, sizeof st->mqtt_host, "%s", strcmp(v, "0") ? v : "");
        if (!arg(q, "ml", v, sizeof v, NULL))
            st->mqtt_port = v[0] ? (int)strtol(v, NULL, 10) : TASMOTA_MQTT_PORT;
        if (arg(q, "mu", v, sizeof v, NULL) || !v[0])
            snprintf(v, sizeof v, "DVES_USER");
        snprintf(st->mqtt_user, sizeof st->mqtt_user, "%s", strcmp(v, "0") ? v : "");
        if (arg(q, "mp", v, sizeof v, NULL) || !v[0])
            snprintf(v, sizeof v, "DVES_PASS"); /* MQTT_PASS */
        tas_secret_set(&st->mqtt_pw, strcmp(v, "0") ? v : "");
        explicit_bzero(v, sizeof v);
        tas_record_cmd(d, "/sv w=2");
        LOG_I("tasmota: MQTT settings: host '%s', user '%s', topic '%s'", st->mqtt_host,
              st->mqtt_user, st->topic);
    } else {
        tas_record_cmd(d, "/sv (other form)");
    }
    if (!r[0] || strcmp(r, "0")) {
        tas_schedule_restart(d, SIM_TAS_RESTART_DELAY_MS);
        html(c, 200, PAGE_SAVED);
    } else {
        html(c, 200, PAGE_MAIN);
    }
    return 200;
}

void tas_serve(struct tas_dev *d, int fd, const char *peer)
{
    struct netio_conn c = NETIO_CONN_INIT;
    c.fd = fd;
    char buf[SO_HTTP_HEAD_MAX];
    size_t have = 0;
    struct so_http_head h;
    enum so_err e = SO_AGAIN;
    long long deadline = plat_mono_ms() + REQ_TIMEOUT_MS;
    while (e == SO_AGAIN && have < sizeof buf) {
        long long left = deadline - plat_mono_ms();
        ssize_t r = left > 0 ? netio_read(&c, buf + have, sizeof buf - have, (int)left) : -2;
        if (r <= 0)
            break;
        have += (size_t)r;
        e = so_http_parse_request(buf, have, &h);
    }
    if (e != SO_OK) {
        if (have) {
            send_reply(&c, 400, "text/plain", "Bad Request\n", NULL);
            record(d, (struct so_str){"?", 1}, (struct so_str){"?", 1}, 400);
        }
        netio_close(&c);
        return;
    }
    struct so_str path = so_http_target_path(h.target);
    struct so_str q = {path.p + path.n, h.target.n - path.n};
    if (q.n && q.p[0] == '?') {
        q.p++;
        q.n--;
    }
    const struct so_http_header *host = so_http_find(&h, "Host");
    int status;
    if (!so_str_eq(h.method, "GET")) {
        send_reply(&c, 405, "text/plain", "Method Not Allowed\n", NULL);
        status = 405;
    } else if (tasmota_query_check(q.p, q.n) != SO_OK) {
        send_reply(&c, 400, "text/plain", "Bad Request: the query does not decode\n", NULL);
        status = 400;
    } else if (!d->lan && (!host || !is_ipv4(host->value))) {
        char loc[96];
        if (d->ap_port == 80)
            snprintf(loc, sizeof loc, "http://%s", d->ap_addr);
        else
            snprintf(loc, sizeof loc, "http://%s:%d", d->ap_addr, d->ap_port);
        send_reply(&c, 302, "text/plain", "", loc);
        status = 302;
    } else if (so_str_eq(path, "/")) {
        html(&c, 200, d->lan ? PAGE_MAIN : PAGE_WIFI);
        status = 200;
    } else if (!d->legacy && so_str_eq(path, "/cm")) {
        status = handle_cm(d, &c, q);
    } else if (!d->legacy && so_str_eq(path, "/wi")) {
        status = handle_wi(d, &c, q);
    } else if (d->legacy && so_str_eq(path, "/sv")) {
        status = handle_sv(d, &c, q);
    } else {
        send_reply(&c, 404, "text/plain", "File Not Found\n", NULL);
        status = 404;
    }
    LOG_I("tasmota: %.*s %.*s from %s on the %s: %d", (int)h.method.n, h.method.p,
          (int)path.n, path.p, peer, d->lan ? "LAN" : "AP", status);
    record(d, h.method, path, status);
    explicit_bzero(buf, sizeof buf); /* queries carry passwords */
    netio_close(&c);
}

void tas_wifi_test_done(struct tas_dev *d)
{
    char why[160];
    d->wifi_test = 0;
    if (tas_home_ok(d, d->new_ssid, &d->new_pw, why, sizeof why)) {
        LOG_I("tasmota: connected to '%s' in the WiFi test: saving, restarting", d->new_ssid);
        apply_wifi(d);
        tas_schedule_restart(d, SIM_TAS_RESTART_DELAY_MS);
    } else {
        d->st->wifi_failures++;
        sim_note(d->s, "tasmota: WiFi test failed (%s): settings kept, AP stays up", why);
    }
    explicit_bzero(&d->new_pw, sizeof d->new_pw);
}
