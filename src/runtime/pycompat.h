/* The CPython API differences between 3.8 and 3.13, in one place. Every
 * helper here needs the interpreter lock. */
#ifndef LOONG_RUNTIME_PYCOMPAT_H
#define LOONG_RUNTIME_PYCOMPAT_H

#include <Python.h>
#include <frameobject.h>
#include <stdint.h>

#define RT_PY_312 (PY_VERSION_HEX >= 0x030C0000)
#define RT_PY_311 (PY_VERSION_HEX >= 0x030B0000)
#define RT_PY_310 (PY_VERSION_HEX >= 0x030A0000)
#define RT_PY_39 (PY_VERSION_HEX >= 0x03090000)

/* Per-code extra data: renamed "unstable" in 3.12. */
#if RT_PY_312
#define rt_request_code_extra PyUnstable_Eval_RequestCodeExtraIndex
#define rt_code_get_extra PyUnstable_Code_GetExtra
#define rt_code_set_extra PyUnstable_Code_SetExtra
#else
#define rt_request_code_extra _PyEval_RequestCodeExtraIndex
#define rt_code_get_extra _PyCode_GetExtra
#define rt_code_set_extra _PyCode_SetExtra
#endif

/* Save and restore the pending exception around our own API calls, so a
 * hook never leaves one behind nor clears the program's. */
#if RT_PY_312
typedef struct {
    PyObject *exc;
} rt_exc_state;
static inline void rt_exc_save(rt_exc_state *s)
{
    s->exc = PyErr_GetRaisedException();
}
static inline void rt_exc_restore(rt_exc_state *s)
{
    PyErr_SetRaisedException(s->exc);
}
#else
typedef struct {
    PyObject *type, *value, *tb;
} rt_exc_state;
static inline void rt_exc_save(rt_exc_state *s)
{
    PyErr_Fetch(&s->type, &s->value, &s->tb);
}
static inline void rt_exc_restore(rt_exc_state *s)
{
    PyErr_Restore(s->type, s->value, s->tb);
}
#endif

/* Frames: new references on 3.9+, borrowed (we incref) on 3.8. */
static inline PyFrameObject *rt_thread_frame(PyThreadState *ts)
{
#if RT_PY_39
    return PyThreadState_GetFrame(ts);
#else
    Py_XINCREF(ts->frame);
    return ts->frame;
#endif
}

static inline PyFrameObject *rt_frame_back(PyFrameObject *f)
{
#if RT_PY_39
    return PyFrame_GetBack(f);
#else
    Py_XINCREF(f->f_back);
    return f->f_back;
#endif
}

static inline PyCodeObject *rt_frame_code(PyFrameObject *f)
{
#if RT_PY_39
    return PyFrame_GetCode(f);
#else
    Py_INCREF(f->f_code);
    return f->f_code;
#endif
}

/* Borrowed. */
static inline PyObject *rt_frame_globals(PyFrameObject *f)
{
#if RT_PY_311
    PyObject *g = PyFrame_GetGlobals(f);
    Py_XDECREF(g); /* the frame keeps it alive */
    return g;
#else
    return f->f_globals;
#endif
}

static inline PyObject *rt_code_qualname(PyCodeObject *co)
{
#if RT_PY_311
    return co->co_qualname;
#else
    return co->co_name;
#endif
}

static inline int rt_code_is_generator(PyCodeObject *co)
{
    return (co->co_flags &
            (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) != 0;
}

static inline int rt_py_finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

/* The kernel id of a thread state's thread: known from 3.11; below, only
 * for the calling thread (0 for the others). */
static inline uint64_t rt_tstate_native_id(PyThreadState *ts, uint64_t self)
{
#if RT_PY_311
    (void)self;
    return ts->native_thread_id;
#else
    return ts == PyThreadState_Get() ? self : 0;
#endif
}

/* The name of the allocators in place ("pymalloc", "malloc",
 * "pymalloc_debug", ...), or NULL when a hook is installed: public in
 * 3.8-3.12, internal (still exported) in 3.13. */
#if PY_VERSION_HEX >= 0x030D0000
PyAPI_FUNC(const char *) _PyMem_GetCurrentAllocatorName(void);
#endif

#endif
