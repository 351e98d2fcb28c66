/* Event sources and dispatch.
 *
 * Calls and exceptions: sys.monitoring with C callbacks on 3.12+, the C
 * profile hook on every thread below 3.12. Threads: the thread-state dict
 * capsule (threads.c) plus threading.setprofile to see new threads start.
 * GC: a C callable in gc.callbacks. Each source is installed only while an
 * active toolkit holds the capability, and removed with its last user.
 *
 * Hooks never raise, never leave an exception pending, and do nothing in a
 * fork child until the runtime has been reset there.
 */
#include "rt.h"
#include "pycompat.h"

#include <string.h>

#if !RT_PY_312 && RT_PY_311
#include <opcode.h>
#endif

atomic_int rt_suspended; /* set in a fork child until reset */
uint64_t rt_hook_calls;  /* call events that reached loong (GIL held) */

/* ---- dispatch -------------------------------------------------------- */

/* Returns the code's mask; 0 means no toolkit wants this code. */
static uint32_t dispatch_call(int kind, PyCodeObject *co, PyObject *globals)
{
    uint32_t mask;
    rt_hook_calls++;
    uint32_t id = rt_code_lookup_fast(co, globals, &mask);
    if (!mask)
        return 0;
    loong_call_event ev = {kind, id, 0, 0};
    int any = 0;
    for (uint32_t m = mask; m; m &= m - 1) {
        loong_toolkit *tk = rt.tk[__builtin_ctz(m)];
        if (!(tk->caps & LOONG_CAP_CALLS) || !tk->cb.call)
            continue;
        if (!any) {
            ev.thread = rt_thread_current_fast()->id;
            ev.t_ns = rt_now_ns_fast();
            any = 1;
        }
        tk->cb.call(tk->state, &ev);
    }
    return any ? mask : 0;
}

/* A C function called from Python (LOONG_CAP_C_CALLS). */
static void dispatch_c(int kind, PyObject *callable)
{
    uint32_t mask;
    uint32_t id = rt_c_lookup(callable, &mask);
    if (!mask)
        return;
    loong_call_event ev = {kind, id, 0, 0};
    for (uint32_t m = mask; m; m &= m - 1) {
        loong_toolkit *tk = rt.tk[__builtin_ctz(m)];
        if (!tk->cb.call)
            continue;
        if (!ev.t_ns) {
            ev.thread = rt_thread_current()->id;
            ev.t_ns = rt_now_ns();
        }
        tk->cb.call(tk->state, &ev);
    }
}

void rt_dispatch_thread(int kind, rt_thread *th)
{
    if (atomic_load(&rt_suspended) || !(rt.caps_on & LOONG_CAP_THREADS))
        return;
    loong_thread_event ev = {kind, th->id, th->native_id, rt_now_ns()};
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (tk && tk->active && (tk->caps & LOONG_CAP_THREADS) &&
            tk->cb.thread)
            tk->cb.thread(tk->state, &ev);
    }
}

#if RT_PY_312
/* "module.Qualname" of an exception's type, in a per-thread buffer. */
/* The frame an exception event is about (borrowed), for UNWOUND's
 * outermost flag. */
static void dispatch_exception(int kind, PyCodeObject *co, int offset,
                               PyObject *exc, uint64_t serial)
{
    rt_exc_state saved;
    rt_exc_save(&saved);
    int line = PyCode_Addr2Line(co, offset);
    rt_exc_restore(&saved);
    rt_exc_dispatch(kind, co, NULL, line, Py_TYPE(exc), exc,
                    kind == LOONG_EXC_UNWOUND ? PyEval_GetFrame() : NULL,
                    serial);
}
#endif

/* ---- gc -------------------------------------------------------------- */

/* The info dict's keys, made once: a collection can come every few
 * hundred allocations, and a key made from a C string per lookup would
 * allocate and hash each time. */
static PyObject *gc_keys[3];

static PyObject *gc_callback(PyObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    if (nargs < 2 || atomic_load(&rt_suspended) ||
        !(rt.caps_on & LOONG_CAP_GC))
        Py_RETURN_NONE;
    rt_exc_state saved;
    rt_exc_save(&saved);
    loong_gc_event ev = {0, 0, 0, 0, rt_now_ns()};
    const char *phase = PyUnicode_Check(args[0]) ? PyUnicode_AsUTF8(args[0])
                                                 : NULL;
    ev.kind = phase && !strcmp(phase, "start") ? LOONG_GC_START
                                                : LOONG_GC_END;
    if (PyDict_Check(args[1]) && gc_keys[2]) {
        PyObject *v;
        if ((v = PyDict_GetItem(args[1], gc_keys[0])))
            ev.generation = (int)PyLong_AsLong(v);
        if (ev.kind == LOONG_GC_END) {
            if ((v = PyDict_GetItem(args[1], gc_keys[1])))
                ev.collected = PyLong_AsLongLong(v);
            if ((v = PyDict_GetItem(args[1], gc_keys[2])))
                ev.uncollectable = PyLong_AsLongLong(v);
        }
    }
    PyErr_Clear();
    rt_exc_restore(&saved);
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (tk && tk->active && (tk->caps & LOONG_CAP_GC) && tk->cb.gc)
            tk->cb.gc(tk->state, &ev);
    }
    Py_RETURN_NONE;
}

static PyMethodDef gc_def = {"_loong_gc_callback",
                             (PyCFunction)(void (*)(void))gc_callback,
                             METH_FASTCALL, NULL};
static PyObject *gc_func;

static int gc_hook(int on)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *cbs = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
    int rc = -1;
    if (!cbs || !PyList_Check(cbs))
        goto out;
    if (on && !gc_keys[2]) {
        static const char *const names[3] = {"generation", "collected",
                                             "uncollectable"};
        for (int i = 0; i < 3; i++)
            if (!gc_keys[i] &&
                !(gc_keys[i] = PyUnicode_InternFromString(names[i])))
                goto out;
    }
    if (on && !gc_func) {
        gc_func = PyCFunction_New(&gc_def, NULL);
        if (gc_func && PyList_Append(cbs, gc_func) == 0)
            rc = 0;
        else
            Py_CLEAR(gc_func);
    } else if (!on && gc_func) {
        for (Py_ssize_t i = PyList_GET_SIZE(cbs); i-- > 0;)
            if (PyList_GET_ITEM(cbs, i) == gc_func)
                PySequence_DelItem(cbs, i);
        Py_CLEAR(gc_func);
        rc = 0;
    } else {
        rc = 0;
    }
out:
    Py_XDECREF(cbs);
    Py_XDECREF(gc);
    if (rc < 0)
        PyErr_Clear();
    return rc;
}

/* ---- calls below 3.12: the profile hook ------------------------------ */

#if !RT_PY_312
static int frame_is_resume(PyFrameObject *f, PyCodeObject *co)
{
    if (!rt_code_is_generator(co))
        return 0;
#if RT_PY_311
    int lasti = PyFrame_GetLasti(f);
    if (lasti < 0)
        return 0;
    /* A frame at or before its first RESUME is starting; past it (RESUME n
     * after a yield, or YIELD_VALUE/SEND when throw() or close() comes
     * in) it is resuming. */
    int idx = lasti / (int)sizeof(_Py_CODEUNIT);
    const _Py_CODEUNIT *code = _PyCode_CODE(co);
    for (int i = 0; i < Py_SIZE(co) && i <= idx; i++) {
        int op = _Py_OPCODE(code[i]);
        if (op == RESUME || op == RESUME_QUICK)
            return idx > i;
    }
    return 0;
#else
    return f->f_lasti >= 0;
#endif
}

static int frame_is_yield(PyFrameObject *f, PyCodeObject *co)
{
    if (!rt_code_is_generator(co))
        return 0;
#if RT_PY_311
    PyObject *gen = PyFrame_GetGenerator(f);
    int suspended = gen && ((PyGenObject *)gen)->gi_frame_state < 0;
    Py_XDECREF(gen);
    return suspended;
#elif RT_PY_310
    return f->f_state == FRAME_SUSPENDED;
#else
    return f->f_stacktop != NULL;
#endif
}

static int profile_hook(PyObject *obj, PyFrameObject *f, int what,
                        PyObject *arg)
{
    if (atomic_load_explicit(&rt_suspended, memory_order_relaxed))
        return 0;
    if (what == PyTrace_C_CALL || what == PyTrace_C_RETURN ||
        what == PyTrace_C_EXCEPTION) {
        if ((rt.caps_on & LOONG_CAP_C_CALLS) && arg)
            dispatch_c(what == PyTrace_C_CALL ? LOONG_CALL_C_START
                                              : LOONG_CALL_C_RETURN,
                       arg);
        return 0;
    }
    if (what != PyTrace_CALL && what != PyTrace_RETURN)
        return 0;
    PyCodeObject *co = rt_frame_code(f);
    int kind;
    if (what == PyTrace_CALL)
        kind = frame_is_resume(f, co) ? LOONG_CALL_RESUME : LOONG_CALL_START;
    else if (!arg)
        kind = LOONG_CALL_UNWIND;
    else
        kind = frame_is_yield(f, co) ? LOONG_CALL_YIELD : LOONG_CALL_RETURN;
    dispatch_call(kind, co, rt_frame_globals(f));
    Py_DECREF(co);
    return 0;
}

static int profile_on;

static void set_profile(PyThreadState *ts, Py_tracefunc fn)
{
#if RT_PY_39
    if (_PyEval_SetProfile(ts, fn, NULL) < 0)
        PyErr_Clear();
#else
    PyObject *old = ts->c_profileobj;
    ts->c_profilefunc = NULL; /* as CPython does: no call while changing */
    ts->c_profileobj = NULL;
    ts->use_tracing = ts->c_tracefunc != NULL;
    Py_XDECREF(old);
    ts->c_profilefunc = fn;
    ts->use_tracing = (fn != NULL) || (ts->c_tracefunc != NULL);
#endif
}

/* Install on every thread that has no profile function (a program running
 * cProfile keeps its own), or remove ours everywhere. */
static void profile_all(int on)
{
    PyThreadState *cur = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(cur->interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (rt_own_tstate(ts))
            continue;
        if (on && !ts->c_profilefunc)
            set_profile(ts, profile_hook);
        else if (!on && ts->c_profilefunc == profile_hook)
            set_profile(ts, NULL);
    }
    profile_on = on;
}
#endif

/* ---- new threads: threading.setprofile -------------------------------- */

/* Called once as the profile function of each new threading.Thread: it
 * registers the thread, then installs our C hook in its place (or none). */
static PyObject *thread_start_hook(PyObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    if (!atomic_load(&rt_suspended))
        rt_thread_current();
#if RT_PY_312
    PyEval_SetProfile(NULL, NULL);
#else
    PyEval_SetProfile(profile_on ? profile_hook : NULL, NULL);
    rt_exc_trace_thread();
#endif
    Py_RETURN_NONE;
}

static PyMethodDef thread_start_def = {
    "_loong_thread_start", (PyCFunction)(void (*)(void))thread_start_hook,
    METH_FASTCALL, NULL};
static PyObject *thread_start_func;

static void threading_hook(int on)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading) {
        PyErr_Clear();
        return;
    }
    if (on && !thread_start_func) {
        thread_start_func = PyCFunction_New(&thread_start_def, NULL);
        PyObject *r = thread_start_func
                          ? PyObject_CallMethod(threading, "setprofile", "O",
                                                thread_start_func)
                          : NULL;
        Py_XDECREF(r);
    } else if (!on && thread_start_func) {
        PyObject *cur = PyObject_GetAttrString(threading, "_profile_hook");
        if (cur == thread_start_func) {
            PyObject *r = PyObject_CallMethod(threading, "setprofile", "O",
                                              Py_None);
            Py_XDECREF(r);
        }
        Py_XDECREF(cur);
        Py_CLEAR(thread_start_func);
    }
    PyErr_Clear();
    Py_DECREF(threading);
}

/* ---- calls and exceptions on 3.12+: sys.monitoring -------------------- */

#if RT_PY_312
static int tool_id = -1;
static PyObject *monitoring;    /* sys.monitoring */
static PyObject *mon_disable;   /* sys.monitoring.DISABLE */
static int disabled_any;        /* we returned DISABLE since last restart */

enum {
    EV_PY_START,
    EV_PY_RESUME,
    EV_PY_RETURN,
    EV_PY_YIELD,
    EV_PY_UNWIND,
    EV_PY_THROW,
    EV_RAISE,
    EV_RERAISE,
    EV_EXCEPTION_HANDLED,
    EV_CALL,
    EV_C_RETURN,
    EV_C_RAISE,
    EV_COUNT
};
static const char *ev_names[EV_COUNT] = {
    "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD",
    "PY_UNWIND", "PY_THROW", "RAISE", "RERAISE", "EXCEPTION_HANDLED",
    "CALL", "C_RETURN", "C_RAISE"};
static long ev_bits[EV_COUNT];

static PyObject *call_result(uint32_t mask)
{
    if (mask)
        Py_RETURN_NONE;
    disabled_any = 1;
    return Py_NewRef(mon_disable);
}

#define SUSPENDED() atomic_load_explicit(&rt_suspended, memory_order_relaxed)

static PyObject *mon_start(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 1 || SUSPENDED())
        Py_RETURN_NONE;
    return call_result(
        dispatch_call(LOONG_CALL_START, (PyCodeObject *)a[0], NULL));
}
static PyObject *mon_resume(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 1 || SUSPENDED())
        Py_RETURN_NONE;
    return call_result(
        dispatch_call(LOONG_CALL_RESUME, (PyCodeObject *)a[0], NULL));
}
static PyObject *mon_return(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 1 || SUSPENDED())
        Py_RETURN_NONE;
    return call_result(
        dispatch_call(LOONG_CALL_RETURN, (PyCodeObject *)a[0], NULL));
}
static PyObject *mon_yield(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 1 || SUSPENDED())
        Py_RETURN_NONE;
    return call_result(
        dispatch_call(LOONG_CALL_YIELD, (PyCodeObject *)a[0], NULL));
}
/* PY_UNWIND and PY_THROW cannot be disabled: always return None. */
static PyObject *mon_unwind(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 3 || SUSPENDED())
        Py_RETURN_NONE;
    PyCodeObject *co = (PyCodeObject *)a[0];
    if (rt.caps_on & LOONG_CAP_CALLS)
        dispatch_call(LOONG_CALL_UNWIND, co, NULL);
    if (rt.caps_on & LOONG_CAP_EXCEPTIONS) {
        uint64_t serial = rt_exc_serial_of(a[2]);
        dispatch_exception(LOONG_EXC_UNWOUND, co,
                           (int)PyLong_AsLong(a[1]), a[2], serial);
        rt_exc_note_unwind(a[2], PyEval_GetFrame(), serial);
    }
    Py_RETURN_NONE;
}
static PyObject *mon_throw(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 1 || SUSPENDED())
        Py_RETURN_NONE;
    dispatch_call(LOONG_CALL_RESUME, (PyCodeObject *)a[0], NULL);
    Py_RETURN_NONE;
}
static PyObject *exc_event(int kind, PyObject *const *a, Py_ssize_t n)
{
    if (n < 3 || SUSPENDED())
        Py_RETURN_NONE;
    long off = PyLong_AsLong(a[1]);
    if (off == -1 && PyErr_Occurred())
        PyErr_Clear();
    uint64_t serial = kind == LOONG_EXC_RAISED ? rt_exc_new_serial(a[2])
                                               : rt_exc_serial_of(a[2]);
    dispatch_exception(kind, (PyCodeObject *)a[0], (int)off, a[2], serial);
    Py_RETURN_NONE;
}
/* RAISE fires in every frame an exception passes through: only the first
 * is a raise, the others are its propagation. (RERAISE, the end of a
 * finally or with block, is not subscribed: the exception was counted.) */
static PyObject *mon_raise(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (SUSPENDED())
        Py_RETURN_NONE;
    if (n >= 3 && rt_exc_propagated(a[2], PyEval_GetFrame()))
        Py_RETURN_NONE;
    return exc_event(LOONG_EXC_RAISED, a, n);
}
static PyObject *mon_handled(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    return exc_event(LOONG_EXC_HANDLED, a, n);
}

/* CALL fires for every call; only C callables are ours (never DISABLE: the
 * same call site may call a C function next time). */
static PyObject *mon_call(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 3 || SUSPENDED() || !(rt.caps_on & LOONG_CAP_C_CALLS))
        Py_RETURN_NONE;
    dispatch_c(LOONG_CALL_C_START, a[2]);
    Py_RETURN_NONE;
}
static PyObject *mon_c_return(PyObject *s, PyObject *const *a, Py_ssize_t n)
{
    if (n < 3 || SUSPENDED() || !(rt.caps_on & LOONG_CAP_C_CALLS))
        Py_RETURN_NONE;
    dispatch_c(LOONG_CALL_C_RETURN, a[2]);
    Py_RETURN_NONE;
}

#define MDEF(name, fn)                                                     \
    {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, NULL}
static PyMethodDef mon_defs[EV_COUNT] = {
    MDEF("_loong_py_start", mon_start),
    MDEF("_loong_py_resume", mon_resume),
    MDEF("_loong_py_return", mon_return),
    MDEF("_loong_py_yield", mon_yield),
    MDEF("_loong_py_unwind", mon_unwind),
    MDEF("_loong_py_throw", mon_throw),
    MDEF("_loong_raise", mon_raise),
    MDEF("_loong_reraise", mon_raise),
    MDEF("_loong_exception_handled", mon_handled),
    MDEF("_loong_call", mon_call),
    MDEF("_loong_c_return", mon_c_return),
    MDEF("_loong_c_raise", mon_c_return),
};

/* Never the profiler id cProfile uses (2); debugger and coverage ids last. */
static const int tool_candidates[] = {4, 3, 5, 1, 0};

static int mon_acquire(void)
{
    PyObject *r;
    monitoring = PySys_GetObject("monitoring"); /* borrowed */
    if (!monitoring)
        return -1;
    Py_INCREF(monitoring);
    mon_disable = PyObject_GetAttrString(monitoring, "DISABLE");
    PyObject *events = PyObject_GetAttrString(monitoring, "events");
    if (!mon_disable || !events)
        goto fail;
    for (int i = 0; i < EV_COUNT; i++) {
        PyObject *v = PyObject_GetAttrString(events, ev_names[i]);
        ev_bits[i] = v ? PyLong_AsLong(v) : 0;
        Py_XDECREF(v);
    }
    Py_CLEAR(events);
    for (size_t i = 0; i < sizeof tool_candidates / sizeof(int); i++) {
        r = PyObject_CallMethod(monitoring, "use_tool_id", "is",
                                tool_candidates[i], "loong");
        if (r) {
            Py_DECREF(r);
            tool_id = tool_candidates[i];
            break;
        }
        PyErr_Clear();
    }
    if (tool_id < 0)
        goto fail;
    for (int i = 0; i < EV_COUNT; i++) {
        PyObject *fn = PyCFunction_New(&mon_defs[i], NULL);
        r = fn ? PyObject_CallMethod(monitoring, "register_callback", "ilO",
                                     tool_id, ev_bits[i], fn)
               : NULL;
        Py_XDECREF(fn);
        Py_XDECREF(r);
        if (!r)
            goto fail;
    }
    return 0;
fail:
    Py_XDECREF(events);
    PyErr_Clear();
    return -1;
}

static void mon_release(void)
{
    if (tool_id >= 0) {
        PyObject *r = PyObject_CallMethod(monitoring, "set_events", "ii",
                                          tool_id, 0);
        Py_XDECREF(r);
        for (int i = 0; i < EV_COUNT; i++) {
            r = PyObject_CallMethod(monitoring, "register_callback", "ilO",
                                    tool_id, ev_bits[i], Py_None);
            Py_XDECREF(r);
        }
        r = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool_id);
        Py_XDECREF(r);
        tool_id = -1;
    }
    Py_CLEAR(mon_disable);
    Py_CLEAR(monitoring);
    PyErr_Clear();
}

static int mon_set(uint32_t caps)
{
    if (!(caps & (LOONG_CAP_CALLS | LOONG_CAP_EXCEPTIONS |
                  LOONG_CAP_C_CALLS))) {
        mon_release();
        return 0;
    }
    if (tool_id < 0 && mon_acquire() < 0) {
        mon_release();
        return LOONG_EBUSY;
    }
    long mask = 0; /* event bits are known once acquired */
    if (caps & LOONG_CAP_CALLS)
        mask |= ev_bits[EV_PY_START] | ev_bits[EV_PY_RESUME] |
                ev_bits[EV_PY_RETURN] | ev_bits[EV_PY_YIELD] |
                ev_bits[EV_PY_UNWIND] | ev_bits[EV_PY_THROW];
    if (caps & LOONG_CAP_EXCEPTIONS)
        mask |= ev_bits[EV_RAISE] |
                ev_bits[EV_EXCEPTION_HANDLED] | ev_bits[EV_PY_UNWIND];
    if (caps & LOONG_CAP_C_CALLS)
        mask |= ev_bits[EV_CALL] | ev_bits[EV_C_RETURN] | ev_bits[EV_C_RAISE];
    PyObject *r = PyObject_CallMethod(monitoring, "set_events", "il",
                                      tool_id, mask);
    Py_XDECREF(r);
    if (!r) {
        PyErr_Clear();
        return LOONG_EIO;
    }
    /* Toolkits or filters changed: locations we disabled may be wanted. */
    if (disabled_any) {
        r = PyObject_CallMethod(monitoring, "restart_events", NULL);
        Py_XDECREF(r);
        PyErr_Clear();
        disabled_any = 0;
    }
    return 0;
}
#endif

/* Below 3.12, a thread started with _thread.start_new_thread (not
 * threading) never calls threading's profile hook: the flusher gives such
 * threads the profile hook at its next tick. Called without the lock. */
void rt_hooks_periodic(void)
{
#if !RT_PY_312
    if ((!profile_on && !rt_exc_tracing()) || rt_no_gil ||
        atomic_load(&rt_suspended) || rt_py_finalizing())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    if (profile_on && !atomic_load(&rt_suspended))
        profile_all(1);
    if (rt_exc_tracing() && !atomic_load(&rt_suspended))
        rt_exc_trace_all(1);
    PyGILState_Release(g);
#endif
}

/* ---- installing ------------------------------------------------------ */

uint32_t rt_hooks_potential(void)
{
    uint32_t caps = LOONG_CAP_CALLS | LOONG_CAP_C_CALLS | LOONG_CAP_THREADS |
                    LOONG_CAP_GC | LOONG_CAP_TICK;
    caps |= LOONG_CAP_EXCEPTIONS; /* below 3.12 through the trace hook */
    if (rt_sampler_available())
        caps |= LOONG_CAP_SAMPLES;
    caps |= LOONG_CAP_ALLOCATIONS; /* alloc.c: the allocator wrappers */
    caps |= LOONG_CAP_ALLOCATION_FREES;
    return caps;
}

int rt_hooks_update(uint32_t caps)
{
    rt_exc_state saved;
    rt_exc_save(&saved);
    int rc = 0;
    /* threading and gc first: importing them must not show up as calls of
     * the program once the call hook is on */
    if (gc_hook((caps & LOONG_CAP_GC) != 0) < 0)
        rc = LOONG_EIO;
#if RT_PY_312
    threading_hook((caps & LOONG_CAP_THREADS) != 0);
    int mrc = mon_set(caps);
    if (mrc < 0)
        rc = mrc;
#else
    threading_hook((caps & (LOONG_CAP_THREADS | LOONG_CAP_CALLS |
                            LOONG_CAP_C_CALLS | LOONG_CAP_EXCEPTIONS)) != 0);
    profile_all((caps & (LOONG_CAP_CALLS | LOONG_CAP_C_CALLS)) != 0);
    rt_exc_trace_all((caps & LOONG_CAP_EXCEPTIONS) != 0);
#endif
    int arc = rt_alloc_update(caps); /* alloc.c */
    if (arc < 0)
        rc = arc;
    rt_exc_restore(&saved);
    return rc;
}

void rt_hooks_remove_all(void)
{
    rt_sampler_flush();
    rt_sampler_stop();
    rt_hooks_update(0);
}
