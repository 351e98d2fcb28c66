/* function.pb.gz: the call tree as a pprof profile (gzipped protobuf of
 * perftools.profiles.Profile), for `go tool pprof` and the tools that read
 * it. One sample per call path, leaf first, with two values: the calls
 * that ended there and their self time in nanoseconds. One function and
 * one location per Python function. */
#include "function.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef fn_buf pb;

static void pb_put(pb *b, const void *s, size_t n)
{
    tk_put(b, s, n);
}

static void pb_varint(pb *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    pb_put(b, tmp, n);
}

/* field with wire type 0 (varint) */
static void pb_uint(pb *b, unsigned field, uint64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

/* field with wire type 2 (bytes, string, message, packed) */
static void pb_bytes(pb *b, unsigned field, const void *p, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    pb_put(b, p, n);
}

static void pb_msg(pb *b, unsigned field, pb *m)
{
    pb_bytes(b, field, m->p, m->len);
    if (m->oom)
        b->oom = 1;
    m->len = 0;
}

/* The string table: index by insertion; lookups by a small linear cache
 * are enough because names are interned once per function. */
typedef struct strtab {
    pb out;        /* serialised string_table entries */
    uint64_t n;
} strtab;

static uint64_t str_add(strtab *t, const char *s)
{
    pb_bytes(&t->out, 6, s, strlen(s));
    return t->n++;
}

static int gzip_write(fn_state *st, const pb *raw)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return LOONG_ENOMEM;
    uLong cap = deflateBound(&z, raw->len) + 64;
    unsigned char *out = malloc(cap);
    int rc = LOONG_ENOMEM;
    if (out) {
        z.next_in = (unsigned char *)raw->p;
        z.avail_in = (uInt)raw->len;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END)
            rc = st->api->write_file(st->tk, "function.pb.gz", out,
                                     z.total_out);
        else
            rc = LOONG_EIO;
    }
    deflateEnd(&z);
    free(out);
    return rc;
}

int fn_write_pprof(fn_state *st, uint64_t start_wall_ns, uint64_t dur_ns)
{
    pb prof = {0}, m = {0}, packed = {0};
    strtab strs = {{0}, 0};
    uint32_t n = atomic_load_explicit(&st->nnodes, memory_order_acquire);
    fn_idmap ids = {0}; /* pprof function and location ids */
    loong_code_id path[FN_MAX_DEPTH];

    str_add(&strs, ""); /* index 0 is always "" */
    uint64_t s_calls = str_add(&strs, fn_count_name(st));
    uint64_t s_count = str_add(&strs, "count");
    uint64_t s_self = st->cpu ? str_add(&strs, "cpu") : str_add(&strs, "wall");
    uint64_t s_ns = str_add(&strs, "nanoseconds");

    /* sample_type: calls/count, wall|cpu/nanoseconds */
    pb_uint(&m, 1, s_calls);
    pb_uint(&m, 2, s_count);
    pb_msg(&prof, 1, &m);
    pb_uint(&m, 1, s_self);
    pb_uint(&m, 2, s_ns);
    pb_msg(&prof, 1, &m);

    pb functions = {0}, locations = {0}, fm = {0};
    for (uint32_t i = 1; i < n; i++) {
        fn_node *nd = fn_node_at(st, i);
        uint64_t calls = fn_get(&nd->s.calls);
        uint64_t self = fn_get(&nd->s.self_ns);
        if (!calls && !self)
            continue;
        int len = 0;
        for (uint32_t k = i; k && len < FN_MAX_DEPTH;
             k = fn_node_at(st, k)->parent)
            path[len++] = fn_node_at(st, k)->code; /* leaf first */
        for (int k = 0; k < len; k++) {
            loong_code_id c = path[k];
            int fresh;
            uint32_t id = fn_idmap_get(&ids, c, &fresh);
            if (!id) {
                prof.oom = 1;
                break;
            }
            if (fresh) {
                loong_code_info ci;
                if (st->api->code_info(c, &ci) < 0)
                    ci = (loong_code_info){"?", "", "?", 0, 0};
                /* Function {id, name, system_name, filename, start_line} */
                pb_uint(&fm, 1, id);
                uint64_t name = str_add(&strs, ci.qualname);
                pb_uint(&fm, 2, name);
                pb_uint(&fm, 3, name);
                pb_uint(&fm, 4, str_add(&strs, ci.filename));
                pb_uint(&fm, 5, (uint64_t)(int64_t)ci.first_line);
                pb_msg(&functions, 5, &fm);
                /* Location {id, line: [{function_id, line}]} */
                pb line = {0};
                pb_uint(&line, 1, id);
                pb_uint(&line, 2, (uint64_t)(int64_t)ci.first_line);
                pb_uint(&fm, 1, id);
                pb_msg(&fm, 4, &line);
                free(line.p);
                pb_msg(&locations, 4, &fm);
            }
            pb_varint(&packed, id);
        }
        /* Sample {location_id: packed, value: packed} */
        pb_bytes(&m, 1, packed.p, packed.len);
        packed.len = 0;
        pb_varint(&packed, calls);
        pb_varint(&packed, self);
        pb_bytes(&m, 2, packed.p, packed.len);
        packed.len = 0;
        pb_msg(&prof, 2, &m);
    }
    pb_put(&prof, locations.p, locations.len);
    pb_put(&prof, functions.p, functions.len);
    pb_put(&prof, strs.out.p, strs.out.len);
    pb_uint(&prof, 9, start_wall_ns);   /* time_nanos */
    pb_uint(&prof, 10, dur_ns);         /* duration_nanos */
    int rc = prof.oom || m.oom || packed.oom || functions.oom ||
                     locations.oom || strs.out.oom || fm.oom
                 ? LOONG_ENOMEM
                 : gzip_write(st, &prof);
    free(prof.p);
    free(m.p);
    free(packed.p);
    free(functions.p);
    free(locations.p);
    free(fm.p);
    free(strs.out.p);
    fn_idmap_free(&ids);
    return rc;
}
