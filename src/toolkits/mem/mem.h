/* The mem toolkit's state, shared by its files. */
#ifndef LOONG_TOOLKIT_MEM_H
#define LOONG_TOOLKIT_MEM_H

#include <loong/loong.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mem_stack {
    uint64_t hash;
    uint64_t alloc;           /* estimated bytes allocated, all time */
    uint64_t live;            /* estimated bytes still alive */
    uint64_t reported;        /* alloc at the last interval point */
    uint32_t nframes;
    loong_code_id *frames;    /* innermost first */
} mem_stack;

typedef struct mem_live {
    uint64_t addr;            /* 0 empty, 1 removed */
    uint64_t weight;
    uint32_t stack;
} mem_live;

/* A figure that holds a lock while it is read: read at most 1% of the
 * time (after a read of d, none before 100 d has passed), and never again
 * after one read over 100 ms. */
typedef struct mem_budget {
    int on;                   /* asked for, and not turned off */
    uint64_t next_ns;         /* monotonic: not before */
} mem_budget;

typedef struct mem_state {
    loong_toolkit *tk;
    const loong_api *api;
    /* gauges */
    int types;
    uint64_t types_every_ns;
    uint64_t types_last_ns;   /* tick only */
    uint64_t gc_start_ns;     /* gc callbacks only (interpreter lock) */
    /* costly figures, read on ticks within a budget (mem.c): tick only */
    mem_budget pymalloc;      /* api->allocator_stats */
    mem_budget libc;          /* glibc's mallinfo2 */
    void *mallinfo2;          /* glibc's, when malloc is glibc's */
    _Atomic uint64_t pause_sum_ns, pause_max_ns, pauses;
    /* allocations (profile.c): everything below under lock */
    int alloc;
    int top;
    size_t max_stacks;
    pthread_mutex_t lock;
    mem_stack *stacks;        /* [0] is '[other stacks]' */
    size_t nstacks, capstacks;
    uint32_t *sidx;           /* stack hash -> index + 1 */
    size_t sidx_cap;
    mem_live *live;
    size_t live_cap, live_used, live_tomb;
    uint64_t total_alloc, total_live;
    uint64_t samples, frees, lost; /* lost: no room to keep */
} mem_state;

void mem_on_allocation(void *state, const loong_allocation_event *ev);
void mem_alloc_tick(mem_state *st, uint64_t wall_ns, int final);
void mem_alloc_totals(mem_state *st, uint64_t *alloc, uint64_t *live);
void mem_alloc_free(mem_state *st);

#endif
