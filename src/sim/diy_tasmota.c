/* diy_tasmota.c - what the DIY device becomes after ota_flash (PROTOCOL.md §6, §7): it
 * reboots; when the flash boots a valid final image, that firmware's web server answers on
 * port 80 like Tasmota's: on the LAN address (the build kept WiFi settings) or on the AP
 * address 192.168.4.1 (a fresh Tasmota opens its AP). GET / gives the page,
 * GET /cm?cmnd=Status%202 the StatusFWR JSON. The sim ends --linger seconds after the
 * first visitor. */
#include "sim/diy_int.h"

#include "io/log.h"
#include "lib/http_head.h"
#include "sim/boot.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PAGE "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">" \
             "<title>Tasmota - Main Menu</title></head><body><h2>Tasmota</h2>"     \
             "<p>Sonoff Basic Module</p></body></html>"
#define STATUS_FW "{\"StatusFWR\":{\"Version\":\"9.2.0(sim)\",\"BuildDateTime\":"  \
                  "\"2021-01-01T00:00:00\",\"Boot\":31,\"Core\":\"2_7_4_9\",\"SDK\":"   \
                  "\"2.2.2-dev(38a443e)\",\"CpuFrequency\":80,\"Hardware\":\"ESP8266EX\"," \
                  "\"CR\":\"343/699\"}}"

static int is_status(struct so_str target)
{
    static const char *const forms[] = {"/cm?cmnd=Status%202", "/cm?cmnd=Status+2",
                                        "/cm?cmnd=status%202", NULL};
    for (const char *const *f = forms; *f; f++)
        if (so_str_eq(target, *f))
            return 1;
    return 0;
}

static void answer(int fd, const char *peer)
{
    struct netio_conn c = NETIO_CONN_INIT;
    c.fd = fd;
    char buf[2048];
    size_t have = 0;
    struct so_http_head h;
    enum so_err e = SO_AGAIN;
    long long deadline = plat_mono_ms() + 3000;
    while (e == SO_AGAIN && have < sizeof buf) {
        long long left = deadline - plat_mono_ms();
        ssize_t r = left > 0 ? netio_read(&c, buf + have, sizeof buf - have, (int)left) : -2;
        if (r <= 0)
            break;
        have += (size_t)r;
        e = so_http_parse_request(buf, have, &h);
    }
    if (e == SO_OK) {
        struct so_str path = so_http_target_path(h.target);
        int status = 200;
        const char *type = "text/html", *body = PAGE;
        if (is_status(h.target)) {
            type = "application/json";
            body = STATUS_FW;
        } else if (!so_str_eq(path, "/")) {
            status = 404;
            body = "";
        }
        LOG_I("tasmota: %.*s %.*s from %s: %d", (int)h.method.n, h.method.p, (int)h.target.n,
              h.target.p, peer, status);
        char head[200];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                         status, status == 200 ? "OK" : "Not Found", type, strlen(body));
        if (netio_write(&c, head, (size_t)n, 2000) == 0 && body[0])
            netio_write(&c, body, strlen(body), 2000);
    }
    netio_close(&c);
}

int diy_boot_new_firmware(struct diy_dev *dv)
{
    struct sim_ctx *s = dv->s;
    const struct sim_diy_opts *o = dv->o;
    LOG_I("diy: rebooting into the new firmware (%d ms)", o->boot_ms);
    if (sim_sleep(s, o->boot_ms) != 0) {
        sim_fail(s, "run timeout while rebooting");
        return 0;
    }
    struct boot_info bi;
    s->rep.boots++;
    boot_check(&s->flash, &bi);
    LOG_I("boot %d: %s", s->rep.boots, bi.what);
    if (bi.kind != BOOT_FINAL) {
        sim_fail(s, "after the DIY flash the device boots: %s", bi.what);
        return 0;
    }
    const char *addr = o->tasmota_addr ? o->tasmota_addr
                       : o->after == SIM_DIY_AFTER_AP ? "192.168.4.1" : dv->ip;
    char err[SIM_TEXT];
    int lfd = netio_listen(addr, o->tasmota_port, err, sizeof err);
    if (lfd < 0) {
        sim_fail(s, "the new firmware cannot open its web server: %s", err);
        return 0;
    }
    LOG_I("tasmota: web server on http://%s:%d/ (%s)", addr, o->tasmota_port,
          o->after == SIM_DIY_AFTER_AP ? "its WiFi AP" : "the LAN");
    long long first = 0;
    int visits = 0;
    for (;;) {
        if (diy_stop_requested())
            break;
        if (sim_left(s) <= 0) {
            if (!visits)
                sim_fail(s, "nobody visited the new firmware's web server before the run "
                         "timeout");
            break;
        }
        if (first && plat_mono_ms() - first >= o->linger_s * 1000LL)
            break;
        char peer[64];
        int fd = netio_accept(lfd, 200, peer, sizeof peer);
        if (fd == -2)
            continue;
        if (fd < 0)
            break;
        if (!first)
            first = plat_mono_ms();
        visits++;
        answer(fd, peer);
    }
    close(lfd);
    sim_note(s, "the new firmware's web server was visited %d time(s)", visits);
    return visits > 0;
}
