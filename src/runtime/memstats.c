/* The interpreter's memory figures for toolkits: api->memory_stats,
 * api->type_counts and api->allocator_stats. They need the interpreter lock
 * and take it when called without it (from a tick), the same way
 * api->threads_stacks does. */
#include "rt.h"
#include "pycompat.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
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
#if RT_PY_312
    r = call0("sys", "getunicodeinternedsize");
    st.interned_strings = as_i64(r);
    Py_XDECREF(r);
#endif
    rt_alloc_totals(st.domain_allocs, st.domain_alloc_bytes, st.domain_frees);
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

/* ---- pymalloc and the free lists -------------------------------------- */

/* CPython writes these figures only as text, for sys._debugmallocstats():
 * _PyObject_DebugMallocStats(FILE *) walks every arena and pool (it writes
 * nothing and returns 0 when pymalloc does not serve the object domain),
 * and each type with a free list has its own _PyX_DebugMallocStats(FILE *),
 * exported by some versions only (3.13 exports none). They are looked up
 * by name, called under the interpreter lock into a memory stream (never
 * the program's stderr), and the text is read back. */

typedef int (*rt_malloc_stats_fn)(FILE *out);
typedef void (*rt_type_stats_fn)(FILE *out);

static const char *const type_stats_names[] = {
    "_PyFloat_DebugMallocStats",     "_PyList_DebugMallocStats",
    "_PyDict_DebugMallocStats",      "_PyTuple_DebugMallocStats",
    "_PyFrame_DebugMallocStats",     "_PyCFunction_DebugMallocStats",
    "_PyMethod_DebugMallocStats",
};
#define N_TYPE_STATS (sizeof type_stats_names / sizeof type_stats_names[0])

/* resolved once, under the interpreter lock */
static int stats_resolved;
static rt_malloc_stats_fn malloc_stats_fn;
static rt_type_stats_fn type_stats_fns[N_TYPE_STATS];

/* A symbol of the interpreter: the global scope first (libpython, or an
 * executable that exports its symbols), else the object that holds
 * PyObject_Malloc. */
static void *py_symbol(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    if (p)
        return p;
    Dl_info info;
    if (!dladdr((void *)&PyObject_Malloc, &info) || !info.dli_fname)
        return NULL;
    void *h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return NULL;
    p = dlsym(h, name);
    dlclose(h); /* stays loaded: PyObject_Malloc lives there */
    return p;
}

static void resolve_stats(void)
{
    if (stats_resolved)
        return;
    malloc_stats_fn =
        (rt_malloc_stats_fn)py_symbol("_PyObject_DebugMallocStats");
    for (size_t i = 0; i < N_TYPE_STATS; i++)
        type_stats_fns[i] = (rt_type_stats_fn)py_symbol(type_stats_names[i]);
    stats_resolved = 1;
}

/* The number after '=' as printone() writes it ("1,572,864"); -1 if none. */
static int64_t stats_value(const char *s)
{
    while (*s == ' ')
        s++;
    int64_t v = -1;
    for (; (*s >= '0' && *s <= '9') || *s == ','; s++) {
        if (*s == ',')
            continue;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = (v < 0 ? 0 : v * 10) + (*s - '0');
    }
    return v;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void add_to(int64_t *field, int64_t v)
{
    *field = (*field < 0 ? 0 : *field) + v;
}

/* Lines of _PyObject_DebugMallocStats, as CPython 3.8 to 3.13 write them:
 *   a row per size class: class size pools blocks-in-use avail-blocks
 *   "# arenas allocated total           =                    6"
 *   "6 arenas * 262144 bytes/arena      =            1,572,864"
 *   "41 unused pools * 4096 bytes       =              167,936"
 *   "# bytes lost to arena map root     =                8,192" (3.10+)
 * The figures are kept only when the arena lines are all there. */
static void parse_pymalloc(char *text, loong_allocator_stats *st)
{
    loong_allocator_stats p;
    memset(&p, 0xff, sizeof p);
    int64_t pools = 0, blocks = 0;
    int have = 0;
    char *next;
    for (char *line = text; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        const char *eq = strrchr(line, '=');
        long long a, b, c, d, e;
        if (!eq) {
            if (sscanf(line, "%lld %lld %lld %lld %lld", &a, &b, &c, &d,
                       &e) == 5 && c >= 0 && d >= 0) {
                pools += c;
                blocks += d;
            }
            continue;
        }
        int64_t v = stats_value(eq + 1);
        if (v < 0)
            continue;
        if (starts(line, "# arenas allocated total"))
            p.pymalloc_arenas_allocated = v, have |= 1;
        else if (starts(line, "# arenas reclaimed"))
            p.pymalloc_arenas_reclaimed = v, have |= 2;
        else if (starts(line, "# arenas highwater mark"))
            p.pymalloc_arenas_highwater = v, have |= 4;
        else if (starts(line, "# arenas allocated current"))
            p.pymalloc_arenas = v, have |= 8;
        else if (starts(line, "# bytes in allocated blocks"))
            p.pymalloc_allocated_bytes = v, have |= 16;
        else if (starts(line, "# bytes in available blocks"))
            p.pymalloc_available_bytes = v;
        else if (starts(line, "# bytes lost to pool headers"))
            p.pymalloc_pool_header_bytes = v;
        else if (starts(line, "# bytes lost to quantization"))
            p.pymalloc_quantization_bytes = v;
        else if (starts(line, "# bytes lost to arena alignment"))
            p.pymalloc_alignment_bytes = v;
        else if (starts(line, "# bytes lost to arena map"))
            add_to(&p.pymalloc_arena_map_bytes, v);
        else if (sscanf(line, "%lld arenas * %lld bytes/arena", &a, &b) == 2)
            p.pymalloc_arena_size = b, p.pymalloc_arena_bytes = v;
        else if (sscanf(line, "%lld unused pools * %lld bytes", &a, &b) == 2)
            p.pymalloc_unused_pools = a, p.pymalloc_pool_size = b;
    }
    if (have != 31)
        return; /* not the text we know: leave every figure out */
    p.pymalloc_pools = pools;
    p.pymalloc_blocks = blocks;
    memcpy(st, &p, offsetof(loong_allocator_stats, freelist_float));
}

/* "N free PyFloatObjects * 24 bytes each =  72", tuples as "N free
 * 3-sized PyTupleObjects * 48 bytes each"; other types count in
 * freelist_bytes only. */
static void parse_freelists(char *text, loong_allocator_stats *st)
{
    static const struct {
        const char *name;
        size_t off;
    } kinds[] = {
        {"PyFloatObject", offsetof(loong_allocator_stats, freelist_float)},
        {"PyListObject", offsetof(loong_allocator_stats, freelist_list)},
        {"PyDictObject", offsetof(loong_allocator_stats, freelist_dict)},
        {"PyDictKeysObject",
         offsetof(loong_allocator_stats, freelist_dict_keys)},
        {"PyTupleObject", offsetof(loong_allocator_stats, freelist_tuple)},
        {"PyFrameObject", offsetof(loong_allocator_stats, freelist_frame)},
        {"PyCFunctionObject",
         offsetof(loong_allocator_stats, freelist_cfunction)},
        {"PyMethodObject", offsetof(loong_allocator_stats, freelist_method)},
    };
    char *next;
    for (char *line = text; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        long long n, size;
        char name[128];
        if (sscanf(line, " %lld free %127[^*]* %lld bytes each", &n, name,
                   &size) != 3 || n < 0 || size < 0)
            continue;
        size_t l = strlen(name);
        while (l && name[l - 1] == ' ')
            name[--l] = '\0';
        if (l && name[l - 1] == 's') /* "PyFloatObjects" */
            name[--l] = '\0';
        const char *kind = strstr(name, "-sized ");
        kind = kind ? kind + 7 : name;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (!strcmp(kind, kinds[i].name))
                add_to((int64_t *)((char *)st + kinds[i].off), n);
        add_to(&st->freelist_bytes, n * size);
    }
}

/* fn(FILE *) into a memory stream, then parse(text, st). */
static int stats_text(int (*fn)(FILE *), void (*vfn)(FILE *),
                      void (*parse)(char *, loong_allocator_stats *),
                      loong_allocator_stats *st, int lift)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return LOONG_ENOMEM;
    int wrote = 1;
    PyMemAllocatorEx saved;
    int lifted = lift && rt_alloc_lift_obj(&saved);
    if (fn)
        wrote = fn(f);
    else
        vfn(f);
    if (lifted)
        rt_alloc_unlift_obj(&saved);
    int bad = fclose(f) != 0;
    if (!bad && wrote && text)
        parse(text, st);
    free(text);
    return bad ? LOONG_ENOMEM : 0;
}

/* Whether ours is the only interpreter: from 3.12 another one may have a
 * lock of its own, and then the object domain is not ours to touch. */
static int single_interpreter(void)
{
#if RT_PY_312
    PyInterpreterState *head = PyInterpreterState_Head();
    return head && !PyInterpreterState_Next(head);
#else
    return 1;
#endif
}

int rt_allocator_stats(loong_allocator_stats *out, size_t out_size)
{
    if (!out || out_size < sizeof(int64_t))
        return LOONG_EINVAL;
    loong_allocator_stats st;
    memset(&st, 0xff, sizeof st); /* -1 everywhere: not known */
    gil_hold h;
    int rc = gil_take(&h);
    if (rc < 0)
        return rc;
    uint64_t t0 = rt_now_ns();
    resolve_stats();
    if (malloc_stats_fn)
        rc = stats_text(malloc_stats_fn, NULL, parse_pymalloc, &st,
                        single_interpreter());
    for (size_t i = 0; rc == 0 && i < N_TYPE_STATS; i++)
        if (type_stats_fns[i])
            rc = stats_text(NULL, type_stats_fns[i], parse_freelists, &st, 0);
    st.held_ns = (int64_t)(rt_now_ns() - t0);
    gil_give(&h);
    if (rc < 0)
        return rc;
    memcpy(out, &st, out_size < sizeof st ? out_size : sizeof st);
    return 0;
}
