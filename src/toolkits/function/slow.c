/* Slow calls: a call longer than the threshold (`slow=50ms`) is kept with
 * its timestamp, thread and the calls it made, so a slow request reads top
 * to bottom.
 *
 * Each thread keeps a ring of its last completed calls (code, depth, start,
 * duration) in completion order; when a slow call completes, the entries
 * after its start and deeper than it are its callees. Kept: the first
 * FN_SLOW_MAX slow calls, then only counted; each with at most
 * FN_SLOW_CHILDREN callees (the latest ones, if it made more). */
#include "function.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN_RING 4096 /* completed calls remembered per thread */
#define FN_SLOW_MAX 1000
#define FN_SLOW_CHILDREN 200

typedef struct ring_entry {
    loong_code_id code;
    uint32_t depth;
    uint64_t start, dur;
} ring_entry;

typedef struct fn_ring {
    ring_entry e[FN_RING];
    uint64_t n; /* entries ever written */
} fn_ring;

typedef struct slow_call {
    loong_code_id code;
    loong_thread_id thread;
    uint32_t depth;
    uint64_t wall_ns, dur;
    uint32_t nchildren;
    int truncated;
    ring_entry *children; /* in completion order */
} slow_call;

struct fn_slow {
    uint64_t threshold_ns;
    fn_ring *rings[FN_MAX_THREADS];
    slow_call calls[FN_SLOW_MAX];
    _Atomic uint32_t ncalls; /* published after a record is complete */
    uint64_t over;            /* slow calls not kept */
    uint64_t wall_offset;     /* wall_ns - now_ns at load */
};

fn_slow *fn_slow_new(uint64_t threshold_ns, uint64_t wall_offset)
{
    fn_slow *s = calloc(1, sizeof *s);
    if (s) {
        s->threshold_ns = threshold_ns;
        s->wall_offset = wall_offset;
    }
    return s;
}

void fn_slow_free(fn_slow *s)
{
    if (!s)
        return;
    for (int i = 0; i < FN_MAX_THREADS; i++)
        free(s->rings[i]);
    uint32_t n = atomic_load(&s->ncalls);
    for (uint32_t i = 0; i < n; i++)
        free(s->calls[i].children);
    free(s);
}

/* A call completed on thread th at depth (0 = outermost kept frame). */
void fn_slow_completed(fn_slow *s, loong_thread_id th, loong_code_id code,
                       uint32_t depth, uint64_t start, uint64_t dur)
{
    if (th >= FN_MAX_THREADS)
        return;
    fn_ring *r = s->rings[th];
    if (!r && !(r = s->rings[th] = calloc(1, sizeof *r)))
        return;
    if (dur >= s->threshold_ns) {
        uint32_t n = atomic_load_explicit(&s->ncalls, memory_order_relaxed);
        if (n >= FN_SLOW_MAX) {
            s->over++;
        } else {
            slow_call *c = &s->calls[n];
            /* callees: walk back while entries started inside this call */
            uint64_t k = r->n, kept = 0;
            while (k > 0 && r->n - k < FN_RING) {
                ring_entry *e = &r->e[(k - 1) % FN_RING];
                if (e->start < start || e->depth <= depth)
                    break;
                k--;
                kept++;
            }
            c->truncated = k > 0 && r->n - k >= FN_RING;
            if (kept > FN_SLOW_CHILDREN) {
                k += kept - FN_SLOW_CHILDREN;
                kept = FN_SLOW_CHILDREN;
                c->truncated = 1;
            }
            c->children = kept ? malloc(kept * sizeof(ring_entry)) : NULL;
            c->nchildren = 0;
            for (uint64_t j = 0; c->children && j < kept; j++)
                c->children[c->nchildren++] = r->e[(k + j) % FN_RING];
            c->code = code;
            c->thread = th;
            c->depth = depth;
            c->wall_ns = start + s->wall_offset;
            c->dur = dur;
            atomic_store_explicit(&s->ncalls, n + 1, memory_order_release);
        }
    }
    r->e[r->n % FN_RING] = (ring_entry){code, depth, start, dur};
    r->n++;
}

void fn_slow_thread_end(fn_slow *s, loong_thread_id th)
{
    if (th < FN_MAX_THREADS) {
        free(s->rings[th]);
        s->rings[th] = NULL;
    }
}

static void json_code(FILE *f, const loong_api *api, loong_code_id code)
{
    loong_code_info ci;
    if (api->code_info(code, &ci) < 0)
        ci = (loong_code_info){"?", "", "?", 0, 0};
    fputs("\"function\": ", f);
    tk_json_str(f, ci.qualname);
    fputs(", \"module\": ", f);
    tk_json_str(f, ci.module);
    fputs(", \"file\": ", f);
    tk_json_str(f, ci.filename);
    fprintf(f, ", \"line\": %d", ci.first_line);
}

static int by_start(const void *a, const void *b)
{
    const ring_entry *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->depth > y->depth) - (x->depth < y->depth);
}

/* function.slow.jsonl: one JSON object per slow call, in the order they
 * ended, with its callees in call order, so the tree reads top to bottom
 * (depth relative to it, start offset and duration in microseconds). */
int fn_slow_write(fn_slow *s, fn_state *st)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return LOONG_ENOMEM;
    uint32_t n = atomic_load_explicit(&s->ncalls, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        slow_call *c = &s->calls[i];
        if (c->nchildren > 1)
            qsort(c->children, c->nchildren, sizeof(ring_entry), by_start);
        fprintf(f, "{\"wall_ns\": %llu, \"thread\": %u, \"duration_us\": %.3f, ",
                (unsigned long long)c->wall_ns, c->thread, c->dur / 1e3);
        json_code(f, st->api, c->code);
        fprintf(f, ", \"truncated\": %s, \"calls\": [",
                c->truncated ? "true" : "false");
        for (uint32_t j = 0; j < c->nchildren; j++) {
            ring_entry *e = &c->children[j];
            fprintf(f, "%s{\"depth\": %u, \"start_us\": %.3f, "
                       "\"duration_us\": %.3f, ",
                    j ? ", " : "", e->depth - c->depth,
                    (e->start - (c->wall_ns - s->wall_offset)) / 1e3,
                    e->dur / 1e3);
            json_code(f, st->api, e->code);
            fputc('}', f);
        }
        fputs("]}\n", f);
    }
    if (s->over)
        st->api->log(st->tk, LOONG_LOG_WARNING,
                     "%llu more slow calls were counted, not kept",
                     (unsigned long long)s->over);
    if (fclose(f) != 0) {
        free(text);
        return LOONG_ENOMEM;
    }
    int rc = st->api->write_file(st->tk, "function.slow.jsonl", text, len);
    free(text);
    return rc;
}
