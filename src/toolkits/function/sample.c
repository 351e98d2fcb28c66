/* Sample mode: each stack sample from the runtime's sampler walks the call
 * tree from the outermost frame and adds the sample's weight (its wall span,
 * or with clock=cpu the CPU time the thread used over that span, whether it
 * was running or waiting at the sample): to every
 * node on the path as inclusive time, to the leaf as self time, and to each
 * function on the path once (recursion counted once). "calls" counts
 * samples.
 *
 * The only writer is loong's sampler thread, so the tree's single-writer
 * rule holds as in trace mode. */
#include "function.h"

void fn_on_sample(void *state, const loong_sample_event *ev)
{
    fn_state *st = state;
    int waiting = ev->state != LOONG_THREAD_RUNNING;
    atomic_fetch_add_explicit(waiting ? &st->samples_waiting
                                      : &st->samples_running,
                              1, memory_order_relaxed);
    /* with clock=cpu a waiting thread weighs the little CPU it used: a
     * thread that works in short bursts between waits is never running
     * at a sample, and its CPU time would be lost */
    if (waiting && !st->idle && !st->cpu)
        return;
    uint64_t w = st->cpu ? ev->cpu_ns : ev->wall_ns;
    if (w == 0)
        return;
    uint32_t stamp = ++st->sample_stamp;
    if (stamp == 0) /* wrapped: make every old stamp differ */
        stamp = ++st->sample_stamp;
    uint32_t node = 0;
    for (size_t i = ev->nframes; i-- > 0;) {
        loong_code_id code = ev->frames[i].code;
        uint32_t child = fn_tree_child(st, node, code);
        if (!child)
            break; /* out of memory: keep what we have */
        node = child;
        fn_node *nd = fn_node_at(st, node);
        fn_add(&nd->s.calls, 1);
        fn_add(&nd->s.total_ns, w);
        if (i == 0)
            fn_add(&nd->s.self_ns, w);
        fn_func *f = fn_func_at(st, code, 1);
        if (!f)
            continue;
        if (f->stamp != stamp) { /* once per sample */
            f->stamp = stamp;
            fn_add(&f->s.calls, 1);
            fn_add(&f->s.total_ns, w);
        }
        if (i == 0)
            fn_add(&f->s.self_ns, w);
    }
}
