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
    uint64_t hash;
} code_entry;

static code_entry *chunks[MAX_CHUNKS];
static atomic_uint n_codes;
static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t *htab; /* open addressing: slot -> id, 0 = empty */
static size_t hcap;
static Py_ssize_t extra_index = -1;

static void extra_free(void *p)
{
    (void)p; /* the value is packed data, not memory */
}

void rt_codes_init(void)
{
    if (extra_index < 0)
        extra_index = rt_request_code_extra(extra_free);
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
                const char *f, int line)
{
    return e->first_line == line && !strcmp(e->qualname, q) &&
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
static uint32_t intern(const char *q, const char *m, const char *f, int line)
{
    uint64_t h = fnv(fnv(fnv(14695981039346656037ull, q), m), f) ^
                 (uint64_t)(unsigned)line;
    uint32_t id = 0;
    pthread_mutex_lock(&codes_lock);
    unsigned n = atomic_load_explicit(&n_codes, memory_order_relaxed);
    if ((n + 1) * 2 > hcap && htab_grow() < 0)
        goto out;
    size_t j = h & (hcap - 1);
    for (; htab[j]; j = (j + 1) & (hcap - 1)) {
        code_entry *e = entry_of(htab[j]);
        if (e->hash == h && same(e, q, m, f, line)) {
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
    if (globals && PyDict_Check(globals))
        modname = PyDict_GetItemString(globals, "__name__"); /* borrowed */
    uint32_t id = intern(utf8_or(rt_code_qualname(co), "?"),
                         utf8_or(modname, ""), utf8_or(co->co_filename, "?"),
                         co->co_firstlineno);
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
    if (extra_index >= 0 &&
        rt_code_get_extra((PyObject *)co, extra_index, &extra) == 0 && extra) {
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
    if (extra_index >= 0) {
        uint64_t v = (uint64_t)id | gen << 32 | (uint64_t)*mask << 48;
        if (rt_code_set_extra((PyObject *)co, extra_index,
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
    out->is_c_function = 0;
    return 0;
}
