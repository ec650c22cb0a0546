/* thread_posix.c - plat/thread.h on Linux and macOS (pthreads). */
#include "plat/thread.h"

#include <pthread.h>
#include <stdlib.h>

struct plat_thread {
    pthread_t id;
    void (*fn)(void *);
    void *arg;
};

static void *thread_main(void *p)
{
    struct plat_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

int plat_thread_start(struct plat_thread **out, void (*fn)(void *), void *arg)
{
    *out = NULL;
    struct plat_thread *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->id, NULL, thread_main, t) != 0) {
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void plat_thread_join(struct plat_thread *t)
{
    if (!t)
        return;
    pthread_join(t->id, NULL);
    free(t);
}
