/* intr_posix.c - plat/intr.h with sigaction. */
#include "plat/intr.h"

#include <string.h>

static volatile sig_atomic_t *g_flag;
static struct sigaction g_old_int, g_old_term, g_old_pipe;
static int g_caught;

static void on_signal(int sig)
{
    (void)sig;
    if (g_flag)
        *g_flag = 1;
}

void plat_intr_catch(volatile sig_atomic_t *flag)
{
    g_flag = flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
    sa.sa_handler = SIG_IGN; /* a peer closing a connection must not end the run */
    sigaction(SIGPIPE, &sa, &g_old_pipe);
    g_caught = 1;
}

void plat_intr_restore(void)
{
    if (!g_caught)
        return;
    sigaction(SIGINT, &g_old_int, NULL);
    sigaction(SIGTERM, &g_old_term, NULL);
    sigaction(SIGPIPE, &g_old_pipe, NULL);
    g_caught = 0;
    g_flag = NULL;
}
