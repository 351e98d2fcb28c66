/* `loong report`: the profile files of a process folder as JSON for the
 * page (collapsed stacks as a tree, TSV tables, JSON lines). Strict: a line
 * that does not parse is an error naming it. See report.h. */
#include "cli/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int
set_error(report_error *e, size_t line, const char *fmt, ...)
{
    va_list ap;

    e->line = line;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Restore out to len after an error (unless it lost its memory). */
static void truncate_to(sb *out, size_t len)
{
    if (out->p != NULL) {
        out->len = len;
        out->p[len] = '\0';
    }
}

static int out_of_memory(sb *out, size_t saved, report_error *e)
{
    truncate_to(out, saved);
    return set_error(e, 0, "out of memory");
}

/* Walks text line by line: each call gives the next line without its
 * "\n" or "\r\n", and its 1-based number. 0 at the end. */
typedef struct lines {
    const char *text;
    size_t len, pos, no;
} lines;

static int next_line(lines *l, const char **p, size_t *n)
{
    if (l->pos >= l->len)
        return 0;
    const char *start = l->text + l->pos;
    const char *nl = memchr(start, '\n', l->len - l->pos);
    size_t len = nl ? (size_t)(nl - start) : l->len - l->pos;
    l->pos += len + (nl != NULL);
    l->no++;
    if (len > 0 && start[len - 1] == '\r')
        len--;
    *p = start;
    *n = len;
    return 1;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

/* A shown excerpt of bad input, at most 40 bytes, printable ASCII. */
static const char *excerpt(const char *p, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < size && i < 40; i++)
        buf[k++] = (p[i] >= 0x20 && p[i] < 0x7F) ? p[i] : '?';
    if (n > 40 && k + 4 < size) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* ---- collapsed stacks -------------------------------------------------- */

typedef struct slice {
    const char *p;
    size_t n;
} slice;

typedef struct tree {
    slice *names;
    uint32_t nnames, names_cap;
    uint32_t *name_tab; /* open addressing: name index + 1, 0 empty */
    size_t name_tab_cap;

    uint32_t *name, *parent; /* per node; node 0 is the root */
    double *self, *total;
    uint32_t nnodes, nodes_cap;
    uint64_t *child_key; /* (parent << 32 | name) + 1, 0 empty */
    uint32_t *child_val;
    size_t child_cap;
} tree;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t hash_u64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL; /* splitmix64 */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void tree_free(tree *t)
{
    free(t->names);
    free(t->name_tab);
    free(t->name);
    free(t->parent);
    free(t->self);
    free(t->total);
    free(t->child_key);
    free(t->child_val);
}

static int grow(void **p, size_t elem, uint32_t *cap)
{
    uint32_t c = *cap ? *cap * 2 : 256;
    if (c <= *cap || (size_t)c > SIZE_MAX / elem)
        return -1;
    void *np = realloc(*p, (size_t)c * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = c;
    return 0;
}

/* The index of name s, added if new; -1 when out of memory. */
static int64_t intern(tree *t, const char *s, size_t n)
{
    if ((size_t)t->nnames * 2 >= t->name_tab_cap) {
        size_t cap = t->name_tab_cap ? t->name_tab_cap * 2 : 1024;
        uint32_t *tab = calloc(cap, sizeof *tab);
        if (!tab)
            return -1;
        for (uint32_t i = 0; i < t->nnames; i++) {
            size_t h = hash_bytes(t->names[i].p, t->names[i].n) & (cap - 1);
            while (tab[h])
                h = (h + 1) & (cap - 1);
            tab[h] = i + 1;
        }
        free(t->name_tab);
        t->name_tab = tab;
        t->name_tab_cap = cap;
    }
    size_t h = hash_bytes(s, n) & (t->name_tab_cap - 1);
    while (t->name_tab[h]) {
        slice *x = &t->names[t->name_tab[h] - 1];
        if (x->n == n && memcmp(x->p, s, n) == 0)
            return t->name_tab[h] - 1;
        h = (h + 1) & (t->name_tab_cap - 1);
    }
    if (t->nnames == t->names_cap &&
        (t->nnames == UINT32_MAX - 1 ||
         grow((void **)&t->names, sizeof *t->names, &t->names_cap) < 0))
        return -1;
    t->names[t->nnames] = (slice){s, n};
    t->name_tab[h] = ++t->nnames;
    return t->nnames - 1;
}

static int64_t new_node(tree *t, uint32_t name, uint32_t parent)
{
    if (t->nnodes == t->nodes_cap) {
        uint32_t c = t->nodes_cap;
        if (t->nnodes >= UINT32_MAX / 2 ||
            grow((void **)&t->name, sizeof *t->name, &c) < 0)
            return -1;
        c = t->nodes_cap;
        if (grow((void **)&t->parent, sizeof *t->parent, &c) < 0)
            return -1;
        c = t->nodes_cap;
        if (grow((void **)&t->self, sizeof *t->self, &c) < 0)
            return -1;
        c = t->nodes_cap;
        if (grow((void **)&t->total, sizeof *t->total, &c) < 0)
            return -1;
        t->nodes_cap = c;
    }
    uint32_t i = t->nnodes++;
    t->name[i] = name;
    t->parent[i] = parent;
    t->self[i] = 0;
    t->total[i] = 0;
    return i;
}

/* The child of parent named name, added if new; -1 when out of memory. */
static int64_t child(tree *t, uint32_t parent, uint32_t name)
{
    if ((size_t)t->nnodes * 2 >= t->child_cap) {
        size_t cap = t->child_cap ? t->child_cap * 2 : 1024;
        uint64_t *keys = calloc(cap, sizeof *keys);
        uint32_t *vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (size_t i = 0; i < t->child_cap; i++) {
            if (!t->child_key[i])
                continue;
            size_t h = hash_u64(t->child_key[i]) & (cap - 1);
            while (keys[h])
                h = (h + 1) & (cap - 1);
            keys[h] = t->child_key[i];
            vals[h] = t->child_val[i];
        }
        free(t->child_key);
        free(t->child_val);
        t->child_key = keys;
        t->child_val = vals;
        t->child_cap = cap;
    }
    uint64_t key = ((uint64_t)parent << 32 | name) + 1;
    size_t h = hash_u64(key) & (t->child_cap - 1);
    while (t->child_key[h]) {
        if (t->child_key[h] == key)
            return t->child_val[h];
        h = (h + 1) & (t->child_cap - 1);
    }
    int64_t node = new_node(t, name, parent);
    if (node < 0)
        return -1;
    t->child_key[h] = key;
    t->child_val[h] = (uint32_t)node;
    return node;
}

/* "VALUE": a JSON number, not negative, finite. 0 and *v, or -1. */
static int parse_value(const char *p, size_t n, double *v)
{
    char buf[64];

    if (n == 0 || n >= sizeof buf || p[0] == '-' ||
        rj_number_len(p, n) != n)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return isfinite(*v) ? 0 : -1;
}

static int by_name(const void *a, const void *b, void *ctx)
{
    const slice *names = ctx;
    const slice *x = &names[*(const uint32_t *)a];
    const slice *y = &names[*(const uint32_t *)b];
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

typedef struct sort_ctx {
    const uint32_t *parent, *rank, *name;
} sort_ctx;

static int by_parent_then_name(const void *a, const void *b, void *ctx)
{
    const sort_ctx *c = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (c->parent[x] != c->parent[y])
        return c->parent[x] < c->parent[y] ? -1 : 1;
    uint32_t rx = c->rank[c->name[x]], ry = c->rank[c->name[y]];
    return (rx > ry) - (rx < ry);
}

/* Preorder with children by name: order[] and depth[] of every node. */
static int preorder(tree *t, uint32_t *order, uint32_t *depth)
{
    uint32_t n = t->nnodes, nn = t->nnames;
    uint32_t *rank = malloc(((size_t)nn + 1) * sizeof *rank);
    uint32_t *byname = malloc(((size_t)nn + 1) * sizeof *byname);
    uint32_t *kids = malloc((size_t)n * sizeof *kids);
    uint32_t *first = calloc((size_t)n + 1, sizeof *first);
    uint32_t *stack = malloc((size_t)n * sizeof *stack);
    int rc = -1;

    if (!rank || !byname || !kids || !first || !stack)
        goto out;
    for (uint32_t i = 0; i < nn; i++)
        byname[i] = i;
    qsort_r(byname, nn, sizeof *byname, by_name, t->names);
    for (uint32_t i = 0; i < nn; i++)
        rank[byname[i]] = i;
    /* children grouped by parent, in name order: kids[first[p]..first[p+1]) */
    for (uint32_t i = 1; i < n; i++)
        kids[i - 1] = i;
    sort_ctx ctx = {t->parent, rank, t->name};
    qsort_r(kids, n - 1, sizeof *kids, by_parent_then_name, &ctx);
    for (uint32_t i = 1; i < n; i++)
        first[t->parent[i] + 1]++;
    for (uint32_t p = 0; p < n; p++)
        first[p + 1] += first[p];
    /* depth-first, pushing children in reverse so the first comes out first */
    uint32_t sp = 0, k = 0;
    stack[sp++] = 0;
    depth[0] = 0;
    while (sp > 0) {
        uint32_t node = stack[--sp];
        order[k++] = node;
        for (uint32_t j = first[node + 1]; j > first[node]; j--) {
            uint32_t c = kids[j - 1];
            depth[c] = depth[node] + 1;
            stack[sp++] = c;
        }
    }
    rc = 0;
out:
    free(rank);
    free(byname);
    free(kids);
    free(first);
    free(stack);
    return rc;
}

static void put_number(sb *out, double v)
{
    sb_printf(out, "%.15g", v);
}

static int emit_tree(sb *out, tree *t, size_t stacks)
{
    uint32_t n = t->nnodes;
    uint32_t *order = malloc((size_t)n * sizeof *order);
    uint32_t *depth = malloc((size_t)n * sizeof *depth);

    if (!order || !depth || preorder(t, order, depth) < 0) {
        free(order);
        free(depth);
        return -1;
    }
    sb_puts(out, "{\"total\":");
    put_number(out, t->total[0]);
    sb_printf(out, ",\"stacks\":%zu,\"names\":[", stacks);
    for (uint32_t i = 0; i < t->nnames; i++) {
        if (i)
            sb_putc(out, ',');
        rj_str(out, t->names[i].p, t->names[i].n);
    }
    sb_puts(out, "],\n\"n\":[");
    for (uint32_t i = 0; i < n; i++)
        sb_printf(out, i ? ",%ld" : "%ld",
                  order[i] ? (long)t->name[order[i]] : -1L);
    sb_puts(out, "],\n\"d\":[");
    for (uint32_t i = 0; i < n; i++)
        sb_printf(out, i ? ",%u" : "%u", depth[order[i]]);
    sb_puts(out, "],\n\"v\":[");
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            sb_putc(out, ',');
        put_number(out, t->total[order[i]]);
    }
    sb_puts(out, "]}");
    free(order);
    free(depth);
    return 0;
}

int rd_collapsed(sb *out, const char *text, size_t len, report_error *e)
{
    tree t = {0};
    lines l = {text, len, 0, 0};
    const char *p;
    size_t n, saved = out->len, stacks = 0;
    char ex[64];
    int rc = -1;

    if (new_node(&t, 0, 0) < 0) { /* the root */
        rc = out_of_memory(out, saved, e);
        goto done;
    }
    while (next_line(&l, &p, &n)) {
        if (is_blank(p, n))
            continue;
        size_t sp = n;
        while (sp > 0 && p[sp - 1] != ' ' && p[sp - 1] != '\t')
            sp--;
        if (sp == 0) {
            set_error(e, l.no, "expected 'FRAME;FRAME;... VALUE', got '%s'",
                      excerpt(p, n, ex, sizeof ex));
            goto done;
        }
        double v;
        if (parse_value(p + sp, n - sp, &v) < 0) {
            set_error(e, l.no, "bad value '%s': expected a number >= 0",
                      excerpt(p + sp, n - sp, ex, sizeof ex));
            goto done;
        }
        size_t slen = sp;
        while (slen > 0 && (p[slen - 1] == ' ' || p[slen - 1] == '\t'))
            slen--;
        if (slen == 0) {
            set_error(e, l.no, "no frames before the value");
            goto done;
        }
        stacks++;
        if (v == 0)
            continue;
        uint32_t node = 0;
        for (size_t i = 0; i <= slen;) {
            const char *semi = memchr(p + i, ';', slen - i);
            size_t flen = semi ? (size_t)(semi - (p + i)) : slen - i;
            if (flen == 0) {
                set_error(e, l.no, "empty frame name");
                goto done;
            }
            int64_t name = intern(&t, p + i, flen);
            int64_t c = name < 0 ? -1 : child(&t, node, (uint32_t)name);
            if (c < 0) {
                rc = out_of_memory(out, saved, e);
                goto done;
            }
            node = (uint32_t)c;
            i += flen + 1;
        }
        t.self[node] += v;
    }
    for (uint32_t i = 0; i < t.nnodes; i++)
        t.total[i] = t.self[i];
    for (uint32_t i = t.nnodes; i-- > 1;) /* children come after parents */
        t.total[t.parent[i]] += t.total[i];
    if (emit_tree(out, &t, stacks) < 0 || out->oom) {
        rc = out_of_memory(out, saved, e);
        goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        truncate_to(out, saved);
    tree_free(&t);
    return rc;
}

/* ---- TSV tables ------------------------------------------------------------ */

/* Split p[0..n) at tabs into cells (appended to *cells). The count. */
static size_t split_tabs(const char *p, size_t n, slice **cells,
                         size_t *ncells, size_t *cap, int *oom)
{
    size_t count = 0, i = 0;
    for (;;) {
        const char *tab = memchr(p + i, '\t', n - i);
        size_t flen = tab ? (size_t)(tab - (p + i)) : n - i;
        if (*ncells == *cap) {
            size_t c = *cap ? *cap * 2 : 256;
            slice *nc = realloc(*cells, c * sizeof *nc);
            if (!nc) {
                *oom = 1;
                return count;
            }
            *cells = nc;
            *cap = c;
        }
        (*cells)[(*ncells)++] = (slice){p + i, flen};
        count++;
        if (!tab)
            return count;
        i += flen + 1;
    }
}

int rd_tsv(sb *out, const char *text, size_t len, report_error *e)
{
    lines l = {text, len, 0, 0};
    slice *cells = NULL;
    unsigned char *numeric = NULL;
    size_t ncells = 0, cap = 0, ncols, saved = out->len;
    const char *p;
    size_t n;
    int oom = 0, rc = -1;

    if (!next_line(&l, &p, &n) || is_blank(p, n)) {
        rc = set_error(e, 1, "no header line");
        goto done;
    }
    ncols = split_tabs(p, n, &cells, &ncells, &cap, &oom);
    while (!oom && next_line(&l, &p, &n)) {
        if (n == 0)
            continue;
        size_t got = split_tabs(p, n, &cells, &ncells, &cap, &oom);
        if (!oom && got != ncols) {
            rc = set_error(e, l.no, "%zu fields, the header has %zu", got,
                           ncols);
            goto done;
        }
    }
    numeric = malloc(ncols);
    if (oom || !numeric) {
        rc = out_of_memory(out, saved, e);
        goto done;
    }
    for (size_t c = 0; c < ncols; c++) {
        int any = 0, all = 1;
        for (size_t i = ncols + c; i < ncells; i += ncols) {
            slice s = cells[i];
            if (s.n == 0)
                continue;
            any = 1;
            if (rj_number_len(s.p, s.n) != s.n)
                all = 0;
        }
        numeric[c] = (unsigned char)(any && all);
    }
    sb_puts(out, "{\"columns\":[");
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            sb_putc(out, ',');
        rj_str(out, cells[c].p, cells[c].n);
    }
    sb_puts(out, "],\"numeric\":[");
    for (size_t c = 0; c < ncols; c++)
        sb_puts(out, c ? (numeric[c] ? ",true" : ",false")
                       : (numeric[c] ? "true" : "false"));
    sb_puts(out, "],\"rows\":[");
    for (size_t i = ncols; i < ncells; i++) {
        size_t c = i % ncols;
        if (c == 0)
            sb_puts(out, i == ncols ? "\n[" : ",\n[");
        else
            sb_putc(out, ',');
        if (!numeric[c])
            rj_str(out, cells[i].p, cells[i].n);
        else if (cells[i].n == 0)
            sb_puts(out, "null");
        else
            sb_putn(out, cells[i].p, cells[i].n);
        if (c == ncols - 1)
            sb_putc(out, ']');
    }
    sb_puts(out, "]}");
    if (out->oom) {
        rc = out_of_memory(out, saved, e);
        goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        truncate_to(out, saved);
    free(cells);
    free(numeric);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

/* The first character that is not JSON whitespace, or -1. */
static int first_char(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return (unsigned char)p[i];
    return -1;
}

int rd_jsonl(sb *out, const char *text, size_t len, report_error *e)
{
    lines l = {text, len, 0, 0};
    const char *p;
    size_t n, saved = out->len, count = 0;

    sb_putc(out, '[');
    while (next_line(&l, &p, &n)) {
        if (first_char(p, n) < 0)
            continue;
        if (first_char(p, n) != '{') {
            truncate_to(out, saved);
            return set_error(e, l.no, "expected a JSON object");
        }
        if (count++)
            sb_puts(out, ",\n");
        if (rj_document(out, p, n, l.no, e) < 0) {
            truncate_to(out, saved);
            return -1;
        }
    }
    sb_putc(out, ']');
    if (out->oom)
        return out_of_memory(out, saved, e);
    return 0;
}

int rd_json_object(sb *out, const char *text, size_t len, report_error *e)
{
    if (first_char(text, len) != '{') {
        size_t line = 1;
        for (size_t i = 0; i < len && (text[i] == ' ' || text[i] == '\t' ||
                                       text[i] == '\n' || text[i] == '\r');
             i++)
            line += text[i] == '\n';
        return set_error(e, line, "expected a JSON object");
    }
    return rj_document(out, text, len, 1, e);
}
