/* probe: a test toolkit that exercises the whole tool interface and writes
 * what it saw to probe.json at the final tick. Built by the tests with only
 * -I include (no Python headers). Options choose the capabilities. */
#include <loong/loong.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct probe {
    loong_toolkit *tk;
    const loong_api *api;
    atomic_ullong calls[8];
    atomic_ullong exc[4];
    atomic_ullong threads[3], gc[3], ticks;
    atomic_ullong gc_collected;
    /* the stack seen at the first START of a function named by "mark" */
    const char *mark;
    int marked;
    char mark_stack[2048];
    char mark_exc[256];
    char all_stacks[8192];
    int stacks_taken;
    unsigned long long max_thread;
    int ids_ok;
    long flood;                 /* points to emit per tick */
    const char *timed;          /* a function whose first call is timed */
    loong_code_id timed_code;
    uint64_t timed_start, timed_ns, last_t;
    int monotonic_ok;
    unsigned long long flood_sent, flood_failed;
} probe;

static void names(probe *p, const loong_frame *f, size_t n, char *out,
                  size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len + 1 < cap; i++) {
        loong_code_info ci;
        if (p->api->code_info(f[i].code, &ci) < 0)
            continue;
        int w = snprintf(out + len, cap - len, "%s%s:%d", i ? ";" : "",
                         ci.qualname, f[i].line);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
}

static void on_call(void *state, const loong_call_event *ev)
{
    probe *p = state;
    if (ev->kind > 0 && ev->kind < 8)
        atomic_fetch_add(&p->calls[ev->kind], 1);
    if (ev->thread == 0 || ev->t_ns == 0)
        p->ids_ok = 0;
    if (ev->thread > p->max_thread)
        p->max_thread = ev->thread;
    if (ev->thread == 1) {
        if (ev->t_ns < p->last_t)
            p->monotonic_ok = 0;
        p->last_t = ev->t_ns;
    }
    if (ev->kind == LOONG_CALL_START && !p->timed_code) {
        loong_code_info ci;
        if (p->api->code_info(ev->code, &ci) == 0 &&
            !strcmp(ci.qualname, p->timed)) {
            p->timed_code = ev->code;
            p->timed_start = ev->t_ns;
        }
    } else if (ev->kind == LOONG_CALL_RETURN && ev->code == p->timed_code &&
               !p->timed_ns) {
        p->timed_ns = ev->t_ns - p->timed_start;
    }
    if (ev->kind == LOONG_CALL_START && !p->marked) {
        loong_code_info ci;
        if (p->api->code_info(ev->code, &ci) == 0 &&
            !strcmp(ci.qualname, p->mark)) {
            loong_frame f[64];
            int n = p->api->current_stack(f, 64);
            if (n > 0)
                names(p, f, (size_t)n, p->mark_stack, sizeof p->mark_stack);
            p->marked = 1;
        }
    }
}

static void on_exc(void *state, const loong_exception_event *ev)
{
    probe *p = state;
    if (ev->kind > 0 && ev->kind < 4)
        atomic_fetch_add(&p->exc[ev->kind], 1);
    loong_code_info ci;
    if (ev->kind == LOONG_EXC_RAISED && !p->mark_exc[0] &&
        p->api->code_info(ev->code, &ci) == 0 && !strcmp(ci.qualname, p->mark))
        snprintf(p->mark_exc, sizeof p->mark_exc, "%s@%s:%d", ev->type_name,
                 ci.qualname, ev->line);
}

static void on_thread(void *state, const loong_thread_event *ev)
{
    probe *p = state;
    atomic_fetch_add(&p->threads[ev->kind == LOONG_THREAD_START ? 1 : 2], 1);
}

static void on_gc(void *state, const loong_gc_event *ev)
{
    probe *p = state;
    atomic_fetch_add(&p->gc[ev->kind == LOONG_GC_START ? 1 : 2], 1);
    if (ev->kind == LOONG_GC_END)
        atomic_fetch_add(&p->gc_collected, (unsigned long long)ev->collected);
}

static void take_stacks(probe *p)
{
    loong_stacks *st = NULL;
    if (p->api->threads_stacks(64, &st) < 0 || !st)
        return;
    size_t len = 0;
    for (size_t t = 0; t < st->nthreads && len + 1 < sizeof p->all_stacks;
         t++) {
        char one[2048];
        loong_thread_stack *ts = &st->threads[t];
        names(p, ts->frames, ts->nframes, one, sizeof one);
        int w = snprintf(p->all_stacks + len, sizeof p->all_stacks - len,
                         "%s{\"main\": %d, \"state\": %d, \"native\": %llu, "
                         "\"stack\": \"%s\"}",
                         t ? ", " : "", ts->is_main, ts->state,
                         (unsigned long long)ts->native_id, one);
        if (w < 0 || (size_t)w >= sizeof p->all_stacks - len)
            break;
        len += (size_t)w;
    }
    p->api->free(st);
    p->stacks_taken++;
}

static void on_tick(void *state, const loong_tick_event *ev)
{
    probe *p = state;
    atomic_fetch_add(&p->ticks, 1);
    if (!(ev->flags & LOONG_TICK_FINAL)) {
        if (p->stacks_taken == 0 || atomic_load(&p->ticks) == 2)
            take_stacks(p);
        for (long i = 0; i < p->flood; i++) {
            loong_field f = {"n", LOONG_FIELD_INT, {.i = i}};
            loong_tag t = {"kind", "flood"};
            loong_point pt = {"probe_flood", &t, 1, &f, 1, 0};
            p->flood_sent++;
            if (p->api->emit_point(p->tk, &pt) < 0)
                p->flood_failed++;
        }
        return;
    }
    char buf[16384];
    int n = snprintf(
        buf, sizeof buf,
        "{\"calls\": {\"start\": %llu, \"resume\": %llu, \"return\": %llu, "
        "\"yield\": %llu, \"unwind\": %llu},\n"
        " \"exceptions\": {\"raised\": %llu, \"handled\": %llu, "
        "\"unwound\": %llu},\n"
        " \"threads\": {\"start\": %llu, \"end\": %llu},\n"
        " \"gc\": {\"start\": %llu, \"end\": %llu, \"collected\": %llu},\n"
        " \"ticks\": %llu, \"ids_ok\": %d, \"max_thread\": %llu,\n"
        " \"flood_sent\": %llu, \"flood_failed\": %llu,\n"
        " \"timed_ns\": %llu, \"monotonic_ok\": %d,\n"
        " \"mark_stack\": \"%s\", \"mark_exc\": \"%s\",\n"
        " \"stacks\": [%s]}\n",
        atomic_load(&p->calls[1]), atomic_load(&p->calls[2]),
        atomic_load(&p->calls[3]), atomic_load(&p->calls[4]),
        atomic_load(&p->calls[5]), atomic_load(&p->exc[1]),
        atomic_load(&p->exc[2]), atomic_load(&p->exc[3]),
        atomic_load(&p->threads[1]), atomic_load(&p->threads[2]),
        atomic_load(&p->gc[1]), atomic_load(&p->gc[2]),
        atomic_load(&p->gc_collected), atomic_load(&p->ticks), p->ids_ok,
        p->max_thread, p->flood_sent, p->flood_failed,
        (unsigned long long)p->timed_ns, p->monotonic_ok, p->mark_stack, p->mark_exc, p->all_stacks);
    if (n > 0 && (size_t)n < sizeof buf)
        p->api->write_file(p->tk, "probe.json", buf, (size_t)n);
}

static int probe_load(loong_toolkit *tk, const loong_api *api,
                      const loong_options *opts)
{
    (void)opts; /* read through api->option */
    probe *p = calloc(1, sizeof *p);
    if (!p)
        return LOONG_ENOMEM;
    p->tk = tk;
    p->api = api;
    p->ids_ok = 1;
    p->mark = api->option(tk, "mark", "marked");
    p->flood = atol(api->option(tk, "flood", "0"));
    p->timed = api->option(tk, "timed", "main_wait");
    p->monotonic_ok = 1;
    uint32_t caps = LOONG_CAP_CALLS | LOONG_CAP_THREADS | LOONG_CAP_GC |
                    LOONG_CAP_TICK;
    if (!strcmp(api->option(tk, "exceptions", "auto"), "auto") &&
        (api->potential_capabilities() & LOONG_CAP_EXCEPTIONS))
        caps |= LOONG_CAP_EXCEPTIONS;
    if (!strcmp(api->option(tk, "fail", "no"), "yes")) {
        free(p);
        return LOONG_EINVAL;
    }
    loong_callbacks cb = {0};
    cb.call = on_call;
    cb.exception = on_exc;
    cb.thread = on_thread;
    cb.gc = on_gc;
    cb.tick = on_tick;
    int rc;
    if ((rc = api->set_state(tk, p)) < 0 ||
        (rc = api->set_callbacks(tk, &cb, sizeof cb)) < 0 ||
        (rc = api->add_capabilities(tk, caps)) < 0) {
        free(p);
        return rc;
    }
    return 0;
}

static void probe_unload(loong_toolkit *tk, void *state)
{
    (void)tk;
    free(state);
}

static const loong_option_def options[] = {
    {"mark", "marked", "function whose first call records its stack"},
    {"exceptions", "auto", "auto: exception events where available"},
    {"fail", "no", "yes: refuse to load"},
    {"flood", "0", "points to emit at each tick (to fill the buffer)"},
    {"timed", "main_wait", "function whose first call is timed"},
    {NULL, NULL, NULL},
};

static const loong_toolkit_def def = {
    LOONG_TOOLKIT_DEF_HEADER,
    .name = "probe",
    .version = "1.0",
    .summary = "test toolkit: records every event kind and stacks",
    .options = options,
    .load = probe_load,
    .unload = probe_unload,
};

LOONG_TOOLKIT(def)
