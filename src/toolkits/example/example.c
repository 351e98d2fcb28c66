/* example: the smallest useful toolkit, and the one to copy.
 *
 * Counts Python calls, returns, yields, unwinds, thread starts and ends and
 * garbage collections. Every interval it emits one point with the counts
 * of that interval; at the end it writes example.txt, the functions called
 * most. It includes only <loong/loong.h>: no Python.h, no CPython API, so
 * this one binary loads into every supported interpreter.
 *
 * Events arrive on application threads under the interpreter lock; tick
 * runs on loong's own thread at the same time, so counters are atomics.
 */
#include <loong/loong.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODES 65536 /* per-function counts for the first 64k ids */

typedef struct example {
    loong_toolkit *tk;
    const loong_api *api;
    const char *measurement;
    int top;
    atomic_ullong calls, returns, yields, unwinds;
    atomic_ullong threads_started, threads_ended, collections;
    atomic_uint per_code[MAX_CODES];
} example;

static void on_call(void *state, const loong_call_event *ev)
{
    example *ex = state;
    switch (ev->kind) {
    case LOONG_CALL_START:
        atomic_fetch_add_explicit(&ex->calls, 1, memory_order_relaxed);
        if (ev->code < MAX_CODES)
            atomic_fetch_add_explicit(&ex->per_code[ev->code], 1,
                                      memory_order_relaxed);
        break;
    case LOONG_CALL_RETURN:
        atomic_fetch_add_explicit(&ex->returns, 1, memory_order_relaxed);
        break;
    case LOONG_CALL_YIELD:
        atomic_fetch_add_explicit(&ex->yields, 1, memory_order_relaxed);
        break;
    case LOONG_CALL_UNWIND:
        atomic_fetch_add_explicit(&ex->unwinds, 1, memory_order_relaxed);
        break;
    default:
        break;
    }
}

static void on_thread(void *state, const loong_thread_event *ev)
{
    example *ex = state;
    atomic_fetch_add(ev->kind == LOONG_THREAD_START ? &ex->threads_started
                                                    : &ex->threads_ended,
                     1);
}

static void on_gc(void *state, const loong_gc_event *ev)
{
    example *ex = state;
    if (ev->kind == LOONG_GC_END)
        atomic_fetch_add(&ex->collections, 1);
}

static int cmp_desc(const void *a, const void *b)
{
    const unsigned *x = a, *y = b;
    return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : (x[1] > y[1]) - (x[1] < y[1]);
}

/* example.txt: "calls<TAB>qualname<TAB>module<TAB>file:line", most first. */
static void write_top(example *ex)
{
    unsigned(*rows)[2] = malloc(sizeof *rows * MAX_CODES);
    if (!rows)
        return;
    size_t n = 0;
    for (unsigned id = 1; id < MAX_CODES; id++) {
        unsigned c = atomic_load(&ex->per_code[id]);
        if (c) {
            rows[n][0] = c;
            rows[n][1] = id;
            n++;
        }
    }
    qsort(rows, n, sizeof *rows, cmp_desc);
    size_t cap = 256 + (size_t)ex->top * 1024, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; text && i < n && i < (size_t)ex->top; i++) {
        loong_code_info ci;
        if (ex->api->code_info(rows[i][1], &ci) < 0)
            continue;
        int w = snprintf(text + len, cap - len, "%u\t%s\t%s\t%s:%d\n",
                         rows[i][0], ci.qualname, ci.module, ci.filename,
                         ci.first_line);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    if (text)
        ex->api->write_file(ex->tk, "example.txt", text, len);
    free(text);
    free(rows);
}

static void on_tick(void *state, const loong_tick_event *ev)
{
    example *ex = state;
    loong_field f[] = {
        {"calls", LOONG_FIELD_UINT, {.u = atomic_exchange(&ex->calls, 0)}},
        {"returns", LOONG_FIELD_UINT, {.u = atomic_exchange(&ex->returns, 0)}},
        {"yields", LOONG_FIELD_UINT, {.u = atomic_exchange(&ex->yields, 0)}},
        {"unwinds", LOONG_FIELD_UINT, {.u = atomic_exchange(&ex->unwinds, 0)}},
        {"threads_started", LOONG_FIELD_UINT,
         {.u = atomic_exchange(&ex->threads_started, 0)}},
        {"threads_ended", LOONG_FIELD_UINT,
         {.u = atomic_exchange(&ex->threads_ended, 0)}},
        {"gc_collections", LOONG_FIELD_UINT,
         {.u = atomic_exchange(&ex->collections, 0)}},
    };
    loong_point p = {ex->measurement, NULL, 0, f, sizeof f / sizeof f[0],
                     ev->wall_ns};
    ex->api->emit_point(ex->tk, &p);
    if (ev->flags & LOONG_TICK_FINAL)
        write_top(ex);
}

static int example_load(loong_toolkit *tk, const loong_api *api,
                        const loong_options *options)
{
    example *ex = calloc(1, sizeof *ex);
    if (!ex)
        return LOONG_ENOMEM;
    ex->tk = tk;
    ex->api = api;
    ex->measurement = api->option(tk, "measurement", "loong_example");
    ex->top = atoi(api->option(tk, "top", "10"));
    if (ex->top < 1 || ex->top > 1000 || !*ex->measurement) {
        free(ex);
        return LOONG_EOPTION;
    }
    loong_callbacks cb = {0};
    cb.call = on_call;
    cb.thread = on_thread;
    cb.gc = on_gc;
    cb.tick = on_tick;
    int rc;
    if ((rc = api->set_state(tk, ex)) < 0 ||
        (rc = api->set_callbacks(tk, &cb, sizeof cb)) < 0 ||
        (rc = api->add_capabilities(tk, LOONG_CAP_CALLS | LOONG_CAP_THREADS |
                                            LOONG_CAP_GC | LOONG_CAP_TICK)) <
            0 ||
        (rc = api->set_filter(tk, api->option(tk, "include", NULL),
                              api->option(tk, "exclude", NULL))) < 0) {
        free(ex);
        return rc;
    }
    return 0;
}

static void example_unload(loong_toolkit *tk, void *state)
{
    free(state);
}

static const loong_option_def options[] = {
    {"measurement", "loong_example", "name of the measurement emitted"},
    {"top", "10", "functions listed in example.txt (1-1000)"},
    {"include", "", "only these modules or file globs, '|'-separated"},
    {"exclude", "", "not these modules or file globs, '|'-separated"},
    {NULL, NULL, NULL},
};

static const loong_toolkit_def def = {
    LOONG_TOOLKIT_DEF_HEADER,
    .name = "example",
    .version = "1.0",
    .summary = "counts calls, threads and collections per interval",
    .options = options,
    .load = example_load,
    .unload = example_unload,
};

LOONG_TOOLKIT(def)
