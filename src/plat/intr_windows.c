/* intr_windows.c - plat/intr.h with SetConsoleCtrlHandler. The handler runs on a
 * thread of its own; setting a sig_atomic_t is all it does. */
#include "plat/intr.h"

#include <windows.h>

static volatile sig_atomic_t *g_flag;
static int g_caught;

static BOOL WINAPI on_ctrl(DWORD type)
{
    (void)type;
    if (!g_flag)
        return FALSE; /* the default: end the process */
    *g_flag = 1;
    return TRUE;
}

void plat_intr_catch(volatile sig_atomic_t *flag)
{
    g_flag = flag;
    if (!g_caught)
        SetConsoleCtrlHandler(on_ctrl, TRUE);
    g_caught = 1;
}

void plat_intr_restore(void)
{
    if (g_caught)
        SetConsoleCtrlHandler(on_ctrl, FALSE);
    g_caught = 0;
    g_flag = NULL;
}
