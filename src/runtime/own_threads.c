/* loong's own threads (flusher, sampler, control socket): each gets one
 * thread state for its whole life, made before it runs.
 *
 * Why: PyGILState_Ensure on a thread without a thread state makes one, and
 * PyGILState_Release deletes it. Made at every tick, that is an allocation
 * through the raw allocator by a thread that does not hold the interpreter
 * lock; if the program stops tracemalloc at that moment, CPython before
 * 3.12.9 and 3.13.2 runs tracemalloc's raw hook on what stop() has just
 * freed, and the program crashes.
 *
 * How: the new thread makes its state before anything else
 * (PyThreadState_New binds it to the calling thread with a count of one, so
 * PyGILState_Release never deletes it); PyGILState_Ensure/Release then only
 * take and give the lock. As the thread ends it takes the lock once more
 * and lets the count fall to zero, which deletes the state. That leaves one
 * allocation without the lock per thread's life, not one per tick: the
 * starter cannot hold the lock meanwhile, since tracemalloc's raw hook
 * takes it.
 *
 * These states are not the program's threads: the walks over every thread
 * state (hooks, stacks, registration) skip them (rt_own_tstate). */
#include "rt.h"
#include "pycompat.h"

#include <errno.h>
#include <stdlib.h>

#define OWN_MAX 8

static _Atomic(PyThreadState *) own[OWN_MAX];

typedef struct {
    void *(*fn)(void *);
    void *arg;
} start_args;

static PyThreadState *state_begin(void)
{
    if (!Py_IsInitialized() || rt_py_finalizing())
        return NULL; /* PyGILState_Ensure makes one when needed, as before */
    PyThreadState *ts = PyThreadState_New(PyInterpreterState_Main());
    if (!ts)
        return NULL;
    for (int i = 0; i < OWN_MAX; i++) {
        PyThreadState *none = NULL;
        if (atomic_compare_exchange_strong(&own[i], &none, ts))
            break;
    }
    return ts;
}

static void state_end(PyThreadState *ts)
{
    if (!ts)
        return;
    for (int i = 0; i < OWN_MAX; i++) {
        PyThreadState *mine = ts;
        atomic_compare_exchange_strong(&own[i], &mine, NULL);
    }
    /* Exiting: the interpreter frees every thread state itself. After
     * SIGTERM the lock may never come. */
    if (rt_no_gil || !Py_IsInitialized() || rt_py_finalizing())
        return;
    PyGILState_STATE g = PyGILState_Ensure(); /* count 2 */
    PyGILState_Release(PyGILState_LOCKED);     /* count 1, lock kept */
    PyGILState_Release(g);                     /* 0: deleted, lock given */
}

static void *trampoline(void *p)
{
    start_args *a = p;
    void *(*fn)(void *) = a->fn;
    void *arg = a->arg;
    free(a);
    PyThreadState *ts = state_begin();
    void *r = fn(arg);
    state_end(ts);
    return r;
}

int rt_own_thread_create(pthread_t *th, const pthread_attr_t *attr,
                         void *(*fn)(void *), void *arg)
{
    start_args *a = malloc(sizeof *a);
    if (!a)
        return ENOMEM;
    a->fn = fn;
    a->arg = arg;
    int rc = pthread_create(th, attr, trampoline, a);
    if (rc != 0)
        free(a);
    return rc;
}

int rt_own_tstate(const PyThreadState *ts)
{
    for (int i = 0; i < OWN_MAX; i++)
        if (atomic_load_explicit(&own[i], memory_order_relaxed) == ts)
            return 1;
    return 0;
}

void rt_own_after_fork_child(void)
{
    /* loong's threads do not exist in the child; CPython deletes their
     * states (os.fork) or they stay unused (a fork from C) */
    for (int i = 0; i < OWN_MAX; i++)
        atomic_store(&own[i], NULL);
}
