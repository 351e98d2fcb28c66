/* mem toolkit, alloc=yes: sampled allocations by stack.
 *
 * Each SAMPLED event adds its weight (the bytes it stands for) to its
 * stack's allocated and live bytes and is kept by address; its FREED event
 * takes the weight off the live bytes again. Stacks are bounded by
 * max_stacks (further ones are summed in '[other stacks]').
 *
 * Allocation events come on any thread, with or without the interpreter
 * lock, concurrently with each other and with the tick: everything here is
 * under st->lock, held briefly. Memory is the C library's (never Python's:
 * the callback must not allocate through the allocators it observes).
 */
#include "mem.h"
#include "shared/tk_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static int sidx_grow(mem_state *st)
{
    size_t ncap = st->sidx_cap ? st->sidx_cap * 2 : 1024;
    uint32_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < st->sidx_cap; i++) {
        if (!st->sidx[i])
            continue;
        size_t j = st->stacks[st->sidx[i] - 1].hash & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = st->sidx[i];
    }
    free(st->sidx);
    st->sidx = n;
    st->sidx_cap = ncap;
    return 0;
}

/* The stack's index; 0 ('[other stacks]') when no room. */
static uint32_t stack_for(mem_state *st, const loong_frame *fr, size_t nf)
{
    if (!st->nstacks) { /* index 0: the bucket of the rest */
        st->stacks = calloc(64, sizeof *st->stacks);
        if (!st->stacks)
            return UINT32_MAX;
        st->capstacks = 64;
        st->nstacks = 1;
    }
    loong_code_id ids[256];
    if (nf > 256)
        nf = 256;
    for (size_t i = 0; i < nf; i++)
        ids[i] = fr[i].code;
    uint64_t h = fnv(14695981039346656037ull, ids, nf * sizeof ids[0]);
    if ((st->nstacks + 1) * 2 > st->sidx_cap && sidx_grow(st) < 0)
        return 0;
    size_t j = h & (st->sidx_cap - 1);
    for (; st->sidx[j]; j = (j + 1) & (st->sidx_cap - 1)) {
        mem_stack *s = &st->stacks[st->sidx[j] - 1];
        if (s->hash == h && s->nframes == nf &&
            !memcmp(s->frames, ids, nf * sizeof ids[0]))
            return st->sidx[j] - 1;
    }
    if (st->nstacks > st->max_stacks)
        return 0;
    if (st->nstacks == st->capstacks) {
        mem_stack *n = realloc(st->stacks, st->capstacks * 2 * sizeof *n);
        if (!n)
            return 0;
        st->stacks = n;
        st->capstacks *= 2;
    }
    mem_stack *s = &st->stacks[st->nstacks];
    memset(s, 0, sizeof *s);
    s->frames = malloc((nf ? nf : 1) * sizeof ids[0]);
    if (!s->frames)
        return 0;
    memcpy(s->frames, ids, nf * sizeof ids[0]);
    s->nframes = (uint32_t)nf;
    s->hash = h;
    st->sidx[j] = (uint32_t)st->nstacks + 1;
    return (uint32_t)st->nstacks++;
}

static inline size_t addr_slot(uint64_t a, size_t cap)
{
    return (size_t)(((a >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static int live_resize(mem_state *st, size_t ncap)
{
    mem_live *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < st->live_cap; i++) {
        if (st->live[i].addr <= 1)
            continue;
        size_t j = addr_slot(st->live[i].addr, ncap);
        while (n[j].addr)
            j = (j + 1) & (ncap - 1);
        n[j] = st->live[i];
    }
    free(st->live);
    st->live = n;
    st->live_cap = ncap;
    st->live_tomb = 0;
    return 0;
}

static mem_live *live_find(mem_state *st, uint64_t a)
{
    if (!st->live_cap)
        return NULL;
    size_t j = addr_slot(a, st->live_cap);
    for (; st->live[j].addr; j = (j + 1) & (st->live_cap - 1))
        if (st->live[j].addr == a)
            return &st->live[j];
    return NULL;
}

static void on_sampled(mem_state *st, const loong_allocation_event *ev)
{
    st->samples++;
    mem_live *old = live_find(st, ev->address);
    if (old) { /* its free was never seen (lost): the address is new now */
        mem_stack *s = &st->stacks[old->stack];
        s->live -= old->weight < s->live ? old->weight : s->live;
        st->total_live -= old->weight < st->total_live ? old->weight
                                                       : st->total_live;
        old->addr = 1;
        st->live_used--;
        st->live_tomb++;
    }
    uint32_t si = stack_for(st, ev->frames, ev->nframes);
    if (si == UINT32_MAX) {
        st->lost++;
        return;
    }
    if ((st->live_used + st->live_tomb + 1) * 2 > st->live_cap) {
        size_t ncap = st->live_cap ? st->live_cap : 1024;
        while ((st->live_used + 1) * 4 > ncap)
            ncap *= 2;
        if (live_resize(st, ncap) < 0) {
            st->lost++;
            return;
        }
    }
    size_t j = addr_slot(ev->address, st->live_cap);
    while (st->live[j].addr > 1)
        j = (j + 1) & (st->live_cap - 1);
    if (st->live[j].addr == 1)
        st->live_tomb--;
    st->live[j] = (mem_live){ev->address, ev->weight, si};
    st->live_used++;
    mem_stack *s = &st->stacks[si];
    s->alloc += ev->weight;
    s->live += ev->weight;
    st->total_alloc += ev->weight;
    st->total_live += ev->weight;
}

static void on_freed(mem_state *st, const loong_allocation_event *ev)
{
    mem_live *l = live_find(st, ev->address);
    if (!l)
        return;
    st->frees++;
    mem_stack *s = &st->stacks[l->stack];
    s->live -= l->weight < s->live ? l->weight : s->live;
    st->total_live -= l->weight < st->total_live ? l->weight : st->total_live;
    l->addr = 1;
    st->live_used--;
    st->live_tomb++;
}

void mem_on_allocation(void *state, const loong_allocation_event *ev)
{
    mem_state *st = state;
    pthread_mutex_lock(&st->lock);
    if (ev->kind == LOONG_ALLOC_SAMPLED)
        on_sampled(st, ev);
    else if (ev->kind == LOONG_ALLOC_FREED)
        on_freed(st, ev);
    pthread_mutex_unlock(&st->lock);
}

void mem_alloc_totals(mem_state *st, uint64_t *alloc, uint64_t *live)
{
    pthread_mutex_lock(&st->lock);
    *alloc = st->total_alloc;
    *live = st->total_live;
    pthread_mutex_unlock(&st->lock);
}

/* ---- output ---------------------------------------------------------------- */

typedef tk_buf buf;

/* "qualname (file:line)", no ';' nor line break inside. */
static void put_frame(mem_state *st, buf *b, loong_code_id id)
{
    loong_code_info ci;
    tk_put_frame(b, st->api->code_info(id, &ci) == 0 ? &ci : NULL);
}

/* One line per stack with bytes: root first, as collapsed stacks go. */
static int write_collapsed(mem_state *st, const char *file, int live)
{
    buf b = {0};
    char num[32];
    for (size_t i = 0; i < st->nstacks; i++) {
        mem_stack *s = &st->stacks[i];
        uint64_t v = live ? s->live : s->alloc;
        if (!v)
            continue;
        if (i == 0) {
            tk_put(&b, "[other stacks]", 14);
        } else if (!s->nframes) {
            tk_put(&b, "[no Python stack]", 17);
        } else {
            for (uint32_t k = s->nframes; k-- > 0;) {
                put_frame(st, &b, s->frames[k]);
                if (k)
                    tk_put(&b, ";", 1);
            }
        }
        int n = snprintf(num, sizeof num, " %llu\n", (unsigned long long)v);
        tk_put(&b, num, (size_t)n);
    }
    int rc = b.oom ? LOONG_ENOMEM
                   : st->api->write_file(st->tk, file, b.p ? b.p : "", b.len);
    free(b.p);
    return rc;
}

typedef struct leaf_row {
    loong_code_id leaf;
    uint64_t alloc, live;
} leaf_row;

static int by_leaf(const void *a, const void *b)
{
    const leaf_row *x = a, *y = b;
    return x->leaf < y->leaf ? -1 : x->leaf > y->leaf;
}

static int by_bytes_desc(const void *a, const void *b)
{
    const leaf_row *x = a, *y = b;
    uint64_t u = x->live + x->alloc, v = y->live + y->alloc;
    return u < v ? 1 : u > v ? -1 : 0;
}

/* loong_mem_alloc: per function where sampled blocks were allocated (the
 * innermost frame), the bytes allocated in the interval and alive now; the
 * top N named, the rest as function=other. */
static void emit_points(mem_state *st, uint64_t wall_ns)
{
    leaf_row *rows = malloc((st->nstacks ? st->nstacks : 1) * sizeof *rows);
    if (!rows)
        return;
    size_t k = 0;
    for (size_t i = 0; i < st->nstacks; i++) {
        mem_stack *s = &st->stacks[i];
        uint64_t d = s->alloc - s->reported;
        s->reported = s->alloc;
        if (!d && !s->live)
            continue;
        rows[k++] = (leaf_row){i && s->nframes ? s->frames[0] : 0, d,
                               s->live};
    }
    qsort(rows, k, sizeof *rows, by_leaf);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && rows[m - 1].leaf == rows[i].leaf) {
            rows[m - 1].alloc += rows[i].alloc;
            rows[m - 1].live += rows[i].live;
        } else {
            rows[m++] = rows[i];
        }
    }
    qsort(rows, m, sizeof *rows, by_bytes_desc);
    uint64_t other[2] = {0, 0};
    int named = 0;
    for (size_t i = 0; i < m; i++) {
        loong_code_info ci;
        if (named >= st->top || !rows[i].leaf ||
            st->api->code_info(rows[i].leaf, &ci) < 0) {
            other[0] += rows[i].alloc;
            other[1] += rows[i].live;
            continue;
        }
        named++;
        loong_tag tags[3] = {{"function", ci.qualname},
                             {"module", ci.module},
                             {"file", ci.filename}};
        loong_field f[2] = {
            {"alloc_bytes", LOONG_FIELD_UINT, {.u = rows[i].alloc}},
            {"live_bytes", LOONG_FIELD_UINT, {.u = rows[i].live}},
        };
        loong_point p = {"loong_mem_alloc", tags, 3, f, 2, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    if (other[0] || other[1]) {
        loong_tag tags[1] = {{"function", "other"}};
        loong_field f[2] = {
            {"alloc_bytes", LOONG_FIELD_UINT, {.u = other[0]}},
            {"live_bytes", LOONG_FIELD_UINT, {.u = other[1]}},
        };
        loong_point p = {"loong_mem_alloc", tags, 1, f, 2, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    free(rows);
}

void mem_alloc_tick(mem_state *st, uint64_t wall_ns, int final)
{
    pthread_mutex_lock(&st->lock);
    emit_points(st, wall_ns);
    if (final) {
        int rc = write_collapsed(st, "mem.alloc.collapsed", 0);
        if (rc == 0)
            rc = write_collapsed(st, "mem.live.collapsed", 1);
        if (rc < 0)
            st->api->log(st->tk, LOONG_LOG_ERROR, "writing mem.*.collapsed:"
                         " %s", st->api->strerror(rc));
        st->api->log(st->tk, LOONG_LOG_INFO, "%llu allocation samples, "
                     "%llu of them freed, %zu stacks, %llu not kept",
                     (unsigned long long)st->samples,
                     (unsigned long long)st->frees,
                     st->nstacks ? st->nstacks - 1 : 0,
                     (unsigned long long)st->lost);
    }
    pthread_mutex_unlock(&st->lock);
}

void mem_alloc_free(mem_state *st)
{
    for (size_t i = 0; i < st->nstacks; i++)
        free(st->stacks[i].frames);
    free(st->stacks);
    free(st->sidx);
    free(st->live);
    st->stacks = NULL;
    st->sidx = NULL;
    st->live = NULL;
    st->nstacks = st->sidx_cap = st->live_cap = 0;
}
