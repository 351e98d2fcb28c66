/* The runtime's internal state, shared by its files. Built once per CPython
 * minor version; everything version-specific is behind the helpers in
 * pycompat.h. Prefix: rt_ for internal functions. */
#ifndef LOONG_RUNTIME_RT_H
#define LOONG_RUNTIME_RT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/sink.h"
#include "common/spec.h"
#include "loong/loong.h"

#define RT_MAX_TOOLKITS 16 /* bits of the per-code toolkit mask */
#define RT_MAX_FRAMES 256

/* One loaded toolkit. */
struct loong_toolkit {
    int slot;                  /* index in rt.tk, bit in code masks */
    int active;                /* events are dispatched to it */
    void *handle;              /* dlopen handle */
    const loong_toolkit_def *def;
    char path[PATH_MAX];
    tk_spec spec;              /* name as given and options */
    loong_options options;     /* view of spec.opts for the toolkit */
    void *state;
    loong_callbacks cb;        /* copy, zero-filled past cb_size */
    uint32_t caps;
    char *include;             /* filter, comma-separated globs */
    char *exclude;
    uint64_t loaded_wall_ns;
    uint32_t sample_hz;        /* LOONG_CAP_SAMPLES rate */
    uint64_t alloc_mean;       /* LOONG_CAP_ALLOCATIONS mean interval */
    uint64_t sample_next_ns;   /* sampler thread only */
};

/* One Python thread as loong knows it. */
typedef struct rt_thread {
    loong_thread_id id;
    uint64_t native_id;
} rt_thread;

typedef struct rt_state {
    int started;
    pid_t pid;
    int interval_ms;
    char out_root[PATH_MAX];   /* LOONG_OUT */
    char proc_dir[PATH_MAX];   /* LOONG_OUT/PROGRAM-PID */
    char program[256];
    char host[256];
    char pid_str[24];
    char toolkit_path[4 * PATH_MAX];
    char sink_str[PATH_MAX + 16];
    lsink_spec sink_spec;
    lsink *sink;
    lbuf *buf;
    atomic_uint_fast64_t sink_dropped;
    uint64_t start_wall_ns;

    /* toolkits: modified under the interpreter lock AND tk_lock; events
     * read them under the interpreter lock, ticks under tk_lock. */
    pthread_mutex_t tk_lock;
    loong_toolkit *tk[RT_MAX_TOOLKITS];
    uint32_t caps_on;          /* union of active toolkits' capabilities */
    unsigned generation;       /* bumped when toolkits or filters change */

    /* flusher */
    pthread_t flusher;
    int flusher_running;
    int wake_fd[2];            /* pipe: wakes the flusher; SIGTERM writes */
    atomic_int stop_flusher;
    int sigterm_installed;
} rt_state;

extern rt_state rt;
extern const loong_api rt_api;

/* module.c */
int rt_start(void);            /* idempotent; reads the environment */
void rt_shutdown(const char *why);

/* module.c, for `loong attach`: start with this configuration instead of
 * the environment's (LOONG_TOOLKITS is not read); detach: shut down as at
 * exit and let go of everything that can be let go (docs/attach.md). */
typedef struct rt_config {
    const char *out;           /* absolute; required */
    const char *sink;          /* NULL: dir */
    const char *toolkit_path;  /* NULL: the folder next to the runtime */
    int interval_ms;
} rt_config;
int rt_start_with(const rt_config *cfg);
void rt_detach(void);

/* control.c: the control socket and its thread */
int rt_control_start(void);    /* 0, 1 if already serving, or -errno */
void rt_control_stop(void);    /* thread joined, socket removed */
void rt_control_pause(void);   /* before fork: thread joined, socket kept */
void rt_control_resume(void);
void rt_control_after_fork_child(void);

/* toolkits.c */
int rt_toolkit_load(const char *spec_text, char *err, size_t errlen);
int rt_toolkit_unload(const char *name, char *err, size_t errlen);
void rt_toolkits_unload_all(void);
loong_toolkit *rt_toolkit_by_name(const char *name);
int rt_recompute_hooks(void);
void rt_toolkits_after_fork_child(void);

/* codes.c: code identities and filters */
void rt_codes_init(void);
/* Identity and toolkit mask of a code object, computed once per code (and
 * again after toolkits change). globals may be NULL. */
uint32_t rt_code_lookup(PyCodeObject *co, PyObject *globals, uint32_t *mask);

/* The same, inline for the event path when the cached value is current:
 * co_extra read directly (its layout is stable since 3.6). */
typedef struct rt_code_extra_block {
    Py_ssize_t ce_size;
    void *ce_extras[1];
} rt_code_extra_block;
extern Py_ssize_t rt_extra_index;
static inline uint32_t rt_code_lookup_fast(PyCodeObject *co,
                                           PyObject *globals, uint32_t *mask)
{
    const rt_code_extra_block *e = (const rt_code_extra_block *)co->co_extra;
    Py_ssize_t i = rt_extra_index;
    if (e && i >= 0 && i < e->ce_size) {
        uint64_t v = (uintptr_t)e->ce_extras[i];
        if (v && ((v >> 32) & 0xffff) == (rt.generation & 0xffff)) {
            *mask = (uint32_t)(v >> 48);
            return (uint32_t)v;
        }
    }
    return rt_code_lookup(co, globals, mask);
}
int rt_code_info(loong_code_id id, loong_code_info *out);
/* Identity and mask of a C callable (builtin or method descriptor); 0 for
 * anything else. */
uint32_t rt_c_lookup(PyObject *callable, uint32_t *mask);
int rt_filter_set(loong_toolkit *tk, const char *include, const char *exclude);
/* Whether tk's filter accepts the identity (any thread, under tk_lock). */
int rt_code_accepts(const loong_toolkit *tk, uint32_t id);
long rt_codes_extra_index(void); /* the co_extra slot; -1 before init */

/* exceptions.c: exception events on every version */
void rt_exc_dispatch(int kind, PyCodeObject *co, PyObject *globals, int line,
                     PyTypeObject *type, PyObject *value, struct _frame *f,
                     uint64_t serial);
uint64_t rt_exc_new_serial(PyObject *exc); /* a new raise, by identity */
uint64_t rt_exc_serial_of(PyObject *exc);  /* its raise number, or 0 */
void rt_exc_note_unwind(PyObject *exc, struct _frame *f, uint64_t serial);
/* Non-zero (the raise number, or -1) when exc arriving in f is the one
 * that just unwound into it. */
uint64_t rt_exc_propagated(PyObject *exc, struct _frame *f);
void rt_exc_trace_all(int on);  /* below 3.12: the C trace hook */
void rt_exc_trace_thread(void); /* ...on the calling new thread */
int rt_exc_tracing(void);
/* sample_read.c (it sees the frame's internal layout on 3.11) */
void rt_frame_no_lines(void *frame);

/* memstats.c: api->memory_stats, api->type_counts, api->allocator_stats */
int rt_memory_stats(loong_memory_stats *out, size_t out_size);
int rt_type_counts(size_t max, loong_type_counts **out);
int rt_allocator_stats(loong_allocator_stats *out, size_t out_size);
/* alloc.c: blocks and bytes allocated, and blocks freed, per domain while
 * wrapped (-1 when the allocators are not wrapped) */
void rt_alloc_totals(int64_t allocs[3], int64_t bytes[3], int64_t frees[3]);
/* alloc.c: our object-domain wrapper out of the way (1) for pymalloc's
 * statistics, then back; interpreter lock held throughout */
int rt_alloc_lift_obj(PyMemAllocatorEx *saved);
void rt_alloc_unlift_obj(PyMemAllocatorEx *saved);
/* alloc.c: wrap or restore the allocators to match the capabilities (from
 * rt_hooks_update, interpreter lock and tk_lock held) */
int rt_alloc_update(uint32_t caps);

/* sampler.c: stack samples of every thread, without the lock */
int rt_sampler_available(void);
int rt_sampler_update(void);    /* start/stop/retune to match toolkits */
void rt_sampler_stop(void);
void rt_sampler_pause(void);    /* before fork */
void rt_sampler_resume(void);
void rt_sampler_after_fork_child(void);
uint64_t rt_sampler_rounds(void);
uint64_t rt_sampler_locked(void); /* times it took the interpreter lock */
uint64_t rt_sampler_locked_us(uint64_t *max_us); /* held: total, longest */
uint64_t rt_sampler_unnamed(void); /* frames or samples given up */
void rt_sampler_flush(void);       /* samples waiting for names: out */
void rt_sampler_flush_locked(void); /* the same, tk_lock held */

/* own_threads.c: loong's own threads (flusher, sampler, control socket),
 * each with one thread state for its whole life (pthread_create's
 * arguments) */
int rt_own_thread_create(pthread_t *th, const pthread_attr_t *attr,
                         void *(*fn)(void *), void *arg);
int rt_own_tstate(const PyThreadState *ts); /* one of theirs: skip it */
void rt_own_after_fork_child(void);

/* threads.c */
rt_thread *rt_thread_current(void);     /* with the interpreter lock */
/* The calling thread's, once known: the event path's inline shortcut. The
 * initial-exec model makes it one load instead of a __tls_get_addr call. */
extern _Thread_local rt_thread *rt_tls_thread
    __attribute__((tls_model("initial-exec")));
static inline rt_thread *rt_thread_current_fast(void)
{
    rt_thread *t = rt_tls_thread;
    return t ? t : rt_thread_current();
}
void rt_threads_register_all(void);     /* existing threads */
void rt_threads_after_fork_child(void);

/* hooks.c: the event sources */
int rt_hooks_update(uint32_t caps);     /* install/remove to match caps */
void rt_hooks_remove_all(void);
uint32_t rt_hooks_potential(void);
void rt_hooks_periodic(void);           /* flusher, without the lock */
void rt_dispatch_thread(int kind, rt_thread *th);

/* pipeline.c */
int rt_pipeline_start(void);
void rt_pipeline_stop(int final);
int rt_emit(loong_toolkit *tk, const loong_point *p);
void rt_pipeline_after_fork_child(void);
void rt_pipeline_pause(void);           /* before fork: flusher joined */
void rt_pipeline_resume(void);
void rt_pipeline_flush_now(void);
void rt_pipeline_tick_soon(void);       /* after a live load: tick early */
void rt_pipeline_close_sink(void);
void rt_pipeline_release(void);         /* detach: buffer and pipe freed */
int rt_write_file(const char *name, const void *data, size_t len);
int rt_write_file_raw(const char *name, const void *data, size_t len);

/* meta.c */
int rt_meta_write(const char *exit_reason);
void rt_log(loong_toolkit *tk, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rt_process_dir_init(void);
void rt_meta_note_unloaded(const loong_toolkit *tk);
void rt_meta_after_fork_child(void);

extern atomic_int rt_suspended; /* hooks do nothing while set */
extern int rt_no_gil;           /* never wait for the interpreter lock */
extern uint64_t rt_hook_calls;  /* call events that reached loong */

/* stacks.c */
int rt_current_stack(loong_frame *frames, size_t max);
int rt_threads_stacks(size_t max_frames, loong_stacks **out);

/* code_search.c: name code objects a sample saw, found through the modules
 * their frames ran in (interpreter lock held). Sorts want by code and sets
 * each one's named. */
typedef struct rt_code_want {
    const void *code;          /* as read by the sampler: maybe stale */
    const void *globals;       /* the frame's globals, compared only */
    int first_line;
    int named;                 /* out */
} rt_code_want;
void rt_codes_search(rt_code_want *want, size_t n);

/* clock.c */
uint64_t rt_now_ns(void);      /* monotonic; TSC-based once calibrated */

/* The TSC conversion clock.c publishes (rt_conv_ready), for the inline
 * rt_now_ns_fast of the event path. */
typedef struct rt_tsc_conv {
    uint64_t tsc_base;
    uint64_t ns_base;
    uint64_t mult; /* ns per tick, 32.32 fixed point */
} rt_tsc_conv;
extern rt_tsc_conv rt_conv;
extern atomic_int rt_conv_ready;

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t rt_tsc_ns(void)
{
    uint64_t d = __rdtsc() - rt_conv.tsc_base;
    return rt_conv.ns_base +
           (uint64_t)(((unsigned __int128)d * rt_conv.mult) >> 32);
}
static inline uint64_t rt_now_ns_fast(void)
{
    if (atomic_load_explicit(&rt_conv_ready, memory_order_acquire))
        return rt_tsc_ns();
    return rt_now_ns();
}
#else
#define rt_now_ns_fast rt_now_ns
#endif
uint64_t rt_wall_ns(void);
void rt_clock_calibrate(void); /* flusher: at start and every wake-up */
int rt_clock_is_tsc(void);

#endif
