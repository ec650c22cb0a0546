/* cmd_flash.c - `sonota flash`: the stock-firmware OTA path, stage by stage (PROTOCOL.md
 * §1, §4, §10): the command line, then setup (flash_setup.c: images, serving IP,
 * credentials), where to start (flash_start.c: addresses + the record of an earlier
 * run), then the loop of a single run (flash_loop.c) or of a fleet (flash_fleet.c), and
 * the end: the summary and --configure. Every wait is bounded. The map of the flow is in
 * docs/DESIGN.md "The flash flow". */
#include "sonota/cmds.h"

#include "io/crypto.h"
#include "io/file.h"
#include "io/log.h"
#include "io/netif.h"
#include "io/prompt.h"
#include "lib/espimg.h"
#include "lib/ewl_msg.h"
#include "sonota/flash_opts.h"
#include "sonota/flash_run.h"
#include "sonota/httpc.h"
#include "sonota/prov.h"
#include "sonota/stage.h"
#include "sonota/tasmota_cfg.h"
#include "plat/fs.h"
#include "plat/intr.h"
#include "plat/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t g_stop;

static void summary(struct run *r, const struct ui_configured *conf, double configure_s)
{
    struct ui_summary s;
    memset(&s, 0, sizeof s);
    s.configured = conf;
    s.configure_s = configure_s;
    const struct flash_dev *d = flash_run_dev(r);
    s.deviceid = d->deviceid[0] ? d->deviceid : NULL;
    s.model = d->model[0] ? d->model : NULL;
    s.rom_version = d->rom[0] ? d->rom : NULL;
    s.n_images = 3;
    for (int i = 0; i < 3; i++) {
        struct flash_img *im = &r->img[i];
        s.images[i] = (struct ui_image){im->role, im->name, im->path, im->len, im->sha256,
                                        im->valid};
    }
    int64_t first = 0, last = 0;
    for (int i = 0; i < 3; i++) {
        if (!r->stage_t[i][0]) {
            s.stage_s[i] = -1;
            continue;
        }
        int64_t end = r->stage_t[i][1] ? r->stage_t[i][1] : plat_mono_ms();
        s.stage_s[i] = (double)(end - r->stage_t[i][0]) / 1000.0;
        if (!first || r->stage_t[i][0] < first)
            first = r->stage_t[i][0];
        if (end > last)
            last = end;
    }
    s.total_s = first ? (double)(last - first) / 1000.0 : 0;
    if (conf)
        s.total_s += configure_s;
    ui_done(&r->ui, &s);
}

/* ---- after the final image: the new firmware gets the same WiFi (§7) ---- */

/* Runs tasmota_cfg with the run's WiFi; fills conf (pointing into r->o and res). Returns
 * an exit status (EXIT_OK: configured). */
static int configure(struct run *r, struct tcfg_result *res, struct ui_configured *conf)
{
    struct flash_opts *o = r->o;
    struct tcfg_opts t;
    memset(&t, 0, sizeof t);
    memcpy(t.device_url, o->configure_url, sizeof t.device_url);
    memcpy(t.lan_url, o->lan_url, sizeof t.lan_url);
    t.request_ms = TCFG_REQUEST_MS;
    t.poll_ms = TCFG_POLL_MS;
    t.cfg = (struct tasmota_cfg){.ssid = o->wifi_ssid, .wifi_password = o->wifi_password,
                                 .hostname = o->hostname, .mqtt_host = o->mqtt_host,
                                 .mqtt_user = o->mqtt_user, .mqtt_password = o->mqtt_password,
                                 .topic = o->topic, .backlog = o->backlog};
    tcfg_add_secrets(&t.cfg); /* the URL-encoded forms as well */
    if (o->mqtt_pw_flag)
        ui_warn(&r->ui, "password-visible", "--mqtt-password was visible in the process list "
                "until now; prefer " TCFG_ENV_MQTT_PASSWORD);
    ui_stage(&r->ui, "configure");
    int code = tcfg_run(&t, &r->ui, r->deadline, r->stop, res);
    plat_wipe(&t, sizeof t);
    if (code != EXIT_OK)
        return code;
    *conf = (struct ui_configured){res->version, res->legacy, res->wifi_sent, o->wifi_ssid,
                                   o->mqtt_host, o->hostname,
                                   res->lan_ok ? o->lan_url : NULL,
                                   res->lan_ip[0] ? res->lan_ip : NULL};
    return EXIT_OK;
}

/* The end of a run that sent the final image. */
static void finish_run(struct run *r)
{
    if (!r->o->configure) {
        summary(r, NULL, -1);
        return;
    }
    struct tcfg_result res;
    struct ui_configured conf;
    int64_t t0 = plat_mono_ms();
    int code = configure(r, &res, &conf);
    if (code == EXIT_OK) {
        summary(r, &conf, (double)(plat_mono_ms() - t0) / 1000.0);
        return;
    }
    summary(r, NULL, -1);
    ui_info(&r->ui, "The final image is on the device; only its settings are missing: join "
            "its WiFi and run `sonota configure` with the same settings.");
    r->exit_code = code;
}

/* Everything between option parsing and cleanup. */
static void flash(struct run *r)
{
    struct flash_opts *o = r->o;
    flash_images_start(r); /* checked on a worker while the servers start */
    r->watch = !o->no_check_ip;
    if (!o->fleet)
        flash_start_load_record(r); /* a fleet has no single device to resume */
    /* Where are we? (§10.1) The addresses now, plus what an earlier run recorded. */
    struct netif_addr a[NETIF_MAX];
    size_t n = 0;
    struct stage_seen seen;
    memset(&seen, 0, sizeof seen);
    if (r->watch) {
        int got = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
        n = got > 0 ? (size_t)got : 0;
        stage_scan(a, n, NULL, &seen);
    }
    if (flash_setup_serving_ip(r, a, n, &seen) != 0)
        return;
    if (r->watch)
        stage_scan(a, n, r->serving_ip, &seen);
    flash_table_init(&r->table, !o->fleet, o->final_device, o->pace == SRV_PACE_AUTO);
    if (o->fleet) {
        fleet_run(r, &seen);
        return;
    }
    /* A single run is a table of one: the device's row exists from the start. */
    if (!flash_table_add(&r->table, NULL, plat_mono_ms())) {
        flash_run_fail(r, EXIT_FAIL, "memory", "out of memory");
        return;
    }
    struct flash_dev *d = flash_run_dev(r);
    enum flash_stage reached = r->watch ? flash_start_recorded_stage(r) : STAGE_NONE;
    int from_record = reached != STAGE_NONE;
    if (o->no_prov && reached < STAGE_PROVISIONED)
        reached = STAGE_PROVISIONED;
    int recheck = 0;
    enum flash_stage plan = !r->watch ? (o->no_prov ? STAGE_CLOUD : STAGE_WAIT_AP)
                            : stage_plan(&seen, reached, &recheck);
    if (o->no_prov && recheck) { /* --no-prov: never provision */
        plan = STAGE_PROVISIONED;
        recheck = 0;
    }
    if (from_record && r->rec.deviceid[0])
        snprintf(d->deviceid, sizeof d->deviceid, "%s", r->rec.deviceid);
    r->ctx = (struct ui_ctx){o->wifi_ssid ? o->wifi_ssid : r->rec.ssid[0] ? r->rec.ssid : NULL,
                             r->serving_ip, o->device_url, d->deviceid[0] ? d->deviceid
                             : NULL, o->http_port, o->https_port, o->plain_port, o->legacy,
                             r->watch, flash_net_bind_addr(r)};
    ui_start(&r->ui, SONOTA_VERSION, &r->ctx, flash_opts_pace_name(o->pace));
    flash_start_tell_detected(r, plan, recheck, &seen, from_record);
    if (r->watch && o->http_port != 8080)
        ui_warn(&r->ui, "http-port", "the intermediate firmware fetches the final image from "
                "192.168.4.2:8080 only (its address and port are built in); with --http-port %d "
                "stage 3 needs a "
                "port forward from 8080", o->http_port);
    /* Stage 1 and --configure need the WiFi: ask now, not when the device waits. */
    if (((!o->no_prov && (plan == STAGE_WAIT_AP || (plan == STAGE_PROVISION && !recheck))) ||
         o->configure) && flash_setup_credentials(r) != 0)
        return;
    if (flash_net_update(r, &seen) != 0)
        return;
    flash_run_firewall(r, plan == STAGE_FINAL);
    r->addr.serving_up = seen.serving;
    r->addr.ap_up = seen.ap;
    r->addr.final_up = seen.final;
    switch (plan) {
    case STAGE_FINAL:
        if (seen.final)
            ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
        break;
    case STAGE_PROVISION:
        r->prov.recheck = recheck;
        ui_address(&r->ui, "ap", seen.ap_ip, seen.ap_if);
        break;
    case STAGE_WAIT_AP:
        if (!r->watch)
            plan = STAGE_PROVISION;
        break;
    default:
        break;
    }
    flash_run_set_state(r, plan);
    flash_loop_run(r);
    if (r->exit_code == EXIT_OK)
        finish_run(r);
}

static const char *prog_name(const char *argv0)
{
    if (!argv0 || !strcmp(argv0, "flash"))
        return "sonota";
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

int cmd_flash(int argc, char **argv)
{
    struct flash_opts o = FLASH_OPTS_DEFAULT;
    char err[512];
    const char *prog = prog_name(argc > 0 ? argv[0] : NULL);
    if (flash_opts_parse(argc, argv, &o, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n(see 'sonota flash --help')\n", prog, err);
        flash_opts_free(&o);
        so_log_forget_secrets();
        return EXIT_USAGE;
    }
    if (o.help) {
        flash_opts_usage(stdout, prog);
        flash_opts_free(&o);
        so_log_forget_secrets();
        return EXIT_OK;
    }
    struct run *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "%s: out of memory\n", prog);
        flash_opts_free(&o);
        so_log_forget_secrets();
        return EXIT_FAIL;
    }
    r->o = &o;
    r->exit_code = -1;
    r->net.on_event = flash_events_on_server;
    r->stop = &g_stop;
    so_log_set_tag("sonota");
    so_log_set_level(o.quiet ? SO_LOG_WARN : o.verbose >= 2 ? SO_LOG_TRACE
                     : o.verbose ? SO_LOG_DEBUG : SO_LOG_INFO);
    ui_init(&r->ui, stdout, stderr, o.json, o.quiet, o.verbose, o.no_color);
    r->ui.defer_flush = 1; /* flash_net_service flushes before each wait */

    g_stop = 0;
    plat_intr_catch(&g_stop); /* a prompt or sleep ends at Ctrl-C */

    r->deadline = plat_mono_ms() + (int64_t)o.timeout_s * 1000;
    if (o.log_file && so_log_open_file(o.log_file) != 0)
        flash_run_fail(r, EXIT_FAIL, "log", "cannot open the log file %s: %s", o.log_file,
                       strerror(errno));
    else if (httpc_global_init() != 0)
        flash_run_fail(r, EXIT_FAIL, "http", "cannot initialise libcurl");
    else {
        if (!(r->prov.http = httpc_new())) {
            flash_run_fail(r, EXIT_FAIL, "memory", "out of memory");
        } else {
            httpc_set_watch(r->prov.http, flash_net_http_socket, r);
            flash(r);
            flash_images_wait(r); /* a run that stopped before the verdict */
        }
        httpc_free(r->prov.http);
        httpc_global_cleanup();
    }

    int code = r->exit_code < 0 ? EXIT_FAIL : r->exit_code;
    flash_net_close(r);
    flash_table_free(&r->table);
    for (int i = 0; i < 3; i++)
        free(r->img[i].data);
    if (r->net.trusted) /* factory keys */
        plat_wipe(r->net.trusted, r->net.n_trusted * sizeof *r->net.trusted);
    free(r->net.trusted);
    plat_wipe(r, sizeof *r);
    free(r);
    plat_intr_restore();
    flash_opts_free(&o);
    so_log_forget_secrets();
    so_log_close_file();
    return code;
}
