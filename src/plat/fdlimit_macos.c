/* fdlimit_macos.c - where macOS lists a process's open descriptors (fdescfs shows the
 * caller's own). */
#include "plat/fdlimit.h"

const char plat_fd_dir[] = "/dev/fd";
