/* fwcheck.c - runs nft / iptables (read-only listing commands, fixed argv, no shell) and
 * hands their output to the parsers in fwrules.c. Each command is bounded in time and
 * output; a command that hangs is killed (our own child, by its pid). */
#include "sonota/fwcheck.h"

#include "io/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FW_TOOL_MS 3000

extern char **environ;

#ifdef __linux__
static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first of the usual locations that is executable (sbin is often not in a user's
 * PATH); NULL when the tool is not installed. */
static const char *find_tool(const char *name, char *buf, size_t cap)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin",
                                       "/usr/local/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(buf, cap, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0)
            return buf;
    }
    return NULL;
}

/* Runs argv, collecting stdout (≤ FW_OUTPUT_MAX) into a malloc'd *out. Returns the exit
 * status, or -1 when it could not run or timed out. */
static int run_tool(char *const argv[], char **out)
{
    *out = NULL;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        return -1;
    }
    char *buf = malloc(FW_OUTPUT_MAX + 1);
    size_t len = 0;
    int timed_out = 0;
    long long deadline = mono_ms() + FW_TOOL_MS;
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            timed_out = pr == 0;
            break;
        }
        char tmp[4096];
        ssize_t r = read(pfd[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (buf && len < FW_OUTPUT_MAX) {
            size_t take = (size_t)r < FW_OUTPUT_MAX - len ? (size_t)r : FW_OUTPUT_MAX - len;
            memcpy(buf + len, tmp, take);
            len += take;
        }
    }
    close(pfd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!buf || timed_out || !WIFEXITED(st)) {
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    return WEXITSTATUS(st);
}

void fw_check(const int *ports, size_t nports, struct fw_report *out)
{
    memset(out, 0, sizeof *out);
    char path[64], list[64];
    fw_ports_text(ports, nports, ~0u, list, sizeof list);
    const char *nft = find_tool("nft", path, sizeof path);
    if (nft) {
        char *argv[] = {(char *)nft, "list", "ruleset", NULL};
        char *text = NULL;
        int rc = run_tool(argv, &text);
        if (rc == 0) {
            out->status = FW_CHECKED;
            out->tool = "nftables";
            out->n = fw_scan_nft(text, ports, nports, out->f, FW_FINDINGS_MAX);
            LOG_D("firewall: nft ruleset %zu bytes, %zu finding(s)", strlen(text), out->n);
            free(text);
            return;
        }
        free(text);
        out->status = FW_UNREADABLE;
        snprintf(out->note, sizeof out->note, "could not read the firewall rules (nft list "
                 "ruleset needs root); if the device cannot connect, check with `sudo nft "
                 "list ruleset` that incoming TCP %s is allowed", list);
    }
    char path2[64];
    const char *ipt = find_tool("iptables", path2, sizeof path2);
    if (ipt) {
        char *argv[] = {(char *)ipt, "-S", "INPUT", NULL};
        char *text = NULL;
        int rc = run_tool(argv, &text);
        if (rc == 0) {
            out->status = FW_CHECKED;
            out->tool = "iptables";
            out->n = fw_scan_iptables(text, ports, nports, out->f, FW_FINDINGS_MAX);
            free(text);
            return;
        }
        free(text);
        if (out->status != FW_UNREADABLE) {
            out->status = FW_UNREADABLE;
            snprintf(out->note, sizeof out->note, "could not read the firewall rules "
                     "(iptables -S needs root); if the device cannot connect, check with "
                     "`sudo iptables -S INPUT` that incoming TCP %s is allowed", list);
        }
        return;
    }
    if (out->status == FW_UNREADABLE)
        return;
    out->status = FW_NO_TOOL;
    snprintf(out->note, sizeof out->note, "neither nft nor iptables is installed, so the "
             "firewall was not checked; if the device cannot connect, check that incoming "
             "TCP %s is allowed (ufw status, firewall-cmd --list-all)", list);
}
#else
void fw_check(const int *ports, size_t nports, struct fw_report *out)
{
    memset(out, 0, sizeof *out);
    char list[64];
    fw_ports_text(ports, nports, ~0u, list, sizeof list);
    out->status = FW_UNSUPPORTED;
    snprintf(out->note, sizeof out->note, "the firewall is not checked on this system: allow "
             "incoming TCP %s for sonota (macOS: System Settings > Network > Firewall > "
             "Options; BSD: pfctl -sr)", list);
}
#endif
