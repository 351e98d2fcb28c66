/* function toolkit: definition, options, and the tick. */
#include "function.h"

#include <stdlib.h>
#include <string.h>

/* "50ms", "2s", "250us", "1.5s" to nanoseconds; 0 when malformed. */
static uint64_t duration_ns(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    double unit = !strcmp(end, "us")   ? 1e3
                  : !strcmp(end, "ms") ? 1e6
                  : !strcmp(end, "s")  ? 1e9
                                       : 0;
    if (end == s || unit == 0 || !(v > 0) || v * unit > 3.6e12)
        return 0;
    return (uint64_t)(v * unit);
}

static void on_tick(void *state, const loong_tick_event *ev)
{
    fn_state *st = state;
    fn_emit_points(st, ev->wall_ns);
    if (ev->flags & LOONG_TICK_FINAL) {
        int rc = fn_write_table(st);
        if (rc == 0)
            rc = fn_write_collapsed(st);
        if (rc == 0)
            rc = fn_write_speedscope(st);
        if (rc == 0)
            rc = fn_write_pprof(st, st->start_wall_ns,
                                ev->t_ns - st->start_ns);
        if (rc == 0 && st->slow)
            rc = fn_slow_write(st->slow, st);
        if (rc < 0)
            st->api->log(st->tk, LOONG_LOG_ERROR, "writing profiles: %s",
                         st->api->strerror(rc));
        if (st->dropped_frames)
            st->api->log(st->tk, LOONG_LOG_WARNING,
                         "%llu frames deeper than %d were folded",
                         (unsigned long long)st->dropped_frames,
                         FN_MAX_DEPTH);
    }
}

static int function_load(loong_toolkit *tk, const loong_api *api,
                         const loong_options *opts)
{
    (void)opts;
    const char *mode = api->option(tk, "mode", "trace");
    const char *clock = api->option(tk, "clock", "wall");
    int top = atoi(api->option(tk, "top", "20"));
    const char *slow = api->option(tk, "slow", "");
    const char *c_calls = api->option(tk, "c_calls", "no");
    if (strcmp(c_calls, "yes") && strcmp(c_calls, "no")) {
        api->log(tk, LOONG_LOG_ERROR, "c_calls=%s: yes or no", c_calls);
        return LOONG_EOPTION;
    }
    uint64_t slow_ns = *slow ? duration_ns(slow) : 0;
    if (*slow && (!slow_ns || !strcmp(clock, "cpu"))) {
        api->log(tk, LOONG_LOG_ERROR, "slow=%s: a duration such as 50ms, "
                 "with clock=wall", slow);
        return LOONG_EOPTION;
    }
    int sample = !strcmp(mode, "sample");
    if (!sample && strcmp(mode, "trace") != 0) {
        api->log(tk, LOONG_LOG_ERROR, "mode=%s: trace or sample", mode);
        return LOONG_EOPTION;
    }
    const char *hz_s = api->option(tk, "hz", "100");
    char *hz_end;
    long hz = strtol(hz_s, &hz_end, 10);
    const char *idle = api->option(tk, "idle", "no");
    if (*hz_end || hz < 1 || hz > 10000 ||
        (strcmp(idle, "yes") && strcmp(idle, "no"))) {
        api->log(tk, LOONG_LOG_ERROR, "bad option: hz=%s (1 to 10000) "
                 "idle=%s (yes or no)", hz_s, idle);
        return LOONG_EOPTION;
    }
    if (sample && (slow_ns || !strcmp(c_calls, "yes"))) {
        api->log(tk, LOONG_LOG_ERROR,
                 "slow= and c_calls= need mode=trace");
        return LOONG_EOPTION;
    }
    if (sample && (api->minor < 1 ||
                   !(api->potential_capabilities() & LOONG_CAP_SAMPLES))) {
        api->log(tk, LOONG_LOG_ERROR, "mode=sample: this runtime cannot "
                 "sample stacks here");
        return LOONG_ENOTSUP;
    }
    if ((strcmp(clock, "wall") && strcmp(clock, "cpu")) || top < 1 ||
        top > 1000) {
        api->log(tk, LOONG_LOG_ERROR, "bad option: clock=%s top=%d", clock,
                 top);
        return LOONG_EOPTION;
    }
    fn_state *st = calloc(1, sizeof *st);
    if (!st)
        return LOONG_ENOMEM;
    st->tk = tk;
    st->api = api;
    st->top = top;
    st->cpu = !strcmp(clock, "cpu");
    st->sample = sample;
    st->idle = !strcmp(idle, "yes");
    st->start_wall_ns = api->wall_ns();
    st->start_ns = api->now_ns();
    int rc = fn_tree_init(st);
    if (rc == 0 && slow_ns &&
        !(st->slow = fn_slow_new(slow_ns, st->start_wall_ns - st->start_ns)))
        rc = LOONG_ENOMEM;
    loong_callbacks cb = {0};
    cb.tick = on_tick;
    uint32_t caps = LOONG_CAP_TICK;
    if (sample) {
        cb.sample = fn_on_sample;
        caps |= LOONG_CAP_SAMPLES;
    } else {
        cb.call = fn_on_call;
        cb.thread = fn_on_thread;
        caps |= LOONG_CAP_CALLS | LOONG_CAP_THREADS |
                (!strcmp(c_calls, "yes") ? LOONG_CAP_C_CALLS : 0);
    }
    if (rc < 0 || (rc = api->set_state(tk, st)) < 0 ||
        (rc = api->set_callbacks(tk, &cb, sizeof cb)) < 0 ||
        (sample && (rc = api->set_sample_rate(tk, (uint32_t)hz)) < 0) ||
        (rc = api->add_capabilities(tk, caps)) < 0 ||
        (rc = api->set_filter(tk, api->option(tk, "include", NULL),
                              api->option(tk, "exclude", NULL))) < 0) {
        fn_slow_free(st->slow);
        fn_tree_free(st);
        free(st);
        return rc;
    }
    return 0;
}

static void function_unload(loong_toolkit *tk, void *state)
{
    (void)tk;
    fn_state *st = state;
    fn_threads_free(st);
    fn_slow_free(st->slow);
    fn_tree_free(st);
    free(st);
}

static const loong_option_def options[] = {
    {"mode", "trace", "trace: every call (exact); sample: stack samples"},
    {"hz", "100", "sample mode: samples per second, 1 to 10000"},
    {"idle", "no", "sample mode, wall clock: yes to count threads that wait too"},
    {"clock", "wall", "wall or cpu (thread CPU time; slower)"},
    {"top", "20", "functions per interval point, the rest as 'other'"},
    {"slow", "", "keep calls longer than this (e.g. 50ms) with their callees"},
    {"c_calls", "no", "yes: also time C functions called from Python"},
    {"include", "", "only these modules or file globs, '|'-separated"},
    {"exclude", "", "not these modules or file globs, '|'-separated"},
    {NULL, NULL, NULL},
};

static const loong_toolkit_def def = {
    LOONG_TOOLKIT_DEF_HEADER,
    .name = "function",
    .version = "0.1",
    .summary = "function time (calls, total, self, max) and call chains",
    .options = options,
    .load = function_load,
    .unload = function_unload,
};

LOONG_TOOLKIT(def)
