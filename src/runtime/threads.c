/* Thread identities, thread start and end.
 *
 * A thread is known to loong by a small rt_thread, found fast through a
 * thread-local pointer. Its owner is a capsule stored in the thread state's
 * dict: CPython clears that dict, with the interpreter lock held, when the
 * thread ends, and the capsule's destructor is our "thread end" event. That
 * works the same on every version, without patching threading.
 */
#include "rt.h"
#include "pycompat.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAPSULE_NAME "loong.thread"
#define DICT_KEY "__loong_thread__"

_Thread_local rt_thread *rt_tls_thread
    __attribute__((tls_model("initial-exec")));
static _Thread_local rt_thread tls_ended; /* identity after the end event */
static atomic_uint next_id = 1;
static int forgetting;

static void capsule_free(PyObject *cap)
{
    rt_thread *th = PyCapsule_GetPointer(cap, CAPSULE_NAME);
    if (!th) {
        PyErr_Clear();
        return;
    }
    if (!forgetting && rt.started)
        rt_dispatch_thread(LOONG_THREAD_END, th);
    if (rt_tls_thread == th) {
        /* Objects freed later in this thread's teardown may still run
         * Python code: keep the identity without registering again. */
        tls_ended = *th;
        rt_tls_thread = &tls_ended;
    }
    free(th);
}

static rt_thread *attach_to(PyObject *dict, uint64_t native_id, int *is_new)
{
    *is_new = 0;
    PyObject *cap = PyDict_GetItemString(dict, DICT_KEY); /* borrowed */
    if (cap && PyCapsule_IsValid(cap, CAPSULE_NAME))
        return PyCapsule_GetPointer(cap, CAPSULE_NAME);
    rt_thread *th = calloc(1, sizeof *th);
    if (!th)
        return NULL;
    th->id = atomic_fetch_add(&next_id, 1);
    th->native_id = native_id;
    cap = PyCapsule_New(th, CAPSULE_NAME, capsule_free);
    if (!cap) {
        free(th);
        return NULL;
    }
    int rc = PyDict_SetItemString(dict, DICT_KEY, cap);
    Py_DECREF(cap); /* on failure this frees th through capsule_free... */
    if (rc < 0)
        return NULL; /* ...after forgetting is checked: see caller */
    *is_new = 1;
    return th;
}

rt_thread *rt_thread_current(void)
{
    if (rt_tls_thread)
        return rt_tls_thread;
    static rt_thread unknown = {0, 0};
    rt_exc_state saved;
    rt_exc_save(&saved);
    int is_new = 0;
    rt_thread *th = NULL;
    PyObject *dict = PyThreadState_GetDict(); /* borrowed */
    if (dict) {
        forgetting++; /* a failed insert must not look like a thread end */
        th = attach_to(dict, (uint64_t)syscall(SYS_gettid), &is_new);
        forgetting--;
    }
    if (PyErr_Occurred())
        PyErr_Clear();
    rt_exc_restore(&saved);
    if (!th)
        return &unknown;
    rt_tls_thread = th;
    if (is_new)
        rt_dispatch_thread(LOONG_THREAD_START, th);
    return th;
}

/* Threads that were running before loong: the oldest (the main thread) gets
 * the first identity. Their native ids are known from 3.8 on. */
void rt_threads_register_all(void)
{
    PyThreadState *cur = PyThreadState_Get();
    PyThreadState *list[4096];
    size_t n = 0;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(cur->interp);
         ts && n < sizeof list / sizeof list[0]; ts = PyThreadState_Next(ts))
        if (!rt_own_tstate(ts))
            list[n++] = ts;
    rt_exc_state saved;
    rt_exc_save(&saved);
    for (size_t i = n; i-- > 0;) {
        PyThreadState *ts = list[i];
        if (!ts->dict) {
            ts->dict = PyDict_New();
            if (!ts->dict)
                continue;
        }
        int is_new;
        forgetting++;
        rt_thread *th = attach_to(ts->dict, rt_tstate_native_id(ts, (uint64_t)syscall(SYS_gettid)), &is_new);
        forgetting--;
        if (!th)
            continue;
        if (ts == cur) {
            rt_tls_thread = th;
        }
    }
    if (PyErr_Occurred())
        PyErr_Clear();
    rt_exc_restore(&saved);
}

/* In a fork child only the forking thread lives on; CPython has already
 * cleared the others (their end events were suppressed). It keeps its id. */
void rt_threads_after_fork_child(void)
{
    if (rt_tls_thread)
        rt_tls_thread->native_id = (uint64_t)syscall(SYS_gettid);
}
