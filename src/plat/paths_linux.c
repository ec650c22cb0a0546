/* paths_linux.c - plat_state_dir on Linux (XDG). */
#include "plat/paths.h"

#include <stdlib.h>

int plat_state_dir(char *out, size_t cap)
{
    return plat_state_dir_xdg(getenv("XDG_STATE_HOME"), getenv("HOME"), out, cap);
}
