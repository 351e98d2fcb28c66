/* loong: the tool interface.
 *
 * This is the only header a toolkit includes. A toolkit never includes
 * Python.h and never calls the CPython API: everything it learns about the
 * interpreter comes through the loong_api table the runtime hands it, which
 * is why one toolkit binary loads into every supported CPython.
 *
 * A toolkit is a shared object exporting one symbol, LOONG_TOOLKIT_ENTRY,
 * that returns a pointer to a static loong_toolkit_def. Loading at start-up
 * (`loong run`) and loading into a running process (`loong load`) take the
 * same path:
 *
 *   1. the runtime checks def->abi_major == LOONG_ABI_MAJOR and
 *      def->abi_minor <= LOONG_ABI_MINOR, and refuses the toolkit otherwise;
 *   2. it checks the options given against def->options;
 *   3. it calls def->load(tk, api, options); the toolkit keeps tk and api,
 *      asks for capabilities, sets a filter and registers its callbacks;
 *   4. events arrive; every interval the tick callback runs;
 *   5. at unload or process exit, a last tick with LOONG_TICK_FINAL, then
 *      def->unload(tk, state).
 *
 * Threads: event callbacks run on the application thread that caused them,
 * with the interpreter lock held, so two event callbacks never run at once.
 * tick runs on loong's own native thread, concurrently with events: share
 * data between them with atomics or a mutex. Callbacks must not block and
 * must not call back into loong_api functions documented as "not from
 * callbacks".
 *
 * See docs/writing-a-toolkit.md for a walk-through, and
 * src/toolkits/example/example.c for a complete toolkit.
 */
#ifndef LOONG_LOONG_H
#define LOONG_LOONG_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LOONG_EXPORT __attribute__((visibility("default")))
#define LOONG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LOONG_EXPORT
#define LOONG_PRINTF(f, a)
#endif

/* ---- identities ------------------------------------------------------ */

/* A code identity: one per distinct Python function (qualified name, file
 * and first line). Stable for the life of the process, never 0, valid after
 * the code object itself is gone. Resolve it with api->code_info. */
typedef uint32_t loong_code_id;

/* A thread identity assigned by loong: small, never 0, never reused within
 * a process. The main thread is 1. */
typedef uint32_t loong_thread_id;

/* ---- capabilities ---------------------------------------------------- */

/* Ask for what you need with api->add_capabilities. A capability that no
 * loaded toolkit holds costs nothing: its interpreter hook is not installed. */
enum loong_capability {
    LOONG_CAP_CALLS = 1u << 0,      /* Python function start/return/... */
    LOONG_CAP_C_CALLS = 1u << 1,    /* C functions called from Python */
    LOONG_CAP_EXCEPTIONS = 1u << 2, /* raised/handled/unwound */
    LOONG_CAP_THREADS = 1u << 3,    /* thread start/end */
    LOONG_CAP_GC = 1u << 4,         /* collection start/end */
    LOONG_CAP_TICK = 1u << 5,       /* periodic tick on loong's thread */
    LOONG_CAP_SAMPLES = 1u << 6,    /* stack samples of every thread (1.1) */
    /* reserved: their events have slots in loong_callbacks already */
    LOONG_CAP_GREENLETS = 1u << 16,
    LOONG_CAP_COROUTINES = 1u << 17,
    /* 1.2: sampled allocations of the Python allocators (see below) */
    LOONG_CAP_ALLOCATIONS = 1u << 18,
    /* 1.4: with LOONG_CAP_ALLOCATIONS, count every free of the mem and
     * object domains too (memory_stats' domain_frees). Without it they
     * are not wrapped where pymalloc serves them alone, the cheaper way,
     * and their domain_frees are -1. */
    LOONG_CAP_ALLOCATION_FREES = 1u << 19,
};

/* ---- events ---------------------------------------------------------- */

enum loong_call_kind {
    LOONG_CALL_START = 1,  /* a Python frame starts */
    LOONG_CALL_RESUME = 2, /* a generator/coroutine frame resumes */
    LOONG_CALL_RETURN = 3, /* a Python frame returns */
    LOONG_CALL_YIELD = 4,  /* a generator/coroutine frame suspends */
    LOONG_CALL_UNWIND = 5, /* a Python frame exits with an exception */
    LOONG_CALL_C_START = 6,  /* a C function starts (LOONG_CAP_C_CALLS) */
    LOONG_CALL_C_RETURN = 7, /* a C function returns or raises */
};

typedef struct loong_call_event {
    int kind;               /* enum loong_call_kind */
    loong_code_id code;     /* for C calls: identity of the C function */
    loong_thread_id thread;
    uint64_t t_ns;          /* monotonic clock, as api->now_ns() */
} loong_call_event;

enum loong_exception_kind {
    LOONG_EXC_RAISED = 1,  /* raised or re-raised in a Python frame */
    LOONG_EXC_HANDLED = 2, /* caught by an except clause */
    LOONG_EXC_UNWOUND = 3, /* left a Python frame */
};

typedef struct loong_exception_event {
    int kind;                /* enum loong_exception_kind */
    loong_code_id code;      /* the frame where it happened */
    loong_thread_id thread;
    uint64_t t_ns;
    const char *type_name;   /* qualified type, e.g. "builtins.KeyError" */
    int line;                /* line in code, or 0 if unknown */
    /* 1.2 (read only when api->minor >= 2) */
    const char *message;     /* str of its first argument when that is a
                                str, at most 255 bytes of UTF-8; else "" */
    int outermost;           /* UNWOUND: uncaught, it leaves the __main__
                                module or a thread's run() (delivered
                                whatever the filter) */
    uint64_t serial;         /* RAISED: a number for this raise, never 0;
                                HANDLED, UNWOUND: the raise they are about
                                (0 if it was raised before loading) */
} loong_exception_event;

enum loong_thread_kind { LOONG_THREAD_START = 1, LOONG_THREAD_END = 2 };

typedef struct loong_thread_event {
    int kind;                 /* enum loong_thread_kind */
    loong_thread_id thread;
    uint64_t native_id;       /* the kernel's thread id */
    uint64_t t_ns;
} loong_thread_event;

enum loong_gc_kind { LOONG_GC_START = 1, LOONG_GC_END = 2 };

typedef struct loong_gc_event {
    int kind;                 /* enum loong_gc_kind */
    int generation;
    int64_t collected;        /* at LOONG_GC_END, else 0 */
    int64_t uncollectable;    /* at LOONG_GC_END, else 0 */
    uint64_t t_ns;
} loong_gc_event;

enum loong_tick_flags {
    LOONG_TICK_FINAL = 1u << 0, /* last tick: write your files now */
};

typedef struct loong_tick_event {
    uint64_t t_ns;            /* monotonic */
    uint64_t wall_ns;         /* nanoseconds since the Unix epoch */
    unsigned flags;           /* enum loong_tick_flags */
} loong_tick_event;

typedef struct loong_frame {
    loong_code_id code;
    int line;              /* current line, or 0 if unknown */
} loong_frame;

/* In threads_stacks: whether the thread is on a CPU now. In a sample:
 * RUNNING when the thread used at least a tenth of the span on a CPU (a
 * runnable thread on a busy machine still gets that), else WAITING
 * (sleeping, blocked in I/O, or waiting for the interpreter lock). */
enum loong_thread_state {
    LOONG_THREAD_RUNNING = 1,
    LOONG_THREAD_WAITING = 2,
};

/* A stack sample of one thread, taken on loong's sampler thread without
 * stopping the program (LOONG_CAP_SAMPLES, at the rate set with
 * api->set_sample_rate). One event per thread that has Python frames, for
 * every round of samples. */
typedef struct loong_sample_event {
    uint64_t t_ns;            /* monotonic, when this round started */
    loong_thread_id thread;   /* 0 if loong has not seen the thread yet */
    uint64_t native_id;       /* the kernel's thread id */
    int state;                /* enum loong_thread_state, above */
    uint64_t wall_ns;         /* since this thread's previous sample */
    uint64_t cpu_ns;          /* the thread's CPU time over that span */
    size_t nframes;
    const loong_frame *frames; /* innermost first, filtered; line is 0 */
} loong_sample_event;

/* Sampled allocations (LOONG_CAP_ALLOCATIONS, 1.2). loong wraps the
 * allocators in place (raw, mem, object domains), samples by bytes (a
 * Poisson process with the mean interval set by set_allocation_sampling,
 * so a block of n bytes is sampled with probability 1 - exp(-n/mean)),
 * and reports each sampled block, then its free. Unsampled blocks cost a
 * counter. Where pymalloc serves the mem and object domains alone, their
 * sampled blocks may come from the raw allocator (see
 * LOONG_CAP_ALLOCATION_FREES): the event's domain is still the one the
 * program called. The callback runs on the allocating thread, possibly WITHOUT the
 * interpreter lock (raw domain): it must not block and must not call
 * loong_api functions other than clocks, code_info and emit_point. */
enum loong_alloc_kind { LOONG_ALLOC_SAMPLED = 1, LOONG_ALLOC_FREED = 2 };
enum loong_alloc_domain {
    LOONG_DOMAIN_RAW = 0,
    LOONG_DOMAIN_MEM = 1,
    LOONG_DOMAIN_OBJ = 2,
};

typedef struct loong_allocation_event {
    int kind;                 /* enum loong_alloc_kind */
    int domain;               /* enum loong_alloc_domain */
    uint64_t address;         /* the block, until its FREED event */
    uint64_t size;            /* requested bytes (SAMPLED) */
    uint64_t weight;          /* SAMPLED: the bytes this sample stands for,
                                 an unbiased estimate: size / P(sampled) */
    loong_thread_id thread;   /* 0 if unknown (no interpreter lock) */
    uint64_t t_ns;
    size_t nframes;           /* SAMPLED: the Python stack, innermost */
    const loong_frame *frames; /* first; 0 frames without the lock */
} loong_allocation_event;

/* Callbacks: set the ones you want, leave the others NULL, and register the
 * struct with api->set_callbacks(tk, &cb, sizeof cb). Fields are only ever
 * appended, so a toolkit built against an older header still works. */
typedef struct loong_callbacks {
    void (*call)(void *state, const loong_call_event *ev);
    void (*exception)(void *state, const loong_exception_event *ev);
    void (*thread)(void *state, const loong_thread_event *ev);
    void (*gc)(void *state, const loong_gc_event *ev);
    void (*tick)(void *state, const loong_tick_event *ev);
    /* reserved for greenlet switch and coroutine suspend/resume; keep
     * NULL */
    void (*reserved_greenlet)(void *state, const void *ev);
    void (*reserved_coroutine)(void *state, const void *ev);
    /* 1.2: LOONG_CAP_ALLOCATIONS, on the allocating thread */
    void (*allocation)(void *state, const loong_allocation_event *ev);
    /* 1.1: on loong's sampler thread, concurrently with events and tick */
    void (*sample)(void *state, const loong_sample_event *ev);
} loong_callbacks;

/* ---- functional API data --------------------------------------------- */

typedef struct loong_code_info {
    const char *qualname;  /* "Class.method", or "<module>" */
    const char *module;    /* "package.module", or "" if unknown */
    const char *filename;  /* as the code object has it */
    int first_line;
    int is_c_function;     /* a builtin seen through LOONG_CAP_C_CALLS */
} loong_code_info;

typedef struct loong_thread_stack {
    loong_thread_id thread;   /* 0 if loong has not seen it run yet */
    uint64_t native_id;
    uint64_t python_id;       /* threading.get_ident() */
    int state;                /* enum loong_thread_state */
    int is_main;
    size_t nframes;
    loong_frame *frames;      /* innermost first */
} loong_thread_stack;

/* Returned by api->threads_stacks; free with api->free. */
typedef struct loong_stacks {
    uint64_t t_ns;
    size_t nthreads;
    loong_thread_stack *threads;
} loong_stacks;

/* The interpreter's memory figures (api->memory_stats, 1.2); -1 where this
 * version does not expose a figure. */
typedef struct loong_memory_stats {
    int64_t allocated_blocks;    /* sys.getallocatedblocks() */
    int64_t gc_count[3];         /* gc.get_count(): pending per generation */
    int64_t gc_collections[3];   /* gc.get_stats() per generation */
    int64_t gc_collected[3];
    int64_t gc_uncollectable[3];
    int64_t gc_objects;          /* objects tracked by gc */
    int64_t interned_strings;    /* entries of the interned-strings table:
                                    sys.getunicodeinternedsize(), 3.12+ */
    /* from the allocator wrappers while LOONG_CAP_ALLOCATIONS is held:
     * blocks and bytes allocated since, per domain (frees not subtracted);
     * the raw domain's include the big blocks the mem and object
     * allocators take from it */
    int64_t domain_allocs[3];
    int64_t domain_alloc_bytes[3];
    /* 1.3: frees of blocks through each domain since then (of any block,
     * also those allocated before; a realloc that moves or resizes a block
     * counts as a free and an allocation), so domain_allocs - domain_frees
     * is the change in the number of blocks held through the domain. The
     * mem and object domains' are -1 unless a toolkit holds
     * LOONG_CAP_ALLOCATION_FREES (1.4) or pymalloc is not alone there */
    int64_t domain_frees[3];
} loong_memory_stats;

/* pymalloc's arenas, pools and blocks and the interpreter's free lists
 * (api->allocator_stats, 1.3), as CPython's own allocator statistics
 * (sys._debugmallocstats) count them. -1 where not known: every pymalloc_
 * figure is -1 when pymalloc does not serve the object domain
 * (PYTHONMALLOC=malloc, tracemalloc or another tool's allocator hook on
 * top); a free list is -1 where this CPython does not expose its size. */
typedef struct loong_allocator_stats {
    int64_t pymalloc_arenas;            /* arenas allocated now */
    int64_t pymalloc_arenas_highwater;  /* most arenas at once */
    int64_t pymalloc_arenas_allocated;  /* arenas allocated since start */
    int64_t pymalloc_arenas_reclaimed;  /* ... and given back since */
    int64_t pymalloc_arena_size;        /* bytes per arena */
    int64_t pymalloc_arena_bytes;       /* arenas * arena_size */
    int64_t pymalloc_pool_size;         /* bytes per pool */
    int64_t pymalloc_pools;             /* pools holding blocks */
    int64_t pymalloc_unused_pools;      /* empty or not yet carved */
    int64_t pymalloc_blocks;            /* blocks in use */
    int64_t pymalloc_allocated_bytes;   /* bytes of blocks in use */
    int64_t pymalloc_available_bytes;   /* free blocks in used pools */
    int64_t pymalloc_pool_header_bytes;
    int64_t pymalloc_quantization_bytes; /* the unusable ends of pools */
    int64_t pymalloc_alignment_bytes;   /* arenas aligned to pools */
    int64_t pymalloc_arena_map_bytes;   /* the radix tree (3.10+) */
    /* objects kept in the interpreter's free lists for reuse */
    int64_t freelist_float;
    int64_t freelist_list;
    int64_t freelist_dict;
    int64_t freelist_dict_keys;
    int64_t freelist_tuple;             /* all lengths */
    int64_t freelist_frame;
    int64_t freelist_cfunction;
    int64_t freelist_method;
    int64_t freelist_bytes;             /* all the free lists read */
    /* how long this call held the interpreter lock (the program waited) */
    int64_t held_ns;
} loong_allocator_stats;

/* One type's share of the gc-tracked objects (api->type_counts, 1.2). */
typedef struct loong_type_count {
    const char *type_name;     /* "module.Qualname"; valid until freed */
    int64_t count;
    int64_t bytes;             /* sum of sys.getsizeof-like shallow sizes */
} loong_type_count;

typedef struct loong_type_counts {
    size_t ntypes;
    loong_type_count *types;   /* most bytes first */
} loong_type_counts;

/* A point: InfluxDB line protocol. The runtime escapes every name and value
 * and adds the tags host, program and pid. */
enum loong_field_type {
    LOONG_FIELD_FLOAT = 1,
    LOONG_FIELD_INT = 2,
    LOONG_FIELD_UINT = 3,
    LOONG_FIELD_BOOL = 4,
    LOONG_FIELD_STRING = 5,
};

typedef struct loong_tag {
    const char *key;
    const char *value;
} loong_tag;

typedef struct loong_field {
    const char *key;
    int type; /* enum loong_field_type */
    union {
        double f;
        int64_t i;
        uint64_t u;
        int b;
        const char *s;
    } v;
} loong_field;

typedef struct loong_point {
    const char *measurement;
    const loong_tag *tags;
    size_t ntags;
    const loong_field *fields;
    size_t nfields;           /* at least 1 */
    uint64_t wall_ns;         /* 0: now */
} loong_point;

/* Options given to the toolkit, already checked against def->options. */
typedef struct loong_option {
    const char *key;
    const char *value;
} loong_option;

typedef struct loong_options {
    size_t count;
    const loong_option *items;
} loong_options;

enum loong_log_level {
    LOONG_LOG_DEBUG = 10,
    LOONG_LOG_INFO = 20,
    LOONG_LOG_WARNING = 30,
    LOONG_LOG_ERROR = 40,
};

/* The handle of one loaded toolkit, owned by the runtime. */
typedef struct loong_toolkit loong_toolkit;

/* ---- the function table ---------------------------------------------- */

/* Only ever grows at the end. Check api->minor (or api->size) before using a
 * function added after the minor you were built against. */
typedef struct loong_api {
    uint32_t major;           /* LOONG_ABI_MAJOR of the runtime */
    uint32_t minor;           /* LOONG_ABI_MINOR of the runtime */
    size_t size;              /* sizeof(loong_api) in the runtime */

    /* errors */
    const char *(*strerror)(int err);

    /* registration (from load only) */
    int (*set_state)(loong_toolkit *tk, void *state);
    int (*set_callbacks)(loong_toolkit *tk, const loong_callbacks *cb,
                         size_t cb_size);
    /* Capabilities this interpreter can give (a mask of loong_capability). */
    uint32_t (*potential_capabilities)(void);
    /* LOONG_ENOTSUP if any asked capability is not available here. */
    int (*add_capabilities)(loong_toolkit *tk, uint32_t caps);
    int (*relinquish_capabilities)(loong_toolkit *tk, uint32_t caps);
    /* Globs separated by ',' or '|' matched against the module name and
     * the file path; NULL or "" means no restriction. Code excluded for every toolkit
     * costs nothing after its first call on 3.12+. */
    int (*set_filter)(loong_toolkit *tk, const char *include,
                      const char *exclude);
    /* The value of an option, or def if it was not given. */
    const char *(*option)(loong_toolkit *tk, const char *key,
                          const char *def);

    /* code identities (any thread, no interpreter lock needed) */
    int (*code_info)(loong_code_id code, loong_code_info *out);

    /* stacks and threads */
    /* The calling thread's Python stack, innermost first; from event
     * callbacks only. Returns the number of frames written, or an error. */
    int (*current_stack)(loong_frame *frames, size_t max);
    /* Every thread's stack, taken consistently (under the interpreter
     * lock); the program's threads, not loong's own. From tick or from an
     * event callback. Free with api->free. */
    int (*threads_stacks)(size_t max_frames, loong_stacks **out);

    /* clocks */
    uint64_t (*now_ns)(void);        /* monotonic */
    uint64_t (*wall_ns)(void);       /* since the Unix epoch */
    uint64_t (*thread_cpu_ns)(void); /* CPU time of the calling thread */
    uint64_t (*process_cpu_ns)(void);

    /* output */
    /* Queue a point for the sink; never blocks. LOONG_EFULL when dropped. */
    int (*emit_point)(loong_toolkit *tk, const loong_point *point);
    /* Write a file (a profile, a log) into this process's output folder,
     * atomically. name is a plain file name such as "function.collapsed". */
    int (*write_file)(loong_toolkit *tk, const char *name, const void *data,
                      size_t len);
    /* The process's output folder, for information. */
    const char *(*output_dir)(void);
    void (*log)(loong_toolkit *tk, int level, const char *fmt, ...)
        LOONG_PRINTF(3, 4);

    /* memory handed out by the runtime */
    void (*free)(void *ptr);

    /* ---- 1.1 ---- */
    /* Samples per second for LOONG_CAP_SAMPLES, 1 to 10000 (default 100);
     * from load only. */
    int (*set_sample_rate)(loong_toolkit *tk, uint32_t hz);

    /* ---- 1.2 ---- */
    /* Mean bytes between allocation samples for LOONG_CAP_ALLOCATIONS
     * (default 512 KiB, at least 1); from load only. */
    int (*set_allocation_sampling)(loong_toolkit *tk, uint64_t mean_bytes);
    /* The interpreter's memory figures; takes the interpreter lock briefly
     * when called without it. From tick or event callbacks. */
    int (*memory_stats)(loong_memory_stats *out, size_t out_size);
    /* The top max types of gc-tracked objects by bytes: walks the heap
     * under the interpreter lock (costly: seconds on big heaps). From tick.
     * Free with api->free. */
    int (*type_counts)(size_t max, loong_type_counts **out);

    /* ---- 1.3 ---- */
    /* pymalloc's arenas, pools and blocks and the free lists; takes the
     * interpreter lock briefly when called without it and walks every
     * pymalloc arena (1-3 ms per GB of small objects on 3.10+, 7-10 ms on
     * 3.8-3.9). From tick or event callbacks. */
    int (*allocator_stats)(loong_allocator_stats *out, size_t out_size);
} loong_api;

/* ---- the toolkit definition ------------------------------------------ */

typedef struct loong_option_def {
    const char *key;
    const char *default_value; /* shown by `loong toolkits`; may be NULL */
    const char *help;
} loong_option_def;

typedef struct loong_toolkit_def {
    uint32_t abi_major;        /* LOONG_ABI_MAJOR */
    uint32_t abi_minor;        /* LOONG_ABI_MINOR */
    size_t size;               /* sizeof(loong_toolkit_def) */
    const char *name;          /* [a-z0-9_]+ */
    const char *version;
    const char *summary;       /* one line */
    const loong_option_def *options; /* ends with {NULL, NULL, NULL} */
    /* Set up; register callbacks. A negative return refuses the load and
     * the runtime undoes whatever the toolkit registered. */
    int (*load)(loong_toolkit *tk, const loong_api *api,
                const loong_options *options);
    /* Release everything; state is what set_state registered. Called
     * after the final tick, with no event callback running. */
    void (*unload)(loong_toolkit *tk, void *state);
} loong_toolkit_def;

#define LOONG_TOOLKIT_ENTRY loong_toolkit_entry
#define LOONG_TOOLKIT_ENTRY_NAME "loong_toolkit_entry"
typedef const loong_toolkit_def *(*loong_toolkit_entry_fn)(void);

/* Declared here, inside extern "C", so a C++ toolkit exports it unmangled. */
LOONG_EXPORT const loong_toolkit_def *LOONG_TOOLKIT_ENTRY(void);

/* Put LOONG_TOOLKIT(my_def); once in a toolkit. */
#define LOONG_TOOLKIT(def)                                                 \
    LOONG_EXPORT const loong_toolkit_def *LOONG_TOOLKIT_ENTRY(void)        \
    {                                                                      \
        return &(def);                                                     \
    }

/* Fill abi_major, abi_minor and size of a loong_toolkit_def. */
#define LOONG_TOOLKIT_DEF_HEADER                                           \
    .abi_major = LOONG_ABI_MAJOR, .abi_minor = LOONG_ABI_MINOR,            \
    .size = sizeof(loong_toolkit_def)

#ifdef __cplusplus
}
#endif

#endif /* LOONG_LOONG_H */
