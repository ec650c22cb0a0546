/* listen_only.c - the start-up floor (bench/footprint.py): a program that does nothing
 * but listen on the two ports sonota flash opens, then waits for a signal. Built twice,
 * linked to the same shared libraries as sonota and statically, it shows what the
 * loader alone costs before sonota's own start-up begins. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void listen_on(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16))
        exit(1);
}

int main(int argc, char **argv)
{
    int http = 0, https = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--http-port"))
            http = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--https-port"))
            https = atoi(argv[i + 1]);
    }
    listen_on(https);
    listen_on(http);
    pause(); /* SIGINT ends it */
    return 0;
}
