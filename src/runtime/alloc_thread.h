/* The allocation sampler's per-thread state (alloc.c): the byte countdown
 * and the thread's own allocation counters, which only the thread writes,
 * so the wrappers never store to memory another thread writes. The
 * threads that have counted are listed, so the totals can be summed; a
 * thread's counts are folded into the totals when it ends or forks away. */
#ifndef LOONG_RUNTIME_ALLOC_THREAD_H
#define LOONG_RUNTIME_ALLOC_THREAD_H

#include <stdatomic.h>
#include <stdint.h>

enum { ALLOC_N = 0, ALLOC_BYTES = 1, ALLOC_FREES = 2 };

typedef struct alloc_tls {
    int64_t left;      /* bytes until the next sample; 0: not listed yet */
    uint64_t rng;      /* xorshift64* state; 0 until seeded */
    /* [domain][ALLOC_N, ALLOC_BYTES, ALLOC_FREES]: written by this thread
     * only (a load and a store), read by alloc_thread_sum */
    _Atomic int64_t count[3][3];
    uint32_t slot;     /* index in the list */
    uint8_t listed;
    uint8_t busy;      /* 1: reading the stack, 2: dispatching */
    uint8_t nest;      /* inside a mem/obj allocator's slow path: its raw
                          calls (pymalloc's big blocks) count, never sample */
} alloc_tls;

/* The runtime is dlopened: its static TLS room is small (these bytes are
 * most of it), and initial-exec makes each access one instruction. */
extern _Thread_local alloc_tls rt_alloc_tl
    __attribute__((tls_model("initial-exec")));

static inline void alloc_count(alloc_tls *t, int d, int what, int64_t v)
{
    atomic_store_explicit(&t->count[d][what],
                          atomic_load_explicit(&t->count[d][what],
                                               memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* List the calling thread (its first wrapped call); 0, or -1 when out of
 * memory (it then counts unlisted, and tries again next time). */
int alloc_thread_list(alloc_tls *t);
/* Once, before the first wrapping: the thread-exit and fork handlers. */
int alloc_thread_init(void);
/* Every listed thread's counts plus those of threads gone. */
void alloc_thread_sum(int64_t out[3][3]);

#endif
