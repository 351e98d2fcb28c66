/* The interpreter's memory figures for toolkits: api->memory_stats and
 * api->type_counts. Both need the interpreter lock and take it when called
 * without it (from a tick), the same way api->threads_stacks does. */
#include "rt.h"
#include "pycompat.h"

#include <stdlib.h>
#include <string.h>

extern atomic_int rt_suspended;

typedef struct {
    int had;
    PyGILState_STATE g;
} gil_hold;

static int gil_take(gil_hold *h)
{
    if (!rt.started || atomic_load(&rt_suspended) || rt_no_gil)
        return LOONG_ESTATE;
    h->had = PyGILState_Check();
    if (!h->had) {
        if (rt_py_finalizing())
            return LOONG_ESTATE;
        h->g = PyGILState_Ensure();
    }
    return 0;
}

static void gil_give(gil_hold *h)
{
    if (!h->had)
        PyGILState_Release(h->g);
}

static int64_t as_i64(PyObject *o)
{
    long long v = o ? PyLong_AsLongLong(o) : -1;
    if (v == -1 && PyErr_Occurred())
        PyErr_Clear();
    return v;
}

/* module.attr(), or NULL */
static PyObject *call0(const char *module, const char *attr)
{
    PyObject *m = PyImport_ImportModule(module);
    PyObject *r = m ? PyObject_CallMethod(m, attr, NULL) : NULL;
    Py_XDECREF(m);
    return r;
}

int rt_memory_stats(loong_memory_stats *out, size_t out_size)
{
    if (!out || out_size < sizeof(int64_t))
        return LOONG_EINVAL;
    loong_memory_stats st;
    memset(&st, 0xff, sizeof st); /* -1 everywhere: not known */
    gil_hold h;
    int rc = gil_take(&h);
    if (rc < 0)
        return rc;
    rt_exc_state saved;
    rt_exc_save(&saved);
    PyObject *r = call0("sys", "getallocatedblocks");
    st.allocated_blocks = as_i64(r);
    Py_XDECREF(r);
    r = call0("gc", "get_count");
    for (int g = 0; r && PyTuple_Check(r) && g < 3 && g < PyTuple_GET_SIZE(r);
         g++)
        st.gc_count[g] = as_i64(PyTuple_GET_ITEM(r, g));
    Py_XDECREF(r);
    r = call0("gc", "get_stats");
    for (int g = 0; r && PyList_Check(r) && g < 3 && g < PyList_GET_SIZE(r);
         g++) {
        PyObject *d = PyList_GET_ITEM(r, g);
        if (!PyDict_Check(d))
            continue;
        st.gc_collections[g] = as_i64(PyDict_GetItemString(d, "collections"));
        st.gc_collected[g] = as_i64(PyDict_GetItemString(d, "collected"));
        st.gc_uncollectable[g] =
            as_i64(PyDict_GetItemString(d, "uncollectable"));
    }
    Py_XDECREF(r);
    rt_alloc_totals(st.domain_allocs, st.domain_alloc_bytes);
    PyErr_Clear();
    rt_exc_restore(&saved);
    gil_give(&h);
    memcpy(out, &st, out_size < sizeof st ? out_size : sizeof st);
    return 0;
}

/* ---- objects by type -------------------------------------------------- */

typedef struct tc_slot {
    PyTypeObject *type;
    int64_t count, bytes;
} tc_slot;

static int by_bytes_desc(const void *a, const void *b)
{
    const tc_slot *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* Shallow size without calling __sizeof__ (which could run user code). */
static int64_t shallow_size(PyObject *o)
{
    PyTypeObject *t = Py_TYPE(o);
    int64_t n = t->tp_basicsize;
    if (t->tp_itemsize) {
        Py_ssize_t items = Py_SIZE(o);
        if (items < 0)
            items = -items; /* ints keep their sign there */
        n += (int64_t)t->tp_itemsize * items;
    }
    if (PyList_CheckExact(o))
        n += (int64_t)((PyListObject *)o)->allocated * (int64_t)sizeof(void *);
    return n;
}

static char *type_name_of(PyTypeObject *t)
{
    PyObject *mod = PyObject_GetAttrString((PyObject *)t, "__module__");
    const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : NULL;
    PyErr_Clear();
    const char *q = t->tp_name;
    const char *dot = strrchr(q, '.');
    size_t len = (m ? strlen(m) + 1 : 0) + strlen(dot ? dot + 1 : q) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s%s%s", m ? m : "", m ? "." : "",
                 dot ? dot + 1 : q);
    Py_XDECREF(mod);
    return s;
}

int rt_type_counts(size_t max, loong_type_counts **out)
{
    if (!out || max == 0)
        return LOONG_EINVAL;
    *out = NULL;
    gil_hold h;
    int rc = gil_take(&h);
    if (rc < 0)
        return rc;
    rt_exc_state saved;
    rt_exc_save(&saved);
    size_t cap = 1024, n = 0;
    tc_slot *tab = calloc(cap, sizeof *tab);
    PyObject *objs = call0("gc", "get_objects");
    if (!tab || !objs || !PyList_Check(objs)) {
        rc = LOONG_ENOMEM;
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objs); i++) {
        PyObject *o = PyList_GET_ITEM(objs, i);
        PyTypeObject *t = Py_TYPE(o);
        size_t j = ((uintptr_t)t >> 4) & (cap - 1);
        while (tab[j].type && tab[j].type != t)
            j = (j + 1) & (cap - 1);
        if (!tab[j].type) {
            if ((n + 1) * 2 > cap) { /* grow and place again */
                size_t ncap = cap * 2;
                tc_slot *nt = calloc(ncap, sizeof *nt);
                if (!nt) {
                    rc = LOONG_ENOMEM;
                    goto done;
                }
                for (size_t k = 0; k < cap; k++) {
                    if (!tab[k].type)
                        continue;
                    size_t x = ((uintptr_t)tab[k].type >> 4) & (ncap - 1);
                    while (nt[x].type)
                        x = (x + 1) & (ncap - 1);
                    nt[x] = tab[k];
                }
                free(tab);
                tab = nt;
                cap = ncap;
                i--; /* this object again, in the new table */
                continue;
            }
            tab[j].type = t;
            n++;
        }
        tab[j].count++;
        tab[j].bytes += shallow_size(o);
    }
    size_t k = 0;
    for (size_t j = 0; j < cap; j++)
        if (tab[j].type)
            tab[k++] = tab[j];
    qsort(tab, k, sizeof *tab, by_bytes_desc);
    if (k > max)
        k = max;
    /* one block: header, array, then the names */
    size_t bytes = sizeof(loong_type_counts) + k * sizeof(loong_type_count);
    char **names = calloc(k ? k : 1, sizeof *names);
    if (!names) {
        rc = LOONG_ENOMEM;
        goto done;
    }
    for (size_t j = 0; j < k; j++) {
        names[j] = type_name_of(tab[j].type);
        bytes += names[j] ? strlen(names[j]) + 1 : 2;
    }
    loong_type_counts *res = malloc(bytes);
    if (res) {
        res->ntypes = k;
        res->types = (loong_type_count *)(res + 1);
        char *p = (char *)(res->types + k);
        for (size_t j = 0; j < k; j++) {
            const char *nm = names[j] ? names[j] : "?";
            size_t l = strlen(nm) + 1;
            memcpy(p, nm, l);
            res->types[j] =
                (loong_type_count){p, tab[j].count, tab[j].bytes};
            p += l;
        }
        *out = res;
    } else {
        rc = LOONG_ENOMEM;
    }
    for (size_t j = 0; j < k; j++)
        free(names[j]);
    free(names);
done:
    Py_XDECREF(objs);
    free(tab);
    PyErr_Clear();
    rt_exc_restore(&saved);
    gil_give(&h);
    return rc;
}
