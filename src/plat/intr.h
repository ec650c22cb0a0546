/* plat/intr.h - Ctrl-C (and SIGTERM on POSIX) as a flag the event loops read: the
 * handler only sets it, so every loop ends at its next turn and cleans up. */
#ifndef SO_PLAT_INTR_H
#define SO_PLAT_INTR_H

#include <signal.h> /* sig_atomic_t (ISO C) */

/* Installs the handler: *flag becomes 1 on Ctrl-C. POSIX: sigaction for SIGINT and
 * SIGTERM without SA_RESTART (a blocking read of the prompt ends), SIGPIPE ignored;
 * Windows: SetConsoleCtrlHandler (Ctrl-C, Ctrl-Break, closing the console). One flag at
 * a time; plat_intr_restore puts the previous handlers back. */
void plat_intr_catch(volatile sig_atomic_t *flag);
void plat_intr_restore(void);

#endif
