/* ifaddr_linux.c - plat_default_ifname from /proc/net/route. */
#include "plat/ifaddr.h"

#include <stdio.h>
#include <stdlib.h>

#define ROUTE_TEXT_MAX 65536 /* /proc/net/route of a busy router still fits */

int plat_default_ifname(char *out, size_t cap)
{
    FILE *f = fopen("/proc/net/route", "re");
    if (!f)
        return -1;
    char *text = malloc(ROUTE_TEXT_MAX);
    if (!text) {
        fclose(f);
        return -1;
    }
    size_t n = fread(text, 1, ROUTE_TEXT_MAX - 1, f);
    fclose(f);
    text[n] = '\0';
    int rc = plat_parse_proc_route(text, out, cap);
    free(text);
    return rc;
}
