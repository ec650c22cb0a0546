/* cmd_flash.c - `sonota flash`: the stock-firmware OTA path, stage by stage (PROTOCOL.md
 * §1, §4, §10): load and check the images, choose the serving IP, provision the device on
 * its pairing AP (prov), run the fake cloud and file server (server.h) until the
 * intermediate firmware is downloaded, then serve the final image on FinalStage.
 * One loop: srv_run_once() plus a per-state step; every wait is bounded. */
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

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_FILE_MAX (16u << 20) /* read cap; espimg_check applies the real limits */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

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
            snprintf(why, sizeof why, "%s", so_strerror(e));
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

static int choose_serving_ip(struct run *r, int resume_final)
{
    struct flash_opts *o = r->o;
    if (o->serving_host) {
        snprintf(r->serving_ip, sizeof r->serving_ip, "%s", o->serving_host);
    } else if (resume_final) {
        /* Only the file server matters on FinalStage; E2A asks 192.168.4.2 (§4). */
        snprintf(r->serving_ip, sizeof r->serving_ip, "%s", STAGE_FINAL_HOST_STR);
        return 0;
    } else {
        struct netif_addr a[NETIF_MAX];
        int n = netif_list(a, NETIF_MAX, 0);
        size_t idx[NETIF_MAX];
        size_t k = n > 0 ? stage_serving_candidates(a, (size_t)n, idx, NETIF_MAX) : 0;
        if (k == 0) {
            run_fail(r, EXIT_NETWORK, "address", "this computer has no address on a home network "
                 "to offer the device; connect it to your WiFi (or LAN) and run again, or "
                 "pass --serving-host IP");
            return -1;
        }
        size_t pick = 0;
        if (k > 1) {
            char list[1024] = "";
            size_t len = 0;
            for (size_t i = 0; i < k && len < sizeof list; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s  %zu) %s on %s%s",
                                        i ? "\n" : "", i + 1, a[idx[i]].ip, a[idx[i]].ifname,
                                        a[idx[i]].is_default ? " (default route)" : "");
            if (!prompt_available()) {
                run_fail(r, EXIT_USAGE, "address", "this computer has several addresses; pass "
                     "--serving-host with the one on the WiFi the device will join:\n%s", list);
                return -1;
            }
            char q[1200], ans[16];
            snprintf(q, sizeof q, "This computer has several addresses:\n%s\nWhich one is on "
                     "the WiFi the device will join? [1] ", list);
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
    }
    unsigned clash = stage_serving_clash(r->serving_ip);
    if (clash & STAGE_CLASH_AP)
        ui_warn(&r->ui, "address-clash", "the serving IP %s is inside 10.10.7.0/24, the "
                "device's pairing network: stage detection cannot tell them apart; use "
                "--no-check-ip and switch networks when told", r->serving_ip);
    if (clash & STAGE_CLASH_FINAL)
        ui_warn(&r->ui, "address-clash", "the serving IP %s is inside 192.168.4.0/24, the "
                "FinalStage network: stage 3 needs this computer at 192.168.4.2 on FinalStage; "
                "a home network with the same numbers confuses both (PROTOCOL.md §8)",
                r->serving_ip);
    return 0;
}

/* ---- credentials ---- */

static int ask_credentials(struct run *r)
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
        char q[128];
        snprintf(q, sizeof q, "Password of \"%.32s\" (not shown): ", o->wifi_ssid);
        if (!prompt_available() || prompt_secret(q, pw, sizeof pw) != 0) {
            explicit_bzero(pw, sizeof pw);
            run_fail(r, EXIT_USAGE, "usage", "the device needs your WiFi password and there is no "
                 "terminal to ask: set " FLASH_ENV_PASSWORD " (or pass --wifi-password)");
            return -1;
        }
        int rc = flash_opts_set_password(o, pw, FLASH_PW_PROMPT);
        explicit_bzero(pw, sizeof pw);
        if (rc != 0) {
            run_fail(r, EXIT_FAIL, "memory", "out of memory");
            return -1;
        }
    } else if (o->pw_source == FLASH_PW_FLAG) {
        ui_warn(&r->ui, "password-visible", "--wifi-password was visible in the process list "
                "until now; prefer " FLASH_ENV_PASSWORD " or the prompt");
    }
    return 0;
}

/* ---- the command ---- */

static int start_server(struct run *r)
{
    struct flash_opts *o = r->o;
    struct srv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bind_addr = NULL; /* all interfaces: the computer changes networks during the run */
    cfg.serving_ip = r->serving_ip;
    cfg.http_port = o->http_port;
    cfg.https_port = o->https_port;
    cfg.legacy = o->legacy;
    cfg.plain_port = o->plain_port;
    cfg.pace = o->pace;
    cfg.n_files = 3;
    for (int i = 0; i < 3; i++) {
        cfg.files[i].name = r->img[i].name;
        cfg.files[i].data = r->img[i].data;
        cfg.files[i].len = r->img[i].len;
        memcpy(cfg.files[i].sha256, r->img[i].sha256, sizeof cfg.files[i].sha256);
    }
    cfg.user1_name = FLASH_NAME_USER1;
    cfg.user2_name = FLASH_NAME_USER2;
    cfg.upgrade_version = UPGRADE_VERSION;
    char err[512] = "";
    r->srv = srv_create(&cfg, run_on_event, r, err, sizeof err);
    if (!r->srv) {
        run_fail(r, EXIT_NETWORK, "server", "cannot start the servers: %s",
                 err[0] ? err : "unknown error");
        return -1;
    }
    return 0;
}

static void summary(struct run *r)
{
    struct ui_summary s;
    memset(&s, 0, sizeof s);
    s.deviceid = r->dev.deviceid[0] ? r->dev.deviceid : NULL;
    s.model = r->model[0] ? r->model : NULL;
    s.rom_version = r->rom[0] ? r->rom : NULL;
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
        int64_t end = r->stage_t[i][1] ? r->stage_t[i][1] : ui_now_ms();
        s.stage_s[i] = (double)(end - r->stage_t[i][0]) / 1000.0;
        if (!first || r->stage_t[i][0] < first)
            first = r->stage_t[i][0];
        if (end > last)
            last = end;
    }
    s.total_s = first ? (double)(last - first) / 1000.0 : 0;
    ui_done(&r->ui, &s);
}

/* Everything between option parsing and cleanup. */
static void flash(struct run *r)
{
    struct flash_opts *o = r->o;
    if (load_images(r) != 0)
        return;
    /* Where are we? (§10.1) FinalStage means a previous run got the device that far. */
    struct netif_addr a[NETIF_MAX];
    struct stage_seen seen;
    memset(&seen, 0, sizeof seen);
    if (!o->no_check_ip) {
        int n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
        stage_scan(a, n > 0 ? (size_t)n : 0, o->serving_host, &seen);
    }
    enum flash_stage at = stage_guess(&seen);
    if (choose_serving_ip(r, at == STAGE_FINAL) != 0)
        return;
    r->ctx = (struct ui_ctx){o->wifi_ssid, r->serving_ip, o->device_url, NULL, o->http_port,
                             o->https_port, o->plain_port, o->legacy, !o->no_check_ip};
    ui_start(&r->ui, SONOTA_VERSION, &r->ctx, flash_pace_name(o->pace));
    if (!o->no_check_ip && o->http_port != 8080)
        ui_warn(&r->ui, "http-port", "the intermediate firmware fetches the final image from "
                "192.168.4.2:8080 only (PROTOCOL.md §4); with --http-port %d stage 3 needs a "
                "port forward from 8080", o->http_port);
    if (!o->no_prov && at != STAGE_FINAL && ask_credentials(r) != 0)
        return;
    r->ctx.ssid = o->wifi_ssid;
    if (start_server(r) != 0)
        return;

    if (at == STAGE_FINAL) {
        ui_info(&r->ui, "this computer is on FinalStage (192.168.4.2): continuing with stage 3");
        ui_address(&r->ui, "final", STAGE_FINAL_HOST_STR, seen.final_if);
        r->final_ip_seen = 1;
        run_set_state(r, RS_FINAL);
    } else if (o->no_prov) {
        if (!o->no_check_ip) { /* again, now that the serving IP is known */
            int n = netif_list(a, NETIF_MAX, NETIF_WITH_LOOPBACK);
            stage_scan(a, n > 0 ? (size_t)n : 0, r->serving_ip, &seen);
        }
        run_set_state(r, o->no_check_ip || seen.serving ? RS_CLOUD : RS_WAIT_HOME);
    } else if (o->no_check_ip || at == STAGE_PROVISION) {
        if (at == STAGE_PROVISION)
            ui_address(&r->ui, "ap", seen.ap_ip, seen.ap_if);
        run_set_state(r, RS_GET_DEVICE);
    } else {
        run_set_state(r, RS_WAIT_AP);
    }
    run_loop(r);
    if (r->exit_code == EXIT_OK)
        summary(r);
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

    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a prompt or sleep ends at Ctrl-C */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);
    g_stop = 0;

    r->deadline = ui_now_ms() + (int64_t)o.timeout_s * 1000;
    if (o.log_file && so_log_open_file(o.log_file) != 0)
        run_fail(r, EXIT_FAIL, "log", "cannot open the log file %s: %s", o.log_file,
                 strerror(errno));
    else if (prov_global_init() != 0)
        run_fail(r, EXIT_FAIL, "http", "cannot initialise libcurl");
    else {
        flash(r);
        prov_global_cleanup();
    }

    int code = r->exit_code < 0 ? EXIT_FAIL : r->exit_code;
    srv_destroy(r->srv);
    for (int i = 0; i < 3; i++)
        free(r->img[i].data);
    explicit_bzero(r, sizeof *r);
    free(r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    flash_opts_free(&o);
    so_log_forget_secrets();
    so_log_close_file();
    return code;
}
