/* What the function toolkit writes: interval points for the top functions
 * by self time, and at the end the call tree as collapsed stacks
 * (flamegraph.pl) and speedscope JSON. */
#include "function.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef fn_buf buf;

/* A TSV field: tabs and line breaks become spaces. */
static void put_field(buf *b, const char *s)
{
    for (; *s; s++) {
        char c = *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s;
        tk_put(b, &c, 1);
    }
}

/* ---- points ------------------------------------------------------------ */

typedef struct row {
    uint64_t self, total, calls, max;
    loong_code_id code;
} row;

static int by_self_desc(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->self < y->self ? 1 : x->self > y->self ? -1 : 0;
}

/* Every function that ran, most self time first: totals, or (since_report)
 * what changed since the last call with since_report, which it records.
 * Returns the count; *out is heap memory (NULL when out of memory). */
static size_t collect_rows(fn_state *st, row **out, int since_report)
{
    size_t cap = 1024, n = 0;
    row *rows = malloc(cap * sizeof *rows);
    for (uint32_t c = 0; rows && c < FN_MAX_CHUNKS; c++) {
        fn_func *chunk = atomic_load_explicit(
            (_Atomic(fn_func *) *)&st->funcs[c], memory_order_acquire);
        for (uint32_t i = 0; chunk && i < FN_CHUNK; i++) {
            fn_func *f = &chunk[i];
            uint64_t calls = fn_get(&f->s.calls), self = fn_get(&f->s.self_ns),
                     total = fn_get(&f->s.total_ns);
            const uint64_t *base = f->reported;
            static const uint64_t zero[3];
            if (!since_report)
                base = zero;
            if (calls == base[0] && self == base[1] && total == base[2])
                continue;
            if (n == cap) {
                row *nr = realloc(rows, cap * 2 * sizeof *rows);
                if (!nr)
                    break;
                rows = nr;
                cap *= 2;
            }
            rows[n++] = (row){self - base[1], total - base[2],
                              calls - base[0], fn_get(&f->s.max_ns),
                              (c << FN_CHUNK_BITS) | i};
            if (since_report) {
                f->reported[0] = calls;
                f->reported[1] = self;
                f->reported[2] = total;
            }
        }
    }
    if (rows)
        qsort(rows, n, sizeof *rows, by_self_desc);
    *out = rows;
    return rows ? n : 0;
}

void fn_emit_points(fn_state *st, uint64_t wall_ns)
{
    row *rows;
    size_t n = collect_rows(st, &rows, 1);
    if (!rows)
        return;
    row other = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        loong_code_info ci;
        if (i >= (size_t)st->top ||
            st->api->code_info(rows[i].code, &ci) < 0) {
            other.self += rows[i].self;
            other.total += rows[i].total;
            other.calls += rows[i].calls;
            if (rows[i].max > other.max)
                other.max = rows[i].max;
            continue;
        }
        char where[64];
        snprintf(where, sizeof where, "%d", ci.first_line);
        loong_tag tags[4] = {{"function", ci.qualname},
                             {"module", ci.module},
                             {"file", ci.filename},
                             {"line", where}};
        loong_field f[4] = {
            {fn_count_name(st), LOONG_FIELD_UINT, {.u = rows[i].calls}},
            {"total_us", LOONG_FIELD_FLOAT, {.f = rows[i].total / 1e3}},
            {"self_us", LOONG_FIELD_FLOAT, {.f = rows[i].self / 1e3}},
            {"max_us", LOONG_FIELD_FLOAT, {.f = rows[i].max / 1e3}},
        };
        loong_point p = {"loong_function", tags, 4, f, 4, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    if (n > (size_t)st->top) {
        loong_tag tags[1] = {{"function", "other"}};
        loong_field f[4] = {
            {fn_count_name(st), LOONG_FIELD_UINT, {.u = other.calls}},
            {"total_us", LOONG_FIELD_FLOAT, {.f = other.total / 1e3}},
            {"self_us", LOONG_FIELD_FLOAT, {.f = other.self / 1e3}},
            {"max_us", LOONG_FIELD_FLOAT, {.f = other.max / 1e3}},
        };
        loong_point p = {"loong_function", tags, 1, f, 4, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
    free(rows);
    if (st->sample) {
        uint64_t run = atomic_load(&st->samples_running),
                 wait = atomic_load(&st->samples_waiting);
        loong_field f[2] = {
            {"running", LOONG_FIELD_UINT, {.u = run - st->reported_running}},
            {"waiting", LOONG_FIELD_UINT, {.u = wait - st->reported_waiting}},
        };
        st->reported_running = run;
        st->reported_waiting = wait;
        loong_point p = {"loong_function_samples", NULL, 0, f, 2, wall_ns};
        st->api->emit_point(st->tk, &p);
    }
}

/* function.tsv: one line per function, most self time first:
 * calls, total_us, self_us, max_us, qualname, module, file, line. */
int fn_write_table(fn_state *st)
{
    row *rows;
    buf b = {0};
    size_t n = collect_rows(st, &rows, 0);
    if (!rows)
        return LOONG_ENOMEM;
    tk_puts(&b, fn_count_name(st));
    tk_puts(&b, "\ttotal_us\tself_us\tmax_us\tfunction\tmodule\tfile\tline\n");
    for (size_t i = 0; i < n; i++) {
        loong_code_info ci;
        if (st->api->code_info(rows[i].code, &ci) < 0)
            continue;
        tk_putf(&b, "%llu\t%.3f\t%.3f\t%.3f\t", (unsigned long long)rows[i].calls,
             rows[i].total / 1e3, rows[i].self / 1e3, rows[i].max / 1e3);
        put_field(&b, ci.qualname);
        tk_put(&b, "\t", 1);
        put_field(&b, ci.module);
        tk_put(&b, "\t", 1);
        put_field(&b, ci.filename);
        tk_putf(&b, "\t%d\n", ci.first_line);
    }
    int rc = b.oom ? LOONG_ENOMEM
                   : st->api->write_file(st->tk, "function.tsv", b.p, b.len);
    free(b.p);
    free(rows);
    return rc;
}

/* ---- profiles ------------------------------------------------------------ */

/* A node's self time in whole microseconds; at least 1 when it ran at all,
 * so every call path appears in the profiles. */
static uint64_t self_us_of(fn_state *st, uint32_t i)
{
    fn_node *nd = fn_node_at(st, i);
    uint64_t ns = fn_get(&nd->s.self_ns);
    if (!ns && !fn_get(&nd->s.calls))
        return 0;
    return ns < 1000 ? 1 : (ns + 500) / 1000;
}

/* Root-first path of node i into path[]; returns its length. */
static int path_of(fn_state *st, uint32_t i, loong_code_id *path, int max)
{
    int n = 0;
    while (i && n < max) {
        fn_node *nd = fn_node_at(st, i);
        path[n++] = nd->code;
        i = nd->parent;
    }
    for (int a = 0, b = n - 1; a < b; a++, b--) {
        loong_code_id t = path[a];
        path[a] = path[b];
        path[b] = t;
    }
    return n;
}

/* function.collapsed: "frame;frame;frame SELF_MICROSECONDS" per path. */
int fn_write_collapsed(fn_state *st)
{
    buf b = {0};
    uint32_t n = atomic_load_explicit(&st->nnodes, memory_order_acquire);
    loong_code_id path[FN_MAX_DEPTH];
    for (uint32_t i = 1; i < n; i++) {
        uint64_t self_us = self_us_of(st, i);
        if (!self_us)
            continue;
        int len = path_of(st, i, path, FN_MAX_DEPTH);
        for (int k = 0; k < len; k++) {
            loong_code_info ci;
            if (k)
                tk_put(&b, ";", 1);
            if (st->api->code_info(path[k], &ci) == 0)
                tk_put_frame(&b, &ci);
            else
                tk_put(&b, "?", 1);
        }
        tk_putf(&b, " %llu\n", (unsigned long long)self_us);
    }
    int rc = b.oom ? LOONG_ENOMEM
                   : st->api->write_file(st->tk, "function.collapsed",
                                         b.p ? b.p : "", b.len);
    free(b.p);
    return rc;
}

/* function.speedscope.json: a "sampled" profile whose samples are the call
 * paths and whose weights are their self time in microseconds. */
int fn_write_speedscope(fn_state *st)
{
    buf b = {0}, samples = {0}, weights = {0};
    uint32_t n = atomic_load_explicit(&st->nnodes, memory_order_acquire);
    fn_idmap frames = {0};
    loong_code_id path[FN_MAX_DEPTH];
    uint64_t sum = 0;
    tk_puts(&b, "{\"$schema\": \"https://www.speedscope.app/file-format-schema"
              ".json\",\n \"exporter\": \"loong function\",\n"
              " \"shared\": {\"frames\": [");
    int first_sample = 1;
    for (uint32_t i = 1; i < n && !b.oom; i++) {
        uint64_t self_us = self_us_of(st, i);
        if (!self_us)
            continue;
        int len = path_of(st, i, path, FN_MAX_DEPTH);
        tk_puts(&samples, first_sample ? "[" : ", [");
        for (int k = 0; k < len; k++) {
            int fresh;
            uint32_t fi = fn_idmap_get(&frames, path[k], &fresh);
            if (!fi) {
                b.oom = 1;
                break;
            }
            if (fresh) {
                loong_code_info ci;
                if (st->api->code_info(path[k], &ci) < 0)
                    ci = (loong_code_info){"?", "", "?", 0, 0};
                tk_puts(&b, fi > 1 ? ",\n  {\"name\": " : "\n  {\"name\": ");
                tk_put_json_str(&b, ci.qualname);
                tk_puts(&b, ", \"file\": ");
                tk_put_json_str(&b, ci.filename);
                tk_putf(&b, ", \"line\": %d}", ci.first_line);
            }
            tk_putf(&samples, k ? ", %u" : "%u", fi - 1);
        }
        tk_puts(&samples, "]");
        tk_putf(&weights, first_sample ? "%llu" : ", %llu",
             (unsigned long long)self_us);
        sum += self_us;
        first_sample = 0;
    }
    tk_puts(&b, "]},\n \"profiles\": [{\"type\": \"sampled\", \"name\": "
              "\"function (trace)\", \"unit\": \"microseconds\", "
              "\"startValue\": 0, ");
    tk_putf(&b, "\"endValue\": %llu,\n  \"samples\": [",
         (unsigned long long)sum);
    if (samples.p)
        tk_put(&b, samples.p, samples.len);
    tk_puts(&b, "],\n  \"weights\": [");
    if (weights.p)
        tk_put(&b, weights.p, weights.len);
    tk_puts(&b, "]}]}\n");
    int rc = b.oom || samples.oom || weights.oom
                 ? LOONG_ENOMEM
                 : st->api->write_file(st->tk, "function.speedscope.json",
                                       b.p, b.len);
    free(b.p);
    free(samples.p);
    free(weights.p);
    fn_idmap_free(&frames);
    return rc;
}
