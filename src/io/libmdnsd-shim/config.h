/* config.h - stands in for the build-time config.h that Debian's libmdnsd-dev headers
 * include but do not ship (troglobit/mdnsd#75). <libmdnsd/1035.h> only asks whether
 * these two headers exist. Only code that includes <libmdnsd/mdnsd.h> sees this directory
 * (mdns_dep in src/io/meson.build). */
#ifndef SO_LIBMDNSD_SHIM_CONFIG_H
#define SO_LIBMDNSD_SHIM_CONFIG_H
#define HAVE_NETINET_IN_H 1
#define HAVE_SYS_SOCKET_H 1
#endif
