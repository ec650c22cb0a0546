/* tty_posix.c - plat/tty.h on /dev/tty with termios. */
#include "plat/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int plat_tty_available(void)
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

/* Reads bytes up to '\n'. Interrupted reads fail (plat_intr_catch installs its handler
 * without SA_RESTART, so Ctrl-C ends the question). */
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

int plat_tty_ask(const char *question, char *buf, size_t cap, int secret)
{
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
    return rc;
}

void plat_tty_say(const char *text)
{
    int fd = open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return;
    put(fd, text);
    close(fd);
}
