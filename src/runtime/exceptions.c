/* Exception events (LOONG_CAP_EXCEPTIONS) on every version.
 *
 * 3.12+: sys.monitoring's RAISE, RERAISE, EXCEPTION_HANDLED and PY_UNWIND
 * (hooks.c calls rt_exc_dispatch).
 *
 * Below 3.12 there is no exception event but the C trace hook's, so while a
 * toolkit holds the capability loong installs a C trace function on every
 * thread that has none (line events switched off frame by frame, so only
 * calls, returns and exceptions reach it). CPython reports an exception
 * once in each frame it passes through; the runtime turns that into the
 * same three kinds:
 *   - RAISED: a report that is not the exception arriving from the callee
 *     it just unwound out of;
 *   - UNWOUND: a return with no value (the frame exits by the exception);
 *   - HANDLED: a frame that reported an exception returns normally, or
 *     reports another one: it caught the first (said when that happens,
 *     so later than 3.12's event).
 */
#include "rt.h"
#include "pycompat.h"

#include <stdlib.h>
#include <string.h>

/* ---- what the event says ---------------------------------------------- */

static const char *type_name(PyTypeObject *t, char *buf, size_t cap)
{
    if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        const char *n = t->tp_name;
        if (strchr(n, '.'))
            return n;
        snprintf(buf, cap, "builtins.%s", n);
        return buf;
    }
    PyObject *mod = PyObject_GetAttrString((PyObject *)t, "__module__");
    PyObject *qn = PyObject_GetAttrString((PyObject *)t, "__qualname__");
    const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : 0;
    const char *q = qn && PyUnicode_Check(qn) ? PyUnicode_AsUTF8(qn) : 0;
    snprintf(buf, cap, "%s%s%s", m ? m : "", m ? "." : "", q ? q : t->tp_name);
    Py_XDECREF(mod);
    Py_XDECREF(qn);
    PyErr_Clear();
    return buf;
}

/* The first argument when it is a str (no user code runs: str() of an
 * exception could call the program's own __str__), cut at 255 bytes on a
 * character boundary. value may be an exception, or below 3.12 the raw
 * value an exception was set with (a str, a tuple). */
static const char *message_of(PyObject *value, char *buf, size_t cap)
{
    PyObject *s = NULL;
    if (value && PyUnicode_Check(value))
        s = value;
    else if (value && PyTuple_Check(value) && PyTuple_GET_SIZE(value) > 0)
        s = PyTuple_GET_ITEM(value, 0);
    else if (value && PyExceptionInstance_Check(value)) {
        PyObject *args = ((PyBaseExceptionObject *)value)->args;
        if (args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0)
            s = PyTuple_GET_ITEM(args, 0);
    }
    buf[0] = '\0';
    if (!s || !PyUnicode_Check(s))
        return buf;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {
        PyErr_Clear(); /* lone surrogates */
        return buf;
    }
    size_t len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
    while (len > 0 && len < (size_t)n && ((unsigned char)u[len] & 0xC0) == 0x80)
        len--; /* not inside a character */
    memcpy(buf, u, len);
    buf[len] = '\0';
    return buf;
}

/* Leaving this frame ends the program or a thread, uncaught: the
 * __main__ module's frame (whoever ran it: python file, -m, -c), or
 * Thread.run returning into threading's bootstrap (which hands the
 * exception to threading.excepthook). The bottom frame of code that C
 * called (an import at start-up, a callback) does not count: its caller
 * may well catch it. */
static int is_outermost(PyFrameObject *f)
{
    if (!f)
        return 0;
    int outer = 0;
    PyCodeObject *co = rt_frame_code(f);
    const char *n = PyUnicode_AsUTF8(co->co_name);
    if (n && !strcmp(n, "<module>")) {
        PyObject *g = rt_frame_globals(f);
        PyObject *name = g && PyDict_Check(g)
                             ? PyDict_GetItemString(g, "__name__")
                             : NULL;
        const char *nm = name && PyUnicode_Check(name)
                             ? PyUnicode_AsUTF8(name)
                             : NULL;
        outer = nm && !strcmp(nm, "__main__");
    }
    Py_DECREF(co);
    PyFrameObject *back = outer ? NULL : rt_frame_back(f);
    if (back) {
        PyCodeObject *bc = rt_frame_code(back);
        const char *bn = PyUnicode_AsUTF8(bc->co_name);
        const char *file = PyUnicode_AsUTF8(bc->co_filename);
        size_t fl = file ? strlen(file) : 0;
        outer = bn && file && !strcmp(bn, "_bootstrap_inner") && fl >= 12 &&
                !strcmp(file + fl - 12, "threading.py");
        Py_DECREF(bc);
        Py_DECREF(back);
    }
    PyErr_Clear();
    return outer;
}

/* Give the event to every toolkit that wants it; type_name and message
 * already made. */
static void emit(int kind, uint32_t id, uint32_t mask, int line,
                 const char *tname, const char *msg, int outermost,
                 uint64_t serial)
{
    /* an exception that ends a thread reaches every exception toolkit,
     * whatever its filter says about the last frame (Thread.run, say) */
    if (outermost)
        for (int i = 0; i < RT_MAX_TOOLKITS; i++)
            if (rt.tk[i] && rt.tk[i]->active)
                mask |= 1u << i;
    loong_exception_event ev = {kind,      id,  0,         0,     tname,
                                line,      msg, outermost, serial};
    for (uint32_t m = mask; m; m &= m - 1) {
        loong_toolkit *tk = rt.tk[__builtin_ctz(m)];
        if (!(tk->caps & LOONG_CAP_EXCEPTIONS) || !tk->cb.exception)
            continue;
        if (!ev.t_ns) {
            ev.thread = rt_thread_current()->id;
            ev.t_ns = rt_now_ns();
        }
        tk->cb.exception(tk->state, &ev);
    }
}

void rt_exc_dispatch(int kind, PyCodeObject *co, PyObject *globals, int line,
                     PyTypeObject *type, PyObject *value, PyFrameObject *f,
                     uint64_t serial)
{
    uint32_t mask;
    uint32_t id = rt_code_lookup(co, globals, &mask);
    if (!type)
        return;
    rt_exc_state saved;
    rt_exc_save(&saved);
    int outer = kind == LOONG_EXC_UNWOUND && is_outermost(f);
    if (!mask && !outer) {
        rt_exc_restore(&saved);
        return;
    }
    static char tbuf[256], mbuf[256]; /* one event at a time: the lock */
    const char *tn = type_name(type, tbuf, sizeof tbuf);
    const char *msg = message_of(value, mbuf, sizeof mbuf);
    rt_exc_restore(&saved);
    emit(kind, id, mask, line, tn, msg, outer, serial);
}

/* ---- per thread ------------------------------------------------------ */

/* Frames that reported an exception and have not returned (below 3.12),
 * and the latest exceptions' raise numbers by identity (3.12+). On the
 * heap, one per thread, freed at thread exit: too big for the static TLS
 * a module loaded with dlopen may use. */
#define PEND_MAX 32
#define RING 8

typedef struct exc_pending {
    const void *frame;
    const void *value;          /* the exception's identity */
    uint64_t serial;
    uint32_t id;
    int line;
    char tname[200];
    char msg[256];
} exc_pending;

typedef struct exc_thread {
    unsigned gen;               /* trace_gen when these were noted */
    int n;
    exc_pending p[PEND_MAX];
    /* the last unwind: its exception, the frame it went into, its raise */
    const void *unw_exc, *unw_into;
    uint64_t unw_serial;
    /* exceptions alive now (being raised or handled) -> raise number */
    const void *ring_exc[RING];
    uint64_t ring_serial[RING];
    unsigned ring_next;
} exc_thread;

static pthread_key_t thr_key;
static pthread_once_t thr_once = PTHREAD_ONCE_INIT;
static unsigned trace_gen; /* bumped when the trace hook goes off */
static atomic_uint_fast64_t serial_next;

static void thr_key_make(void)
{
    pthread_key_create(&thr_key, free);
}

static exc_thread *exc_thr(void)
{
    pthread_once(&thr_once, thr_key_make);
    exc_thread *t = pthread_getspecific(thr_key);
    if (!t && (t = calloc(1, sizeof *t)) &&
        pthread_setspecific(thr_key, t) != 0) {
        free(t);
        t = NULL;
    }
    if (t && t->gen != trace_gen) { /* noted before the hook went off */
        t->n = 0;
        t->gen = trace_gen;
    }
    return t;
}

uint64_t rt_exc_new_serial(PyObject *exc)
{
    uint64_t s = atomic_fetch_add(&serial_next, 1) + 1;
    exc_thread *t = exc_thr();
    if (t) {
        t->ring_exc[t->ring_next % RING] = exc;
        t->ring_serial[t->ring_next % RING] = s;
        t->ring_next++;
    }
    return s;
}

uint64_t rt_exc_serial_of(PyObject *exc)
{
    exc_thread *t = exc_thr();
    for (unsigned k = 0; t && k < RING; k++) {
        unsigned i = (t->ring_next - 1 - k) % RING;
        if (t->ring_exc[i] == (const void *)exc)
            return t->ring_serial[i];
    }
    return 0;
}

/* ---- raised, or passing through --------------------------------------- */

/* The exception the thread's last unwind carried, and the frame it
 * unwound into: a report of that exception in that frame next is its
 * propagation, not a new raise. Identities only. */
void rt_exc_note_unwind(PyObject *exc, struct _frame *f, uint64_t serial)
{
    exc_thread *t = exc_thr();
    if (!t)
        return;
    PyFrameObject *back = f ? rt_frame_back(f) : NULL;
    t->unw_exc = exc;
    t->unw_into = back;
    t->unw_serial = serial;
    Py_XDECREF(back);
}

/* The raise number when exc arriving in f is the last unwind's, else 0. */
uint64_t rt_exc_propagated(PyObject *exc, struct _frame *f)
{
    exc_thread *t = exc_thr();
    if (!t)
        return 0;
    uint64_t r = t->unw_exc && (const void *)exc == t->unw_exc &&
                         (const void *)f == t->unw_into
                     ? (t->unw_serial ? t->unw_serial : (uint64_t)-1)
                     : 0;
    t->unw_exc = t->unw_into = NULL;
    return r;
}

/* ---- below 3.12: the trace hook --------------------------------------- */

#if !RT_PY_312

/* Below 3.12, per thread (exc_thread), a stack of frames that reported
 * an exception and have not returned yet, with what to say when they do:
 * leaving by that exception is UNWOUND, any other way (a return, a yield,
 * or reporting a different exception first) means the frame caught it:
 * HANDLED. So a frame that catches and carries on says HANDLED only when
 * it returns or raises again; the raise number keeps it exact. Identities
 * are compared, never dereferenced; names are copies. */

static void pending_emit(exc_pending *p, int kind, int line, int outermost)
{
    /* toolkits may have changed since the report: ask their filters */
    uint32_t mask = 0;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++)
        if (rt.tk[i] && rt.tk[i]->active && rt_code_accepts(rt.tk[i], p->id))
            mask |= 1u << i;
    emit(kind, p->id, mask, line, p->tname, p->msg, outermost, p->serial);
}

static exc_pending *pending_top(exc_thread *ps, const void *frame)
{
    return ps->n && ps->p[ps->n - 1].frame == frame ? &ps->p[ps->n - 1]
                                                     : NULL;
}

static int trace_hook(PyObject *obj, PyFrameObject *f, int what,
                      PyObject *arg)
{
    (void)obj;
    if (atomic_load_explicit(&rt_suspended, memory_order_relaxed) ||
        !(rt.caps_on & LOONG_CAP_EXCEPTIONS))
        return 0;
    exc_thread *ps = exc_thr();
    if (!ps)
        return 0;
    switch (what) {
    case PyTrace_CALL:
    case PyTrace_LINE:
    case PyTrace_OPCODE:
        rt_frame_no_lines(f);
        return 0;
    case PyTrace_RETURN: {
        exc_pending *p = pending_top(ps, f);
        if (!p)
            return 0;
        if (!arg) {
            /* the exception leaves f (CPython hides it during this call,
             * so f's own report says what it is) */
            rt_exc_state saved;
            rt_exc_save(&saved);
            int outer = is_outermost(f);
            rt_exc_restore(&saved);
            pending_emit(p, LOONG_EXC_UNWOUND, PyFrame_GetLineNumber(f),
                         outer);
            rt_exc_note_unwind((PyObject *)p->value, f, p->serial);
        } else {
            pending_emit(p, LOONG_EXC_HANDLED, p->line, 0);
        }
        ps->n--;
        return 0;
    }
    case PyTrace_EXCEPTION:
        break;
    default:
        return 0;
    }
    if (!arg || !PyTuple_Check(arg) || PyTuple_GET_SIZE(arg) < 2)
        return 0;
    PyObject *type = PyTuple_GET_ITEM(arg, 0);
    PyObject *value = PyTuple_GET_ITEM(arg, 1);
    if (!PyType_Check(type))
        return 0;
    /* (no "the same one again" test: an exception's address is reused
     * once it is freed, so identities mean little across frames' lives) */
    exc_pending *p = pending_top(ps, f);
    if (p) { /* f caught the earlier one, then this came */
        pending_emit(p, LOONG_EXC_HANDLED, p->line, 0);
    } else {
        if (ps->n == PEND_MAX) { /* deeper than kept: forget the oldest */
            memmove(ps->p, ps->p + 1, (PEND_MAX - 1) * sizeof ps->p[0]);
            ps->n--;
        }
        p = &ps->p[ps->n++];
    }
    uint64_t propagated = rt_exc_propagated(value, f);
    PyCodeObject *co = rt_frame_code(f);
    uint32_t mask;
    uint32_t id = rt_code_lookup(co, rt_frame_globals(f), &mask);
    Py_DECREF(co);
    rt_exc_state saved;
    rt_exc_save(&saved);
    p->frame = f;
    p->value = value;
    p->id = id;
    p->line = PyFrame_GetLineNumber(f);
    const char *tn = type_name((PyTypeObject *)type, p->tname,
                               sizeof p->tname);
    if (tn != p->tname)
        snprintf(p->tname, sizeof p->tname, "%s", tn);
    message_of(value, p->msg, sizeof p->msg);
    rt_exc_restore(&saved);
    if (propagated) {
        p->serial = propagated == (uint64_t)-1 ? 0 : propagated;
    } else {
        p->serial = atomic_fetch_add(&serial_next, 1) + 1;
        if (id && mask)
            emit(LOONG_EXC_RAISED, id, mask, p->line, p->tname, p->msg, 0,
                 p->serial);
    }
    return 0;
}

static int trace_on;

static void set_trace(PyThreadState *ts, Py_tracefunc fn)
{
#if RT_PY_39
    if (_PyEval_SetTrace(ts, fn, NULL) < 0)
        PyErr_Clear();
#else
    PyObject *old = ts->c_traceobj;
    ts->c_tracefunc = NULL;
    ts->c_traceobj = NULL;
    ts->use_tracing = ts->c_profilefunc != NULL;
    Py_XDECREF(old);
    ts->c_tracefunc = fn;
    ts->use_tracing = (fn != NULL) || (ts->c_profilefunc != NULL);
#endif
}

/* On every thread with no trace function (a debugger or coverage keeps
 * its own), or off everywhere. */
void rt_exc_trace_all(int on)
{
    PyThreadState *cur = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(cur->interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (rt_own_tstate(ts))
            continue;
        if (on && !ts->c_tracefunc)
            set_trace(ts, trace_hook);
        else if (!on && ts->c_tracefunc == trace_hook)
            set_trace(ts, NULL);
    }
    if (!on)
        trace_gen++; /* every thread's notes are stale */
    trace_on = on;
}

/* A new thread, on itself. */
void rt_exc_trace_thread(void)
{
    if (trace_on && !PyThreadState_Get()->c_tracefunc)
        set_trace(PyThreadState_Get(), trace_hook);
}

int rt_exc_tracing(void)
{
    return trace_on;
}

#endif
