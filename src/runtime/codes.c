/* Code identities and filters.
 *
 * A code object's identity and its toolkit mask (which loaded toolkits'
 * filters accept it) are computed on its first event and cached in the
 * code object's co_extra slot, packed in the pointer itself so nothing is
 * allocated per code object:
 *
 *   bits 0..31 id | bits 32..47 generation | bits 48..63 toolkit mask
 *
 * The generation changes when toolkits or filters change, which makes every
 * cached mask stale without walking the heap.
 *
 * Identities index an append-only registry of (qualname, module, file,
 * line), deduplicated, readable from any thread without the interpreter
 * lock: entries live in fixed chunks that never move, and `count` is
 * published with release ordering after an entry is complete.
 */
#include "rt.h"
#include "pycompat.h"
#include "runtime/sample_read.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BITS 10
#define CHUNK (1u << CHUNK_BITS)
#define MAX_CHUNKS 16384 /* 16M distinct functions */

typedef struct code_entry {
    char *qualname;
    char *module;
    char *filename;
    int first_line;
    int is_c;
    uint64_t hash;
} code_entry;

static code_entry *chunks[MAX_CHUNKS];
static atomic_uint n_codes;
static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t *htab; /* open addressing: slot -> id, 0 = empty */
static size_t hcap;
Py_ssize_t rt_extra_index = -1;

static void extra_free(void *p)
{
    (void)p; /* the value is packed data, not memory */
}

/* "__name__", made once: a code may be named from inside an allocator
 * (an allocation sample), where no Python object may be created. One
 * that is would reach tracemalloc's hook, which takes a lock its caller
 * may hold (a deadlock seen on 3.9, 3.10 and 3.13). */
static PyObject *name_key;

void rt_codes_init(void)
{
    if (rt_extra_index < 0)
        rt_extra_index = rt_request_code_extra(extra_free);
    if (!name_key) {
        name_key = PyUnicode_InternFromString("__name__");
        if (!name_key)
            PyErr_Clear(); /* modules then unnamed */
    }
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static code_entry *entry_of(uint32_t id)
{
    uint32_t i = id - 1;
    return &chunks[i >> CHUNK_BITS][i & (CHUNK - 1)];
}

static int same(const code_entry *e, const char *q, const char *m,
                const char *f, int line, int is_c)
{
    return e->first_line == line && e->is_c == is_c &&
           !strcmp(e->qualname, q) &&
           !strcmp(e->module, m) && !strcmp(e->filename, f);
}

static int htab_grow(void)
{
    size_t ncap = hcap ? hcap * 2 : 4096;
    uint32_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < hcap; i++) {
        if (!htab[i])
            continue;
        size_t j = entry_of(htab[i])->hash & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = htab[i];
    }
    free(htab);
    htab = n;
    hcap = ncap;
    return 0;
}

/* Find or add; 0 when out of memory or out of identities. */
static uint32_t intern(const char *q, const char *m, const char *f, int line,
                       int is_c)
{
    uint64_t h = fnv(fnv(fnv(14695981039346656037ull, q), m), f) ^
                 (uint64_t)(unsigned)line ^ ((uint64_t)is_c << 40);
    uint32_t id = 0;
    pthread_mutex_lock(&codes_lock);
    unsigned n = atomic_load_explicit(&n_codes, memory_order_relaxed);
    if ((n + 1) * 2 > hcap && htab_grow() < 0)
        goto out;
    size_t j = h & (hcap - 1);
    for (; htab[j]; j = (j + 1) & (hcap - 1)) {
        code_entry *e = entry_of(htab[j]);
        if (e->hash == h && same(e, q, m, f, line, is_c)) {
            id = htab[j];
            goto out;
        }
    }
    if (n >= (unsigned)MAX_CHUNKS * CHUNK)
        goto out;
    if (!chunks[n >> CHUNK_BITS]) {
        chunks[n >> CHUNK_BITS] = calloc(CHUNK, sizeof(code_entry));
        if (!chunks[n >> CHUNK_BITS])
            goto out;
    }
    code_entry *e = &chunks[n >> CHUNK_BITS][n & (CHUNK - 1)];
    e->qualname = strdup(q);
    e->module = strdup(m);
    e->filename = strdup(f);
    if (!e->qualname || !e->module || !e->filename) {
        free(e->qualname);
        free(e->module);
        free(e->filename);
        memset(e, 0, sizeof *e);
        goto out;
    }
    e->first_line = line;
    e->is_c = is_c;
    e->hash = h;
    id = n + 1;
    htab[j] = id;
    atomic_store_explicit(&n_codes, n + 1, memory_order_release);
out:
    pthread_mutex_unlock(&codes_lock);
    return id;
}

static const char *utf8_or(PyObject *s, const char *dflt)
{
    if (!s || !PyUnicode_Check(s))
        return dflt;
    const char *u = PyUnicode_AsUTF8(s);
    if (!u) {
        PyErr_Clear(); /* lone surrogates */
        return dflt;
    }
    return u;
}

static uint32_t register_code(PyCodeObject *co, PyObject *globals)
{
    rt_exc_state saved;
    rt_exc_save(&saved);
    if (!globals)
        globals = PyEval_GetGlobals();
    PyObject *modname = NULL;
    if (globals && PyDict_Check(globals) && name_key)
        modname = PyDict_GetItem(globals, name_key); /* borrowed */
    uint32_t id = intern(utf8_or(rt_code_qualname(co), "?"),
                         utf8_or(modname, ""), utf8_or(co->co_filename, "?"),
                         co->co_firstlineno, 0);
    rt_exc_restore(&saved);
    return id;
}

/* ---- filters --------------------------------------------------------- */

static int has_glob(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

/* A pattern with '/' is a file glob; with wildcards a module glob; a plain
 * name matches that module and everything under it. */
static int pattern_match(const char *pat, const code_entry *e)
{
    if (strchr(pat, '/'))
        return fnmatch(pat, e->filename, 0) == 0;
    if (has_glob(pat))
        return fnmatch(pat, e->module, 0) == 0;
    size_t n = strlen(pat);
    return strncmp(e->module, pat, n) == 0 &&
           (e->module[n] == '\0' || e->module[n] == '.');
}

/* Patterns are separated by ',' or '|' ('|' passes through a -t option,
 * where ',' separates options). */
static int list_match(const char *list, const code_entry *e)
{
    char pat[512];
    while (*list) {
        while (*list == ',' || *list == '|' || *list == ' ')
            list++;
        size_t n = strcspn(list, ",|");
        size_t end = n;
        while (n && list[n - 1] == ' ')
            n--;
        if (n && n < sizeof pat) {
            memcpy(pat, list, n);
            pat[n] = '\0';
            if (pattern_match(pat, e))
                return 1;
        }
        list += end;
    }
    return 0;
}

static int accepts(const loong_toolkit *tk, const code_entry *e)
{
    if (tk->include && *tk->include && !list_match(tk->include, e))
        return 0;
    return !(tk->exclude && *tk->exclude && list_match(tk->exclude, e));
}

static uint32_t compute_mask(uint32_t id)
{
    const code_entry *e = entry_of(id);
    uint32_t mask = 0;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (tk && tk->active &&
            (tk->caps & (LOONG_CAP_CALLS | LOONG_CAP_EXCEPTIONS)) &&
            accepts(tk, e))
            mask |= 1u << i;
    }
    return mask;
}

int rt_code_accepts(const loong_toolkit *tk, uint32_t id)
{
    if (id == 0 ||
        id > atomic_load_explicit(&n_codes, memory_order_acquire))
        return 0;
    return accepts(tk, entry_of(id));
}

long rt_codes_extra_index(void)
{
    return (long)rt_extra_index;
}

int rt_filter_set(loong_toolkit *tk, const char *include, const char *exclude)
{
    char *inc = include && *include ? strdup(include) : NULL;
    char *exc = exclude && *exclude ? strdup(exclude) : NULL;
    if ((include && *include && !inc) || (exclude && *exclude && !exc)) {
        free(inc);
        free(exc);
        return LOONG_ENOMEM;
    }
    free(tk->include);
    free(tk->exclude);
    tk->include = inc;
    tk->exclude = exc;
    rt.generation++;
    return 0;
}

/* ---- lookup ---------------------------------------------------------- */

uint32_t rt_code_lookup(PyCodeObject *co, PyObject *globals, uint32_t *mask)
{
    void *extra = NULL;
    uint32_t id = 0;
    uint64_t gen = rt.generation & 0xffff;
    if (rt_extra_index >= 0 &&
        rt_code_get_extra((PyObject *)co, rt_extra_index, &extra) == 0 && extra) {
        uint64_t v = (uintptr_t)extra;
        id = (uint32_t)v;
        if (((v >> 32) & 0xffff) == gen) {
            *mask = (uint32_t)(v >> 48);
            return id;
        }
    }
    if (!id)
        id = register_code(co, globals);
    if (!id) {
        *mask = 0;
        return 0;
    }
    *mask = compute_mask(id);
    /* a code object in read-only memory (3.13's _Py_InitCleanup shim)
     * cannot carry it: checked once, when it has no extra data yet */
    if (rt_extra_index >= 0 &&
        (co->co_extra ||
         rt_swrite_probe(&co->co_extra, sizeof co->co_extra) == 0)) {
        uint64_t v = (uint64_t)id | gen << 32 | (uint64_t)*mask << 48;
        if (rt_code_set_extra((PyObject *)co, rt_extra_index,
                             (void *)(uintptr_t)v) < 0)
            PyErr_Clear();
    }
    return id;
}

int rt_code_info(loong_code_id id, loong_code_info *out)
{
    if (!out)
        return LOONG_EINVAL;
    if (id == 0 ||
        id > atomic_load_explicit(&n_codes, memory_order_acquire))
        return LOONG_ENOENT;
    const code_entry *e = entry_of(id);
    out->qualname = e->qualname;
    out->module = e->module;
    out->filename = e->filename;
    out->first_line = e->first_line;
    out->is_c_function = e->is_c;
    return 0;
}

/* ---- C functions ----------------------------------------------------- */

/* A C function's identity is cached by its PyMethodDef, which lives as
 * long as its module; entries carry the generation like co_extra does. */
typedef struct c_slot {
    const PyMethodDef *def;
    uint32_t id, mask;
    unsigned gen;
} c_slot;

static c_slot *ctab;
static size_t ccap, cused;

static int ctab_grow(void)
{
    size_t ncap = ccap ? ccap * 2 : 1024;
    c_slot *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < ccap; i++) {
        if (!ctab[i].def)
            continue;
        size_t j = ((uintptr_t)ctab[i].def >> 4) & (ncap - 1);
        while (n[j].def)
            j = (j + 1) & (ncap - 1);
        n[j] = ctab[i];
    }
    free(ctab);
    ctab = n;
    ccap = ncap;
    return 0;
}

/* The PyMethodDef and the owner's name ("builtins", "list") of a C
 * callable, or NULL when it is not one. */
static const PyMethodDef *c_def_of(PyObject *callable, PyObject **owner)
{
    *owner = NULL;
    if (PyCFunction_Check(callable)) {
        PyCFunctionObject *f = (PyCFunctionObject *)callable;
        if (f->m_module && PyUnicode_Check(f->m_module))
            *owner = f->m_module;
        else if (f->m_self && !PyModule_Check(f->m_self))
            *owner = (PyObject *)Py_TYPE(f->m_self);
        return f->m_ml;
    }
    if (Py_TYPE(callable) == &PyMethodDescr_Type) {
        PyMethodDescrObject *d = (PyMethodDescrObject *)callable;
        *owner = (PyObject *)PyDescr_TYPE(d);
        return d->d_method;
    }
    return NULL;
}

static uint32_t c_mask(uint32_t id)
{
    const code_entry *e = entry_of(id);
    uint32_t mask = 0;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (tk && tk->active && (tk->caps & LOONG_CAP_C_CALLS) &&
            accepts(tk, e))
            mask |= 1u << i;
    }
    return mask;
}

uint32_t rt_c_lookup(PyObject *callable, uint32_t *mask)
{
    PyObject *owner;
    const PyMethodDef *def = c_def_of(callable, &owner);
    *mask = 0;
    if (!def)
        return 0;
    if ((cused + 1) * 2 > ccap && ctab_grow() < 0)
        return 0;
    size_t j = ((uintptr_t)def >> 4) & (ccap - 1);
    while (ctab[j].def && ctab[j].def != def)
        j = (j + 1) & (ccap - 1);
    c_slot *sl = &ctab[j];
    if (sl->def == def && sl->gen == rt.generation) {
        *mask = sl->mask;
        return sl->id;
    }
    if (sl->def != def) {
        /* "len" in "builtins", "list.append" in "builtins" */
        rt_exc_state saved;
        rt_exc_save(&saved);
        char qual[256];
        const char *mod = "builtins";
        PyObject *modobj = NULL;
        if (owner && PyType_Check(owner)) {
            const char *tn = ((PyTypeObject *)owner)->tp_name;
            const char *dot = strrchr(tn, '.');
            snprintf(qual, sizeof qual, "%s.%s", dot ? dot + 1 : tn,
                     def->ml_name);
            modobj = PyObject_GetAttrString(owner, "__module__");
            mod = utf8_or(modobj, "builtins");
        } else {
            snprintf(qual, sizeof qual, "%s", def->ml_name);
            mod = utf8_or(owner, "builtins");
        }
        sl->id = intern(qual, mod, "<built-in>", 0, 1);
        sl->def = def;
        cused++;
        Py_XDECREF(modobj);
        PyErr_Clear();
        rt_exc_restore(&saved);
    }
    if (!sl->id)
        return 0;
    sl->mask = c_mask(sl->id);
    sl->gen = rt.generation;
    *mask = sl->mask;
    return sl->id;
}
