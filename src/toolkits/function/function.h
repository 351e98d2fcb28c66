/* function: where the time goes, and the call chains.
 *
 * Sample mode (sample.c) feeds the same tree from stack samples; what
 * follows describes trace mode.
 *
 * Every Python call and return of the code the filter accepts moves a
 * per-thread shadow stack; each frame points at a node of one call tree
 * shared by all threads (a node is a call path: parent node + function).
 * Nodes keep calls, inclusive, self and max time; per-function totals are
 * kept beside them, with recursion counted once.
 *
 * Writers are the application threads under the interpreter lock, one at a
 * time; the reader is the tick on loong's thread. Node and function tables
 * live in chunks that never move, and counters are written with relaxed
 * atomic stores (plain moves on x86), so the tick reads them without a lock
 * and at worst sees a value a few events old.
 */
#ifndef LOONG_TK_FUNCTION_H
#define LOONG_TK_FUNCTION_H

#include <loong/loong.h>

#include "shared/tk_text.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FN_CHUNK_BITS 12
#define FN_CHUNK (1u << FN_CHUNK_BITS)
#define FN_MAX_CHUNKS 4096         /* 16M nodes, 16M functions */
#define FN_MAX_THREADS 65536
#define FN_MAX_DEPTH 1024          /* deeper frames are folded */

typedef struct fn_stats {
    _Atomic uint64_t calls;
    _Atomic uint64_t total_ns;     /* inclusive */
    _Atomic uint64_t self_ns;
    _Atomic uint64_t max_ns;
} fn_stats;

typedef struct fn_node {
    uint32_t parent;               /* 0 for children of the root */
    loong_code_id code;
    fn_stats s;
} fn_node;

typedef struct fn_func {
    fn_stats s;                    /* inclusive counted once per recursion */
    uint64_t reported[3];          /* calls, total, self at the last tick */
    uint32_t stamp;                /* sample mode: last sample counted in */
} fn_func;

typedef struct fn_frame {
    uint32_t node;
    loong_code_id code;
    uint64_t start;
    uint64_t child;                /* time spent in callees */
    int resumed;                   /* a generator segment, not a new call */
    loong_code_id last_code;       /* the callee seen last, and its node: */
    uint32_t last_node;            /* loops call the same one again */
} fn_frame;

typedef struct fn_thread {
    loong_thread_id id;
    int depth;                     /* frames in use (may exceed the array) */
    fn_frame frames[FN_MAX_DEPTH];
    uint32_t *active;              /* recursion depth per code, by id */
    size_t nactive;
} fn_thread;

typedef struct fn_slow fn_slow;

typedef struct fn_state {
    loong_toolkit *tk;
    const loong_api *api;
    int top;                       /* functions per interval point */
    int cpu;                       /* clock=cpu */
    int sample;                    /* mode=sample: calls count samples */
    int idle;                      /* sample mode: keep waiting threads */
    uint32_t sample_stamp;
    _Atomic uint64_t samples_running, samples_waiting;
    uint64_t reported_running, reported_waiting; /* tick only */
    /* nodes: index 0 is the root */
    fn_node *nodes[FN_MAX_CHUNKS];
    _Atomic uint32_t nnodes;
    uint32_t *htab;                /* (parent, code) -> node; writers only */
    size_t hcap;
    /* functions by code id */
    fn_func *funcs[FN_MAX_CHUNKS];
    fn_thread *threads[FN_MAX_THREADS];
    uint64_t dropped_frames;       /* deeper than FN_MAX_DEPTH */
    uint64_t start_wall_ns, start_ns;
    fn_slow *slow;
} fn_state;

/* tree.c */
int fn_tree_init(fn_state *st);
void fn_tree_free(fn_state *st);
uint32_t fn_tree_child(fn_state *st, uint32_t parent, loong_code_id code);
fn_node *fn_node_at(fn_state *st, uint32_t i);
fn_func *fn_func_at(fn_state *st, loong_code_id code, int create);

/* Dense 1-based indexes for code ids, in order of first use (frames of a
 * speedscope file, functions of a pprof profile). */
typedef struct fn_idmap {
    uint32_t *ix;
    size_t cap;
    uint32_t n;
} fn_idmap;

/* The index of code, made when new (*fresh = 1); 0 when out of memory. */
uint32_t fn_idmap_get(fn_idmap *m, loong_code_id code, int *fresh);
void fn_idmap_free(fn_idmap *m);

/* A growable byte buffer (shared/tk_text.h). */
typedef tk_buf fn_buf;

/* trace.c */
void fn_on_call(void *state, const loong_call_event *ev);
void fn_on_thread(void *state, const loong_thread_event *ev);
void fn_threads_free(fn_state *st);

/* sample.c */
void fn_on_sample(void *state, const loong_sample_event *ev);

/* output.c */
void fn_emit_points(fn_state *st, uint64_t wall_ns);
int fn_write_collapsed(fn_state *st);
int fn_write_table(fn_state *st);

/* slow.c */
fn_slow *fn_slow_new(uint64_t threshold_ns, uint64_t wall_offset);
void fn_slow_free(fn_slow *s);
void fn_slow_completed(fn_slow *s, loong_thread_id th, loong_code_id code,
                       uint32_t depth, uint64_t start, uint64_t dur);
void fn_slow_thread_end(fn_slow *s, loong_thread_id th);
int fn_slow_write(fn_slow *s, fn_state *st);

/* pprof.c */
int fn_write_pprof(fn_state *st, uint64_t start_wall_ns, uint64_t dur_ns);
int fn_write_speedscope(fn_state *st);

/* What "calls" counts: calls in trace mode, samples in sample mode. */
static inline const char *fn_count_name(const fn_state *st)
{
    return st->sample ? "samples" : "calls";
}

static inline void fn_add(_Atomic uint64_t *a, uint64_t v)
{
    atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

static inline void fn_max(_Atomic uint64_t *a, uint64_t v)
{
    if (v > atomic_load_explicit(a, memory_order_relaxed))
        atomic_store_explicit(a, v, memory_order_relaxed);
}

static inline uint64_t fn_get(_Atomic uint64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

#endif
