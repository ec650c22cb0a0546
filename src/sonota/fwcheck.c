/* fwcheck.c - what the per-system firewall checks share (fw_os.h). Which file answers
 * fw_check() is chosen by meson: fw_linux.c, fw_windows.c or fw_macos.c. */
#include "sonota/fw_os.h"

#include "io/log.h"
#include "plat/plat_run.h"
#include "sonota/fwcheck.h"

#include <string.h>

int fw_run(const char *const argv[], unsigned timeout_ms, char **out)
{
    int rc = plat_run(argv, timeout_ms, FW_OUTPUT_MAX, out);
    /* %lu, not %zu: mingw's printf format checking knows no z */
    LOG_D("firewall: %s %s: exit %d, %lu bytes", argv[0], argv[1] ? argv[1] : "", rc,
          (unsigned long)(*out ? strlen(*out) : 0));
    return rc;
}
