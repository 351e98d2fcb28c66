/* exception toolkit: exceptions as they happen, with when and where.
 *
 * Every exception event is folded into one entry per distinct (type, Python
 * stack where it was raised): a loop raising a million KeyErrors from one
 * place is one entry with a count of a million, so memory and output stay
 * bounded (at most max_entries entries; beyond, only counted). Per entry:
 * counts raised, handled and uncaught, first and last time, the first
 * message and thread.
 *
 * Writers: event callbacks, under the interpreter lock (one at a time).
 * Reader: the tick, on loong's thread: entries and their counters are read
 * with relaxed atomics, and the table only grows (chunks that never move),
 * as in the function toolkit.
 */
#include <loong/loong.h>

#include "shared/tk_text.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK 64
#define CHUNK 1024
#define MAX_CHUNKS 1024

enum { WANT_RAISED = 1, WANT_HANDLED = 2, WANT_UNCAUGHT = 4 };

typedef struct entry {
    uint64_t hash;
    char *type_name;
    char *message;            /* the first one seen */
    loong_thread_id thread;   /* of the first one */
    uint64_t first_wall_ns;
    _Atomic uint64_t last_wall_ns;
    _Atomic uint64_t raised, handled, uncaught;
    uint64_t reported[3];     /* tick only: at the last interval point */
    int line;                 /* where it was raised */
    size_t nframes;
    loong_code_id frames[MAX_STACK]; /* innermost first */
} entry;

typedef struct ex_state {
    loong_toolkit *tk;
    const loong_api *api;
    int want;                 /* WANT_* */
    int top;
    size_t max_entries;
    uint64_t wall_offset;     /* wall_ns - now_ns at load */
    entry *chunks[MAX_CHUNKS];
    _Atomic uint32_t n;
    uint32_t *htab;           /* hash -> index + 1; writers only */
    size_t hcap;
    _Atomic uint64_t over;    /* events past max_entries */
    /* per thread, the latest raises: raise number -> entry (index + 1),
     * and whether its handling / its escape was counted (an exception
     * caught by several except clauses is handled once) */
    struct recent {
        uint64_t serial;
        uint32_t entry;
        uint8_t handled, uncaught;
    } recent[256][16];
    uint8_t recent_next[256];
} ex_state;

static entry *entry_at(ex_state *st, uint32_t i)
{
    return &st->chunks[i / CHUNK][i % CHUNK];
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static int htab_grow(ex_state *st)
{
    size_t ncap = st->hcap ? st->hcap * 2 : 1024;
    uint32_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < st->hcap; i++) {
        if (!st->htab[i])
            continue;
        size_t j = entry_at(st, st->htab[i] - 1)->hash & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = st->htab[i];
    }
    free(st->htab);
    st->htab = n;
    st->hcap = ncap;
    return 0;
}

/* The entry of (type, stack), made when new; NULL past the bound. */
static entry *entry_for(ex_state *st, const loong_exception_event *ev,
                        const loong_frame *fr, size_t nf, uint32_t *index)
{
    loong_code_id ids[MAX_STACK];
    for (size_t i = 0; i < nf; i++)
        ids[i] = fr[i].code;
    uint64_t h = fnv(14695981039346656037ull, ev->type_name,
                     strlen(ev->type_name));
    h = fnv(h, ids, nf * sizeof ids[0]);
    h = fnv(h, &ev->line, sizeof ev->line);
    uint32_t n = atomic_load_explicit(&st->n, memory_order_relaxed);
    if ((n + 1) * 2 > st->hcap && htab_grow(st) < 0)
        return NULL;
    size_t j = h & (st->hcap - 1);
    for (; st->htab[j]; j = (j + 1) & (st->hcap - 1)) {
        entry *e = entry_at(st, st->htab[j] - 1);
        if (e->hash == h && e->nframes == nf && e->line == ev->line &&
            !memcmp(e->frames, ids, nf * sizeof ids[0]) &&
            !strcmp(e->type_name, ev->type_name)) {
            *index = st->htab[j] - 1;
            return e;
        }
    }
    if (n >= st->max_entries || n >= (uint32_t)MAX_CHUNKS * CHUNK)
        return NULL;
    if (!st->chunks[n / CHUNK]) {
        entry *c = calloc(CHUNK, sizeof *c);
        if (!c)
            return NULL;
        atomic_store_explicit((_Atomic(entry *) *)&st->chunks[n / CHUNK], c,
                              memory_order_release);
    }
    entry *e = entry_at(st, n);
    e->type_name = strdup(ev->type_name);
    e->message = strdup(st->api->minor >= 2 && ev->message ? ev->message
                                                          : "");
    if (!e->type_name || !e->message) {
        free(e->type_name);
        free(e->message);
        e->type_name = e->message = NULL;
        return NULL;
    }
    e->hash = h;
    e->line = ev->line;
    e->nframes = nf;
    memcpy(e->frames, ids, nf * sizeof ids[0]);
    e->thread = ev->thread;
    e->first_wall_ns = ev->t_ns + st->wall_offset;
    st->htab[j] = n + 1;
    atomic_store_explicit(&st->n, n + 1, memory_order_release);
    *index = n;
    return e;
}

static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static struct recent *recent_of(ex_state *st, loong_thread_id th,
                                uint64_t serial)
{
    struct recent *r = st->recent[th % 256];
    for (int k = 0; serial && k < 16; k++)
        if (r[k].serial == serial)
            return &r[k];
    return NULL;
}

static void on_exception(void *state, const loong_exception_event *ev)
{
    ex_state *st = state;
    unsigned slot = ev->thread % 256;
    if (ev->kind == LOONG_EXC_RAISED) {
        loong_frame fr[MAX_STACK];
        int nf = st->api->current_stack(fr, MAX_STACK);
        if (nf < 0)
            nf = 0;
        uint32_t idx;
        entry *e = entry_for(st, ev, fr, (size_t)nf, &idx);
        if (!e) {
            bump(&st->over);
            return;
        }
        bump(&e->raised);
        atomic_store_explicit(&e->last_wall_ns, ev->t_ns + st->wall_offset,
                              memory_order_relaxed);
        struct recent *r = &st->recent[slot][st->recent_next[slot]++ % 16];
        *r = (struct recent){ev->serial, idx + 1, 0, 0};
        return;
    }
    struct recent *r = recent_of(st, ev->thread, ev->serial);
    if (!r)
        return; /* raised before loading, or by code the filter left out */
    entry *e = entry_at(st, r->entry - 1);
    if (ev->kind == LOONG_EXC_HANDLED && !r->handled) {
        bump(&e->handled);
        r->handled = 1;
    } else if (ev->kind == LOONG_EXC_UNWOUND && ev->outermost &&
               !r->uncaught) {
        bump(&e->uncaught);
        r->uncaught = 1;
    }
}

/* ---- output ------------------------------------------------------------ */

static int wanted(const ex_state *st, const entry *e)
{
    return ((st->want & WANT_RAISED) && atomic_load(&e->raised)) ||
           ((st->want & WANT_HANDLED) && atomic_load(&e->handled)) ||
           atomic_load(&e->uncaught); /* uncaught: always */
}

/* exceptions.jsonl: one JSON object per distinct exception, most frequent
 * first is not needed: in order of first sight. */
static int write_log(ex_state *st)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return LOONG_ENOMEM;
    uint32_t n = atomic_load_explicit(&st->n, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        entry *e = entry_at(st, i);
        if (!wanted(st, e))
            continue;
        fputs("{\"type\": ", f);
        tk_json_str(f, e->type_name);
        fputs(", \"message\": ", f);
        tk_json_str(f, e->message);
        fprintf(f, ", \"raised\": %llu, \"handled\": %llu, \"uncaught\": %llu",
                (unsigned long long)atomic_load(&e->raised),
                (unsigned long long)atomic_load(&e->handled),
                (unsigned long long)atomic_load(&e->uncaught));
        fprintf(f, ", \"first_ns\": %llu, \"last_ns\": %llu, \"thread\": %u"
                   ", \"line\": %d, \"stack\": [",
                (unsigned long long)e->first_wall_ns,
                (unsigned long long)atomic_load(&e->last_wall_ns),
                (unsigned)e->thread, e->line);
        for (size_t k = 0; k < e->nframes; k++) {
            loong_code_info ci;
            if (st->api->code_info(e->frames[k], &ci) < 0)
                ci = (loong_code_info){"?", "", "?", 0, 0};
            fputs(k ? ", {\"function\": " : "{\"function\": ", f);
            tk_json_str(f, ci.qualname);
            fputs(", \"module\": ", f);
            tk_json_str(f, ci.module);
            fputs(", \"file\": ", f);
            tk_json_str(f, ci.filename);
            fprintf(f, ", \"first_line\": %d}", ci.first_line);
        }
        fputs("]}\n", f);
    }
    if (fclose(f) != 0) {
        free(text);
        return LOONG_ENOMEM;
    }
    int rc = st->api->write_file(st->tk, "exceptions.jsonl", text, len);
    free(text);
    return rc;
}

typedef struct row {
    uint32_t i;
    uint64_t d[3]; /* raised, handled, uncaught in the interval */
} row;

static int by_raised_desc(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->d[0] < y->d[0] ? 1 : x->d[0] > y->d[0] ? -1 : 0;
}

/* loong_exception: per interval, the top entries by raises, the rest as
 * type=other. */
static void emit_points(ex_state *st, uint64_t wall_ns)
{
    uint32_t n = atomic_load_explicit(&st->n, memory_order_acquire);
    row *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        entry *e = entry_at(st, i);
        uint64_t now[3] = {atomic_load(&e->raised), atomic_load(&e->handled),
                           atomic_load(&e->uncaught)};
        row r = {i, {now[0] - e->reported[0], now[1] - e->reported[1],
                     now[2] - e->reported[2]}};
        memcpy(e->reported, now, sizeof now);
        if (r.d[0] || r.d[1] || r.d[2])
            rows[k++] = r;
    }
    qsort(rows, k, sizeof *rows, by_raised_desc);
    uint64_t other[3] = {0, 0, 0};
    for (size_t j = 0; j < k; j++) {
        entry *e = entry_at(st, rows[j].i);
        loong_code_info ci;
        if (j >= (size_t)st->top || !e->nframes ||
            st->api->code_info(e->frames[0], &ci) < 0) {
            for (int c = 0; c < 3; c++)
                other[c] += rows[j].d[c];
            continue;
        }
        char line[16];
        snprintf(line, sizeof line, "%d", e->line);
        loong_tag tags[5] = {{"type", e->type_name},
                             {"function", ci.qualname},
                             {"module", ci.module},
                             {"file", ci.filename},
                             {"line", line}};
        loong_field f[3] = {
            {"count", LOONG_FIELD_UINT, {.u = rows[j].d[0]}},
            {"handled", LOONG_FIELD_UINT, {.u = rows[j].d[1]}},
            {"uncaught", LOONG_FIELD_UINT, {.u = rows[j].d[2]}},
        };
        loong_point p = {"loong_exception", tags, 5, f, 3, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    if (other[0] || other[1] || other[2]) {
        loong_tag tags[1] = {{"type", "other"}};
        loong_field f[3] = {
            {"count", LOONG_FIELD_UINT, {.u = other[0]}},
            {"handled", LOONG_FIELD_UINT, {.u = other[1]}},
            {"uncaught", LOONG_FIELD_UINT, {.u = other[2]}},
        };
        loong_point p = {"loong_exception", tags, 1, f, 3, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    free(rows);
}

static void on_tick(void *state, const loong_tick_event *ev)
{
    ex_state *st = state;
    emit_points(st, ev->wall_ns);
    if (ev->flags & LOONG_TICK_FINAL) {
        int rc = write_log(st);
        if (rc < 0)
            st->api->log(st->tk, LOONG_LOG_ERROR, "writing exceptions.jsonl:"
                         " %s", st->api->strerror(rc));
        uint64_t over = atomic_load(&st->over);
        if (over)
            st->api->log(st->tk, LOONG_LOG_WARNING,
                         "%llu exceptions past max_entries=%zu were not "
                         "kept", (unsigned long long)over, st->max_entries);
    }
}

/* ---- definition ------------------------------------------------------ */

static int parse_want(const char *s)
{
    if (!strcmp(s, "raised"))
        return WANT_RAISED | WANT_HANDLED | WANT_UNCAUGHT;
    if (!strcmp(s, "handled"))
        return WANT_HANDLED | WANT_UNCAUGHT;
    if (!strcmp(s, "uncaught"))
        return WANT_UNCAUGHT;
    return 0;
}

static int ex_load(loong_toolkit *tk, const loong_api *api,
                   const loong_options *opts)
{
    (void)opts;
    const char *which = api->option(tk, "which", "raised");
    const char *top_s = api->option(tk, "top", "20");
    const char *max_s = api->option(tk, "max_entries", "10000");
    char *e1, *e2;
    long top = strtol(top_s, &e1, 10), max = strtol(max_s, &e2, 10);
    int want = parse_want(which);
    if (!want || *e1 || *e2 || top < 1 || top > 1000 || max < 1 ||
        max > 1000000) {
        api->log(tk, LOONG_LOG_ERROR, "bad option: which=%s (raised, "
                 "handled or uncaught) top=%s (1-1000) max_entries=%s "
                 "(1-1000000)", which, top_s, max_s);
        return LOONG_EOPTION;
    }
    if (api->minor < 2) {
        api->log(tk, LOONG_LOG_ERROR, "needs loong's toolkit ABI 1.2");
        return LOONG_ENOTSUP;
    }
    ex_state *st = calloc(1, sizeof *st);
    if (!st)
        return LOONG_ENOMEM;
    st->tk = tk;
    st->api = api;
    st->want = want;
    st->top = (int)top;
    st->max_entries = (size_t)max;
    st->wall_offset = api->wall_ns() - api->now_ns();
    loong_callbacks cb = {0};
    cb.exception = on_exception;
    cb.tick = on_tick;
    int rc;
    if ((rc = api->set_state(tk, st)) < 0 ||
        (rc = api->set_callbacks(tk, &cb, sizeof cb)) < 0 ||
        (rc = api->add_capabilities(tk, LOONG_CAP_EXCEPTIONS |
                                            LOONG_CAP_TICK)) < 0 ||
        (rc = api->set_filter(tk, api->option(tk, "include", NULL),
                              api->option(tk, "exclude", NULL))) < 0) {
        free(st);
        return rc;
    }
    return 0;
}

static void ex_unload(loong_toolkit *tk, void *state)
{
    (void)tk;
    ex_state *st = state;
    uint32_t n = atomic_load(&st->n);
    for (uint32_t i = 0; i < n; i++) {
        free(entry_at(st, i)->type_name);
        free(entry_at(st, i)->message);
    }
    for (int c = 0; c < MAX_CHUNKS; c++)
        free(st->chunks[c]);
    free(st->htab);
    free(st);
}

static const loong_option_def options[] = {
    {"which", "raised", "raised (all), handled, or uncaught only"},
    {"top", "20", "distinct exceptions per interval point, the rest as "
                  "'other'"},
    {"max_entries", "10000", "distinct exceptions kept (the rest counted)"},
    {"include", "", "only these modules or file globs, '|'-separated"},
    {"exclude", "", "not these modules or file globs, '|'-separated"},
    {NULL, NULL, NULL},
};

static const loong_toolkit_def def = {
    LOONG_TOOLKIT_DEF_HEADER,
    .name = "exception",
    .version = "0.1",
    .summary = "exceptions as they happen: type, message, where, counts",
    .options = options,
    .load = ex_load,
    .unload = ex_unload,
};

LOONG_TOOLKIT(def);
