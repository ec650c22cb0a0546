/* paths_macos.c - plat_state_dir on macOS. */
#include "plat/paths.h"

#include <stdlib.h>

int plat_state_dir(char *out, size_t cap)
{
    return plat_state_dir_macos(getenv("HOME"), out, cap);
}
