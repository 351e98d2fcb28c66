/* The call tree and the per-function table, in chunks that never move. */
#include "function.h"

#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(uint32_t parent, loong_code_id code)
{
    uint64_t k = ((uint64_t)parent << 32) | code;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

fn_node *fn_node_at(fn_state *st, uint32_t i)
{
    return &st->nodes[i >> FN_CHUNK_BITS][i & (FN_CHUNK - 1)];
}

/* A new node, or UINT32_MAX when out of room. */
static uint32_t node_new(fn_state *st, uint32_t parent, loong_code_id code)
{
    uint32_t n = atomic_load_explicit(&st->nnodes, memory_order_relaxed);
    if (n >= (uint32_t)FN_MAX_CHUNKS * FN_CHUNK)
        return UINT32_MAX;
    if (!st->nodes[n >> FN_CHUNK_BITS]) {
        st->nodes[n >> FN_CHUNK_BITS] = calloc(FN_CHUNK, sizeof(fn_node));
        if (!st->nodes[n >> FN_CHUNK_BITS])
            return UINT32_MAX;
    }
    fn_node *nd = fn_node_at(st, n);
    nd->parent = parent;
    nd->code = code;
    atomic_store_explicit(&st->nnodes, n + 1, memory_order_release);
    return n;
}

static int grow(fn_state *st)
{
    size_t ncap = st->hcap ? st->hcap * 2 : 1u << 14;
    uint32_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < st->hcap; i++) {
        uint32_t v = st->htab[i];
        if (!v)
            continue;
        fn_node *nd = fn_node_at(st, v);
        size_t j = key_hash(nd->parent, nd->code) & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = v;
    }
    free(st->htab);
    st->htab = n;
    st->hcap = ncap;
    return 0;
}

int fn_tree_init(fn_state *st)
{
    if (node_new(st, 0, 0) != 0) /* the root */
        return LOONG_ENOMEM;
    return grow(st) < 0 ? LOONG_ENOMEM : 0;
}

void fn_tree_free(fn_state *st)
{
    for (int i = 0; i < FN_MAX_CHUNKS; i++) {
        free(st->nodes[i]);
        free(st->funcs[i]);
    }
    free(st->htab);
}

/* The node for code called from parent; the root (0) when out of room, so
 * the time is still counted, under the root. */
uint32_t fn_tree_child(fn_state *st, uint32_t parent, loong_code_id code)
{
    uint32_t n = atomic_load_explicit(&st->nnodes, memory_order_relaxed);
    if ((n + 1) * 2 > st->hcap && grow(st) < 0)
        return 0;
    size_t mask = st->hcap - 1;
    for (size_t j = key_hash(parent, code) & mask;; j = (j + 1) & mask) {
        uint32_t v = st->htab[j];
        if (!v) {
            uint32_t nn = node_new(st, parent, code);
            if (nn == UINT32_MAX)
                return 0;
            st->htab[j] = nn;
            return nn;
        }
        fn_node *nd = fn_node_at(st, v);
        if (nd->parent == parent && nd->code == code)
            return v;
    }
}

fn_func *fn_func_at(fn_state *st, loong_code_id code, int create)
{
    uint32_t c = code >> FN_CHUNK_BITS;
    if (c >= FN_MAX_CHUNKS)
        return NULL;
    if (!st->funcs[c]) {
        if (!create)
            return NULL;
        fn_func *chunk = calloc(FN_CHUNK, sizeof(fn_func));
        if (!chunk)
            return NULL;
        /* published for the tick's reads */
        atomic_store_explicit((_Atomic(fn_func *) *)&st->funcs[c], chunk,
                              memory_order_release);
    }
    return &st->funcs[c][code & (FN_CHUNK - 1)];
}

uint32_t fn_idmap_get(fn_idmap *m, loong_code_id code, int *fresh)
{
    *fresh = 0;
    if (code >= m->cap) {
        size_t nc = m->cap ? m->cap : 1024;
        while (nc <= code)
            nc *= 2;
        uint32_t *ni = realloc(m->ix, nc * sizeof *ni);
        if (!ni)
            return 0;
        memset(ni + m->cap, 0, (nc - m->cap) * sizeof *ni);
        m->ix = ni;
        m->cap = nc;
    }
    if (!m->ix[code]) {
        m->ix[code] = ++m->n;
        *fresh = 1;
    }
    return m->ix[code];
}

void fn_idmap_free(fn_idmap *m)
{
    free(m->ix);
    m->ix = NULL;
    m->cap = 0;
    m->n = 0;
}
