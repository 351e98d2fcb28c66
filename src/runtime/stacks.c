/* Python stacks: the calling thread's, and every thread's taken under the
 * interpreter lock so each is consistent. */
#include "rt.h"
#include "pycompat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern atomic_int rt_suspended;
int rt_no_gil; /* set on paths that must never wait for the lock */

static size_t walk(PyFrameObject *f, loong_frame *out, size_t max)
{
    size_t n = 0;
    Py_XINCREF(f);
    while (f && n < max) {
        PyCodeObject *co = rt_frame_code(f);
        uint32_t mask;
        out[n].code = rt_code_lookup(co, rt_frame_globals(f), &mask);
        out[n].line = PyFrame_GetLineNumber(f);
        Py_DECREF(co);
        if (out[n].code)
            n++;
        PyFrameObject *back = rt_frame_back(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
    return n;
}

int rt_current_stack(loong_frame *frames, size_t max)
{
    if (!frames)
        return LOONG_EINVAL;
    if (!PyGILState_Check())
        return LOONG_ESTATE;
    rt_exc_state saved;
    rt_exc_save(&saved);
    PyFrameObject *f = rt_thread_frame(PyThreadState_Get());
    size_t n = walk(f, frames, max);
    Py_XDECREF(f);
    rt_exc_restore(&saved);
    return (int)n;
}

/* 'R' in /proc/self/task/TID/stat: on a CPU or ready to run. */
static int os_running(uint64_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%llu/stat",
             (unsigned long long)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may contain spaces */
    return p && p[1] == ' ' && p[2] == 'R';
}

int rt_threads_stacks(size_t max_frames, loong_stacks **out)
{
    if (!out)
        return LOONG_EINVAL;
    *out = NULL;
    if (!rt.started || atomic_load(&rt_suspended) || rt_no_gil)
        return LOONG_ESTATE;
    if (max_frames == 0 || max_frames > 4096)
        max_frames = RT_MAX_FRAMES;
    int had_gil = PyGILState_Check();
    PyGILState_STATE g;
    if (!had_gil) {
        if (rt_py_finalizing())
            return LOONG_ESTATE;
        g = PyGILState_Ensure();
    }
    rt_exc_state saved;
    rt_exc_save(&saved);
    PyThreadState *cur = PyThreadState_Get();
    size_t nth = 0;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(cur->interp); ts;
         ts = PyThreadState_Next(ts))
        nth += !rt_own_tstate(ts); /* loong's own threads are not shown */
    /* one block: header, thread array, frames */
    size_t bytes = sizeof(loong_stacks) + nth * sizeof(loong_thread_stack) +
                   nth * max_frames * sizeof(loong_frame);
    loong_stacks *st = calloc(1, bytes);
    int rc = 0;
    if (!st) {
        rc = LOONG_ENOMEM;
        goto out;
    }
    st->t_ns = rt_now_ns();
    st->threads = (loong_thread_stack *)(st + 1);
    loong_frame *frames = (loong_frame *)(st->threads + nth);
    PyThreadState *last = NULL;
    size_t i = 0;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(cur->interp);
         ts && i < nth; ts = PyThreadState_Next(ts)) {
        if (rt_own_tstate(ts))
            continue;
        loong_thread_stack *t = &st->threads[i];
        t->native_id = rt_tstate_native_id(ts, (uint64_t)syscall(SYS_gettid));
        t->python_id = ts->thread_id;
        t->frames = frames + i * max_frames;
        PyFrameObject *f = rt_thread_frame(ts);
        t->nframes = walk(f, t->frames, max_frames);
        Py_XDECREF(f);
        t->state = (ts == cur && had_gil) || os_running(t->native_id)
                       ? LOONG_THREAD_RUNNING
                       : LOONG_THREAD_WAITING;
        PyObject *cap = ts->dict ? PyDict_GetItemString(ts->dict,
                                                        "__loong_thread__")
                                 : NULL;
        if (cap && PyCapsule_IsValid(cap, "loong.thread"))
            t->thread = ((rt_thread *)PyCapsule_GetPointer(
                             cap, "loong.thread"))->id;
        last = ts;
        i++;
    }
    st->nthreads = i;
    /* the oldest thread state is the main thread's */
    if (last && i)
        st->threads[i - 1].is_main = 1;
    *out = st;
out:
    PyErr_Clear();
    rt_exc_restore(&saved);
    if (!had_gil)
        PyGILState_Release(g);
    return rc;
}
