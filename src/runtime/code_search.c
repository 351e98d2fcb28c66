/* Naming code objects that samples saw but that no stack holds any more.
 *
 * The sampler reads stacks without the interpreter lock, so what it has of
 * a new code object is a pointer, the first line, and the frame's globals.
 * A pointer read from outside may be stale and must never be handed to the
 * interpreter. Code on a live stack is named by the registration pass;
 * code that is on a stack only now and then (a short function beside a long
 * one) may never be there when the pass runs. So the pass also looks for
 * the wanted pointers among objects reached through live references only:
 * the modules in sys.modules whose dict is a wanted frame's globals, their
 * functions, their classes' functions, static and class methods and
 * properties, and the code objects nested in those (closures, lambdas,
 * comprehensions). What is found there is alive and a code object for sure.
 *
 * Interpreter lock held. Nothing here runs Python code, so the dicts walked
 * cannot change under the walk; matches are named after it. */
#include "rt.h"
#include "pycompat.h"

#include <stdlib.h>

#define CODE_DEPTH 16          /* code objects nested in code objects */
#define TYPE_DEPTH 4           /* classes nested in classes */
#define VISIT_BUDGET 100000    /* objects looked at per search: a bounded
                                  pause (64,000 took 1.3-1.6 ms here) */

typedef struct search {
    rt_code_want *want;        /* sorted by code pointer */
    size_t n;
    PyObject **found;          /* per want: the code object, new reference */
    PyObject **globals;        /* per want: its module's dict, new reference */
    PyObject *module;          /* the dict of the module walked now */
    size_t visits;
} search;

static int by_code(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const rt_code_want *)a)->code;
    uintptr_t y = (uintptr_t)((const rt_code_want *)b)->code;
    return x < y ? -1 : x > y;
}

static long want_index(const search *s, const void *code)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)s->want[mid].code < (uintptr_t)code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->want[lo].code == code ? (long)lo : -1;
}

static void visit_code(search *s, PyCodeObject *co, int depth)
{
    if (s->visits++ >= VISIT_BUDGET)
        return;
    long i = want_index(s, co);
    /* a class or function imported from another module is that module's:
     * it is named when that one is walked, with its module's name */
    if (i >= 0 && !s->found[i] && s->want[i].globals == s->module &&
        s->want[i].first_line == co->co_firstlineno) {
        Py_INCREF(co);
        s->found[i] = (PyObject *)co;
        Py_INCREF(s->module);
        s->globals[i] = s->module;
    }
    if (depth >= CODE_DEPTH || !co->co_consts ||
        !PyTuple_Check(co->co_consts))
        return;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(co->co_consts); k++) {
        PyObject *c = PyTuple_GET_ITEM(co->co_consts, k);
        if (PyCode_Check(c))
            visit_code(s, (PyCodeObject *)c, depth + 1);
    }
}

static void visit_dict(search *s, PyObject *d, int depth);

/* One attribute of a builtin descriptor type: plain member reads, no
 * Python code runs. */
static void visit_attr(search *s, PyObject *o, const char *name, int depth)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v) {
        PyErr_Clear();
        return;
    }
    if (PyFunction_Check(v))
        visit_code(s, (PyCodeObject *)PyFunction_GET_CODE(v), depth);
    Py_DECREF(v);
}

static void visit_value(search *s, PyObject *v, int depth)
{
    if (s->visits >= VISIT_BUDGET)
        return;
    if (PyFunction_Check(v)) {
        visit_code(s, (PyCodeObject *)PyFunction_GET_CODE(v), 0);
    } else if (Py_TYPE(v) == &PyStaticMethod_Type ||
               Py_TYPE(v) == &PyClassMethod_Type) {
        visit_attr(s, v, "__func__", 0);
    } else if (Py_TYPE(v) == &PyProperty_Type) {
        visit_attr(s, v, "fget", 0);
        visit_attr(s, v, "fset", 0);
        visit_attr(s, v, "fdel", 0);
    } else if (PyType_Check(v) && depth < TYPE_DEPTH &&
               PyType_HasFeature((PyTypeObject *)v, Py_TPFLAGS_HEAPTYPE)) {
        visit_dict(s, ((PyTypeObject *)v)->tp_dict, depth + 1);
    }
}

static void visit_dict(search *s, PyObject *d, int depth)
{
    if (!d || !PyDict_Check(d))
        return;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v) && s->visits < VISIT_BUDGET) {
        s->visits++;
        visit_value(s, v, depth);
    }
}

void rt_codes_search(rt_code_want *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        want[i].named = 0;
    PyObject *modules = PyImport_GetModuleDict();
    if (!n || !modules || !PyDict_Check(modules))
        return;
    PyObject **found = calloc(n, sizeof *found);
    PyObject **globals = calloc(n, sizeof *globals);
    if (!found || !globals) {
        free(found);
        free(globals);
        return;
    }
    rt_exc_state saved;
    rt_exc_save(&saved);
    qsort(want, n, sizeof *want, by_code);
    search s = {want, n, found, globals, NULL, 0};
    Py_ssize_t pos = 0;
    PyObject *name, *m;
    while (PyDict_Next(modules, &pos, &name, &m) && s.visits < VISIT_BUDGET) {
        if (!PyModule_Check(m))
            continue;
        PyObject *d = PyModule_GetDict(m); /* borrowed */
        size_t w = 0;
        while (w < n && want[w].globals != (const void *)d)
            w++;
        if (w == n)
            continue; /* no wanted frame ran in this module */
        s.module = d;
        visit_dict(&s, d, 0);
    }
    /* the walk is over: naming may allocate */
    for (size_t i = 0; i < n; i++) {
        if (!found[i])
            continue;
        uint32_t mask;
        want[i].named = rt_code_lookup((PyCodeObject *)found[i],
                                       globals[i], &mask) != 0;
        Py_DECREF(found[i]);
        Py_DECREF(globals[i]);
    }
    rt_exc_restore(&saved);
    free(found);
    free(globals);
}
