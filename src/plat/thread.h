/* plat/thread.h - a background worker for a CPU-bound job that must not hold up the
 * event loop (the per-run TLS key, io/tls.c; the images at start-up, flash_setup.c). The
 * loop stays the program's only thread that touches the network; a worker touches
 * nothing but the data it was given. */
#ifndef SO_PLAT_THREAD_H
#define SO_PLAT_THREAD_H

struct plat_thread;

/* Runs fn(arg) on a new thread. 0, or -1 (then nothing runs and *out is NULL). */
int plat_thread_start(struct plat_thread **out, void (*fn)(void *), void *arg);
/* Waits until fn has returned and frees the handle; accepts NULL. */
void plat_thread_join(struct plat_thread *t);

#endif
