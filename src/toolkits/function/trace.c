/* Trace mode: shadow stacks driven by call events. */
#include "function.h"

#include <stdlib.h>
#include <string.h>

static fn_thread *thread_of(fn_state *st, loong_thread_id id)
{
    if (id >= FN_MAX_THREADS)
        return NULL;
    fn_thread *t = st->threads[id];
    if (!t) {
        t = calloc(1, sizeof *t);
        if (t)
            t->id = id;
        st->threads[id] = t;
    }
    return t;
}

/* Recursion depth of code on this thread, to count inclusive time once. */
static uint32_t *active_of(fn_thread *t, loong_code_id code)
{
    if (code >= t->nactive) {
        size_t n = t->nactive ? t->nactive : 256;
        while (n <= code)
            n *= 2;
        uint32_t *a = realloc(t->active, n * sizeof *a);
        if (!a)
            return NULL;
        memset(a + t->nactive, 0, (n - t->nactive) * sizeof *a);
        t->active = a;
        t->nactive = n;
    }
    return &t->active[code];
}

static void push(fn_state *st, fn_thread *t, loong_code_id code, uint64_t now,
                 int resumed)
{
    if (t->depth >= FN_MAX_DEPTH) {
        t->depth++; /* folded: time goes to the deepest kept frame */
        st->dropped_frames++;
        return;
    }
    uint32_t node;
    if (t->depth) {
        fn_frame *up = &t->frames[t->depth - 1];
        if (up->last_code != code || !up->last_node) {
            up->last_node = fn_tree_child(st, up->node, code);
            up->last_code = code;
        }
        node = up->last_node;
    } else {
        node = fn_tree_child(st, 0, code);
    }
    fn_frame *f = &t->frames[t->depth++];
    f->node = node;
    f->code = code;
    f->last_code = 0;
    f->last_node = 0;
    f->start = now;
    f->child = 0;
    f->resumed = resumed;
    uint32_t *a = active_of(t, code);
    if (a)
        (*a)++;
}

static void pop(fn_state *st, fn_thread *t, uint64_t now)
{
    if (t->depth > FN_MAX_DEPTH) {
        t->depth--;
        return;
    }
    fn_frame *f = &t->frames[--t->depth];
    uint64_t dur = now > f->start ? now - f->start : 0;
    uint64_t self = dur > f->child ? dur - f->child : 0;
    fn_node *nd = fn_node_at(st, f->node);
    if (!f->resumed)
        fn_add(&nd->s.calls, 1);
    fn_add(&nd->s.total_ns, dur);
    fn_add(&nd->s.self_ns, self);
    fn_max(&nd->s.max_ns, dur);
    fn_func *fu = fn_func_at(st, f->code, 1);
    uint32_t *a = active_of(t, f->code);
    if (fu) {
        if (!f->resumed)
            fn_add(&fu->s.calls, 1);
        fn_add(&fu->s.self_ns, self);
        if (!a || *a <= 1) /* outermost activation: inclusive once */
            fn_add(&fu->s.total_ns, dur);
        fn_max(&fu->s.max_ns, dur);
    }
    if (a && *a)
        (*a)--;
    if (st->slow)
        fn_slow_completed(st->slow, t->id, f->code, (uint32_t)t->depth,
                          f->start, dur);
    if (t->depth > 0 && t->depth <= FN_MAX_DEPTH)
        t->frames[t->depth - 1].child += dur;
}

void fn_on_call(void *state, const loong_call_event *ev)
{
    fn_state *st = state;
    fn_thread *t = thread_of(st, ev->thread);
    if (!t)
        return;
    uint64_t now = st->cpu ? st->api->thread_cpu_ns() : ev->t_ns;
    switch (ev->kind) {
    case LOONG_CALL_START:
    case LOONG_CALL_C_START:
    case LOONG_CALL_RESUME:
        push(st, t, ev->code, now, ev->kind == LOONG_CALL_RESUME);
        break;
    case LOONG_CALL_RETURN:
    case LOONG_CALL_C_RETURN:
    case LOONG_CALL_YIELD:
    case LOONG_CALL_UNWIND: {
        /* Frames entered before loong was loaded, or skipped by a filter,
         * have no start: find the matching frame, else ignore. */
        int d = t->depth > FN_MAX_DEPTH ? FN_MAX_DEPTH : t->depth;
        int k = d - 1;
        if (t->depth > FN_MAX_DEPTH) {
            pop(st, t, now);
            break;
        }
        while (k >= 0 && t->frames[k].code != ev->code)
            k--;
        if (k < 0)
            break;
        while (t->depth > k)
            pop(st, t, now);
        break;
    }
    default:
        break;
    }
}

void fn_on_thread(void *state, const loong_thread_event *ev)
{
    fn_state *st = state;
    if (ev->kind != LOONG_THREAD_END || ev->thread >= FN_MAX_THREADS)
        return;
    fn_thread *t = st->threads[ev->thread];
    if (!t)
        return;
    uint64_t now = st->cpu ? st->api->thread_cpu_ns() : ev->t_ns;
    while (t->depth > 0) /* frames cut short by the thread's end */
        pop(st, t, now);
    st->threads[ev->thread] = NULL;
    if (st->slow)
        fn_slow_thread_end(st->slow, ev->thread);
    free(t->active);
    free(t);
}

void fn_threads_free(fn_state *st)
{
    for (int i = 0; i < FN_MAX_THREADS; i++) {
        if (st->threads[i]) {
            free(st->threads[i]->active);
            free(st->threads[i]);
            st->threads[i] = NULL;
        }
    }
}
