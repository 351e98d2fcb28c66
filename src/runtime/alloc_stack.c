/* The calling thread's frames for the allocation sampler. It sees the
 * internal frame layout on 3.11+ (Py_BUILD_CORE), like sample_read.c, but
 * reads directly: the caller holds the interpreter lock and the frames are
 * its own thread's, so they cannot go away during the walk. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#if PY_VERSION_HEX >= 0x030B0000
#undef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#else
#include <frameobject.h>
#endif

#include "runtime/alloc_stack.h"

size_t rt_alloc_raw_stack(void *ts_ptr, const void **codes,
                          const void **globals, size_t max)
{
    PyThreadState *ts = ts_ptr;
    size_t n = 0;
    if (!ts)
        return 0;
#if PY_VERSION_HEX >= 0x030B0000
#if PY_VERSION_HEX >= 0x030D0000
    _PyInterpreterFrame *f = ts->current_frame;
#else
    _PyInterpreterFrame *f = ts->cframe ? ts->cframe->current_frame : NULL;
#endif
    for (; f && n < max; f = f->previous) {
#if PY_VERSION_HEX >= 0x030D0000
        PyObject *code = f->f_executable;
        if (!code || !PyCode_Check(code))
            continue;
#else
        PyObject *code = (PyObject *)f->f_code;
        if (!code)
            continue;
#endif
        if (_PyFrame_IsIncomplete(f))
            continue; /* being set up, or a C shim */
        codes[n] = code;
        globals[n++] = f->f_globals;
    }
#else
    for (PyFrameObject *f = ts->frame; f && n < max; f = f->f_back) {
        if (!f->f_code)
            continue;
        codes[n] = f->f_code;
        globals[n++] = f->f_globals;
    }
#endif
    return n;
}
