/* thread_windows.c - plat/thread.h on Windows (CreateThread: no winpthread DLL). */
#include "plat/thread.h"

#include <stdlib.h>
#include <windows.h>

struct plat_thread {
    HANDLE h;
    void (*fn)(void *);
    void *arg;
};

static DWORD WINAPI thread_main(LPVOID p)
{
    struct plat_thread *t = p;
    t->fn(t->arg);
    return 0;
}

int plat_thread_start(struct plat_thread **out, void (*fn)(void *), void *arg)
{
    *out = NULL;
    struct plat_thread *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->fn = fn;
    t->arg = arg;
    t->h = CreateThread(NULL, 0, thread_main, t, 0, NULL);
    if (!t->h) {
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
    WaitForSingleObject(t->h, INFINITE);
    CloseHandle(t->h);
    free(t);
}
