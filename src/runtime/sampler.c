/* The sampler: a native thread that, at the rate toolkits asked for, reads
 * every Python thread's stack WITHOUT taking the interpreter lock, so the
 * program is never stopped and a sample costs it nothing but cache traffic.
 * Reads go through sample_read.c (copies that cannot fault).
 *
 * A code object's identity is read from its co_extra slot, where the event
 * path or an earlier registration put it. A code object never seen before
 * has none: the sample waits (see "pending" below) while the sampler takes
 * the interpreter lock, at most every 20 ms and less often while that
 * names nothing new, to register every code on every stack (the same walk
 * as api->threads_stacks) and to look for the waiting codes in the modules
 * they ran in (code_search.c). After warm-up the lock is not taken at all.
 *
 * Running or waiting: the thread's CPU clock over the span since its
 * previous sample (the kernel's per-thread clock, from the thread's id).
 *
 * Lock order: the sampler only ever *tries* tk_lock (a round is skipped when
 * a load or unload holds it), so stopping it while holding tk_lock is safe;
 * the stopper releases the interpreter lock while it joins. */
#include "rt.h"
#include "pycompat.h"
#include "runtime/sample_read.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 1024
#define CODE_CACHE 65536           /* entries, power of two */

typedef struct code_slot {
    const void *code;
    const void *extra;
    int first_line;
    uint32_t id;
    uint32_t mask;                 /* sampling toolkits that accept it */
    unsigned gen;
} code_slot;

typedef struct thread_slot {
    const void *ts;
    unsigned long pthread;
    uint64_t native_id;
    uint64_t last_t[RT_MAX_TOOLKITS];
    uint64_t last_cpu[RT_MAX_TOOLKITS];
    uint64_t seen_round;
} thread_slot;

typedef struct round_thread {
    thread_slot *slot;
    uint64_t cpu;                  /* CPU clock now; 0 if unreadable */
    int unknown;                   /* codes without an identity yet */
    rt_raw_stack raw;
    int first_line[RT_SAMPLE_MAX_FRAMES];
    uint32_t ids[RT_SAMPLE_MAX_FRAMES];
    uint32_t masks[RT_SAMPLE_MAX_FRAMES];
} round_thread;

static struct {
    pthread_t th;
    int running;
    int available;                 /* -1 unknown, 0 no, 1 yes */
    atomic_int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t period_ns;
    PyInterpreterState *interp;
    long pthread_tid_off;          /* offset of the tid in glibc's thread */
    uint64_t last_register;
    atomic_uint_fast64_t rounds;
    atomic_uint_fast64_t locked;   /* registrations under the lock */
    atomic_uint_fast64_t locked_ns; /* the lock held for them, in all */
    atomic_uint_fast64_t locked_max_ns; /* ... the longest once */
    uint64_t round_no;
    code_slot *codes;
    thread_slot threads[MAX_THREADS];
    round_thread cur[64];          /* threads of one round, in batches */
} S = {.available = -1, .mu = PTHREAD_MUTEX_INITIALIZER,
       .pthread_tid_off = -1};

uint64_t rt_sampler_rounds(void)
{
    return atomic_load(&S.rounds);
}

uint64_t rt_sampler_locked(void)
{
    return atomic_load(&S.locked);
}

uint64_t rt_sampler_locked_us(uint64_t *max_us)
{
    if (max_us)
        *max_us = atomic_load(&S.locked_max_ns) / 1000;
    return atomic_load(&S.locked_ns) / 1000;
}

/* ---- thread ids ------------------------------------------------------ */

/* Below 3.11 a thread state has no kernel thread id, only the pthread_t,
 * which in glibc is the address of a block that holds the id. Find where,
 * by looking for our own id in our own block (checked on a second thread
 * by the sampler itself). */
static long find_tid_offset(pthread_t self, pid_t tid)
{
    const char *p = (const char *)self;
    for (long off = 0; off + (long)sizeof(pid_t) <= 2048; off += 4) {
        pid_t v;
        memcpy(&v, p + off, sizeof v);
        if (v == tid)
            return off;
    }
    return -1;
}

static int pthread_tid(unsigned long pth, uint64_t *tid)
{
    if (S.pthread_tid_off < 0 || !pth)
        return -1;
    pid_t v = 0;
    if (rt_sread((const char *)pth + S.pthread_tid_off, &v, sizeof v) < 0 ||
        v <= 0)
        return -1;
    *tid = (uint64_t)v;
    return 0;
}

static uint64_t thread_cpu(uint64_t tid)
{
    if (!tid)
        return 0;
    /* the kernel's clock id for one thread's CPU time (CPUCLOCK_SCHED) */
    clockid_t cid = (clockid_t)((~(unsigned)tid << 3) | 6u);
    struct timespec t;
    if (clock_gettime(cid, &t) < 0)
        return 0;
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static thread_slot *thread_slot_for(const void *ts, const rt_raw_stack *raw)
{
    size_t h = ((uintptr_t)ts >> 6) & (MAX_THREADS - 1);
    thread_slot *free_slot = NULL;
    for (size_t k = 0; k < MAX_THREADS; k++) {
        thread_slot *s = &S.threads[(h + k) & (MAX_THREADS - 1)];
        if (s->ts == ts && s->pthread == raw->pthread) {
            s->seen_round = S.round_no;
            return s;
        }
        if (!s->ts || s->seen_round + 2 < S.round_no) {
            free_slot = s;  /* empty, or a thread gone for two rounds */
            break;
        }
    }
    if (!free_slot)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->ts = ts;
    free_slot->pthread = raw->pthread;
    free_slot->native_id = raw->native_id;
    if (!free_slot->native_id)
        pthread_tid(raw->pthread, &free_slot->native_id);
    free_slot->seen_round = S.round_no;
    return free_slot;
}

/* ---- code identities ------------------------------------------------- */

static code_slot *code_slot_for(const void *code)
{
    size_t h = ((uintptr_t)code >> 4) * 0x9E3779B97F4A7C15ull;
    h >>= 64 - 16;
    for (size_t k = 0; k < 16; k++) {
        code_slot *c = &S.codes[(h + k) & (CODE_CACHE - 1)];
        if (c->code == code || !c->code)
            return c;
    }
    return &S.codes[h & (CODE_CACHE - 1)]; /* evict */
}

/* Identities of n code objects, from the cache or from their co_extra;
 * 0 where unknown yet. first_line: as read when sampled, to check that a
 * code read again later is still the same (-1: take what is read now).
 * Returns how many are unknown. */
static int resolve(const void *const *codes, size_t n, int *first_line,
                   uint32_t *ids, uint32_t *masks, unsigned gen,
                   uint32_t sample_tks)
{
    rt_raw_code hdr[RT_SAMPLE_MAX_FRAMES];
    rt_sread_codes(codes, n, hdr);
    long idx = rt_codes_extra_index();
    int unknown = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = 0;
        masks[i] = 0;
        if (!hdr[i].valid ||
            (first_line[i] >= 0 && first_line[i] != hdr[i].first_line))
            continue; /* not a code object (any more): left out */
        first_line[i] = hdr[i].first_line;
        code_slot *c = code_slot_for(codes[i]);
        if (c->code != codes[i] || c->extra != hdr[i].extra ||
            c->first_line != hdr[i].first_line || !c->id) {
            uint64_t v;
            memset(c, 0, sizeof *c);
            if (!hdr[i].extra ||
                rt_sread_extra_slot(hdr[i].extra, idx, &v) < 0 ||
                !(uint32_t)v) {
                unknown++;
                continue;
            }
            c->code = codes[i];
            c->extra = hdr[i].extra;
            c->first_line = hdr[i].first_line;
            c->id = (uint32_t)v;
            c->gen = gen - 1; /* mask not computed yet */
        }
        if (c->gen != gen) {
            c->mask = 0;
            for (int t = 0; t < RT_MAX_TOOLKITS; t++)
                if ((sample_tks >> t & 1) && rt_code_accepts(rt.tk[t], c->id))
                    c->mask |= 1u << t;
            c->gen = gen;
        }
        ids[i] = c->id;
        masks[i] = c->mask;
    }
    return unknown;
}


/* ---- samples waiting for identities ---------------------------------- */

/* A sample with a code never seen before waits here, with its raw code
 * pointers, until a registration pass has named them (or PENDING_MAX_NS
 * has passed: then it goes out without the unnamed frames), so the first
 * samples of new code are attributed like the others. */
typedef struct pending {
    int tk;
    unsigned gen;                  /* toolkits changed since: dropped */
    loong_sample_event ev;
    uint64_t born;
    size_t n;
    const void **codes;
    const void **globals;
    int *first_line;
} pending;

#define PENDING_MAX 4096
#define PENDING_MAX_NS 2000000000ull
#define GAP_MIN_NS 20000000ull   /* at most 50 passes a second */
#define GAP_MAX_NS 200000000ull

static pending *pend[PENDING_MAX];
static size_t npend;
static uint64_t register_gap = GAP_MIN_NS;
static atomic_uint_fast64_t pend_dropped, unnamed_frames;

static void pend_push(int k, const loong_sample_event *ev,
                      const round_thread *rth)
{
    size_t n = rth->raw.ncodes;
    pending *p = npend < PENDING_MAX ? malloc(sizeof *p) : NULL;
    if (p) {
        p->codes = malloc(n * sizeof *p->codes);
        p->globals = malloc(n * sizeof *p->globals);
        p->first_line = malloc(n * sizeof *p->first_line);
    }
    if (!p || !p->codes || !p->globals || !p->first_line) {
        if (p) {
            free(p->codes);
            free(p->globals);
            free(p->first_line);
            free(p);
        }
        atomic_fetch_add(&pend_dropped, 1);
        return;
    }
    p->tk = k;
    p->gen = rt.generation;
    p->ev = *ev;
    p->born = rt_now_ns();
    p->n = n;
    memcpy(p->codes, rth->raw.codes, n * sizeof *p->codes);
    memcpy(p->globals, rth->raw.globals, n * sizeof *p->globals);
    memcpy(p->first_line, rth->first_line, n * sizeof *p->first_line);
    pend[npend++] = p;
}

static void pend_free(pending *p)
{
    free(p->codes);
    free(p->globals);
    free(p->first_line);
    free(p);
}

static void dispatch(int k, loong_sample_event *ev, const uint32_t *ids,
                     const uint32_t *masks, size_t n)
{
    loong_frame frames[RT_SAMPLE_MAX_FRAMES];
    size_t nf = 0;
    for (size_t j = 0; j < n; j++)
        if (ids[j] && (masks[j] >> k & 1))
            frames[nf++] = (loong_frame){ids[j], 0};
    if (!nf)
        return;
    ev->nframes = nf;
    ev->frames = frames;
    loong_toolkit *tk = rt.tk[k];
    tk->cb.sample(tk->state, ev);
}

/* Codes looked for in their module and not found there (made by exec, or
 * freed): not looked for again, so a sample of such code costs one search,
 * not one per pass. A small table; a collision forgets the older one. */
#define SEARCHED 1024
static struct {
    const void *code;
    int first_line;
} searched[SEARCHED];

static size_t searched_slot(const void *code)
{
    return (size_t)(((uintptr_t)code >> 4) * 0x9E3779B97F4A7C15ull >> 54);
}

static int searched_has(const void *code, int first_line)
{
    size_t h = searched_slot(code);
    return searched[h].code == code && searched[h].first_line == first_line;
}

static void searched_add(const rt_code_want *w)
{
    size_t h = searched_slot(w->code);
    searched[h].code = w->code;
    searched[h].first_line = w->first_line;
}

/* The distinct unnamed codes of the waiting samples, with the globals
 * they ran in, at most max. Judged from the identity cache as the last
 * resolve left it (a code object when sampled has a first line; a named
 * one has a cache entry): no read of the program's memory. */
static size_t wanted_codes(rt_code_want *want, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < npend && n < max; i++) {
        pending *p = pend[i];
        for (size_t j = 0; j < p->n && n < max; j++) {
            const code_slot *c = code_slot_for(p->codes[j]);
            if (p->first_line[j] < 0 ||
                (c->code == p->codes[j] && c->first_line == p->first_line[j]) ||
                searched_has(p->codes[j], p->first_line[j]))
                continue;
            size_t k = 0;
            while (k < n && want[k].code != p->codes[j])
                k++;
            if (k == n)
                want[n++] = (rt_code_want){.code = p->codes[j],
                                           .globals = p->globals[j],
                                           .first_line = p->first_line[j]};
        }
    }
    return n;
}

/* Give the waiting samples' codes an identity: takes the interpreter lock
 * and registers every code on every thread's stack now, through the
 * interpreter's own frame API (the walk of api->threads_stacks), then
 * looks for the codes still unnamed in the modules their frames ran in
 * (code_search.c). Only objects reached through live references are
 * handed to the interpreter's API: a code object seen in an earlier copy
 * may have been freed since, and nothing read from outside can prove it
 * is not. A sample still unnamed after PENDING_MAX_NS (code made by exec,
 * or gone) goes out without those frames (counted). */
#define WANT_MAX 256

static void register_codes(void)
{
    S.last_register = rt_now_ns();
    if (!npend || rt_no_gil || rt_py_finalizing() ||
        atomic_load(&rt_suspended))
        return;
    static rt_code_want want[WANT_MAX];
    size_t nwant = wanted_codes(want, WANT_MAX);
    atomic_fetch_add(&S.locked, 1);
    PyGILState_STATE g = PyGILState_Ensure();
    uint64_t t0 = rt_now_ns(); /* the program waits from here */
    loong_stacks *st = NULL;
    if (rt_threads_stacks(RT_MAX_FRAMES, &st) == 0)
        free(st);
    if (nwant)
        rt_codes_search(want, nwant);
    for (size_t i = 0; i < nwant; i++)
        if (!want[i].named)
            searched_add(&want[i]);
    uint64_t held = rt_now_ns() - t0;
    PyGILState_Release(g);
    atomic_fetch_add(&S.locked_ns, held);
    if (held > atomic_load(&S.locked_max_ns))
        atomic_store(&S.locked_max_ns, held); /* callers hold tk_lock */
}

/* After a registration pass, or to age samples out: under tk_lock. */
static void pend_drain(unsigned gen, uint32_t sample_tks, int force)
{
    uint32_t ids[RT_SAMPLE_MAX_FRAMES], masks[RT_SAMPLE_MAX_FRAMES];
    uint64_t now = rt_now_ns();
    size_t kept = 0, named = 0;
    for (size_t i = 0; i < npend; i++) {
        pending *p = pend[i];
        if (p->gen != gen || !(sample_tks >> p->tk & 1)) {
            atomic_fetch_add(&pend_dropped, 1);
            pend_free(p);
            continue;
        }
        int unknown = resolve(p->codes, p->n, p->first_line, ids, masks, gen,
                              sample_tks);
        if (unknown && !force && now - p->born < PENDING_MAX_NS) {
            pend[kept++] = p;
            continue;
        }
        atomic_fetch_add(&unnamed_frames, (uint64_t)unknown);
        named += !unknown;
        dispatch(p->tk, &p->ev, ids, masks, p->n);
        pend_free(p);
    }
    npend = kept;
    /* passes that name nothing back off, gently (a function on the stack
     * a tenth of the time needs a few tens of passes); one that names
     * some speeds up again */
    register_gap = named ? GAP_MIN_NS
                         : (register_gap * 5 / 4 > GAP_MAX_NS
                                ? GAP_MAX_NS
                                : register_gap * 5 / 4);
}

static uint32_t sampling_toolkits(void)
{
    uint32_t m = 0;
    for (int k = 0; k < RT_MAX_TOOLKITS; k++) {
        loong_toolkit *tk = rt.tk[k];
        if (tk && tk->active && (tk->caps & LOONG_CAP_SAMPLES) &&
            tk->cb.sample && tk->sample_hz)
            m |= 1u << k;
    }
    return m;
}

/* Before a toolkit stops getting samples (unload, exit): hand out what
 * waits, named as far as one more registration pass can. tk_lock held. */
void rt_sampler_flush_locked(void)
{
    if (!npend)
        return;
    register_codes();
    pend_drain(rt.generation, sampling_toolkits(), 1);
}

void rt_sampler_flush(void)
{
    if (!npend)
        return;
    if (PyGILState_Check()) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&rt.tk_lock);
        Py_END_ALLOW_THREADS
    } else {
        pthread_mutex_lock(&rt.tk_lock);
    }
    rt_sampler_flush_locked();
    pthread_mutex_unlock(&rt.tk_lock);
}

uint64_t rt_sampler_unnamed(void)
{
    return atomic_load(&unnamed_frames) + atomic_load(&pend_dropped);
}

/* ---- one round ------------------------------------------------------- */

static void deliver(round_thread *r, size_t n, uint64_t t, uint32_t due)
{
    for (int k = 0; k < RT_MAX_TOOLKITS; k++) {
        if (!(due >> k & 1))
            continue;
        loong_toolkit *tk = rt.tk[k];
        uint64_t period = 1000000000ull / tk->sample_hz;
        for (size_t i = 0; i < n; i++) {
            round_thread *rth = &r[i];
            thread_slot *s = rth->slot;
            uint64_t wall = s->last_t[k] ? t - s->last_t[k] : period;
            uint64_t cpu = s->last_t[k] && rth->cpu >= s->last_cpu[k]
                               ? rth->cpu - s->last_cpu[k]
                               : 0;
            s->last_t[k] = t;
            s->last_cpu[k] = rth->cpu;
            if (cpu > wall)
                cpu = wall;
            loong_sample_event ev = {
                .t_ns = t,
                .thread = 0,
                .native_id = s->native_id,
                /* a runnable thread on a busy machine still gets some CPU;
                 * a blocked one next to none */
                .state = cpu * 10 >= wall ? LOONG_THREAD_RUNNING
                                          : LOONG_THREAD_WAITING,
                .wall_ns = wall,
                .cpu_ns = cpu,
            };
            if (rth->unknown)
                pend_push(k, &ev, rth);
            else
                dispatch(k, &ev, rth->ids, rth->masks, rth->raw.ncodes);
        }
    }
}

static void round_once(void)
{
    if (!rt.started || atomic_load(&rt_suspended) || rt_py_finalizing())
        return;
    if (pthread_mutex_trylock(&rt.tk_lock) != 0)
        return; /* a load or unload is under way */
    uint64_t t = rt_now_ns();
    uint32_t due = 0, sample_tks = 0;
    for (int k = 0; k < RT_MAX_TOOLKITS; k++) {
        loong_toolkit *tk = rt.tk[k];
        if (!tk || !tk->active || !(tk->caps & LOONG_CAP_SAMPLES) ||
            !tk->cb.sample || !tk->sample_hz)
            continue;
        sample_tks |= 1u << k;
        /* a little early is on time: the sleep is not exact */
        if (t + 100000 >= tk->sample_next_ns) {
            due |= 1u << k;
            uint64_t p = 1000000000ull / tk->sample_hz;
            tk->sample_next_ns = tk->sample_next_ns + p > t
                                     ? tk->sample_next_ns + p
                                     : t + p;
        }
    }
    unsigned gen = rt.generation;
    if (due) {
        S.round_no++;
        const void *ts = PyInterpreterState_ThreadHead(S.interp);
        size_t n = 0, seen = 0;
        while (ts && seen++ < MAX_THREADS) {
            round_thread *rth = &S.cur[n];
            if (rt_sread_stack(ts, &rth->raw) < 0)
                break;
            const void *next = rth->raw.next;
            if (rth->raw.ncodes) {
                rth->slot = thread_slot_for(ts, &rth->raw);
                if (rth->slot) {
                    rth->cpu = thread_cpu(rth->slot->native_id);
                    for (size_t j = 0; j < rth->raw.ncodes; j++)
                        rth->first_line[j] = -1;
                    rth->unknown = resolve(rth->raw.codes, rth->raw.ncodes,
                                           rth->first_line, rth->ids,
                                           rth->masks, gen, sample_tks);
                    n++;
                }
            }
            if (n == sizeof S.cur / sizeof S.cur[0] || (!next && n)) {
                deliver(S.cur, n, t, due);
                n = 0;
            }
            ts = next;
        }
        if (n)
            deliver(S.cur, n, t, due);
        atomic_fetch_add(&S.rounds, 1);
    }
    if (npend && rt_now_ns() - S.last_register >= register_gap) {
        /* the lock order allows tk_lock, then the interpreter lock */
        register_codes();
        pend_drain(gen, sample_tks, 0);
    }
    pthread_mutex_unlock(&rt.tk_lock);
}

/* ---- the thread ------------------------------------------------------ */

static void *sampler_main(void *arg)
{
    (void)arg;
    if (S.pthread_tid_off >= 0 &&
        find_tid_offset(pthread_self(), (pid_t)syscall(SYS_gettid)) !=
            S.pthread_tid_off)
        S.pthread_tid_off = -1; /* not the layout we thought */
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&S.mu);
    while (!atomic_load(&S.stop)) {
        uint64_t ns = next.tv_nsec + S.period_ns;
        next.tv_sec += ns / 1000000000ull;
        next.tv_nsec = ns % 1000000000ull;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1)
            next = now; /* far behind (suspended): do not catch up */
        int rc = 0;
        while (!atomic_load(&S.stop) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&S.cv, &S.mu, &next);
        if (atomic_load(&S.stop))
            break;
        pthread_mutex_unlock(&S.mu);
        round_once();
        pthread_mutex_lock(&S.mu);
    }
    pthread_mutex_unlock(&S.mu);
    return NULL;
}

int rt_sampler_available(void)
{
    if (S.available < 0)
        S.available = rt_sread_init() == 0;
    return S.available;
}

static int start(void)
{
    if (!S.codes) {
        S.codes = calloc(CODE_CACHE, sizeof *S.codes);
        if (!S.codes)
            return LOONG_ENOMEM;
    }
    S.interp = PyThreadState_Get()->interp;
#if !RT_PY_311
    S.pthread_tid_off =
        find_tid_offset(pthread_self(), (pid_t)syscall(SYS_gettid));
#endif
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&S.cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_store(&S.stop, 0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = rt_own_thread_create(&S.th, NULL, sampler_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&S.cv);
        return LOONG_ENOMEM;
    }
    S.running = 1;
    return 0;
}

void rt_sampler_stop(void)
{
    if (!S.running)
        return;
    pthread_mutex_lock(&S.mu);
    atomic_store(&S.stop, 1);
    pthread_cond_signal(&S.cv);
    pthread_mutex_unlock(&S.mu);
    if (PyGILState_Check()) {
        Py_BEGIN_ALLOW_THREADS
        pthread_join(S.th, NULL);
        Py_END_ALLOW_THREADS
    } else {
        pthread_join(S.th, NULL);
    }
    pthread_cond_destroy(&S.cv);
    S.running = 0;
}

/* With the interpreter lock and tk_lock: the sampler runs while a toolkit
 * holds LOONG_CAP_SAMPLES, as fast as the fastest one asked. */
int rt_sampler_update(void)
{
    uint32_t hz = 0;
    for (int k = 0; k < RT_MAX_TOOLKITS; k++) {
        loong_toolkit *tk = rt.tk[k];
        if (tk && tk->active && (tk->caps & LOONG_CAP_SAMPLES)) {
            if (!tk->sample_hz)
                tk->sample_hz = 100;
            if (tk->sample_hz > hz)
                hz = tk->sample_hz;
        }
    }
    if (!hz) {
        rt_sampler_stop();
        return 0;
    }
    if (!rt_sampler_available())
        return LOONG_ENOTSUP;
    S.period_ns = 1000000000ull / hz;
    return S.running ? 0 : start();
}

static int paused;

void rt_sampler_pause(void)
{
    paused = S.running;
    rt_sampler_stop();
}

void rt_sampler_resume(void)
{
    if (paused)
        start();
    paused = 0;
}

void rt_sampler_after_fork_child(void)
{
    /* the thread is not in the child; toolkits load anew and restart it */
    S.running = 0;
    paused = 0;
    S.available = -1;
    memset(S.threads, 0, sizeof S.threads);
    if (S.codes)
        memset(S.codes, 0, CODE_CACHE * sizeof *S.codes);
    S.last_register = 0;
    memset(searched, 0, sizeof searched);
}
