/* cmd_flash.c - `sonota flash`: the stock-firmware OTA path, stage by stage (PROTOCOL.md
 * §1, §4, §10): load and check the images, choose the serving IP, find where to start
 * (addresses + the record of an earlier run, flash_state.h), then the loop (flash_run.c):
 * provision the device on its pairing AP (prov), run the fake cloud and file server
 * (server.h) until the intermediate firmware is downloaded, then serve the final image on
 * FinalStage. Every wait is bounded. */
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

#define IMAGE_FILE_MAX (16u << 20) /* read cap; espimg_check applies the real limits */

static volatile sig_atomic_t g_stop;

/* ---- step 1: images ---- */

static int load_images(struct run *r)
{
    struct flash_opts *o = r->o;
    const struct { const char *role, *name, *path; enum espimg_use use; } def[3] = {
        {"user1", FLASH_NAME_USER1, o->user1, ESPIMG_USE_USER1},
        {"user2", FLASH_NAME_USER2, o->user2, ESPIMG_USE_USER2},
        {"final", FLASH_NAME_FINAL, o->final, ESPIMG_USE_FINAL},
    };
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        struct flash_img *im = &r->img[i];
        im->role = def[i].role;
        im->name = def[i].name;
        im->path = def[i].path;
        im->use = def[i].use;
        enum so_err e = so_read_file(im->path, IMAGE_FILE_MAX, &im->data, &im->len);
        if (e != SO_OK) {
            run_fail(r, EXIT_USAGE, "image", "cannot read the %s image %s: %s", im->role, im->path,
                 e == SO_E_IO ? strerror(errno) : so_strerror(e));
            return -1;
        }
        so_sha256_hex(im->data, im->len, im->sha256);
        char why[512] = "";
        struct espimg_info *info = calloc(1, sizeof *info);
        if (!info) {
            run_fail(r, EXIT_FAIL, "memory", "out of memory");
            return -1;
        }
        e = espimg_parse(im->data, im->len, info);
        if (e != SO_OK)
            espimg_parse_error(info, e, why, sizeof why);
        else
            e = espimg_check(info, im->len, im->use, why, sizeof why);
        free(info);
        im->valid = e == SO_OK;
        struct ui_image ui = {im->role, im->name, im->path, im->len, im->sha256, im->valid};
        ui_image(&r->ui, &ui, im->valid ? NULL : why, !im->valid && o->force);
        if (im->valid)
            continue;
        if (o->force) {
            ui_warn(&r->ui, "image-forced", "SERVING AN INVALID %s IMAGE (--force): %s: %s. "
                    "A bad image can leave the device unable to boot; only a serial flash "
                    "brings it back.", im->role, im->path, why);
        } else {
            ui_error(&r->ui, "image", EXIT_INVALID, "the %s image %s fails validation: %s",
                     im->role, im->path, why);
            bad = 1;
        }
    }
    if (bad) {
        run_fail(r, EXIT_INVALID, "image", "nothing was sent to the device; fix the images "
             "(`sonota image check FILE` explains), or pass --force to serve them anyway");
        return -1;
    }
    return 0;
}

/* ---- step 2: serving IP ---- */

static int addr_present(const struct netif_addr *a, size_t n, const char *ip)
{
    uint32_t v;
    if (netif_parse_ipv4(ip, &v) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].addr == v)
            return 1;
    return 0;
}

static int in_final_net(uint32_t addr)
{
    return (addr & STAGE_NET24_MASK) == STAGE_FINAL_NET;
}

/* Addresses a device on the home network could call: the candidates (no loopback, no
 * 10.10.7.x, no link-local), FinalStage addresses only when there is nothing else. */
static size_t home_candidates(const struct netif_addr *a, size_t n, size_t *idx, size_t cap)
{
    size_t all[NETIF_MAX];
    size_t k = stage_serving_candidates(a, n, all, NETIF_MAX), m = 0;
    for (size_t i = 0; i < k && m < cap; i++)
        if (!in_final_net(a[all[i]].addr))
            idx[m++] = all[i];
    if (m == 0)
        for (size_t i = 0; i < k && m < cap; i++)
            idx[m++] = all[i];
    return m;
}

static void list_addrs(const struct netif_addr *a, const size_t *idx, size_t k, char *out,
                       size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s on %s", i ? ", " : "",
                                a[idx[i]].ip, a[idx[i]].ifname);
}

/* A serving IP inside a device network: an error when addresses are watched (§10.1),
 * a warning with --no-check-ip (the user switches networks when told). */
static int check_clash(struct run *r, int fatal)
{
    unsigned clash = stage_serving_clash(r->serving_ip);
    if (!clash)
        return 0;
    const char *text = clash & STAGE_CLASH_AP ? CLASH_AP_TEXT : CLASH_FINAL_TEXT;
    if (fatal) {
        run_fail(r, EXIT_NETWORK, "address-clash", "the serving IP %s is a problem: %s",
                 r->serving_ip, text);
        return -1;
    }
    ui_warn(&r->ui, "address-clash", "the serving IP %s: %s", r->serving_ip, text);
    return 0;
}

/* No home address at all, only 10.10.7.x: the pairing WiFi (a Sonoff answers at
 * 10.10.7.1) or a home network that uses the pairing network's numbers. */
static void fail_only_ap(struct run *r, const struct stage_seen *seen)
{
    struct ewl_device_info dev;
    char err[512];
    if (prov_get_device(r->o->device_url, PROV_ATTEMPT_MS, &dev, err, sizeof err) == PROV_OK) {
        run_fail(r, EXIT_NETWORK, "address", "this computer is on the pairing WiFi of device "
                 "%s (it has %s) but has no address on your home network to give the device. "
                 "Connect it to your home WiFi, start sonota there (it says when to switch), "
                 "or pass --serving-host with this computer's home address", dev.deviceid,
                 seen->ap_ip);
        return;
    }
    run_fail(r, EXIT_NETWORK, "address-clash", "this computer's only address is %s, and no "
             "Sonoff answers at %s. %s. (If this is the device's ITEAD-<deviceid> WiFi, put "
             "the device in pairing mode - LED blinking fast - and run again.)", seen->ap_ip,
             r->o->device_url, CLASH_AP_TEXT);
}

static int choose_serving_ip(struct run *r, const struct netif_addr *a, size_t n,
                             const struct stage_seen *seen)
{
    struct flash_opts *o = r->o;
    size_t idx[NETIF_MAX];
    size_t k = home_candidates(a, n, idx, NETIF_MAX);
    char list[512];
    if (o->serving_host) {
        snprintf(r->serving_ip, sizeof r->serving_ip, "%s", o->serving_host);
        if (!r->watch)
            return check_clash(r, 0);
        if (check_clash(r, 1) != 0)
            return -1;
        if (!addr_present(a, n, r->serving_ip) && k > 0 && !seen->ap && !seen->final) {
            list_addrs(a, idx, k, list, sizeof list);
            run_fail(r, EXIT_USAGE, "address", "--serving-host %s is not an address of this "
                     "computer (it has %s): the device would call an address nobody answers, "
                     "and sonota listens on %s only. Pass one of this computer's addresses, "
                     "or connect it to the network that gives it %s", r->serving_ip, list,
                     r->serving_ip, r->serving_ip);
            return -1;
        }
        return 0;
    }
    if (r->rec.stage >= STAGE_PROVISIONED) {
        /* The device was given rec.serving_ip: keep it while this computer has no other
         * home address (it is on the pairing WiFi, on FinalStage or between networks). */
        int other = 0;
        for (size_t i = 0; i < k; i++)
            other |= !in_final_net(a[idx[i]].addr);
        if (addr_present(a, n, r->rec.serving_ip) || !other || r->rec.stage == STAGE_FINAL) {
            snprintf(r->serving_ip, sizeof r->serving_ip, "%s", r->rec.serving_ip);
            return 0;
        }
        list_addrs(a, idx, k, list, sizeof list);
        ui_info(&r->ui, "an earlier run gave device %s the address %s to call, but this "
                "computer has %s now: starting over with stage 1 (the device needs the new "
                "address)", r->rec.deviceid[0] ? r->rec.deviceid : "?", r->rec.serving_ip,
                list);
        memset(&r->rec, 0, sizeof r->rec);
    }
    if (k == 0) {
        if (seen->final) { /* FinalStage needs no home address (§4) */
            snprintf(r->serving_ip, sizeof r->serving_ip, "%s", STAGE_FINAL_HOST_STR);
            return 0;
        }
        if (seen->ap && r->watch) {
            fail_only_ap(r, seen);
            return -1;
        }
        run_fail(r, EXIT_NETWORK, "address", "this computer has no address on a home network "
                 "to offer the device; connect it to your WiFi (or LAN) and run again, or "
                 "pass --serving-host IP");
        return -1;
    }
    size_t pick = 0;
    if (k > 1) {
        char menu[1024] = "";
        size_t len = 0;
        for (size_t i = 0; i < k && len < sizeof menu; i++)
            len += (size_t)snprintf(menu + len, sizeof menu - len, "%s  %zu) %s on %s%s",
                                    i ? "\n" : "", i + 1, a[idx[i]].ip, a[idx[i]].ifname,
                                    a[idx[i]].is_default ? " (default route)" : "");
        if (!prompt_available()) {
            run_fail(r, EXIT_USAGE, "address", "this computer has several addresses; pass "
                     "--serving-host with the one on the WiFi the device will join:\n%s", menu);
            return -1;
        }
        char q[1200], ans[16];
        snprintf(q, sizeof q, "This computer has several addresses:\n%s\nWhich one is on "
                 "the WiFi the device will join? [1] ", menu);
        if (prompt_line(q, ans, sizeof ans) != 0) {
            run_fail(r, EXIT_USAGE, "address", "no answer; pass --serving-host IP");
            return -1;
        }
        long v = ans[0] ? strtol(ans, NULL, 10) : 1;
        if (v < 1 || (size_t)v > k) {
            run_fail(r, EXIT_USAGE, "address", "'%s' is not one of 1-%zu", ans, k);
            return -1;
        }
        pick = (size_t)v - 1;
    }
    snprintf(r->serving_ip, sizeof r->serving_ip, "%s", a[idx[pick]].ip);
    if (seen->final && !strcmp(r->serving_ip, STAGE_FINAL_HOST_STR))
        return 0; /* on FinalStage (the message says what if it is home) */
    return check_clash(r, r->watch);
}

/* ---- credentials ---- */

int run_credentials(struct run *r)
{
    struct flash_opts *o = r->o;
    if (!o->wifi_ssid) {
        static char ssid[FLASH_SSID_MAX + 2];
        if (!prompt_available() ||
            prompt_line("WiFi network (SSID) the device should join: ", ssid, sizeof ssid) ||
            !ssid[0]) {
            run_fail(r, EXIT_USAGE, "usage", "the device needs your WiFi name: pass --wifi-ssid "
                 "SSID (or --no-prov if it is already provisioned)");
            return -1;
        }
        o->wifi_ssid = ssid;
    }
    if (!o->wifi_password) {
        char pw[FLASH_PASSWORD_MAX + 2];
        int asked = prompt_available() ? prompt_wifi_password(o->wifi_ssid, pw, sizeof pw) : -1;
        if (asked != 0) {
            plat_wipe(pw, sizeof pw);
            if (asked == -2)
                run_fail(r, EXIT_USAGE, "usage", "no usable WiFi password after %d answers: "
                         "a WPA2 password has 8 to 63 characters (or 64 hex digits); an open "
                         "network needs an empty answer, confirmed", PROMPT_PW_TRIES);
            else
                run_fail(r, EXIT_USAGE, "usage", "the device needs your WiFi password and there "
                         "is no terminal to ask: set " FLASH_ENV_PASSWORD " (or pass "
                         "--wifi-password)");
            return -1;
        }
        int rc = flash_opts_set_password(o, pw, FLASH_PW_PROMPT);
        plat_wipe(pw, sizeof pw);
        if (rc != 0) {
            run_fail(r, EXIT_FAIL, "memory", "out of memory");
            return -1;
        }
    } else if (o->pw_source == FLASH_PW_FLAG) {
        ui_warn(&r->ui, "password-visible", "--wifi-password was visible in the process list "
                "until now; prefer " FLASH_ENV_PASSWORD " or the prompt");
    }
    r->ctx.ssid = o->wifi_ssid;
    r->creds_ok = 1;
    return 0;
}

static void summary(struct run *r, const struct ui_configured *conf, double configure_s)
{
    struct ui_summary s;
    memset(&s, 0, sizeof s);
    s.configured = conf;
    s.configure_s = configure_s;
    const struct flash_dev *d = run_dev(r);
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
    if (load_images(r) != 0)
        return;
    r->watch = !o->no_check_ip;
    if (!o->fleet)
        run_load_record(r); /* a fleet has no single device to resume */
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
    if (choose_serving_ip(r, a, n, &seen) != 0)
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
        run_fail(r, EXIT_FAIL, "memory", "out of memory");
        return;
    }
    struct flash_dev *d = run_dev(r);
    enum flash_stage reached = r->watch ? run_recorded_stage(r) : STAGE_NONE;
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
                             r->watch, run_bind_addr(r)};
    ui_start(&r->ui, SONOTA_VERSION, &r->ctx, flash_pace_name(o->pace));
    run_tell_detected(r, plan, recheck, &seen, from_record);
    if (r->watch && o->http_port != 8080)
        ui_warn(&r->ui, "http-port", "the intermediate firmware fetches the final image from "
                "192.168.4.2:8080 only (its address and port are built in); with --http-port %d "
                "stage 3 needs a "
                "port forward from 8080", o->http_port);
    /* Stage 1 and --configure need the WiFi: ask now, not when the device waits. */
    if (((!o->no_prov && (plan == STAGE_WAIT_AP || (plan == STAGE_PROVISION && !recheck))) ||
         o->configure) && run_credentials(r) != 0)
        return;
    if (run_servers_update(r, &seen) != 0)
        return;
    run_firewall(r, plan == STAGE_FINAL);
    r->serving_up = seen.serving;
    r->ap_up = seen.ap;
    r->final_up = seen.final;
    switch (plan) {
    case STAGE_FINAL:
        if (seen.final)
            ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
        break;
    case STAGE_PROVISION:
        r->recheck = recheck;
        ui_address(&r->ui, "ap", seen.ap_ip, seen.ap_if);
        break;
    case STAGE_WAIT_AP:
        if (!r->watch)
            plan = STAGE_PROVISION;
        break;
    default:
        break;
    }
    run_set_state(r, plan);
    run_loop(r);
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
    r->stop = &g_stop;
    so_log_set_tag("sonota");
    so_log_set_level(o.quiet ? SO_LOG_WARN : o.verbose >= 2 ? SO_LOG_TRACE
                     : o.verbose ? SO_LOG_DEBUG : SO_LOG_INFO);
    ui_init(&r->ui, stdout, stderr, o.json, o.quiet, o.verbose, o.no_color);

    g_stop = 0;
    plat_intr_catch(&g_stop); /* a prompt or sleep ends at Ctrl-C */

    r->deadline = plat_mono_ms() + (int64_t)o.timeout_s * 1000;
    if (o.log_file && so_log_open_file(o.log_file) != 0)
        run_fail(r, EXIT_FAIL, "log", "cannot open the log file %s: %s", o.log_file,
                 strerror(errno));
    else if (prov_global_init() != 0)
        run_fail(r, EXIT_FAIL, "http", "cannot initialise libcurl");
    else {
        if (!(r->http = httpc_create()))
            run_fail(r, EXIT_FAIL, "memory", "out of memory");
        else
            flash(r);
        httpc_destroy(r->http);
        prov_global_cleanup();
    }

    int code = r->exit_code < 0 ? EXIT_FAIL : r->exit_code;
    srv_destroy(r->srv_final);
    srv_destroy(r->srv);
    flash_table_free(&r->table);
    for (int i = 0; i < 3; i++)
        free(r->img[i].data);
    if (r->trusted) /* factory keys */
        plat_wipe(r->trusted, r->n_trusted * sizeof *r->trusted);
    free(r->trusted);
    plat_wipe(r, sizeof *r);
    free(r);
    plat_intr_restore();
    flash_opts_free(&o);
    so_log_forget_secrets();
    so_log_close_file();
    return code;
}
