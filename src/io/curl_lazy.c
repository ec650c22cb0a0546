/* curl_lazy.c - libcurl, loaded when the program first uses it (issue 15: start-up).
 *
 * Debian's libcurl pulls 30 more shared libraries (GnuTLS, Kerberos, LDAP, SSH, ...);
 * mapping and relocating them was 80 % of `sonota flash`'s CPU from exec to listening
 * (perf, 37 libraries), while libcurl is needed only once a device is provisioned or
 * configured, if at all. On the native Linux build the tool therefore does not link
 * libcurl: this file defines the libcurl functions the tool calls, and the first call
 * dlopen()s libcurl and forwards to it from then on. curl_global_init() only records
 * its flags; the real one runs right after the load, before any other libcurl call,
 * which is what libcurl requires. The static and cross builds link libcurl as before
 * (meson: src/io/meson.build). Single-threaded use, as the rest of the tool.
 *
 * A libcurl function the tool starts to use must be added to CURL_LAZY_FUNCS below;
 * the link fails ("undefined reference to curl_...") until it is. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>

/* The sonames of libcurl 7.x/8.x, OpenSSL flavour first (Debian: libcurl4-openssl). */
static const char *const curl_lazy_sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};

/* return type, name, parameters, arguments, and what to return if libcurl cannot be
 * loaded (LOAD_OR). The cleanups (void) follow by hand below. */
#define CURL_LAZY_FUNCS(X)                                                                 \
    X(CURL *, curl_easy_init, (void), (), LOAD_OR(NULL))                                   \
    X(CURLcode, curl_easy_perform, (CURL * h), (h), LOAD_OR(CURLE_FAILED_INIT))            \
    X(CURL *, curl_easy_duphandle, (CURL * h), (h), LOAD_OR(NULL))                         \
    X(CURLcode, curl_easy_pause, (CURL * h, int mask), (h, mask),                          \
      LOAD_OR(CURLE_FAILED_INIT))                                                          \
    X(char *, curl_easy_escape, (CURL * h, const char *s, int n), (h, s, n), LOAD_OR(NULL)) \
    X(char *, curl_version, (void), (), LOAD_OR((char *)"libcurl (not loadable)"))         \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s),      \
      (l, s), LOAD_OR(NULL))                                                               \
    X(CURLM *, curl_multi_init, (void), (), LOAD_OR(NULL))                                 \
    X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m), LOAD_OR(CURLM_BAD_HANDLE))          \
    X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * h), (m, h),                     \
      LOAD_OR(CURLM_BAD_HANDLE))                                                           \
    X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * h), (m, h),                  \
      LOAD_OR(CURLM_BAD_HANDLE))                                                           \
    X(CURLMcode, curl_multi_perform, (CURLM * m, int *running), (m, running),              \
      LOAD_OR(CURLM_BAD_HANDLE))                                                           \
    X(CURLMcode, curl_multi_poll,                                                          \
      (CURLM * m, struct curl_waitfd * fds, unsigned n, int ms, int *numfds),              \
      (m, fds, n, ms, numfds), LOAD_OR(CURLM_BAD_HANDLE))                                  \
    X(CURLMcode, curl_multi_wait,                                                          \
      (CURLM * m, struct curl_waitfd * fds, unsigned n, int ms, int *numfds),              \
      (m, fds, n, ms, numfds), LOAD_OR(CURLM_BAD_HANDLE))                                  \
    X(CURLMcode, curl_multi_wakeup, (CURLM * m), (m), LOAD_OR(CURLM_BAD_HANDLE))           \
    X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *left), (m, left), LOAD_OR(NULL))   \
    X(CURLMcode, curl_multi_fdset,                                                         \
      (CURLM * m, fd_set * r, fd_set * w, fd_set * e, int *maxfd), (m, r, w, e, maxfd),    \
      LOAD_OR(CURLM_BAD_HANDLE))                                                           \
    X(CURLMcode, curl_multi_timeout, (CURLM * m, long *ms), (m, ms),                       \
      LOAD_OR(CURLM_BAD_HANDLE))                                                           \
    X(CURLMcode, curl_multi_socket_action,                                                 \
      (CURLM * m, curl_socket_t s, int ev, int *running), (m, s, ev, running),             \
      LOAD_OR(CURLM_BAD_HANDLE))                                                           \
    X(CURLMcode, curl_multi_assign, (CURLM * m, curl_socket_t s, void *p), (m, s, p),      \
      LOAD_OR(CURLM_BAD_HANDLE))

struct curl_lazy {
    int tried;      /* dlopen attempted (once) */
    int ok;         /* loaded and globally initialised */
    long init_flags;
    int init_asked; /* curl_global_init() was called */
    CURLcode (*global_init)(long);
    const char *(*easy_strerror)(CURLcode);
    const char *(*multi_strerror)(CURLMcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    void (*global_cleanup)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    void (*free_)(void *);
    void (*slist_free_all)(struct curl_slist *);
#define CURL_LAZY_PTR(ret, name, params, args, absent) ret(*name) params;
    CURL_LAZY_FUNCS(CURL_LAZY_PTR)
#undef CURL_LAZY_PTR
};

static struct curl_lazy g_curl;

/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
static int curl_lazy_sym(void *lib, const char *name, void *slot, size_t size)
{
    void *p = dlsym(lib, name);
    if (!p || size != sizeof p)
        return -1;
    __builtin_memcpy(slot, &p, sizeof p);
    return 0;
}

static int curl_lazy_load(void)
{
    if (g_curl.tried)
        return g_curl.ok ? 0 : -1;
    g_curl.tried = 1;
    void *lib = NULL;
    for (size_t i = 0; !lib && i < sizeof curl_lazy_sonames / sizeof *curl_lazy_sonames; i++)
        lib = dlopen(curl_lazy_sonames[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return -1;
    int bad = 0;
    bad |= curl_lazy_sym(lib, "curl_global_cleanup", &g_curl.global_cleanup,
                         sizeof g_curl.global_cleanup);
    bad |= curl_lazy_sym(lib, "curl_easy_cleanup", &g_curl.easy_cleanup,
                         sizeof g_curl.easy_cleanup);
    bad |= curl_lazy_sym(lib, "curl_easy_reset", &g_curl.easy_reset, sizeof g_curl.easy_reset);
    bad |= curl_lazy_sym(lib, "curl_free", &g_curl.free_, sizeof g_curl.free_);
    bad |= curl_lazy_sym(lib, "curl_slist_free_all", &g_curl.slist_free_all,
                         sizeof g_curl.slist_free_all);
    bad |= curl_lazy_sym(lib, "curl_global_init", &g_curl.global_init, sizeof g_curl.global_init);
    bad |= curl_lazy_sym(lib, "curl_easy_strerror", &g_curl.easy_strerror,
                         sizeof g_curl.easy_strerror);
    bad |= curl_lazy_sym(lib, "curl_multi_strerror", &g_curl.multi_strerror,
                         sizeof g_curl.multi_strerror);
    bad |= curl_lazy_sym(lib, "curl_easy_setopt", &g_curl.easy_setopt, sizeof g_curl.easy_setopt);
    bad |= curl_lazy_sym(lib, "curl_easy_getinfo", &g_curl.easy_getinfo,
                         sizeof g_curl.easy_getinfo);
    bad |= curl_lazy_sym(lib, "curl_multi_setopt", &g_curl.multi_setopt,
                         sizeof g_curl.multi_setopt);
#define CURL_LAZY_LOOKUP(ret, name, params, args, absent) \
    bad |= curl_lazy_sym(lib, #name, &g_curl.name, sizeof g_curl.name);
    CURL_LAZY_FUNCS(CURL_LAZY_LOOKUP)
#undef CURL_LAZY_LOOKUP
    if (bad) /* an older libcurl than the headers: leave it loaded, unused */
        return -1;
    if (g_curl.init_asked && g_curl.global_init(g_curl.init_flags) != CURLE_OK)
        return -1;
    g_curl.ok = 1;
    return 0;
}

CURLcode curl_global_init(long flags)
{
    /* Recorded; done for real by the first call that needs libcurl. */
    g_curl.init_flags = flags;
    g_curl.init_asked = 1;
    return CURLE_OK;
}

const char *curl_easy_strerror(CURLcode rc)
{
    if (curl_lazy_load() != 0)
        return "libcurl could not be loaded";
    return g_curl.easy_strerror(rc);
}

const char *curl_multi_strerror(CURLMcode rc)
{
    if (curl_lazy_load() != 0)
        return "libcurl could not be loaded";
    return g_curl.multi_strerror(rc);
}

/* The names in parentheses: curl.h makes them macros (its gcc type checks). The one
 * argument after the option is a long, an object or function pointer, or a
 * curl_off_t: libcurl's option numbers carry the type (curl.h: CURLOPTTYPE_*), and
 * libcurl itself reads it the same way. */
CURLcode(curl_easy_setopt)(CURL *h, CURLoption opt, ...)
{
    if (curl_lazy_load() != 0)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = g_curl.easy_setopt(h, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = g_curl.easy_setopt(h, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = g_curl.easy_setopt(h, opt, va_arg(ap, void (*)(void)));
    else if (opt < CURLOPTTYPE_BLOB)
        rc = g_curl.easy_setopt(h, opt, va_arg(ap, curl_off_t));
    else
        rc = g_curl.easy_setopt(h, opt, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
    if (curl_lazy_load() != 0)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    CURLcode rc = g_curl.easy_getinfo(h, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    if (curl_lazy_load() != 0)
        return CURLM_INTERNAL_ERROR;
    va_list ap;
    va_start(ap, opt);
    CURLMcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = g_curl.multi_setopt(m, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = g_curl.multi_setopt(m, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = g_curl.multi_setopt(m, opt, va_arg(ap, void (*)(void)));
    else
        rc = g_curl.multi_setopt(m, opt, va_arg(ap, curl_off_t));
    va_end(ap);
    return rc;
}

/* The forwarders of CURL_LAZY_FUNCS. */
#define LOAD_OR(value)                                                                      \
    if (curl_lazy_load() != 0)                                                              \
        return value;
#define CURL_LAZY_DEFINE(ret, name, params, args, absent)                                   \
    ret name params                                                                         \
    {                                                                                       \
        absent return g_curl.name args;                                                     \
    }
CURL_LAZY_FUNCS(CURL_LAZY_DEFINE)

/* Nothing of libcurl's exists before it is loaded, so these never load it. */
void curl_global_cleanup(void)
{
    if (g_curl.ok)
        g_curl.global_cleanup();
}

void curl_easy_cleanup(CURL *h)
{
    if (g_curl.ok)
        g_curl.easy_cleanup(h);
}

void curl_easy_reset(CURL *h)
{
    if (g_curl.ok)
        g_curl.easy_reset(h);
}

void curl_free(void *p)
{
    if (g_curl.ok)
        g_curl.free_(p);
}

void curl_slist_free_all(struct curl_slist *l)
{
    if (g_curl.ok)
        g_curl.slist_free_all(l);
}
