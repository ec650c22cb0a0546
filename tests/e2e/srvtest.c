/* srvtest - runs sonota's server (src/sonota/server.h) alone for end-to-end tests.
 * Prints each event as one line on stdout:
 *   EV <TYPE> peer=.. deviceid=.. model=.. rom=.. file=.. error=N paced=N offset=N total=N [certrefused=1] [final=1] detail="..."
 * (fields that are NULL are left out) and runs until SIGINT/SIGTERM or --max-seconds.
 * Exit status: 0 after a clean stop, 1 when the server cannot start (sentence on stderr),
 * 2 on a bad command line. */
#include "io/crypto.h"
#include "io/file.h"
#include "io/log.h"
#include "sonota/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX (4u << 20)

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const char *type_name(enum srv_event_type t)
{
    switch (t) {
    case SRV_EV_LISTENING: return "LISTENING";
    case SRV_EV_TLS_CLIENT: return "TLS_CLIENT";
    case SRV_EV_DISPATCH: return "DISPATCH";
    case SRV_EV_WS_OPEN: return "WS_OPEN";
    case SRV_EV_REGISTER: return "REGISTER";
    case SRV_EV_UPGRADE_SENT: return "UPGRADE_SENT";
    case SRV_EV_UPGRADE_ACK: return "UPGRADE_ACK";
    case SRV_EV_UPGRADE_STATE: return "UPGRADE_STATE";
    case SRV_EV_WS_CLOSED: return "WS_CLOSED";
    case SRV_EV_DOWNLOAD_START: return "DOWNLOAD_START";
    case SRV_EV_DOWNLOAD_PROGRESS: return "DOWNLOAD_PROGRESS";
    case SRV_EV_DOWNLOAD_DONE: return "DOWNLOAD_DONE";
    case SRV_EV_DOWNLOAD_ABORT: return "DOWNLOAD_ABORT";
    case SRV_EV_REJECTED: return "REJECTED";
    case SRV_EV_ERROR: return "ERROR";
    case SRV_EV_DIY_RESULT: return "DIY_RESULT";
    }
    return "?";
}

static void on_event(const struct srv_event *ev, void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("EV %s t=%lld.%03ld", type_name(ev->type), (long long)ts.tv_sec,
           ts.tv_nsec / 1000000);
    if (ev->peer)
        printf(" peer=%s", ev->peer);
    if (ev->deviceid)
        printf(" deviceid=%s", ev->deviceid);
    if (ev->model)
        printf(" model=%s", ev->model);
    if (ev->rom_version)
        printf(" rom=%s", ev->rom_version);
    if (ev->file)
        printf(" file=%s", ev->file);
    printf(" error=%d paced=%d offset=%llu total=%llu", ev->error, ev->paced,
           (unsigned long long)ev->offset, (unsigned long long)ev->total);
    if (ev->tls_cert_refused)
        printf(" certrefused=1");
    if (ev->final_listener)
        printf(" final=1");
    if (ev->detail) {
        printf(" detail=\"");
        for (const char *p = ev->detail; *p; p++)
            putchar(*p == '"' || *p == '\n' ? '\'' : *p);
        printf("\"");
    }
    printf("\n");
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: srvtest [--http-port N] [--https-port N] [--plain-port N] [--legacy]\n"
            "               [--bind IP] [--serving-ip IP] [--pace auto|fast|slow]\n"
            "               [--file NAME=PATH]... [--user1 NAME --user2 NAME] [--version V]\n"
            "               [--paced-ip IP] [--max-conns N] [--max-conns-per-ip N]\n"
            "               [--ws-idle S] [--max-seconds S] [--debug]\n"
            "               [--final IP]     (srv_listen_final on IP, the http port, once\n"
            "                                 the loop runs; prints FINAL port=N)\n"
            "               [--fill-fds S]   (use up every descriptor for S seconds)\n"
            "               [--files-later S] (listen with files_later; srv_set_files after\n"
            "                                 S seconds; prints WAITING, then FILES)\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct srv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.http_port = 8080;
    cfg.https_port = 8443;
    cfg.plain_port = 8081;
    cfg.pace = SRV_PACE_AUTO;
    cfg.upgrade_version = "99.99.99";
    unsigned char *data[SRV_FILES_MAX] = {0};
    const char *paced_ip = NULL, *final_ip = NULL;
    double max_seconds = 0, fill_seconds = 0, later_seconds = -1;
    int rc = 2;
    so_log_set_tag("srvtest");

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--legacy")) {
            cfg.legacy = 1;
            continue;
        }
        if (!strcmp(a, "--debug")) {
            so_log_set_level(SO_LOG_DEBUG);
            continue;
        }
        if (!v)
            goto out_usage;
        i++;
        if (!strcmp(a, "--http-port"))
            cfg.http_port = atoi(v);
        else if (!strcmp(a, "--https-port"))
            cfg.https_port = atoi(v);
        else if (!strcmp(a, "--plain-port"))
            cfg.plain_port = atoi(v);
        else if (!strcmp(a, "--bind"))
            cfg.bind_addr = v;
        else if (!strcmp(a, "--serving-ip"))
            cfg.serving_ip = v;
        else if (!strcmp(a, "--user1"))
            cfg.user1_name = v;
        else if (!strcmp(a, "--user2"))
            cfg.user2_name = v;
        else if (!strcmp(a, "--version"))
            cfg.upgrade_version = v;
        else if (!strcmp(a, "--paced-ip"))
            paced_ip = v;
        else if (!strcmp(a, "--final"))
            final_ip = v;
        else if (!strcmp(a, "--max-conns"))
            cfg.max_conns = atoi(v);
        else if (!strcmp(a, "--max-conns-per-ip"))
            cfg.max_conns_per_ip = atoi(v);
        else if (!strcmp(a, "--ws-idle"))
            cfg.ws_idle_timeout_s = atoi(v);
        else if (!strcmp(a, "--max-seconds"))
            max_seconds = atof(v);
        else if (!strcmp(a, "--files-later"))
            later_seconds = atof(v);
        else if (!strcmp(a, "--fill-fds"))
            fill_seconds = atof(v);
        else if (!strcmp(a, "--pace")) {
            if (!strcmp(v, "auto"))
                cfg.pace = SRV_PACE_AUTO;
            else if (!strcmp(v, "fast"))
                cfg.pace = SRV_PACE_FAST;
            else if (!strcmp(v, "slow"))
                cfg.pace = SRV_PACE_SLOW;
            else
                goto out_usage;
        } else if (!strcmp(a, "--file")) {
            const char *eq = strchr(v, '=');
            if (!eq || cfg.n_files == SRV_FILES_MAX)
                goto out_usage;
            size_t k = cfg.n_files;
            static char names[SRV_FILES_MAX][128];
            snprintf(names[k], sizeof names[k], "%.*s", (int)(eq - v), v);
            size_t len = 0;
            if (so_read_file(eq + 1, FILE_MAX, &data[k], &len) != SO_OK) {
                fprintf(stderr, "srvtest: cannot read %s\n", eq + 1);
                rc = 1;
                goto out;
            }
            cfg.files[k].name = names[k];
            cfg.files[k].data = data[k];
            cfg.files[k].len = len;
            so_sha256_hex(data[k], len, cfg.files[k].sha256);
            cfg.n_files++;
        } else {
            goto out_usage;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[256];
    struct srv_file files[SRV_FILES_MAX];
    memcpy(files, cfg.files, sizeof files);
    if (later_seconds >= 0) { /* the names only: the bytes come after the wait */
        cfg.files_later = 1;
        for (size_t k = 0; k < cfg.n_files; k++)
            cfg.files[k] = (struct srv_file){.name = files[k].name};
    }
    struct srv *s = srv_create(&cfg, on_event, NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "srvtest: %s\n", err);
        rc = 1;
        goto out;
    }
    printf("PORTS http=%d https=%d plain=%d\n", srv_port(s, "http"), srv_port(s, "https"),
           srv_port(s, "plain"));
    if (later_seconds >= 0) {
        /* nothing is served meanwhile: the loop refuses, the requests wait unread */
        if (!srv_files_pending(s) || srv_run_once(s, 0) != -1) {
            fprintf(stderr, "srvtest: the server served before it had its files\n");
            srv_destroy(s);
            rc = 1;
            goto out;
        }
        printf("WAITING\n");
        struct timespec nap = {(time_t)later_seconds,
                               (long)((later_seconds - (double)(time_t)later_seconds) * 1e9)};
        while (!g_stop && nanosleep(&nap, &nap) != 0)
            ;
        if (srv_set_files(s, files, cfg.n_files, err, sizeof err) != 0 ||
            srv_files_pending(s)) {
            fprintf(stderr, "srvtest: srv_set_files: %s\n", err);
            srv_destroy(s);
            rc = 1;
            goto out;
        }
        printf("FILES\n");
    }
    if (paced_ip)
        srv_set_paced(s, paced_ip, 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* --fill-fds: every free descriptor taken (as a leak elsewhere in a program
     * would), so the server's accepts fail with EMFILE until they are given back */
    int fill_first = -1, fill_last = -1;
    if (fill_seconds > 0) {
        /* after the TLS key: its worker's CPU must not count in what is measured while
         * the descriptors are used up */
        while (!g_stop && !srv_tls_ready(s))
            srv_run_once(s, 20);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int fd;
        while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
            if (fill_first < 0)
                fill_first = fd;
            fill_last = fd;
        }
        printf("FILLED %d\n", fill_last - fill_first + 1);
    }
    rc = 0;
    while (!g_stop) {
        /* wait for the server's next timer, but look at the signals every 200 ms */
        int wait = srv_next_timer_ms(s);
        if (wait < 0 || wait > 200)
            wait = 200;
        else if (wait < 1)
            wait = 1;
        if (srv_run_once(s, wait) < 0) {
            fprintf(stderr, "srvtest: event loop failed\n");
            rc = 1;
            break;
        }
        if (final_ip) { /* as the flash flow does when 192.168.4.2 appears: twice */
            int port = cfg.http_port ? cfg.http_port : srv_port(s, "http");
            if (srv_listen_final(s, final_ip, port, err, sizeof err) ||
                srv_listen_final(s, final_ip, port, err, sizeof err)) {
                fprintf(stderr, "srvtest: %s\n", err);
                rc = 1;
                break;
            }
            printf("FINAL port=%d\n", srv_port(s, "final"));
            final_ip = NULL;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (fill_first >= 0 && el >= fill_seconds) {
            for (int fd = fill_first; fd <= fill_last; fd++)
                close(fd);
            fill_first = -1;
            printf("UNFILLED\n");
        }
        if (max_seconds > 0 && el >= max_seconds)
            break;
    }
    srv_destroy(s);
    printf("STOPPED\n");
    goto out;
out_usage:
    rc = usage();
out:
    for (size_t k = 0; k < SRV_FILES_MAX; k++)
        free(data[k]);
    return rc;
}
