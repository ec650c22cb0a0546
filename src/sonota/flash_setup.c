/* flash_setup.c - what a `sonota flash` run needs before it serves: the three images,
 * loaded and checked (espimg) on a worker while the servers start, the serving IP the
 * device will be given (PROTOCOL.md §10.1), and the WiFi credentials (asked when
 * missing). */
#include "sonota/flash_run.h"

#include "io/crypto.h"
#include "io/file.h"
#include "io/prompt.h"
#include "lib/espimg.h"
#include "sonota/cmds.h"
#include "plat/fs.h"
#include "plat/thread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_FILE_MAX (16u << 20) /* read cap; espimg_check applies the real limits */

/* ---- step 1: images ---- */

/* One image: read, digest, verdict (what fails it in im->why). 0, or -1 when it cannot
 * be read (im->read_err). */
static int check_image(struct flash_img *im)
{
    errno = 0;
    im->read_err = so_read_file(im->path, IMAGE_FILE_MAX, &im->data, &im->len);
    im->read_errno = errno;
    if (im->read_err != SO_OK)
        return -1;
    so_sha256_hex(im->data, im->len, im->sha256);
    struct espimg_info *info = calloc(1, sizeof *info);
    if (!info) {
        im->read_err = SO_E_NOMEM;
        return -1;
    }
    enum so_err e = espimg_parse(im->data, im->len, info);
    if (e != SO_OK)
        espimg_parse_error(info, e, im->why, sizeof im->why);
    else
        e = espimg_check(info, im->len, im->use, im->why, sizeof im->why);
    free(info);
    im->valid = e == SO_OK;
    return 0;
}

/* The worker: the three images while the servers start (the ports listen meanwhile;
 * nothing is served before flash_images_finish). Touches only r->img[i]'s results; the
 * join orders its stores before the main thread's reads. */
static void check_images(struct run *r)
{
    for (int i = 0; i < 3; i++)
        if (check_image(&r->img[i]) != 0)
            break; /* reported first; the others are not needed */
}

static void image_worker(void *arg)
{
    check_images(arg);
    so_crypto_thread_end();
}

void flash_images_start(struct run *r)
{
    struct flash_opts *o = r->o;
    const struct { const char *role, *name, *path; enum espimg_use use; } def[3] = {
        {"user1", FLASH_NAME_USER1, o->user1, ESPIMG_USE_USER1},
        {"user2", FLASH_NAME_USER2, o->user2, ESPIMG_USE_USER2},
        {"final", FLASH_NAME_FINAL, o->final, ESPIMG_USE_FINAL},
    };
    for (int i = 0; i < 3; i++) {
        struct flash_img *im = &r->img[i];
        memset(im, 0, sizeof *im);
        im->role = def[i].role;
        im->name = def[i].name;
        im->path = def[i].path;
        im->use = def[i].use;
    }
    r->img_state = IMG_CHECKING;
    if (plat_thread_start(&r->img_worker, image_worker, r) != 0)
        check_images(r); /* no thread: here, before anything listens */
}

void flash_images_wait(struct run *r)
{
    if (r->img_worker) {
        plat_thread_join(r->img_worker);
        r->img_worker = NULL;
    }
}

/* The servers created while the images were being checked get their bytes now. */
static int give_servers_files(struct run *r)
{
    struct srv_file files[3];
    flash_net_files(r, files);
    struct srv *s[2] = {r->net.srv, r->net.srv_final};
    char err[256];
    for (int k = 0; k < 2; k++) {
        if (!s[k] || !srv_files_pending(s[k]))
            continue;
        if (srv_set_files(s[k], files, 3, err, sizeof err)) {
            flash_run_fail(r, EXIT_FAIL, "server", "cannot serve the images: %s", err);
            return -1;
        }
        flash_net_trust_all(r, s[k]); /* the cloud takes trust once it has its files */
    }
    return 0;
}

int flash_images_finish(struct run *r)
{
    if (r->img_state != IMG_CHECKING)
        return r->img_state == IMG_OK ? 0 : -1;
    flash_images_wait(r);
    r->img_state = IMG_BAD;
    struct flash_opts *o = r->o;
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        struct flash_img *im = &r->img[i];
        if (im->read_err != SO_OK) {
            flash_run_fail(r, im->read_err == SO_E_NOMEM ? EXIT_FAIL : EXIT_USAGE, "image",
                           "cannot read the %s image %s: %s", im->role, im->path,
                           im->read_err == SO_E_IO ? strerror(im->read_errno)
                                                   : so_strerror(im->read_err));
            return -1;
        }
        struct ui_image ui = {im->role, im->name, im->path, im->len, im->sha256, im->valid};
        ui_image(&r->ui, &ui, im->valid ? NULL : im->why, !im->valid && o->force);
        if (im->valid)
            continue;
        if (o->force) {
            ui_warn(&r->ui, "image-forced", "SERVING AN INVALID %s IMAGE (--force): %s: %s. "
                    "A bad image can leave the device unable to boot; only a serial flash "
                    "brings it back.", im->role, im->path, im->why);
        } else {
            ui_error(&r->ui, "image", EXIT_INVALID, "the %s image %s fails validation: %s",
                     im->role, im->path, im->why);
            bad = 1;
        }
    }
    if (bad) {
        flash_run_fail(r, EXIT_INVALID, "image", "nothing was sent to the device; fix the images "
             "(`sonota image check FILE` explains), or pass --force to serve them anyway");
        return -1;
    }
    if (give_servers_files(r) != 0)
        return -1;
    r->img_state = IMG_OK;
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
        flash_run_fail(r, EXIT_NETWORK, "address-clash", "the serving IP %s is a problem: %s",
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
    if (flash_images_finish(r) != 0) /* nothing talks to the device before the verdict */
        return;
    if (prov_get_device(r->o->device_url, PROV_ATTEMPT_MS, &dev, err, sizeof err) == PROV_OK) {
        flash_run_fail(r, EXIT_NETWORK, "address", "this computer is on the pairing WiFi of device "
                       "%s (it has %s) but has no address on your home network to give the device. "
                       "Connect it to your home WiFi, start sonota there (it says when to switch), "
                       "or pass --serving-host with this computer's home address", dev.deviceid,
                       seen->ap_ip);
        return;
    }
    flash_run_fail(r, EXIT_NETWORK, "address-clash", "this computer's only address is %s, and no "
                   "Sonoff answers at %s. %s. (If this is the device's ITEAD-<deviceid> WiFi, put "
                   "the device in pairing mode - LED blinking fast - and run again.)", seen->ap_ip,
                   r->o->device_url, CLASH_AP_TEXT);
}

int flash_setup_serving_ip(struct run *r, const struct netif_addr *a, size_t n,
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
            flash_run_fail(r, EXIT_USAGE, "address", "--serving-host %s is not an address of this "
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
        flash_run_fail(r, EXIT_NETWORK, "address", "this computer has no address on a home network "
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
        if (flash_images_finish(r) != 0) /* a bad image is told before a question */
            return -1;
        ui_flush(&r->ui); /* the events so far, before a question */
        if (!prompt_available()) {
            flash_run_fail(r, EXIT_USAGE, "address", "this computer has several addresses; pass "
                           "--serving-host with the one on the WiFi the device will join:\n%s",
                           menu);
            return -1;
        }
        char q[1200], ans[16];
        snprintf(q, sizeof q, "This computer has several addresses:\n%s\nWhich one is on "
                 "the WiFi the device will join? [1] ", menu);
        if (prompt_line(q, ans, sizeof ans) != 0) {
            flash_run_fail(r, EXIT_USAGE, "address", "no answer; pass --serving-host IP");
            return -1;
        }
        long v = ans[0] ? strtol(ans, NULL, 10) : 1;
        if (v < 1 || (size_t)v > k) {
            flash_run_fail(r, EXIT_USAGE, "address", "'%s' is not one of 1-%zu", ans, k);
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

int flash_setup_credentials(struct run *r)
{
    struct flash_opts *o = r->o;
    /* a bad image is told before a question, not after it */
    if ((!o->wifi_ssid || !o->wifi_password) && flash_images_finish(r) != 0)
        return -1;
    ui_flush(&r->ui); /* the events so far, before any question */
    if (!o->wifi_ssid) {
        char *ssid = o->ssid_answer;
        if (!prompt_available() ||
            prompt_line("WiFi network (SSID) the device should join: ", ssid,
                        sizeof o->ssid_answer) ||
            !ssid[0]) {
            flash_run_fail(r, EXIT_USAGE, "usage", "the device needs your WiFi name: pass "
                           "--wifi-ssid SSID (or --no-prov if it is already provisioned)");
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
                flash_run_fail(r, EXIT_USAGE, "usage", "no usable WiFi password after %d answers: "
                               "a WPA2 password has 8 to 63 characters (or 64 hex digits); an open "
                               "network needs an empty answer, confirmed", PROMPT_PW_TRIES);
            else
                flash_run_fail(r, EXIT_USAGE, "usage", "the device needs your WiFi password and "
                               "there is no terminal to ask: set " FLASH_ENV_PASSWORD " (or pass "
                               "--wifi-password)");
            return -1;
        }
        int rc = flash_opts_set_password(o, pw, FLASH_PW_PROMPT);
        plat_wipe(pw, sizeof pw);
        if (rc != 0) {
            flash_run_fail(r, EXIT_FAIL, "memory", "out of memory");
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

