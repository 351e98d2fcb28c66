/* hello: the toolkit of docs/writing-a-toolkit.md, built out of tree
 * against the installed headers by tests/e2e/test_out_of_tree.py.
 * Counts Python function starts; emits the running count as the field
 * "starts" of the point "hello" every interval, and writes it to hello.txt
 * at the final tick. Option include=GLOBS restricts it to some code (so a
 * test can know the exact count). */
#include <loong/loong.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct hello {
    loong_toolkit *tk;
    const loong_api *api;
    atomic_ullong starts;
} hello;

static void on_call(void *state, const loong_call_event *ev)
{
    if (ev->kind == LOONG_CALL_START)
        atomic_fetch_add(&((hello *)state)->starts, 1);
}

static void on_tick(void *state, const loong_tick_event *ev)
{
    hello *h = state;
    unsigned long long n = atomic_load(&h->starts);
    loong_field f = {"starts", LOONG_FIELD_UINT, {.u = n}};
    loong_point p = {"hello", NULL, 0, &f, 1, ev->wall_ns};
    h->api->emit_point(h->tk, &p);
    if (ev->flags & LOONG_TICK_FINAL) {
        char text[64];
        int len = snprintf(text, sizeof text, "%llu\n", n);
        h->api->write_file(h->tk, "hello.txt", text, (size_t)len);
    }
}

static int hello_load(loong_toolkit *tk, const loong_api *api,
                      const loong_options *opts)
{
    (void)opts;
    const char *include = api->option(tk, "include", NULL);
    hello *h = calloc(1, sizeof *h);
    if (!h)
        return LOONG_ENOMEM;
    h->tk = tk;
    h->api = api;
    loong_callbacks cb = {0};
    cb.call = on_call;
    cb.tick = on_tick;
    api->set_state(tk, h);
    api->set_callbacks(tk, &cb, sizeof cb);
    int rc = api->add_capabilities(tk, LOONG_CAP_CALLS | LOONG_CAP_TICK);
    if (rc >= 0 && include && *include)
        rc = api->set_filter(tk, include, NULL);
    if (rc < 0)
        free(h);
    return rc;
}

static void hello_unload(loong_toolkit *tk, void *state)
{
    (void)tk;
    free(state);
}

static const loong_option_def options[] = {
    {"include", NULL, "only these modules or file globs"},
    {NULL, NULL, NULL},
};

static const loong_toolkit_def def = {
    LOONG_TOOLKIT_DEF_HEADER,
    .name = "hello",
    .version = "1.0",
    .summary = "counts Python function starts",
    .options = options,
    .load = hello_load,
    .unload = hello_unload,
};

LOONG_TOOLKIT(def)
