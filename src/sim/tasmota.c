/* tasmota.c - the simulated Tasmota's life (PROTOCOL.md §7): boot (settings from flash,
 * BootCount), join the home WiFi when the saved network is the home one, else open the
 * WiFi manager AP (tasmota_XXXXXX-#### / sonoff-####, web server at 192.168.4.1:80); run
 * the Backlog queue and timers; restart (settings saved, web server down for
 * --tasmota-restart-ms) after a setting changed. One thread, one listener, bounded waits. */
#include "sim/tasmota_int.h"

#include "io/log.h"
#include "sim/netio.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

long long tas_scaled(const struct tas_dev *d, long ms)
{
    return (long long)((double)ms * d->s->o->time_scale);
}

void tas_schedule_restart(struct tas_dev *d, long delay_ms)
{
    long long at = plat_mono_ms() + tas_scaled(d, delay_ms);
    if (!d->restart_at || at < d->restart_at)
        d->restart_at = at;
}

int tas_home_ok(const struct tas_dev *d, const char *ssid, const struct sim_tas_secret *pw,
                char *why, size_t cap)
{
    const char *home = d->t->home_ssid ? d->t->home_ssid : d->s->ssid[0] ? d->s->ssid : NULL;
    const char *psk = d->t->home_psk_sha256[0] ? d->t->home_psk_sha256
                      : d->s->wifi_psk_sha256[0] ? d->s->wifi_psk_sha256 : NULL;
    if (!ssid[0]) {
        snprintf(why, cap, "no SSID configured");
        return 0;
    }
    if (home && strcmp(ssid, home)) {
        snprintf(why, cap, "no network called '%.32s' in range (the home WiFi is '%.32s')", ssid,
                 home);
        return 0;
    }
    if (psk && (!pw->set || strcmp(pw->sha256, psk))) {
        snprintf(why, cap, "'%.32s' refused the password (%s)", ssid,
                 pw->set ? "not the home WiFi's password" : "none given");
        return 0;
    }
    return 1;
}

static void names(struct tas_dev *d)
{
    unsigned b[6] = {0};
    if (sscanf(d->s->o->mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6)
        memset(b, 0, sizeof b);
    snprintf(d->mac6, sizeof d->mac6, "%02X%02X%02X", b[3] & 0xff, b[4] & 0xff, b[5] & 0xff);
    d->chip4 = ((b[4] << 8) | b[5]) & 0x1FFF; /* ESP.getChipId() & 0x1FFF */
}

/* Boot: settings, then AP or LAN with a listening web server. 0, or -1 (reason set). */
static int boot(struct tas_dev *d)
{
    struct sim_tasmota_state *st = d->st;
    tas_defaults(d);
    if (!tas_load(d))
        LOG_I("tasmota: no settings in flash at 0x%05x: defaults (first boot)",
              (unsigned)SIM_TAS_SETTINGS);
    st->boot_count++;
    if (tas_save(d) != 0)
        LOG_W("tasmota: cannot write the settings sector");
    d->booted = plat_mono_ms();
    d->q_head = d->q_len = 0;
    d->q_next = 0;
    d->restart_flag = 0;
    d->restart_at = 0;
    d->wifi_test = 0;
    if (d->legacy) {
        snprintf(st->ap_ssid, sizeof st->ap_ssid, "%s", st->hostname);
    } else {
        char topic[32];
        tas_default_topic(d, topic, sizeof topic);
        snprintf(st->ap_ssid, sizeof st->ap_ssid, "%s-%04u", topic, d->chip4 & 0x1FFFu);
    }
    char why[200];
    d->lan = 0;
    if (st->ssid1[0]) {
        if (tas_home_ok(d, st->ssid1, &st->pw1, why, sizeof why)) {
            d->lan = 1;
        } else {
            st->wifi_failures++;
            sim_note(d->s, "tasmota: cannot join the saved WiFi: %s; WiFi manager AP instead",
                     why);
        }
    }
    const char *addr = d->lan ? d->lan_addr : d->ap_addr;
    int port = d->lan ? d->lan_port : d->ap_port;
    char err[SIM_TEXT];
    d->lfd = netio_listen(addr, port, err, sizeof err);
    if (d->lfd < 0) {
        sim_fail(d->s, "Tasmota cannot open its web server: %s%s", err,
                 d->lan ? " (set --tasmota-lan-addr/--tasmota-lan-port)" : "");
        return -1;
    }
    if (d->lan) {
        st->joined_lan = 1;
        snprintf(st->lan, sizeof st->lan, "%s:%d", addr, port);
        d->last_lan_req = plat_mono_ms();
        LOG_I("tasmota %s (boot %ld): joined '%s' as %s: web server on http://%s:%d/",
              st->version, st->boot_count, st->ssid1, st->hostname, addr, port);
    } else {
        LOG_I("tasmota %s (boot %ld): WiFi manager AP '%s' up: web server on http://%s:%d/",
              st->version, st->boot_count, st->ap_ssid, addr, port);
    }
    return 0;
}

static int restart(struct tas_dev *d)
{
    LOG_I("tasmota: restarting (%d ms)", d->t->restart_ms);
    if (tas_save(d) != 0)
        LOG_W("tasmota: cannot write the settings sector");
    close(d->lfd);
    d->lfd = -1;
    d->st->restarts++;
    d->s->rep.boots++;
    if (sim_sleep(d->s, d->t->restart_ms) != 0) {
        sim_fail(d->s, "run timeout while Tasmota restarted");
        return -1;
    }
    return boot(d);
}

/* Backlog, restart and WiFi-test timers. 0, or -1 when the run must end. */
static int timers(struct tas_dev *d)
{
    long long now = plat_mono_ms();
    if (d->wifi_test && now >= d->wifi_test_at)
        tas_wifi_test_done(d);
    if (d->q_len && now >= d->q_next) {
        char *cmd = d->queue[d->q_head];
        d->q_head = (d->q_head + 1) % TASMOTA_BACKLOG_MAX;
        d->q_len--;
        free(tas_exec(d, (struct so_str){cmd, strlen(cmd)}, 1));
        explicit_bzero(cmd, TASMOTA_CMND_MAX + 1);
        d->q_next = d->q_len ? now + tas_scaled(d, d->t->backlog_ms) : 0;
    }
    if (d->restart_flag && !d->q_len) {
        d->restart_flag = 0;
        tas_schedule_restart(d, SIM_TAS_RESTART_DELAY_MS);
    }
    if (d->restart_at && now >= d->restart_at && !d->q_len)
        return restart(d);
    return 0;
}

static int next_wait(const struct tas_dev *d)
{
    long long now = plat_mono_ms(), w = 200;
    const long long at[3] = {d->wifi_test ? d->wifi_test_at : 0, d->q_len ? d->q_next : 0,
                             d->restart_at};
    for (int i = 0; i < 3; i++)
        if (at[i] && at[i] - now < w)
            w = at[i] - now;
    return w < 0 ? 0 : (int)w;
}

int sim_tasmota_run(struct sim_ctx *s, const struct sim_tasmota_opts *t)
{
    struct tas_dev *d = calloc(1, sizeof *d);
    if (!d) {
        sim_fail(s, "out of memory");
        return 0;
    }
    d->s = s;
    d->t = t;
    d->st = &s->rep.tasmota;
    d->legacy = t->legacy;
    d->lfd = -1;
    d->st->ran = 1;
    snprintf(d->st->version, sizeof d->st->version, "%s", t->version);
    d->ap_addr = s->o->diy.tasmota_addr ? s->o->diy.tasmota_addr : SIM_TAS_AP_ADDR;
    d->ap_port = s->o->diy.tasmota_port;
    snprintf(d->lan_addr, sizeof d->lan_addr, "%s",
             t->lan_addr ? t->lan_addr : s->server_host[0] ? s->server_host : "127.0.0.1");
    d->lan_port = t->lan_port ? t->lan_port : d->ap_port;
    names(d);

    struct sigaction sa, old_term, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    g_stop = 0;

    int rc = boot(d);
    while (rc == 0) {
        if (g_stop) {
            if (!d->st->joined_lan)
                sim_fail(s, "stopped by a signal before Tasmota joined the home WiFi");
            break;
        }
        if (sim_left(s) <= 0) {
            if (!d->st->joined_lan)
                sim_fail(s, "Tasmota never joined the home WiFi before the run timeout (%s)",
                         d->st->ssid1[0] ? "the saved network could not be joined"
                                         : "nobody configured WiFi over /wi, /sv or SSID1");
            break;
        }
        if (d->lan && !d->restart_at && !d->q_len &&
            plat_mono_ms() - d->last_lan_req >= s->o->diy.linger_s * 1000LL)
            break;
        char peer[64];
        int fd = netio_accept(d->lfd, next_wait(d), peer, sizeof peer);
        if (fd >= 0) {
            tas_serve(d, fd, peer);
            if (d->lan)
                d->last_lan_req = plat_mono_ms();
        } else if (fd == -1) {
            sim_fail(s, "Tasmota's web server failed (accept)");
            rc = -1;
            break;
        }
        rc = timers(d);
    }
    if (d->lfd >= 0)
        close(d->lfd);
    int ok = d->st->joined_lan;
    if (ok)
        sim_note(s, "tasmota: on the home WiFi '%s' at %s (%d request(s) there)", d->st->ssid1,
                 d->st->lan, d->st->lan_requests);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    explicit_bzero(d, sizeof *d);
    free(d);
    return ok;
}
