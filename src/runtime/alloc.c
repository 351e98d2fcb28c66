/* Allocation sampling (LOONG_CAP_ALLOCATIONS).
 *
 * While an active toolkit holds the capability, the raw, mem and object
 * allocators are wrapped IN PLACE: PyMem_GetAllocator saves what is there
 * (pymalloc, the debug hooks, tracemalloc, another tool) and our wrappers
 * call it. Removing restores exactly what was saved; if something wrapped
 * on top of us meanwhile, ours stays in its chain as a pass-through.
 *
 * Sampling is by bytes: each thread counts down a number of bytes drawn
 * from an exponential distribution of the chosen mean; the allocation that
 * crosses zero is sampled, so a block of n bytes is sampled with
 * probability 1 - exp(-n/mean) and stands for n / that probability bytes.
 * A sampled block's address goes into a set, so its free (or realloc)
 * produces a FREED event. Frees of other blocks, including blocks allocated
 * before the wrapping, pass through after one filter load.
 *
 * Costs of an unsampled small allocation: a few instructions on the
 * thread's own state (the countdown, two counters) and a tail call; of a
 * free: a counter, one bit of a 16 KiB filter, a tail call. The counters
 * are per thread (alloc_thread.c), summed when read.
 *
 * Light domains: where pymalloc serves the mem and object domains alone
 * and no toolkit asks for every free counted (LOONG_CAP_ALLOCATION_FREES),
 * their free is not wrapped at all (it is the hottest call): the block
 * to sample there is taken from the raw allocator instead, and pymalloc,
 * which hands blocks not its own to PyMem_RawFree, lets the raw wrapper
 * see its free.
 *
 * Threads: raw-domain calls may come without the interpreter lock. The
 * stack is read only with the lock (0 frames otherwise). A per-thread flag
 * keeps allocations made while sampling (code identities) from sampling
 * again.
 */
#include "rt.h"
#include "pycompat.h"
#include "runtime/alloc_stack.h"
#include "runtime/alloc_thread.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MEAN (512u * 1024u)
#define MAX_FRAMES 128
#define FILTER_BITS 17 /* a 16 KiB bitmap */
#define SET_MAX (1u << 22)

#define tl rt_alloc_tl /* alloc_thread.h */

/* ---- shared state ------------------------------------------------------ */

typedef struct wrap_ctx {
    PyMemAllocatorEx orig;
} wrap_ctx;

static wrap_ctx wctx[3];
static int wrapped[3];        /* our wrapper is in the domain's chain */
static PyMemAllocatorEx installed[3]; /* what we set there */
/* the domain's frees go straight to pymalloc, unwrapped and uncounted;
 * its sampled blocks come from the raw domain (see raw_sampled) */
static int light[3];
static atomic_int sampling;   /* toolkits want events */
static _Atomic uint64_t mean_bytes = DEFAULT_MEAN;
static int64_t base[3][3]; /* the counts when wrapping began */
static _Atomic uint64_t dropped; /* samples the set had no room for */

/* the toolkits to tell, published as a whole; in-flight dispatches are
 * counted so an updater can wait for them before a toolkit goes away */
typedef struct alloc_targets {
    int n;
    void (*fn[RT_MAX_TOOLKITS])(void *, const loong_allocation_event *);
    void *state[RT_MAX_TOOLKITS];
} alloc_targets;
static alloc_targets targets_buf[2];
static _Atomic(alloc_targets *) targets;
static atomic_int inflight;

/* ---- the set of sampled blocks ------------------------------------------ */

static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
/* per hash bucket, whether a sampled block may be in it (read by every
 * free, lock-free: static, so its address is a constant), and how many
 * are (under set_lock) */
static _Atomic uint64_t filter[(1u << FILTER_BITS) / 64];
static uint16_t *fcount;
/* 0 empty, 1 removed, else a block's address with its domain in the two
 * low bits (blocks are at least 16-byte aligned) */
static uintptr_t *tab;
static size_t tcap, tused, ttomb;

static inline uint64_t addr_hash(uintptr_t a)
{
    return (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull;
}

/* The filter keeps locality: one bit per 16 bytes of address, so the
 * blocks of 8 KiB share a cache line of it and a run of frees reads lines
 * already in cache, not a random one of 256 each. The higher address
 * bits are folded in so 2 MiB regions do not all alias. (One bit per 64
 * bytes measured no better, and makes a sampled block's neighbours take
 * the slow path.) */
#define FILTER_SHIFT 4
static inline size_t fslot(uintptr_t a)
{
    return (size_t)(((a >> FILTER_SHIFT) ^ (a >> (FILTER_SHIFT + FILTER_BITS)) ^
                     (a >> (FILTER_SHIFT + 2 * FILTER_BITS))) &
                    ((1u << FILTER_BITS) - 1));
}

static int tab_resize(size_t ncap)
{
    uintptr_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < tcap; i++) {
        if (tab[i] <= 1)
            continue;
        size_t j = addr_hash(tab[i] & ~(uintptr_t)3) & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = tab[i];
    }
    free(tab);
    tab = n;
    tcap = ncap;
    ttomb = 0;
    return 0;
}

static int set_insert(uintptr_t a, int d)
{
    int ok = 0;
    pthread_mutex_lock(&set_lock);
    if (fcount && tused < SET_MAX) {
        if ((tused + ttomb + 1) * 2 > tcap) {
            size_t ncap = tcap ? tcap : 1024;
            while ((tused + 1) * 4 > ncap)
                ncap *= 2;
            if (tab_resize(ncap) < 0)
                goto out;
        }
        size_t j = addr_hash(a) & (tcap - 1);
        while (tab[j] > 1 && (tab[j] & ~(uintptr_t)3) != a)
            j = (j + 1) & (tcap - 1);
        int fresh = tab[j] <= 1;
        if (tab[j] == 1)
            ttomb--;
        tab[j] = a | (uintptr_t)d;
        if (fresh) {
            tused++;
            size_t f = fslot(a);
            if (fcount[f] != 0xffff && fcount[f]++ == 0) /* 0xffff sticks */
                atomic_fetch_or_explicit(&filter[f / 64], 1ull << (f % 64),
                                         memory_order_relaxed);
        }
        ok = 1;
    }
out:
    pthread_mutex_unlock(&set_lock);
    return ok;
}

/* Whether a sampled block may be at a: one bit, lock-free. */
static inline int set_maybe(uintptr_t a)
{
    size_t f = fslot(a);
    return (atomic_load_explicit(&filter[f / 64], memory_order_relaxed) >>
            (f % 64)) & 1;
}

/* Whether a was sampled: its domain + 1, removed; 0 if not. */
static int set_remove(uintptr_t a)
{
    size_t f = fslot(a);
    int found = 0;
    pthread_mutex_lock(&set_lock);
    if (tcap) {
        size_t j = addr_hash(a) & (tcap - 1);
        for (; tab[j]; j = (j + 1) & (tcap - 1)) {
            if ((tab[j] & ~(uintptr_t)3) == a) {
                found = (int)(tab[j] & 3) + 1;
                tab[j] = 1;
                tused--;
                ttomb++;
                if (fcount[f] != 0xffff && --fcount[f] == 0)
                    atomic_fetch_and_explicit(&filter[f / 64],
                                              ~(1ull << (f % 64)),
                                              memory_order_relaxed);
                break;
            }
        }
    }
    pthread_mutex_unlock(&set_lock);
    return found;
}

static void set_clear(void)
{
    pthread_mutex_lock(&set_lock);
    free(tab);
    tab = NULL;
    tcap = tused = ttomb = 0;
    if (fcount) {
        for (size_t i = 0; i < (1u << FILTER_BITS) / 64; i++)
            atomic_store_explicit(&filter[i], 0, memory_order_relaxed);
        memset(fcount, 0, (1u << FILTER_BITS) * sizeof *fcount);
    }
    pthread_mutex_unlock(&set_lock);
}

/* ---- sampling ------------------------------------------------------------ */

static uint64_t rng_next(void)
{
    uint64_t x = tl.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    tl.rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* An exponential draw of the current mean, at least 1. */
static int64_t next_gap(void)
{
    if (!tl.rng) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        tl.rng = ((uint64_t)(uintptr_t)&tl * 0x9E3779B97F4A7C15ull) ^
                 (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32) ^ 1;
    }
    double u = ((rng_next() >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    double g = -log(u) * (double)atomic_load_explicit(&mean_bytes,
                                                       memory_order_relaxed);
    if (g < 1)
        g = 1;
    if (g > 9e18)
        g = 9e18;
    return (int64_t)g;
}

static void dispatch(const loong_allocation_event *ev)
{
    uint8_t was = tl.busy;
    tl.busy = 2;
    atomic_fetch_add(&inflight, 1);
    alloc_targets *t = atomic_load(&targets);
    for (int i = 0; t && i < t->n; i++)
        t->fn[i](t->state[i], ev);
    atomic_fetch_sub(&inflight, 1);
    tl.busy = was;
}

static void freed(int domain, void *p)
{
    if (tl.busy == 2 || atomic_load_explicit(&rt_suspended,
                                             memory_order_relaxed))
        return; /* a toolkit's own frees are its business */
    rt_thread *th = rt_tls_thread;
    loong_allocation_event ev = {LOONG_ALLOC_FREED, domain, (uintptr_t)p, 0,
                                 0, th ? th->id : 0, rt_now_ns(), 0, NULL};
    dispatch(&ev);
}

static PyThreadState *current_ts(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

/* Whether this thread may take a sample now: not inside one, and events
 * wanted. */
static inline int may_sample(void)
{
    return !tl.busy && atomic_load_explicit(&sampling, memory_order_relaxed) &&
           !atomic_load_explicit(&rt_suspended, memory_order_relaxed);
}

static void sample(int domain, void *p, size_t n)
{
    tl.left = next_gap();
    if (!may_sample())
        return;
    tl.busy = 1;
    double mean = (double)atomic_load_explicit(&mean_bytes,
                                               memory_order_relaxed);
    double prob = -expm1(-(double)n / mean);
    double w = prob > 0 ? (double)n / prob : mean;
    loong_frame frames[MAX_FRAMES];
    size_t nf = 0;
    PyThreadState *ts = current_ts();
    if (ts && !rt_py_finalizing() && PyGILState_Check()) {
        const void *codes[MAX_FRAMES], *globals[MAX_FRAMES];
        size_t nc = rt_alloc_raw_stack(ts, codes, globals, MAX_FRAMES);
        if (nc) {
            rt_exc_state saved;
            rt_exc_save(&saved);
            for (size_t i = 0; i < nc; i++) {
                uint32_t mask;
                uint32_t id = rt_code_lookup_fast((PyCodeObject *)codes[i],
                                                  (PyObject *)globals[i],
                                                  &mask);
                if (id)
                    frames[nf++] = (loong_frame){id, 0};
            }
            rt_exc_restore(&saved);
        }
    }
    if (((uintptr_t)p & 3) || !set_insert((uintptr_t)p, domain)) {
        atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
        tl.busy = 0;
        return;
    }
    rt_thread *th = rt_tls_thread;
    loong_allocation_event ev = {LOONG_ALLOC_SAMPLED, domain, (uintptr_t)p,
                                 n, (uint64_t)(w + 0.5), th ? th->id : 0,
                                 rt_now_ns(), nf, frames};
    dispatch(&ev);
    tl.busy = 0;
}

/* After a block of n bytes came back at p: the countdown, and a sample
 * when it crosses zero. */
static void count_down(int domain, void *p, size_t n)
{
    tl.left -= (int64_t)n;
    if (tl.left > 0)
        return;
    if (!tl.rng) { /* this thread's first: draw, sample nothing */
        tl.left = next_gap();
        return;
    }
    sample(domain, p, n);
}

/* A FREED event if p was sampled, with the domain it was sampled in:
 * before the block is really freed, so its address cannot be handed out
 * (and sampled) again before that. */
static inline void sampled_free(void *p)
{
    int found;
    if (p && set_maybe((uintptr_t)p) && (found = set_remove((uintptr_t)p)))
        freed(found - 1, p);
}

/* ---- the wrappers -------------------------------------------------------- */

/* The fast paths are the common case of a small block, on a thread past
 * its first call (which lists it: the countdown starts at 0), not
 * crossing the countdown: count in the thread's own counters and go
 * on to the wrapped allocator as a tail call. Up to FAST_MAX bytes an
 * allocation can only fail when memory is exhausted, so counting before
 * the call is exact. Everything else takes the slow path.
 *
 * The mem and object allocators take big blocks from the raw domain
 * (pymalloc, above 512 bytes): the slow path marks those calls (tl.nest)
 * so they count as raw traffic but never sample the same block twice. A
 * free is not marked, so the raw domain's counts include the big blocks
 * of the other two, on both sides. */
#define FAST_MAX 512

enum { OP_MALLOC, OP_CALLOC, OP_REALLOC };

/* Whether an allocation of n bytes is the one to sample (count_down). */
static inline int will_sample(size_t n)
{
    return tl.left <= (int64_t)n && tl.rng && may_sample();
}

/* In a light domain, the block to sample is taken from the raw domain's
 * allocator (malloc): pymalloc hands a block that is not its own to
 * PyMem_RawFree, where our raw wrapper sees its free. It counts in the
 * raw domain too, as pymalloc's big blocks do. A realloc is done by
 * pymalloc, then copied (the new block has n bytes to copy). */
static void *raw_sampled(int d, int op, void *p, size_t a, size_t b,
                         size_t n)
{
    const PyMemAllocatorEx *r = &wctx[0].orig, *o = &wctx[d].orig;
    void *q;
    if (op == OP_REALLOC) {
        tl.nest++;
        void *t = o->realloc(o->ctx, p, a);
        tl.nest--;
        if (!t)
            return NULL;
        q = r->malloc(r->ctx, n);
        if (!q)
            return t; /* resized, unsampled: the caller counts it */
        memcpy(q, t, n);
        o->free(o->ctx, t);
    } else {
        q = op == OP_CALLOC ? r->calloc(r->ctx, a, b) : r->malloc(r->ctx, a);
        if (!q)
            return NULL;
    }
    alloc_count(&tl, 0, ALLOC_N, 1);
    alloc_count(&tl, 0, ALLOC_BYTES, (int64_t)n);
    return q;
}

static __attribute__((noinline)) void *slow_alloc(int d, int op, void *p,
                                                  size_t a, size_t b)
{
    const PyMemAllocatorEx *o = &wctx[d].orig;
    if (!tl.listed)
        alloc_thread_list(&tl); /* on failure, again next time */
    int nested = d == 0 && tl.nest;
    size_t n = op == OP_CALLOC ? a * b : a; /* the caller checked overflow */
    if (op == OP_REALLOC)
        sampled_free(p);
    void *q;
    if (light[d] && n && will_sample(n)) {
        q = raw_sampled(d, op, p, a, b, n);
    } else {
        tl.nest += d != 0;
        q = op == OP_MALLOC   ? o->malloc(o->ctx, a)
            : op == OP_CALLOC ? o->calloc(o->ctx, a, b)
                              : o->realloc(o->ctx, p, a);
        tl.nest -= d != 0;
    }
    if (!q)
        return q;
    if (op == OP_REALLOC && p)
        alloc_count(&tl, d, ALLOC_FREES, 1);
    alloc_count(&tl, d, ALLOC_N, 1);
    alloc_count(&tl, d, ALLOC_BYTES, (int64_t)n);
    if (!nested)
        count_down(d, q, n);
    return q;
}

static __attribute__((noinline)) void slow_free(int d, void *p)
{
    if (!tl.listed)
        alloc_thread_list(&tl); /* on failure, again next time */
    if (p) {
        alloc_count(&tl, d, ALLOC_FREES, 1);
        sampled_free(p);
    }
    wctx[d].orig.free(wctx[d].orig.ctx, p);
}

static inline __attribute__((always_inline)) int fast_ok(int d, size_t n)
{
    return n <= FAST_MAX && tl.left > (int64_t)n && (d != 0 || !tl.nest);
}

static inline __attribute__((always_inline)) void *
do_malloc(int d, size_t n)
{
    if (!fast_ok(d, n))
        return slow_alloc(d, OP_MALLOC, NULL, n, 0);
    tl.left -= (int64_t)n;
    alloc_count(&tl, d, ALLOC_N, 1);
    alloc_count(&tl, d, ALLOC_BYTES, (int64_t)n);
    return wctx[d].orig.malloc(wctx[d].orig.ctx, n);
}

static inline __attribute__((always_inline)) void *
do_calloc(int d, size_t nelem, size_t elsize)
{
    size_t n;
    if (__builtin_mul_overflow(nelem, elsize, &n))
        return wctx[d].orig.calloc(wctx[d].orig.ctx, nelem, elsize);
    if (!fast_ok(d, n))
        return slow_alloc(d, OP_CALLOC, NULL, nelem, elsize);
    tl.left -= (int64_t)n;
    alloc_count(&tl, d, ALLOC_N, 1);
    alloc_count(&tl, d, ALLOC_BYTES, (int64_t)n);
    return wctx[d].orig.calloc(wctx[d].orig.ctx, nelem, elsize);
}

/* A thread is listed by its first allocation: one that only ever frees
 * (rare: every Python thread allocates) counts its frees unsummed. */
static inline __attribute__((always_inline)) void do_free(int d, void *p)
{
    if (!p || set_maybe((uintptr_t)p)) {
        slow_free(d, p);
        return;
    }
    alloc_count(&tl, d, ALLOC_FREES, 1);
    wctx[d].orig.free(wctx[d].orig.ctx, p);
}

/* A block that may have been sampled takes the slow path. The call is not
 * a tail call: it is marked, as in slow_alloc. */
static inline __attribute__((always_inline)) void *
do_realloc(int d, void *p, size_t n)
{
    if (!fast_ok(d, n) || (p && set_maybe((uintptr_t)p)))
        return slow_alloc(d, OP_REALLOC, p, n, 0);
    tl.nest += d != 0;
    void *q = wctx[d].orig.realloc(wctx[d].orig.ctx, p, n);
    tl.nest -= d != 0;
    if (q) {
        tl.left -= (int64_t)n;
        if (p)
            alloc_count(&tl, d, ALLOC_FREES, 1);
        alloc_count(&tl, d, ALLOC_N, 1);
        alloc_count(&tl, d, ALLOC_BYTES, (int64_t)n);
    }
    return q;
}

/* One set per domain, so the domain is a constant in each. */
#define WRAPPERS(D)                                                        \
    static void *w_malloc_##D(void *ctx, size_t n)                         \
    {                                                                      \
        (void)ctx;                                                         \
        return do_malloc(D, n);                                            \
    }                                                                      \
    static void *w_calloc_##D(void *ctx, size_t nelem, size_t elsize)      \
    {                                                                      \
        (void)ctx;                                                         \
        return do_calloc(D, nelem, elsize);                                \
    }                                                                      \
    static void *w_realloc_##D(void *ctx, void *p, size_t n)               \
    {                                                                      \
        (void)ctx;                                                         \
        return do_realloc(D, p, n);                                        \
    }                                                                      \
    static void w_free_##D(void *ctx, void *p)                             \
    {                                                                      \
        (void)ctx;                                                         \
        do_free(D, p);                                                     \
    }
WRAPPERS(0)
WRAPPERS(1)
WRAPPERS(2)

static const PyMemAllocatorEx wrappers[3] = {
    {&wctx[0], w_malloc_0, w_calloc_0, w_realloc_0, w_free_0},
    {&wctx[1], w_malloc_1, w_calloc_1, w_realloc_1, w_free_1},
    {&wctx[2], w_malloc_2, w_calloc_2, w_realloc_2, w_free_2},
};

/* ---- installing ---------------------------------------------------------- */

static const PyMemAllocatorDomain domains[3] = {
    PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

static int is_ours(const PyMemAllocatorEx *a, int d)
{
    return a->ctx == installed[d].ctx && a->malloc == wrappers[d].malloc;
}

/* pymalloc serves the mem and object domains, with nothing over it (no
 * debug hooks, no tracemalloc, no other tool): then their frees need no
 * wrapper. */
static int pymalloc_alone(void)
{
    const char *name = _PyMem_GetCurrentAllocatorName();
    return name && strcmp(name, "pymalloc") == 0;
}

static void wait_inflight(void)
{
    while (atomic_load(&inflight))
        sched_yield();
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&set_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&set_lock);
}

/* A toolkit wants every free counted: the light domains get our free
 * wrapper (where ours is still on top). Their sampled blocks, from the
 * raw domain, then count a free in both domains, as they counted an
 * allocation in both. Whether any domain changed. */
static int make_exact(void)
{
    int changed = 0;
    for (int d = 1; d < 3; d++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(domains[d], &cur);
        if (!light[d] || !is_ours(&cur, d))
            continue;
        installed[d] = wrappers[d];
        PyMemAllocatorEx a = installed[d];
        PyMem_SetAllocator(domains[d], &a);
        light[d] = 0;
        changed = 1;
    }
    return changed;
}

/* Match the toolkits: called from rt_hooks_update, with the interpreter
 * lock and tk_lock held. */
int rt_alloc_update(uint32_t caps)
{
    alloc_targets *cur = atomic_load(&targets);
    alloc_targets *nt = cur == &targets_buf[0] ? &targets_buf[1]
                                               : &targets_buf[0];
    memset(nt, 0, sizeof *nt);
    uint64_t mean = 0;
    if (caps & LOONG_CAP_ALLOCATIONS) {
        for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
            loong_toolkit *tk = rt.tk[i];
            if (!tk || !tk->active || !(tk->caps & LOONG_CAP_ALLOCATIONS))
                continue;
            uint64_t m = tk->alloc_mean ? tk->alloc_mean : DEFAULT_MEAN;
            if (!mean || m < mean)
                mean = m;
            if (tk->cb.allocation) {
                nt->fn[nt->n] = tk->cb.allocation;
                nt->state[nt->n++] = tk->state;
            }
        }
    }
    int on = mean != 0;
    if (on) {
        static int once;
        if (!once) {
            if (alloc_thread_init() < 0)
                return LOONG_ENOMEM;
            once = 1;
            pthread_atfork(fork_prepare, fork_release, fork_release);
        }
        if (!fcount) {
            uint16_t *fc = calloc(1u << FILTER_BITS, sizeof *fc);
            if (!fc)
                return LOONG_ENOMEM;
            pthread_mutex_lock(&set_lock);
            fcount = fc;
            pthread_mutex_unlock(&set_lock);
        }
        atomic_store(&mean_bytes, mean);
        if (!atomic_load(&sampling))
            alloc_thread_sum(base);
        int exact = (caps & LOONG_CAP_ALLOCATION_FREES) != 0;
        int lite = !exact && !wrapped[0] && pymalloc_alone();
        for (int d = 0; d < 3; d++) {
            if (wrapped[d])
                continue;
            PyMem_GetAllocator(domains[d], &wctx[d].orig);
            installed[d] = wrappers[d];
            light[d] = lite && d != 0;
            if (light[d]) { /* pymalloc's own free, with its own ctx */
                installed[d].ctx = wctx[d].orig.ctx;
                installed[d].free = wctx[d].orig.free;
            }
            PyMemAllocatorEx a = installed[d];
            PyMem_SetAllocator(domains[d], &a);
            wrapped[d] = 1;
        }
        if (exact && (light[1] || light[2]) && make_exact())
            alloc_thread_sum(base); /* every count starts again from here */
        atomic_store(&targets, nt);
        wait_inflight();
        atomic_store(&sampling, 1);
        return 0;
    }
    if (!atomic_load(&sampling) && !wrapped[0] && !wrapped[1] && !wrapped[2])
        return 0;
    atomic_store(&sampling, 0);
    atomic_store(&targets, nt);
    wait_inflight();
    for (int d = 0; d < 3; d++) {
        if (!wrapped[d])
            continue;
        PyMemAllocatorEx a;
        PyMem_GetAllocator(domains[d], &a);
        if (is_ours(&a, d)) {
            PyMem_SetAllocator(domains[d], &wctx[d].orig);
            wrapped[d] = 0;
        } else {
            rt_log(NULL, LOONG_LOG_WARNING, "allocator domain %d was wrapped "
                   "again after loong: loong's wrapper stays in its chain, "
                   "passing through", d);
        }
    }
    set_clear();
    uint64_t dr = atomic_exchange(&dropped, 0);
    if (dr)
        rt_log(NULL, LOONG_LOG_WARNING, "%llu allocation samples dropped "
               "(too many sampled blocks alive)", (unsigned long long)dr);
    return 0;
}

void rt_alloc_totals(int64_t allocs[3], int64_t bytes[3], int64_t frees[3])
{
    int64_t now[3][3];
    int on = atomic_load(&sampling);
    if (on)
        alloc_thread_sum(now);
    for (int d = 0; d < 3; d++) {
        allocs[d] = on ? now[d][ALLOC_N] - base[d][ALLOC_N] : -1;
        bytes[d] = on ? now[d][ALLOC_BYTES] - base[d][ALLOC_BYTES] : -1;
        frees[d] = on && !light[d]
                       ? now[d][ALLOC_FREES] - base[d][ALLOC_FREES] : -1;
    }
}

/* CPython's pymalloc statistics are written only when the object domain's
 * allocator is pymalloc itself (or the debug hooks over it): our wrapper
 * there hides it. For that call only, the wrapper is lifted, with the
 * interpreter lock held all along, so no object-domain call of this
 * interpreter can come in between. Only when ours is the outermost
 * allocator: one wrapped on top of us (tracemalloc) is left alone. */
int rt_alloc_lift_obj(PyMemAllocatorEx *saved)
{
    if (!wrapped[2])
        return 0;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, saved);
    if (!is_ours(saved, 2))
        return 0;
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &wctx[2].orig);
    return 1;
}

void rt_alloc_unlift_obj(PyMemAllocatorEx *saved)
{
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, saved);
}
