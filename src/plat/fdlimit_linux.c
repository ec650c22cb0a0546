/* fdlimit_linux.c - where Linux lists a process's open descriptors. */
#include "plat/fdlimit.h"

const char plat_fd_dir[] = "/proc/self/fd";
