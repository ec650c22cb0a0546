/* sonoff-sim - one stock ITEAD Sonoff through the whole SonOTA path (PROTOCOL.md §1-§5):
 * boot what the flash holds, run it (stock client, or the intermediate E2A), reboot,
 * repeat; report what the flash boots at the end. */
#include "io/log.h"
#include "sim/ap.h"
#include "sim/boot.h"
#include "sim/diy_dev.h"
#include "sim/e2a.h"
#include "sim/netio.h"
#include "sim/opts.h"
#include "sim/stock_sess.h"
#include "sim/sim.h"

#include <openssl/ssl.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The stock client, booted from `slot`: provisioning if needed, then sessions. Returns 1
 * to boot again, 0 when the run ends. */
static int run_stock(struct sim_ctx *s, int slot, int *provisioned)
{
    const struct sim_opts *o = s->o;
    if (!*provisioned) {
        if (!o->no_ap) {
            if (ap_run(s) != SO_OK)
                return 0;
            if (sim_reached(s, SIM_STAGE_AP))
                return 0;
        } else if (o->server_host[0]) {
            snprintf(s->server_host, sizeof s->server_host, "%s", o->server_host);
            s->server_port = o->server_port;
        } else if (spiflash_get_provision(&s->flash, s->server_host, sizeof s->server_host,
                                          &s->server_port, s->ssid, sizeof s->ssid) != 0) {
            sim_fail(s, "--no-ap needs --server HOST:PORT (the flash holds no provisioning)");
            return 0;
        }
        *provisioned = 1;
    }
    LOG_I("stock firmware %s (%s) running from user%d", o->rom_version, o->model, slot);
    for (;;) {
        if (s->rep.sessions >= o->max_sessions) {
            char prev[sizeof s->rep.reason];
            snprintf(prev, sizeof prev, "%s", s->rep.reason);
            sim_fail(s, "gave up after %d sessions; last problem: %.300s", s->rep.sessions,
                     prev[0] ? prev : "none");
            return 0;
        }
        switch (stock_sess_run(s, slot)) {
        case STOCK_SESS_REBOOT: return 1;
        case STOCK_SESS_END: return 0;
        case STOCK_SESS_RETRY:
            if (sim_left(s) <= 0)
                return 0;
            break;
        }
    }
}

static int run(struct sim_ctx *s)
{
    const struct sim_opts *o = s->o;
    int provisioned = 0;
    struct boot_info bi;
    for (;;) {
        if (s->rep.boots >= o->max_boots) {
            sim_fail(s, "gave up after %d boots", s->rep.boots);
            return 0;
        }
        if (sim_left(s) <= 0) {
            if (!s->rep.reason[0])
                sim_fail(s, "run timeout (--timeout %d s)", o->timeout);
            return 0;
        }
        s->rep.boots++;
        sim_rand_reset(s);
        boot_check(&s->flash, &bi);
        LOG_I("boot %d: %s", s->rep.boots, bi.what);
        s->rep.reason[0] = '\0';
        int again = 0;
        switch (bi.kind) {
        case BOOT_FINAL: return 1;
        case BOOT_BRICKED:
            sim_fail(s, "%s", bi.what);
            return 0;
        case BOOT_STOCK: again = run_stock(s, bi.slot, &provisioned); break;
        case BOOT_INTERMEDIATE: again = e2a_run(s, bi.slot) == E2A_REBOOT; break;
        }
        if (!again || s->stop)
            return 0;
    }
}

int main(int argc, char **argv)
{
    struct sim_opts o;
    char err0[SIM_TEXT];
    int pr = sim_opts_parse(&o, argc, argv);
    if (pr == 1)
        return 0;
    if (pr != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    so_log_set_tag("sim");
    so_log_set_level(o.verbosity < 0 ? SO_LOG_WARN : o.verbosity == 0 ? SO_LOG_INFO
                     : o.verbosity == 1 ? SO_LOG_DEBUG : SO_LOG_TRACE);
    if (o.log_file && so_log_open_file(o.log_file) != 0) {
        fprintf(stderr, "sonoff-sim: cannot open log file %s\n", o.log_file);
        return 2;
    }
    if (netio_set_source(o.source_addr, err0, sizeof err0) != 0) {
        fprintf(stderr, "sonoff-sim: --source-addr: %s\n", err0);
        so_log_close_file();
        return 2;
    }
    if (o.source_addr)
        LOG_I("outgoing connections from %s (--source-addr)", o.source_addr);
    static struct sim_ctx s;
    s.o = &o;
    s.deadline = plat_mono_ms() + o.timeout * 1000LL;
    char err[SIM_TEXT];
    if (spiflash_open(&s.flash, o.flash_path, err, sizeof err) != SO_OK) {
        fprintf(stderr, "sonoff-sim: %s\n", err);
        so_log_close_file();
        return 1;
    }
    if (s.flash.created) {
        if (boot_make_stock_layout(&s.flash, o.slot, err, sizeof err) != SO_OK) {
            fprintf(stderr, "sonoff-sim: %s\n", err);
            spiflash_close(&s.flash);
            so_log_close_file();
            return 1;
        }
        LOG_I("new flash %s: stock layout, firmware in user%d", o.flash_path, o.slot);
    }
    LOG_I("device %s, model %s, romVersion %s, factory apikey %s", o.device_id, o.model,
          o.rom_version, o.apikey);
    int ok = o.diy.enabled ? sim_diy_run(&s, &o.diy) : run(&s);
    int tas_ok = 1; /* --tasmota: the final image runs Tasmota until it joined the LAN (§7) */
    if (o.tasmota.enabled && ok)
        tas_ok = sim_tasmota_run(&s, &o.tasmota);
    struct boot_info bi;
    boot_check(&s.flash, &bi);
    snprintf(s.rep.boot, sizeof s.rep.boot, "%s", bi.what);
    s.rep.final_ok = ok && bi.kind == BOOT_FINAL;
    if (bi.kind == BOOT_FINAL) {
        snprintf(s.rep.final_sha256, sizeof s.rep.final_sha256, "%s", bi.final_sha256);
        s.rep.final_len = (unsigned long)bi.final_len;
    }
    if (bi.kind == BOOT_FINAL && !ok)
        s.rep.final_ok = 1; /* e.g. stop-after=final: the flash holds the final image */
    if (!tas_ok)
        s.rep.final_ok = 0;
    if (s.rep.final_ok)
        printf("sonoff-sim: OK: %s; device %s\n", bi.what, o.device_id);
    else if (!strcmp(s.rep.reason, bi.what))
        printf("sonoff-sim: FAIL: %s\n", bi.what);
    else
        printf("sonoff-sim: FAIL: %s; flash boots: %s\n",
               s.rep.reason[0] ? s.rep.reason : "unknown", bi.what);
    fflush(stdout);
    int rc = s.rep.final_ok ? 0 : 1;
    if (o.report_path && sim_report_write(&s, o.report_path) != 0) {
        fprintf(stderr, "sonoff-sim: cannot write report %s\n", o.report_path);
        rc = 1;
    }
    spiflash_close(&s.flash);
    so_log_forget_secrets();
    so_log_close_file();
    OPENSSL_cleanup();
    return rc;
}
