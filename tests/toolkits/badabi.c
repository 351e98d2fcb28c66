/* Test toolkits that must be refused; built with -DVARIANT=... by
 * tests/e2e/test_abi.py, with -I include only (no Python headers).
 *
 *   1  ABI major one newer than the runtime's
 *   2  ABI minor one newer than the runtime's
 *   3  no loong_toolkit_entry symbol
 *   4  load() returns an error
 *   5  load() registers state, callbacks that abort() and every capability,
 *      then returns an error: the runtime must undo it all, or the program
 *      dies on its next call
 *   6  a definition whose name is not [a-z0-9_]+
 *   7  a definition without a load function
 *   8  loong_toolkit_entry() returns NULL
 *   9  needs a CPython symbol (toolkits must not use the CPython API)
 */
#include <loong/loong.h>

#include <stdlib.h>

#if VARIANT == 5
static void boom_call(void *s, const loong_call_event *ev)
{
    (void)s;
    (void)ev;
    abort();
}

static void boom_tick(void *s, const loong_tick_event *ev)
{
    (void)s;
    (void)ev;
    abort();
}

static void boom_thread(void *s, const loong_thread_event *ev)
{
    (void)s;
    (void)ev;
    abort();
}

static void boom_gc(void *s, const loong_gc_event *ev)
{
    (void)s;
    (void)ev;
    abort();
}
#endif

#if VARIANT == 9
extern int Py_IsInitialized(void);
#endif

__attribute__((unused)) static int load(loong_toolkit *tk, const loong_api *api,
                const loong_options *o)
{
    (void)tk;
    (void)api;
    (void)o;
#if VARIANT == 4
    return LOONG_EINVAL; /* refuses to load */
#elif VARIANT == 5
    loong_callbacks cb = {0};
    cb.call = boom_call;
    cb.tick = boom_tick;
    cb.thread = boom_thread;
    cb.gc = boom_gc;
    api->set_state(tk, (void *)0x1);
    api->set_callbacks(tk, &cb, sizeof cb);
    api->add_capabilities(tk, LOONG_CAP_CALLS | LOONG_CAP_TICK |
                                  LOONG_CAP_THREADS | LOONG_CAP_GC);
    api->set_filter(tk, NULL, NULL);
    return LOONG_EINVAL;
#elif VARIANT == 9
    return Py_IsInitialized() ? 0 : LOONG_EINVAL;
#else
    return 0;
#endif
}

static const loong_option_def opts[] = {{NULL, NULL, NULL}};

static const loong_toolkit_def def = {
#if VARIANT == 1
    .abi_major = LOONG_ABI_MAJOR + 1, .abi_minor = 0,
#elif VARIANT == 2
    .abi_major = LOONG_ABI_MAJOR, .abi_minor = LOONG_ABI_MINOR + 1,
#else
    .abi_major = LOONG_ABI_MAJOR, .abi_minor = LOONG_ABI_MINOR,
#endif
    .size = sizeof(loong_toolkit_def),
#if VARIANT == 6
    .name = "Bad Name!",
#else
    .name = "badabi",
#endif
    .version = "1.0",
    .summary = "refused on purpose",
    .options = opts,
#if VARIANT != 7
    .load = load,
#endif
};

#if VARIANT == 3
const loong_toolkit_def *not_the_entry(void)
{
    return &def;
}
#elif VARIANT == 8
LOONG_EXPORT const loong_toolkit_def *LOONG_TOOLKIT_ENTRY(void)
{
    return (void)def, NULL;
}
#else
LOONG_TOOLKIT(def)
#endif
