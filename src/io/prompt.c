#include "io/prompt.h"

#include "lib/wifi_pw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int prompt_available(void)
{
    if (!isatty(STDIN_FILENO))
        return 0;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Reads bytes up to '\n'. Interrupted reads fail (the SIGINT handler is installed
 * without SA_RESTART, so Ctrl-C ends the question). -1 on EOF or error, -2 when the
 * line does not fit (it is read to its end all the same). */
static int read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int too_long = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 || (r == 0 && n == 0))
            return -1;
        if (r == 0 || c == '\n')
            break;
        if (c == '\r')
            continue;
        if (n + 1 < cap)
            buf[n++] = c;
        else
            too_long = 1;
    }
    buf[n] = '\0';
    return too_long ? -2 : 0;
}

static int ask(const char *question, char *buf, size_t cap, int secret)
{
    if (!buf || cap == 0)
        return -1;
    buf[0] = '\0';
    if (!isatty(STDIN_FILENO))
        return -1;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    struct termios saved, quiet;
    int restore = 0;
    if (secret) {
        if (tcgetattr(fd, &saved) != 0) {
            close(fd);
            return -1;
        }
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
        quiet.c_lflag |= ICANON;
        if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
            close(fd);
            return -1;
        }
        restore = 1;
    }
    put(fd, question);
    int rc = read_line(fd, buf, cap);
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &saved);
        put(fd, "\n"); /* the user's Enter was not echoed */
    }
    close(fd);
    if (rc != 0)
        explicit_bzero(buf, cap);
    return rc;
}

int prompt_line(const char *question, char *buf, size_t cap)
{
    return ask(question, buf, cap, 0) ? -1 : 0;
}

int prompt_secret(const char *question, char *buf, size_t cap)
{
    return ask(question, buf, cap, 1) ? -1 : 0;
}

static void say(const char *text)
{
    int fd = open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return;
    put(fd, text);
    close(fd);
}

int prompt_wifi_password(const char *ssid, char *buf, size_t cap)
{
    char q[128];
    snprintf(q, sizeof q, "Password of \"%.32s\" (not shown): ", ssid ? ssid : "");
    for (int i = 0; i < PROMPT_PW_TRIES; i++) {
        int rc = ask(q, buf, cap, 1);
        if (rc == -1)
            return -1;
        enum wifi_pw_verdict v = rc == -2 ? WIFI_PW_LONG : wifi_pw_check(buf, strlen(buf));
        if (v == WIFI_PW_OK)
            return 0;
        if (v == WIFI_PW_OPEN) {
            char yn[8];
            if (ask("Empty: open network, no password? [y/N] ", yn, sizeof yn, 0) == -1)
                return -1;
            if (yn[0] == 'y' || yn[0] == 'Y')
                return 0;
            if (i + 1 < PROMPT_PW_TRIES)
                say("  Then type the password (8 to 63 characters).\n");
            continue;
        }
        explicit_bzero(buf, cap);
        char why[200];
        snprintf(why, sizeof why, "  Not usable: %s.%s\n", wifi_pw_reason(v),
                 i + 1 < PROMPT_PW_TRIES ? " Try again." : "");
        say(why);
    }
    explicit_bzero(buf, cap);
    return -2;
}
