/* route_proc.c - the default-route interface in /proc/net/route text (Linux's format;
 * pure, so its tests run everywhere). */
#include "plat/ifaddr.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define RTF_UP_FLAG 0x0001

int plat_parse_proc_route(const char *text, char *out, size_t cap)
{
    /* Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT;
     * hex fields. Default route: Destination 0 and Mask 0, flag RTF_UP. */
    unsigned long best_metric = ULONG_MAX;
    int found = -1;
    const char *line = text;
    int first = 1;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (!first && len > 0 && len < 512) {
            char buf[512];
            memcpy(buf, line, len);
            buf[len] = '\0';
            char ifname[64];
            unsigned long dest, gw, flags, refcnt, use, metric, mask;
            if (sscanf(buf, "%63s %lx %lx %lx %lu %lu %lu %lx", ifname, &dest, &gw, &flags,
                       &refcnt, &use, &metric, &mask) == 8 &&
                dest == 0 && mask == 0 && (flags & RTF_UP_FLAG) && metric < best_metric &&
                strlen(ifname) < cap) {
                best_metric = metric;
                memcpy(out, ifname, strlen(ifname) + 1);
                found = 0;
            }
        }
        first = 0;
        line = eol ? eol + 1 : NULL;
    }
    return found;
}
