/* plat_run_posix.c - plat_run.h for Linux and macOS: posix_spawn with a pipe on
 * stdout, read with poll() against one deadline for the whole run. The pipe is made
 * close-on-exec with fcntl (macOS has no pipe2); sonota is single-threaded, so no other
 * thread can spawn between pipe() and fcntl() and leak the ends. */
#include "plat/plat_run.h"

#include "plat/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WAIT_STEP_MS 10 /* how often a child that closed stdout is asked whether it ended */

static int cloexec_pipe(int pfd[2])
{
    if (pipe(pfd) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(pfd[i], F_SETFD, FD_CLOEXEC) != 0) {
            close(pfd[0]);
            close(pfd[1]);
            return -1;
        }
    return 0;
}

static int spawn(const char *const argv[], int wr, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    /* dup2 clears FD_CLOEXEC on fd 1 only; both pipe ends close at exec. */
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, wr, 1);
    if (!rc)
        rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (!rc) /* posix_spawn's argv is not const-qualified; it does not write to it */
        rc = posix_spawn(pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc ? -1 : 0;
}

/* Reads fd until EOF or the deadline, keeping up to cap bytes in buf. Returns 0 at EOF,
 * 1 on timeout, -1 on a read error. */
static int drain(int fd, long long deadline, char *buf, size_t cap, size_t *len)
{
    for (;;) {
        long long left = deadline - plat_mono_ms();
        if (left <= 0)
            return 1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            return 1;
        char tmp[4096];
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        size_t take = (size_t)r < cap - *len ? (size_t)r : cap - *len;
        memcpy(buf + *len, tmp, take);
        *len += take;
    }
}

/* Waits for pid until the deadline (a child may close stdout and go on running);
 * kills it after that. Returns its wait status, or -1 when it was killed. */
static int reap(pid_t pid, long long deadline)
{
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0 && errno != EINTR)
            break;
        if (plat_mono_ms() >= deadline)
            break;
        poll(NULL, 0, WAIT_STEP_MS);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

int plat_run(const char *const argv[], unsigned timeout_ms, size_t cap, char **out)
{
    *out = NULL;
    char *buf = malloc(cap + 1);
    if (!buf)
        return -1;
    int pfd[2];
    if (cloexec_pipe(pfd) != 0) {
        free(buf);
        return -1;
    }
    long long deadline = plat_mono_ms() + timeout_ms;
    pid_t pid;
    int rc = spawn(argv, pfd[1], &pid);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        free(buf);
        return -1;
    }
    size_t len = 0;
    int dr = drain(pfd[0], deadline, buf, cap, &len);
    close(pfd[0]);
    int st = reap(pid, dr == 0 ? deadline : 0);
    if (dr != 0 || st < 0 || !WIFEXITED(st)) {
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    return WEXITSTATUS(st);
}
