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
 * Costs of an unsampled allocation: two relaxed counter additions, one
 * thread-local subtraction. Of a free: a counter addition, a load of the
 * set's size, and when the set is not empty, one bit of a 16 KiB filter.
 *
 * Threads: raw-domain calls may come without the interpreter lock. The
 * stack is read only with the lock (0 frames otherwise). A per-thread flag
 * keeps allocations made while sampling (code identities) from sampling
 * again. The thread-local data is a few bytes (the runtime is dlopened, its
 * static TLS room is small).
 */
#include "rt.h"
#include "pycompat.h"
#include "runtime/alloc_stack.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MEAN (512u * 1024u)
#define MAX_FRAMES 128
#define FILTER_BITS 17 /* a 16 KiB bitmap: stays in cache */
#define SET_MAX (1u << 22)

/* ---- per thread --------------------------------------------------------- */

typedef struct alloc_tls {
    int64_t left;     /* bytes until the next sample */
    uint64_t rng;     /* xorshift64* state; 0 until seeded */
    uint8_t busy;     /* 1: reading the stack, 2: dispatching */
    uint8_t nest;     /* inside a mem/obj allocator: its raw calls (pymalloc
                         takes big blocks from the raw domain) are its own */
} alloc_tls;

static _Thread_local alloc_tls tl __attribute__((tls_model("initial-exec")));

/* ---- shared state ------------------------------------------------------ */

typedef struct wrap_ctx {
    PyMemAllocatorEx orig;
    int domain;
} wrap_ctx;

static wrap_ctx wctx[3];
static int wrapped[3];        /* our wrapper is in the domain's chain */
static atomic_int sampling;   /* toolkits want events */
static _Atomic uint64_t mean_bytes = DEFAULT_MEAN;
static _Atomic int64_t n_allocs[3], n_bytes[3], n_frees[3];
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
 * free, lock-free), and how many are (under set_lock) */
static _Atomic uint64_t *filter;
static uint16_t *fcount;
static uintptr_t *tab;           /* 0 empty, 1 removed, else an address */
static size_t tcap, tused, ttomb;
static atomic_size_t set_n;

static inline uint64_t addr_hash(uintptr_t a)
{
    return (uint64_t)(a >> 4) * 0x9E3779B97F4A7C15ull;
}

static inline size_t fslot(uintptr_t a)
{
    return (size_t)(addr_hash(a) >> (64 - FILTER_BITS));
}

static int tab_resize(size_t ncap)
{
    uintptr_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < tcap; i++) {
        if (tab[i] <= 1)
            continue;
        size_t j = addr_hash(tab[i]) & (ncap - 1);
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

static int set_insert(uintptr_t a)
{
    int ok = 0;
    pthread_mutex_lock(&set_lock);
    if (filter && tused < SET_MAX) {
        if ((tused + ttomb + 1) * 2 > tcap) {
            size_t ncap = tcap ? tcap : 1024;
            while ((tused + 1) * 4 > ncap)
                ncap *= 2;
            if (tab_resize(ncap) < 0)
                goto out;
        }
        size_t j = addr_hash(a) & (tcap - 1);
        while (tab[j] > 1 && tab[j] != a)
            j = (j + 1) & (tcap - 1);
        if (tab[j] != a) {
            if (tab[j] == 1)
                ttomb--;
            tab[j] = a;
            tused++;
            size_t f = fslot(a);
            if (fcount[f] != 0xffff && fcount[f]++ == 0) /* 0xffff sticks */
                atomic_fetch_or_explicit(&filter[f / 64], 1ull << (f % 64),
                                         memory_order_relaxed);
            atomic_store(&set_n, tused);
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
    return filter && (atomic_load_explicit(&filter[f / 64],
                                           memory_order_relaxed) &
                      (1ull << (f % 64)));
}

/* Whether a was sampled; removed if so. */
static int set_remove(uintptr_t a)
{
    size_t f = fslot(a);
    int found = 0;
    pthread_mutex_lock(&set_lock);
    if (tcap) {
        size_t j = addr_hash(a) & (tcap - 1);
        for (; tab[j]; j = (j + 1) & (tcap - 1)) {
            if (tab[j] == a) {
                tab[j] = 1;
                tused--;
                ttomb++;
                found = 1;
                if (fcount[f] != 0xffff && --fcount[f] == 0)
                    atomic_fetch_and_explicit(&filter[f / 64],
                                              ~(1ull << (f % 64)),
                                              memory_order_relaxed);
                atomic_store(&set_n, tused);
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
    atomic_store(&set_n, 0);
    if (filter) {
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

static void sample(int domain, void *p, size_t n)
{
    tl.left = next_gap();
    if (tl.busy || !atomic_load_explicit(&sampling, memory_order_relaxed) ||
        atomic_load_explicit(&rt_suspended, memory_order_relaxed))
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
    if (!set_insert((uintptr_t)p)) {
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

static inline void note_alloc(int domain, void *p, size_t n)
{
    /* a load and a store, not a locked add: the mem and object domains
     * are serialised by the interpreter lock; raw-domain calls without it
     * may lose a count now and then */
    atomic_store_explicit(&n_allocs[domain],
                          atomic_load_explicit(&n_allocs[domain],
                                               memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&n_bytes[domain],
                          atomic_load_explicit(&n_bytes[domain],
                                               memory_order_relaxed) +
                              (int64_t)n,
                          memory_order_relaxed);
    if (!atomic_load_explicit(&sampling, memory_order_relaxed))
        return;
    tl.left -= (int64_t)n;
    if (__builtin_expect(tl.left <= 0, 0)) {
        if (!tl.rng) { /* this thread's first: draw, sample nothing */
            tl.left = next_gap();
            return;
        }
        sample(domain, p, n);
    }
}

/* A load and a store, as in note_alloc. */
static inline void note_free(int domain)
{
    atomic_store_explicit(&n_frees[domain],
                          atomic_load_explicit(&n_frees[domain],
                                               memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline int sampled_free(int domain, void *p)
{
    if (!p || !atomic_load_explicit(&set_n, memory_order_relaxed) ||
        !set_maybe((uintptr_t)p))
        return 0;
    if (!set_remove((uintptr_t)p))
        return 0;
    freed(domain, p);
    return 1;
}

/* ---- the wrappers -------------------------------------------------------- */

/* The raw domain's calls made by the mem and object allocators themselves
 * (pymalloc's big blocks and arenas) are not the program's: only the
 * outer call counts (tl.nest). */
static void *w_malloc(void *ctx, size_t n)
{
    wrap_ctx *w = ctx;
    if (w->domain == 0 && tl.nest)
        return w->orig.malloc(w->orig.ctx, n);
    tl.nest++;
    void *p = w->orig.malloc(w->orig.ctx, n);
    tl.nest--;
    if (p)
        note_alloc(w->domain, p, n);
    return p;
}

static void *w_calloc(void *ctx, size_t nelem, size_t elsize)
{
    wrap_ctx *w = ctx;
    if (w->domain == 0 && tl.nest)
        return w->orig.calloc(w->orig.ctx, nelem, elsize);
    tl.nest++;
    void *p = w->orig.calloc(w->orig.ctx, nelem, elsize);
    tl.nest--;
    if (p)
        note_alloc(w->domain, p, nelem * elsize);
    return p;
}

/* A sampled block's FREED comes before the block is really freed, so its
 * address cannot be handed out (and sampled) again before that. If the
 * realloc then fails, the block lives on unsampled. */
static void *w_realloc(void *ctx, void *p, size_t n)
{
    wrap_ctx *w = ctx;
    if (w->domain == 0 && tl.nest)
        return w->orig.realloc(w->orig.ctx, p, n);
    sampled_free(w->domain, p);
    tl.nest++;
    void *q = w->orig.realloc(w->orig.ctx, p, n);
    tl.nest--;
    if (q) {
        if (p)
            note_free(w->domain);
        note_alloc(w->domain, q, n);
    }
    return q;
}

static void w_free(void *ctx, void *p)
{
    wrap_ctx *w = ctx;
    if (w->domain == 0 && tl.nest) {
        w->orig.free(w->orig.ctx, p);
        return;
    }
    if (p)
        note_free(w->domain);
    sampled_free(w->domain, p);
    tl.nest++;
    w->orig.free(w->orig.ctx, p);
    tl.nest--;
}

/* ---- installing ---------------------------------------------------------- */

static const PyMemAllocatorDomain domains[3] = {
    PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

static int is_ours(const PyMemAllocatorEx *a, int d)
{
    return a->ctx == &wctx[d] && a->malloc == w_malloc;
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
            once = 1;
            pthread_atfork(fork_prepare, fork_release, fork_release);
        }
        if (!filter) {
            fcount = calloc(1u << FILTER_BITS, sizeof *fcount);
            _Atomic uint64_t *fb = calloc((1u << FILTER_BITS) / 64,
                                          sizeof *fb);
            if (!fcount || !fb) {
                free(fcount);
                free(fb);
                fcount = NULL;
                return LOONG_ENOMEM;
            }
            filter = fb;
        }
        atomic_store(&mean_bytes, mean);
        if (!atomic_load(&sampling))
            for (int d = 0; d < 3; d++) {
                atomic_store(&n_allocs[d], 0);
                atomic_store(&n_bytes[d], 0);
                atomic_store(&n_frees[d], 0);
            }
        for (int d = 0; d < 3; d++) {
            if (wrapped[d])
                continue;
            PyMem_GetAllocator(domains[d], &wctx[d].orig);
            wctx[d].domain = d;
            PyMemAllocatorEx a = {&wctx[d], w_malloc, w_calloc, w_realloc,
                                  w_free};
            PyMem_SetAllocator(domains[d], &a);
            wrapped[d] = 1;
        }
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
    int on = atomic_load(&sampling);
    for (int d = 0; d < 3; d++) {
        allocs[d] = on ? atomic_load_explicit(&n_allocs[d],
                                              memory_order_relaxed) : -1;
        bytes[d] = on ? atomic_load_explicit(&n_bytes[d],
                                             memory_order_relaxed) : -1;
        frees[d] = on ? atomic_load_explicit(&n_frees[d],
                                             memory_order_relaxed) : -1;
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
