/* mem toolkit: memory use over time, and where memory is allocated.
 *
 * Gauges (every tick): the process's RSS, PSS, USS (smaps_rollup, where
 * readable) and virtual size, the interpreter's block count and gc
 * figures, the gc pauses of the interval (sum and longest), pymalloc's
 * arenas, pools and blocks and the free lists (api->allocator_stats), the
 * interned strings (3.12+) and glibc's heap (mallinfo2), as one loong_mem
 * point. With types=N, the top N types of gc-tracked objects by
 * bytes every types_every (loong_mem_type points).
 *
 * With alloc=yes: sampled allocations (LOONG_CAP_ALLOCATIONS), kept by
 * address while alive and summed by stack (alloc.c in this folder):
 * loong_mem_alloc points per interval and, at the end, mem.alloc.collapsed
 * and mem.live.collapsed. With alloc_frees=yes also every free of the mem
 * and object domains is counted (LOONG_CAP_ALLOCATION_FREES): their
 * free_count_ fields, at a cost on every free.
 *
 * Threads: gc callbacks come under the interpreter lock (one at a time);
 * the tick on loong's thread reads the pause figures with atomics.
 */
#include "mem.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- gc pauses ---------------------------------------------------------- */

static void on_gc(void *state, const loong_gc_event *ev)
{
    mem_state *st = state;
    if (ev->kind == LOONG_GC_START) {
        st->gc_start_ns = ev->t_ns;
        return;
    }
    if (!st->gc_start_ns || ev->t_ns < st->gc_start_ns)
        return;
    uint64_t d = ev->t_ns - st->gc_start_ns;
    st->gc_start_ns = 0;
    atomic_fetch_add(&st->pause_sum_ns, d);
    atomic_fetch_add(&st->pauses, 1);
    uint64_t m = atomic_load(&st->pause_max_ns);
    while (d > m && !atomic_compare_exchange_weak(&st->pause_max_ns, &m, d))
        ;
}

/* ---- process figures ----------------------------------------------------- */

typedef struct proc_mem {
    int64_t rss, pss, uss, vms; /* bytes; -1 when not read */
} proc_mem;

static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* "Key:   1234 kB" in an smaps-like text, in bytes; -1 if absent. */
static int64_t kb_field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (!strncmp(p, key, kl) && p[kl] == ':')
            return strtoll(p + kl + 1, NULL, 10) * 1024;
    }
    return -1;
}

static void read_proc(proc_mem *m)
{
    char buf[4096];
    m->rss = m->pss = m->uss = m->vms = -1;
    long page = sysconf(_SC_PAGESIZE);
    if (read_small("/proc/self/statm", buf, sizeof buf) > 0) {
        long long size, res;
        if (sscanf(buf, "%lld %lld", &size, &res) == 2) {
            m->vms = size * page;
            m->rss = res * page;
        }
    }
    if (read_small("/proc/self/smaps_rollup", buf, sizeof buf) > 0) {
        int64_t rss = kb_field(buf, "Rss"), pss = kb_field(buf, "Pss");
        int64_t pc = kb_field(buf, "Private_Clean");
        int64_t pd = kb_field(buf, "Private_Dirty");
        if (rss >= 0)
            m->rss = rss;
        m->pss = pss;
        if (pc >= 0 && pd >= 0)
            m->uss = pc + pd;
    }
}

/* ---- figures read within a budget ------------------------------------------ */

#define BUDGET_FACTOR 100             /* 1% of the time */
#define BUDGET_MAX_NS 100000000ull    /* one read over 100 ms: off */

static int budget_due(const mem_budget *b, uint64_t now, int final)
{
    return b->on && (final || now >= b->next_ns);
}

static void budget_spent(mem_state *st, mem_budget *b, const char *what,
                         uint64_t now, uint64_t took)
{
    b->next_ns = now + BUDGET_FACTOR * took;
    if (took > BUDGET_MAX_NS) {
        b->on = 0;
        st->api->log(st->tk, LOONG_LOG_WARNING, "%s off for the rest of "
                     "the run: one read held a lock for %.1f ms (over "
                     "%.0f ms)", what, (double)took / 1e6,
                     (double)BUDGET_MAX_NS / 1e6);
    }
}

/* ---- the C library's heap --------------------------------------------------- */

/* glibc's struct mallinfo2 (2.33+), declared here so that the toolkit
 * builds against any C library and finds the function when it runs. */
typedef struct libc_mallinfo2 {
    size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks,
        uordblks, fordblks, keepcost;
} libc_mallinfo2;
typedef libc_mallinfo2 (*mallinfo2_fn)(void);

/* glibc's mallinfo2, only when the process's malloc is glibc's: a malloc
 * put in front of it (jemalloc, tcmalloc, a sanitizer) keeps its blocks
 * elsewhere, and glibc's figures would be about an unused heap. */
static void *find_mallinfo2(void)
{
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (!libc)
        return NULL;
    void *fn = NULL;
    void *ours = dlsym(libc, "malloc");
    if (ours && ours == dlsym(RTLD_DEFAULT, "malloc"))
        fn = dlsym(libc, "mallinfo2");
    dlclose(libc); /* stays loaded */
    return fn;
}

typedef struct libc_heap {
    int64_t used, free, mmap; /* bytes; -1 when not read */
} libc_heap;

/* mallinfo2 walks the free chunks of every arena, with that arena's lock
 * held (threads that allocate meanwhile wait): about 0.15 us per free
 * chunk, 65 ms for half a million. */
static void read_libc(mem_state *st, libc_heap *lh, uint64_t t0)
{
    libc_mallinfo2 mi = ((mallinfo2_fn)st->mallinfo2)();
    uint64_t took = st->api->now_ns() - t0;
    lh->used = (int64_t)(mi.uordblks + mi.hblkhd);
    lh->free = (int64_t)mi.fordblks;
    lh->mmap = (int64_t)mi.hblkhd;
    budget_spent(st, &st->libc, "libc heap figures (mallinfo2)", t0, took);
}

/* ---- points ---------------------------------------------------------------- */

static void add_i(loong_field *f, size_t *n, const char *key, int64_t v)
{
    if (v < 0)
        return; /* not known here: left out */
    f[*n] = (loong_field){key, LOONG_FIELD_INT, {.i = v}};
    (*n)++;
}

static void emit_gauges(mem_state *st, uint64_t t_ns, uint64_t wall_ns,
                        int final)
{
    static const char *count_keys[3] = {"gc_count_0", "gc_count_1",
                                        "gc_count_2"};
    static const char *coll_keys[3] = {"gc_collections_0",
                                       "gc_collections_1",
                                       "gc_collections_2"};
    static const char *dom_allocs[3] = {"alloc_count_raw", "alloc_count_mem",
                                        "alloc_count_obj"};
    static const char *dom_bytes[3] = {"alloc_bytes_raw", "alloc_bytes_mem",
                                       "alloc_bytes_obj"};
    static const char *dom_frees[3] = {"free_count_raw", "free_count_mem",
                                       "free_count_obj"};
    proc_mem pm;
    read_proc(&pm);
    loong_memory_stats ms;
    memset(&ms, 0xff, sizeof ms);
    if (st->api->memory_stats(&ms, sizeof ms) < 0)
        memset(&ms, 0xff, sizeof ms);
    loong_allocator_stats as;
    memset(&as, 0xff, sizeof as);
    if (budget_due(&st->pymalloc, t_ns, final)) {
        if (st->api->allocator_stats(&as, sizeof as) < 0)
            memset(&as, 0xff, sizeof as);
        else if (as.held_ns >= 0)
            budget_spent(st, &st->pymalloc, "pymalloc figures", t_ns,
                         (uint64_t)as.held_ns);
    }
    libc_heap lh = {-1, -1, -1};
    if (budget_due(&st->libc, t_ns, final))
        read_libc(st, &lh, st->api->now_ns());
    loong_field f[80];
    size_t n = 0;
    add_i(f, &n, "rss_bytes", pm.rss);
    add_i(f, &n, "pss_bytes", pm.pss);
    add_i(f, &n, "uss_bytes", pm.uss);
    add_i(f, &n, "vms_bytes", pm.vms);
    add_i(f, &n, "allocated_blocks", ms.allocated_blocks);
    add_i(f, &n, "interned_strings", ms.interned_strings);
    int64_t collected = -1, uncollectable = -1;
    for (int g = 0; g < 3; g++) {
        add_i(f, &n, count_keys[g], ms.gc_count[g]);
        add_i(f, &n, coll_keys[g], ms.gc_collections[g]);
        if (ms.gc_collected[g] >= 0)
            collected = (collected < 0 ? 0 : collected) + ms.gc_collected[g];
        if (ms.gc_uncollectable[g] >= 0)
            uncollectable = (uncollectable < 0 ? 0 : uncollectable) +
                            ms.gc_uncollectable[g];
    }
    add_i(f, &n, "gc_collected", collected);
    add_i(f, &n, "gc_uncollectable", uncollectable);
    uint64_t sum = atomic_exchange(&st->pause_sum_ns, 0);
    uint64_t max = atomic_exchange(&st->pause_max_ns, 0);
    uint64_t cnt = atomic_exchange(&st->pauses, 0);
    add_i(f, &n, "gc_pauses", (int64_t)cnt);
    add_i(f, &n, "gc_pause_us", (int64_t)(sum / 1000));
    add_i(f, &n, "gc_pause_max_us", (int64_t)(max / 1000));
    for (int d = 0; d < 3; d++) {
        add_i(f, &n, dom_allocs[d], ms.domain_allocs[d]);
        add_i(f, &n, dom_bytes[d], ms.domain_alloc_bytes[d]);
        add_i(f, &n, dom_frees[d], ms.domain_frees[d]);
    }
    add_i(f, &n, "pymalloc_arenas", as.pymalloc_arenas);
    add_i(f, &n, "pymalloc_arenas_highwater", as.pymalloc_arenas_highwater);
    add_i(f, &n, "pymalloc_arenas_allocated", as.pymalloc_arenas_allocated);
    add_i(f, &n, "pymalloc_arenas_reclaimed", as.pymalloc_arenas_reclaimed);
    add_i(f, &n, "pymalloc_arena_bytes", as.pymalloc_arena_bytes);
    add_i(f, &n, "pymalloc_pools", as.pymalloc_pools);
    add_i(f, &n, "pymalloc_unused_pools", as.pymalloc_unused_pools);
    add_i(f, &n, "pymalloc_blocks", as.pymalloc_blocks);
    add_i(f, &n, "pymalloc_allocated_bytes", as.pymalloc_allocated_bytes);
    add_i(f, &n, "pymalloc_available_bytes", as.pymalloc_available_bytes);
    if (as.pymalloc_unused_pools >= 0 && as.pymalloc_pool_size >= 0)
        add_i(f, &n, "pymalloc_unused_pool_bytes",
              as.pymalloc_unused_pools * as.pymalloc_pool_size);
    add_i(f, &n, "pymalloc_pool_header_bytes", as.pymalloc_pool_header_bytes);
    add_i(f, &n, "pymalloc_quantization_bytes",
          as.pymalloc_quantization_bytes);
    add_i(f, &n, "pymalloc_alignment_bytes", as.pymalloc_alignment_bytes);
    add_i(f, &n, "pymalloc_arena_map_bytes", as.pymalloc_arena_map_bytes);
    add_i(f, &n, "freelist_float", as.freelist_float);
    add_i(f, &n, "freelist_list", as.freelist_list);
    add_i(f, &n, "freelist_dict", as.freelist_dict);
    add_i(f, &n, "freelist_dict_keys", as.freelist_dict_keys);
    add_i(f, &n, "freelist_tuple", as.freelist_tuple);
    add_i(f, &n, "freelist_frame", as.freelist_frame);
    add_i(f, &n, "freelist_cfunction", as.freelist_cfunction);
    add_i(f, &n, "freelist_method", as.freelist_method);
    add_i(f, &n, "freelist_bytes", as.freelist_bytes);
    if (as.held_ns >= 0)
        add_i(f, &n, "allocator_stats_us", as.held_ns / 1000);
    add_i(f, &n, "libc_heap_bytes", lh.used);
    add_i(f, &n, "libc_heap_free_bytes", lh.free);
    add_i(f, &n, "libc_heap_mmap_bytes", lh.mmap);
    if (st->alloc) {
        uint64_t at, lv;
        mem_alloc_totals(st, &at, &lv);
        add_i(f, &n, "sampled_alloc_bytes", (int64_t)at);
        add_i(f, &n, "sampled_live_bytes", (int64_t)lv);
    }
    loong_point p = {"loong_mem", NULL, 0, f, n, wall_ns};
    st->api->emit_point(st->tk, &p);
}

static void emit_types(mem_state *st, uint64_t wall_ns)
{
    loong_type_counts *tc = NULL;
    int rc = st->api->type_counts((size_t)st->types, &tc);
    if (rc < 0 || !tc) {
        st->api->log(st->tk, LOONG_LOG_WARNING, "type counts: %s",
                     st->api->strerror(rc));
        return;
    }
    for (size_t i = 0; i < tc->ntypes; i++) {
        loong_tag t = {"type", tc->types[i].type_name};
        loong_field f[2] = {
            {"count", LOONG_FIELD_INT, {.i = tc->types[i].count}},
            {"bytes", LOONG_FIELD_INT, {.i = tc->types[i].bytes}},
        };
        loong_point p = {"loong_mem_type", &t, 1, f, 2, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    st->api->free(tc);
}

static void on_tick(void *state, const loong_tick_event *ev)
{
    mem_state *st = state;
    int final = (ev->flags & LOONG_TICK_FINAL) != 0;
    emit_gauges(st, ev->t_ns, ev->wall_ns, final);
    if (st->types > 0 &&
        (final || !st->types_last_ns ||
         ev->t_ns - st->types_last_ns >= st->types_every_ns)) {
        st->types_last_ns = ev->t_ns;
        emit_types(st, ev->wall_ns);
    }
    if (st->alloc)
        mem_alloc_tick(st, ev->wall_ns, final);
}

/* ---- options ------------------------------------------------------------- */

/* "60", "60s", "500ms", "5m" -> nanoseconds; 0 when malformed. */
static uint64_t parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return 0;
    double mult = 1e9;
    if (!strcmp(end, "ms"))
        mult = 1e6;
    else if (!strcmp(end, "m"))
        mult = 60e9;
    else if (*end && strcmp(end, "s"))
        return 0;
    return (uint64_t)(v * mult);
}

/* "524288", "512KiB", "512k", "1MiB", "1M" -> bytes; 0 when malformed. */
static uint64_t parse_bytes(const char *s)
{
    char *end;
    if (*s < '0' || *s > '9')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    static const struct { const char *suffix; uint64_t mult; } units[] = {
        {"", 1}, {"B", 1}, {"k", 1024}, {"K", 1024}, {"KB", 1024},
        {"KiB", 1024}, {"m", 1 << 20}, {"M", 1 << 20}, {"MB", 1 << 20},
        {"MiB", 1 << 20}, {"G", 1u << 30}, {"GB", 1u << 30},
        {"GiB", 1u << 30},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].suffix))
            return v > UINT64_MAX / units[i].mult ? 0 : v * units[i].mult;
    return 0;
}

static int parse_yesno(const char *s)
{
    if (!strcmp(s, "yes") || !strcmp(s, "1") || !strcmp(s, "true"))
        return 1;
    if (!strcmp(s, "no") || !strcmp(s, "0") || !strcmp(s, "false"))
        return 0;
    return -1;
}

static int mem_load(loong_toolkit *tk, const loong_api *api,
                    const loong_options *opts)
{
    (void)opts;
    if (api->minor < 2) {
        api->log(tk, LOONG_LOG_ERROR, "needs loong's toolkit ABI 1.2");
        return LOONG_ENOTSUP;
    }
    const char *types_s = api->option(tk, "types", "0");
    const char *every_s = api->option(tk, "types_every", "60s");
    const char *alloc_s = api->option(tk, "alloc", "no");
    const char *mean_s = api->option(tk, "alloc_mean", "512KiB");
    const char *frees_s = api->option(tk, "alloc_frees", "no");
    const char *top_s = api->option(tk, "top", "10");
    const char *max_s = api->option(tk, "max_stacks", "10000");
    const char *pym_s = api->option(tk, "pymalloc", "yes");
    const char *libc_s = api->option(tk, "libc", "yes");
    char *e1, *e2, *e3;
    long types = strtol(types_s, &e1, 10);
    long top = strtol(top_s, &e2, 10);
    long maxst = strtol(max_s, &e3, 10);
    uint64_t every = parse_duration(every_s);
    int alloc = parse_yesno(alloc_s);
    int frees = parse_yesno(frees_s);
    int pymalloc = parse_yesno(pym_s);
    int libc = parse_yesno(libc_s);
    uint64_t mean = parse_bytes(mean_s);
    if (*e1 || *types_s == '\0' || types < 0 || types > 1000 || !every ||
        every < 1000000000ull / 10 || alloc < 0 || !mean || *e2 ||
        *top_s == '\0' || top < 1 || top > 1000 || *e3 || *max_s == '\0' ||
        maxst < 1 || maxst > 1000000 || pymalloc < 0 || libc < 0 ||
        frees < 0) {
        api->log(tk, LOONG_LOG_ERROR, "bad option: types=%s (0-1000) "
                 "types_every=%s (a duration: 60s, 500ms, 5m; at least "
                 "100ms) alloc=%s (yes or no) alloc_mean=%s (bytes: 512KiB, "
                 "1MiB, 65536) top=%s (1-1000) max_stacks=%s (1-1000000) "
                 "pymalloc=%s (yes or no) libc=%s (yes or no) "
                 "alloc_frees=%s (yes or no)",
                 types_s, every_s, alloc_s, mean_s, top_s, max_s, pym_s,
                 libc_s, frees_s);
        return LOONG_EOPTION;
    }
    if (frees && !alloc) {
        api->log(tk, LOONG_LOG_ERROR, "alloc_frees=yes counts frees while "
                 "allocations are sampled: it needs alloc=yes");
        return LOONG_EOPTION;
    }
    if (frees && !(api->potential_capabilities() &
                   LOONG_CAP_ALLOCATION_FREES)) {
        api->log(tk, LOONG_LOG_ERROR, "alloc_frees=yes: this runtime "
                 "cannot count every free");
        return LOONG_ENOTSUP;
    }
    if (alloc && !(api->potential_capabilities() & LOONG_CAP_ALLOCATIONS)) {
        api->log(tk, LOONG_LOG_ERROR, "alloc=yes: this runtime cannot "
                 "sample allocations");
        return LOONG_ENOTSUP;
    }
    mem_state *st = calloc(1, sizeof *st);
    if (!st)
        return LOONG_ENOMEM;
    st->tk = tk;
    st->api = api;
    st->types = (int)types;
    st->types_every_ns = every;
    st->alloc = alloc;
    st->top = (int)top;
    st->max_stacks = (size_t)maxst;
    st->pymalloc.on = pymalloc && api->minor >= 3;
    st->mallinfo2 = libc ? find_mallinfo2() : NULL;
    st->libc.on = st->mallinfo2 != NULL;
    pthread_mutex_init(&st->lock, NULL);
    loong_callbacks cb = {0};
    cb.gc = on_gc;
    cb.tick = on_tick;
    uint32_t caps = LOONG_CAP_GC | LOONG_CAP_TICK;
    if (alloc) {
        cb.allocation = mem_on_allocation;
        caps |= LOONG_CAP_ALLOCATIONS;
        if (frees)
            caps |= LOONG_CAP_ALLOCATION_FREES;
    }
    int rc;
    if ((rc = api->set_state(tk, st)) < 0 ||
        (rc = api->set_callbacks(tk, &cb, sizeof cb)) < 0 ||
        (rc = api->add_capabilities(tk, caps)) < 0 ||
        (alloc && (rc = api->set_allocation_sampling(tk, mean)) < 0)) {
        pthread_mutex_destroy(&st->lock);
        free(st);
        return rc;
    }
    return 0;
}

static void mem_unload(loong_toolkit *tk, void *state)
{
    (void)tk;
    mem_state *st = state;
    mem_alloc_free(st);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static const loong_option_def options[] = {
    {"types", "0", "top N types of gc-tracked objects by bytes (0: off; "
                   "costly: walks the heap)"},
    {"types_every", "60s", "how often the types are counted"},
    {"alloc", "no", "yes: sample allocations, with their Python stacks"},
    {"alloc_mean", "512KiB", "mean bytes between allocation samples"},
    {"alloc_frees", "no", "alloc: yes counts every free of the mem and "
                          "object domains too (free_count_mem, _obj; costs "
                          "a call on every free)"},
    {"top", "10", "alloc: functions per interval point, the rest as "
                  "'other'"},
    {"max_stacks", "10000", "alloc: distinct stacks kept (the rest as one "
                            "'[other stacks]')"},
    {"pymalloc", "yes", "pymalloc's arenas, pools and blocks and the free "
                        "lists (walks the arenas, lock held: 1-10 ms per "
                        "GB; at most 1% of the time)"},
    {"libc", "yes", "glibc's heap (mallinfo2: walks its free chunks, "
                    "malloc's lock held; at most 1% of the time)"},
    {NULL, NULL, NULL},
};

static const loong_toolkit_def def = {
    LOONG_TOOLKIT_DEF_HEADER,
    .name = "mem",
    .version = "0.1",
    .summary = "memory over time (RSS, heap, gc) and where it is allocated",
    .options = options,
    .load = mem_load,
    .unload = mem_unload,
};

LOONG_TOOLKIT(def);
