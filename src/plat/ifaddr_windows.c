/* ifaddr_windows.c - plat/ifaddr.h with the IP Helper API. Interfaces are named by
 * their friendly alias in UTF-8. */
#include "plat/ifaddr.h"
#include "plat/wtext_windows.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int plat_if_list(struct plat_ifaddr *out, size_t cap)
{
    ULONG len = 16 * 1024;
    IP_ADAPTER_ADDRESSES *list = NULL;
    ULONG rc = ERROR_BUFFER_OVERFLOW;
    for (int tries = 0; tries < 3 && rc == ERROR_BUFFER_OVERFLOW; tries++) {
        free(list);
        list = malloc(len);
        if (!list) {
            errno = ENOMEM;
            return -1;
        }
        rc = GetAdaptersAddresses(AF_INET, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
                                  GAA_FLAG_SKIP_DNS_SERVER, NULL, list, &len);
    }
    if (rc != NO_ERROR) {
        free(list);
        errno = rc == ERROR_NO_DATA ? 0 : EIO;
        return rc == ERROR_NO_DATA ? 0 : -1;
    }
    size_t n = 0;
    for (const IP_ADAPTER_ADDRESSES *a = list; a && n < cap; a = a->Next) {
        for (const IP_ADAPTER_UNICAST_ADDRESS *u = a->FirstUnicastAddress; u && n < cap;
             u = u->Next) {
            const struct sockaddr *sa = u->Address.lpSockaddr;
            if (!sa || sa->sa_family != AF_INET)
                continue;
            struct plat_ifaddr *d = &out[n++];
            memset(d, 0, sizeof *d);
            plat_utf8_from_wide(a->FriendlyName, d->name, sizeof d->name);
            const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
            d->addr = ntohl(sin->sin_addr.s_addr);
            unsigned pl = u->OnLinkPrefixLength;
            d->netmask = pl == 0 || pl > 32 ? 0 : 0xFFFFFFFFu << (32 - pl);
            d->index = (int)a->IfIndex;
            d->up = a->OperStatus == IfOperStatusUp;
            d->loopback = a->IfType == IF_TYPE_SOFTWARE_LOOPBACK;
        }
    }
    free(list);
    return (int)n;
}

int plat_default_ifname(char *out, size_t cap)
{
    /* The route metric alone decides (the interface metric that Windows adds is the
     * same for most machines' one or two default routes). */
    MIB_IPFORWARD_TABLE2 *t = NULL;
    if (GetIpForwardTable2(AF_INET, &t) != NO_ERROR)
        return -1;
    ULONG best = ~0UL;
    NET_LUID luid;
    int found = 0;
    for (ULONG i = 0; i < t->NumEntries; i++) {
        const MIB_IPFORWARD_ROW2 *r = &t->Table[i];
        if (r->DestinationPrefix.PrefixLength != 0 || r->Metric >= best)
            continue;
        best = r->Metric;
        luid = r->InterfaceLuid;
        found = 1;
    }
    FreeMibTable(t);
    wchar_t alias[NDIS_IF_MAX_STRING_SIZE + 1];
    if (!found || ConvertInterfaceLuidToAlias(&luid, alias, sizeof alias / sizeof alias[0]) !=
                      NO_ERROR)
        return -1;
    plat_utf8_from_wide(alias, out, cap);
    return out[0] ? 0 : -1;
}
