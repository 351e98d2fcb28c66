/* A reference model of the line protocol lp_encode must write, shared by
 * tests/unit/test_lp.c and tests/fuzz/fuzz_lp.c. It is written apart from
 * src/common/lp.c on purpose (a decoder by code point instead of a byte
 * table, a parser instead of an encoder), so the two check each other.
 *
 * ref_parse is a strict parser of ONE line, modelled on InfluxDB 1.x's
 * scanner:
 *   measurement[,tagkey=tagvalue...] fieldkey=value[,fieldkey=value...]
 *   [ timestamp]\n
 * - in the measurement, tag keys, tag values and field keys a backslash
 *   escapes the next byte, and the byte must be one that needs it there
 *   (measurement: ',' ' ' '\' and a leading '#'; the others: ',' '=' ' '
 *   '\'), so a needless or dangling escape is an error;
 * - in string field values only \" and \\ are escapes;
 * - values: "string", t/T/true/True/TRUE/f/F/false/False/FALSE, -?N i, and
 *   floats -?N[.N][(e|E)[+-]N];
 * - the line must be valid UTF-8, hold no control byte, end with its only
 *   '\n', and not start with '#' (a comment) or a space.
 *
 * ref_verify compares a parsed line with what lp.h promises for a point.
 */
#ifndef LOONG_TESTS_LP_REF_H
#define LOONG_TESTS_LP_REF_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/lp.h"

enum { REF_FLOAT = 1, REF_INT = 2, REF_BOOL = 3, REF_STRING = 4 };

typedef struct ref_str {
    const char *p; /* NUL-terminated, in the line's arena */
    size_t n;
} ref_str;

typedef struct ref_field {
    ref_str key;
    int type;
    double f;
    int64_t i;
    int b;
    ref_str s;
} ref_field;

typedef struct ref_line {
    ref_str meas;
    size_t ntags, nfields;
    ref_str *tag_keys, *tag_vals;
    ref_field *fields;
    int has_ts;
    int64_t ts;
    char *arena;
    size_t arena_used;
    char err[200];
} ref_line;

/* ---- UTF-8, by code point -------------------------------------------- */

/* Bytes of the valid UTF-8 character at s (decoded into *cp), or 0. */
static inline size_t ref_decode(const unsigned char *s, size_t avail,
                                uint32_t *cp)
{
    size_t need;
    uint32_t v, min;

    if (avail == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        need = 2, v = s[0] & 0x1Fu, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        need = 3, v = s[0] & 0x0Fu, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        need = 4, v = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (avail < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return need;
}

static inline size_t ref_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* What lp.h promises for text s: control characters become ' ', each
 * byte that does not start a valid character becomes U+FFFD, and the
 * result is cut to at most limit bytes between characters; a name (not a
 * string field) ending in '\\' has it replaced by U+FF3C after the cut.
 * Heap string; NULL gives "". */
static inline char *ref_sanitize_as(const char *s, size_t limit, int name)
{
    size_t n = s ? strlen(s) : 0, len = 0;
    char *out = malloc(limit + 3);
    const unsigned char *u = (const unsigned char *)s;

    if (out == NULL)
        abort();
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        char enc[4];
        size_t used = ref_decode(u + i, n - i, &cp), k;
        if (used == 0) {
            cp = 0xFFFD;
            used = 1;
        } else if (cp < 0x20 || cp == 0x7F) {
            cp = ' ';
        }
        k = ref_utf8(cp, enc);
        if (len + k > limit)
            break;
        memcpy(out + len, enc, k);
        len += k;
        i += used;
    }
    if (name && len > 0 && out[len - 1] == '\\') {
        memcpy(out + len - 1, "\xEF\xBC\xBC", 3);
        len += 2;
    }
    out[len] = '\0';
    return out;
}

static inline char *ref_sanitize(const char *s, size_t limit)
{
    return ref_sanitize_as(s, limit, 1);
}

/* ---- the parser ------------------------------------------------------- */

typedef struct ref_scan {
    const char *p;
    size_t len, pos;
    ref_line *out;
} ref_scan;

__attribute__((format(printf, 2, 3)))
static inline int ref_fail(ref_scan *sc, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(sc->out->err, sizeof sc->out->err, "byte %zu: ",
                     sc->pos);

    va_start(ap, fmt);
    vsnprintf(sc->out->err + n, sizeof sc->out->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static inline int ref_in(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static inline char ref_peek(const ref_scan *sc)
{
    return sc->pos < sc->len ? sc->p[sc->pos] : '\0';
}

static inline char *ref_alloc(ref_scan *sc, size_t n)
{
    char *d = sc->out->arena + sc->out->arena_used;
    sc->out->arena_used += n;
    return d;
}

/* A name up to an unescaped byte of `stops` (or the '\n'). */
static inline int ref_ident(ref_scan *sc, const char *stops,
                            const char *escapable, int is_measurement,
                            const char *what, ref_str *dst)
{
    char *d = sc->out->arena + sc->out->arena_used;
    size_t n = 0;

    while (sc->pos < sc->len) {
        char c = sc->p[sc->pos];
        if (c == '\n' || ref_in(c, stops))
            break;
        if (c == '\\') {
            char e = sc->pos + 1 < sc->len ? sc->p[sc->pos + 1] : '\0';
            char after = sc->pos + 2 < sc->len ? sc->p[sc->pos + 2] : '\0';
            /* InfluxDB 1.x reads a stop after an escaped backslash as escaped */
            if (e == '\\' && (after == '\n' || ref_in(after, stops)))
                return ref_fail(sc, "%s ends with an escaped backslash",
                                what);
            int hash = is_measurement && n == 0 && e == '#';
            if (e == '\n' || e == '\0')
                return ref_fail(sc, "%s ends with a lone backslash", what);
            if (!ref_in(e, escapable) && !hash)
                return ref_fail(sc, "needless escape \\%c in %s", e, what);
            d[n++] = e;
            sc->pos += 2;
            continue;
        }
        if (is_measurement && n == 0 && c == '#')
            return ref_fail(sc, "line starts with '#' (a comment)");
        d[n++] = c;
        sc->pos++;
    }
    if (n == 0)
        return ref_fail(sc, "empty %s", what);
    d[n] = '\0';
    ref_alloc(sc, n + 1);
    dst->p = d;
    dst->n = n;
    return 0;
}

static inline int ref_expect(ref_scan *sc, char c, const char *what)
{
    if (ref_peek(sc) != c)
        return ref_fail(sc, "expected %s", what);
    sc->pos++;
    return 0;
}

static inline int ref_string(ref_scan *sc, ref_field *f)
{
    char *d = sc->out->arena + sc->out->arena_used;
    size_t n = 0;

    sc->pos++; /* the opening quote */
    for (;;) {
        char c = ref_peek(sc);
        if (c == '\n' || sc->pos >= sc->len)
            return ref_fail(sc, "unterminated string");
        if (c == '"')
            break;
        if (c == '\\') {
            char e = sc->pos + 1 < sc->len ? sc->p[sc->pos + 1] : '\0';
            if (e != '"' && e != '\\')
                return ref_fail(sc, "bad escape in a string");
            d[n++] = e;
            sc->pos += 2;
            continue;
        }
        d[n++] = c;
        sc->pos++;
    }
    sc->pos++;
    d[n] = '\0';
    ref_alloc(sc, n + 1);
    f->type = REF_STRING;
    f->s.p = d;
    f->s.n = n;
    return 0;
}

static inline size_t ref_digits(const char *s, size_t i, size_t n)
{
    size_t start = i;

    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i - start;
}

/* -?N[.N][(e|E)[+-]N] covering exactly n bytes. */
static inline int ref_is_float(const char *s, size_t n)
{
    size_t i = s[0] == '-', d = ref_digits(s, i, n);

    if (d == 0)
        return 0;
    i += d;
    if (i < n && s[i] == '.') {
        d = ref_digits(s, ++i, n);
        if (d == 0)
            return 0;
        i += d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        d = ref_digits(s, i, n);
        if (d == 0)
            return 0;
        i += d;
    }
    return i == n;
}

static inline int ref_int(const char *tok, size_t n, int64_t *v)
{
    char buf[32], *end;
    long long x;
    size_t neg = tok[0] == '-';

    if (n == neg || n >= sizeof buf || ref_digits(tok, neg, n) != n - neg)
        return -1;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    errno = 0;
    x = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = (int64_t)x;
    return 0;
}

static inline int ref_scalar(ref_scan *sc, ref_field *f)
{
    static const char *const trues[] = {"t", "T", "true", "True", "TRUE"};
    static const char *const falses[] = {"f", "F", "false", "False",
                                         "FALSE"};
    const char *tok = sc->p + sc->pos;
    size_t n = 0;
    char buf[64];

    while (sc->pos + n < sc->len && !ref_in(tok[n], ", \n"))
        n++;
    if (n == 0 || n >= sizeof buf)
        return ref_fail(sc, "bad field value");
    memcpy(buf, tok, n);
    buf[n] = '\0';
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(buf, trues[i]) == 0 || strcmp(buf, falses[i]) == 0) {
            f->type = REF_BOOL;
            f->b = strcmp(buf, trues[i]) == 0;
            sc->pos += n;
            return 0;
        }
    }
    if (buf[n - 1] == 'i') {
        if (ref_int(buf, n - 1, &f->i) < 0)
            return ref_fail(sc, "bad integer \"%s\"", buf);
        f->type = REF_INT;
    } else if (ref_is_float(buf, n)) {
        f->type = REF_FLOAT;
        f->f = strtod(buf, NULL);
        if (!isfinite(f->f))
            return ref_fail(sc, "float out of range \"%s\"", buf);
    } else {
        return ref_fail(sc, "bad field value \"%s\"", buf);
    }
    sc->pos += n;
    return 0;
}

/* Whole-line rules: one '\n' at the end, valid UTF-8, no control byte. */
static inline int ref_prescan(ref_scan *sc)
{
    const unsigned char *u = (const unsigned char *)sc->p;

    if (sc->len == 0 || sc->p[sc->len - 1] != '\n')
        return ref_fail(sc, "line does not end with '\\n'");
    if (sc->p[0] == ' ')
        return ref_fail(sc, "line starts with a space");
    for (size_t i = 0; i < sc->len - 1;) {
        uint32_t cp;
        size_t k = ref_decode(u + i, sc->len - 1 - i, &cp);
        sc->pos = i;
        if (k == 0)
            return ref_fail(sc, "invalid UTF-8");
        if (cp == '\n')
            return ref_fail(sc, "a second line starts here");
        if (cp < 0x20 || cp == 0x7F)
            return ref_fail(sc, "control byte 0x%02x", (unsigned)cp);
        i += k;
    }
    sc->pos = 0;
    return 0;
}

static inline int ref_fields(ref_scan *sc)
{
    ref_line *o = sc->out;

    for (;;) {
        ref_field *f = &o->fields[o->nfields];
        memset(f, 0, sizeof *f);
        if (ref_ident(sc, ",= ", ",= \\", 0, "field key", &f->key) < 0 ||
            ref_expect(sc, '=', "'=' after a field key") < 0)
            return -1;
        if (ref_peek(sc) == '"' ? ref_string(sc, f) < 0
                                : ref_scalar(sc, f) < 0)
            return -1;
        o->nfields++;
        if (ref_peek(sc) != ',')
            return 0;
        sc->pos++;
    }
}

static inline int ref_timestamp(ref_scan *sc)
{
    const char *tok = sc->p + sc->pos;
    size_t n = 0;

    while (sc->pos + n < sc->len && tok[n] != '\n')
        n++;
    if (ref_int(tok, n, &sc->out->ts) < 0)
        return ref_fail(sc, "bad timestamp");
    sc->out->has_ts = 1;
    sc->pos += n;
    return 0;
}

static inline void ref_line_free(ref_line *o)
{
    free(o->arena);
    free(o->tag_keys);
    free(o->tag_vals);
    free(o->fields);
    o->arena = NULL;
    o->tag_keys = o->tag_vals = NULL;
    o->fields = NULL;
}

/* 0, or -1 with the reason in o->err. Free o with ref_line_free. */
static inline int ref_parse(const char *line, size_t len, ref_line *o)
{
    ref_scan sc = {line, len, 0, o};
    size_t items = 1;

    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < len; i++)
        items += line[i] == '=';
    o->arena = malloc(len + items + 1);
    o->tag_keys = calloc(items, sizeof *o->tag_keys);
    o->tag_vals = calloc(items, sizeof *o->tag_vals);
    o->fields = calloc(items, sizeof *o->fields);
    if (!o->arena || !o->tag_keys || !o->tag_vals || !o->fields)
        abort();
    if (ref_prescan(&sc) < 0 ||
        ref_ident(&sc, ", ", ", \\", 1, "measurement", &o->meas) < 0)
        return -1;
    while (ref_peek(&sc) == ',') {
        sc.pos++;
        if (ref_ident(&sc, ",= ", ",= \\", 0, "tag key",
                      &o->tag_keys[o->ntags]) < 0 ||
            ref_expect(&sc, '=', "'=' after a tag key") < 0 ||
            ref_ident(&sc, ",= ", ",= \\", 0, "tag value",
                      &o->tag_vals[o->ntags]) < 0)
            return -1;
        o->ntags++;
    }
    if (ref_expect(&sc, ' ', "' ' before the fields") < 0 ||
        ref_fields(&sc) < 0)
        return -1;
    if (ref_peek(&sc) == ' ') {
        sc.pos++;
        if (ref_timestamp(&sc) < 0)
            return -1;
    }
    if (sc.pos != len - 1)
        return ref_fail(&sc, "junk after the line");
    return 0;
}

/* ---- what a point must give ------------------------------------------- */

static inline int ref_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static inline int ref_field_valid(const loong_field *f)
{
    if (!ref_nonempty(f->key) || strcmp(f->key, "time") == 0)
        return 0;
    if (f->type == LOONG_FIELD_FLOAT)
        return isfinite(f->v.f);
    return f->type >= LOONG_FIELD_INT && f->type <= LOONG_FIELD_STRING;
}

__attribute__((format(printf, 3, 4)))
static inline int ref_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* got equals ref_sanitize_as(src, limit, name)? */
static inline int ref_same_text(const ref_str *got, const char *src,
                                size_t limit, int name)
{
    char *want = ref_sanitize_as(src, limit, name);
    int ok = got->n == strlen(want) && memcmp(got->p, want, got->n) == 0;

    free(want);
    return ok;
}

static inline int ref_check_field(const loong_field *f, const ref_field *g,
                                  size_t k, char *why, size_t whylen)
{
    int64_t want_i;

    if (!ref_same_text(&g->key, f->key, LP_MAX_NAME, 1))
        return ref_why(why, whylen, "field %zu: key differs", k);
    switch (f->type) {
    case LOONG_FIELD_FLOAT:
        if (g->type != REF_FLOAT || memcmp(&g->f, &f->v.f, sizeof g->f))
            return ref_why(why, whylen, "field %zu: float %.17g read as "
                           "%.17g", k, f->v.f, g->f);
        return 0;
    case LOONG_FIELD_INT:
    case LOONG_FIELD_UINT:
        want_i = f->type == LOONG_FIELD_INT ? f->v.i
                 : f->v.u > (uint64_t)INT64_MAX ? INT64_MAX
                                                : (int64_t)f->v.u;
        if (g->type != REF_INT || g->i != want_i)
            return ref_why(why, whylen, "field %zu: integer differs", k);
        return 0;
    case LOONG_FIELD_BOOL:
        if (g->type != REF_BOOL || g->b != (f->v.b != 0))
            return ref_why(why, whylen, "field %zu: bool differs", k);
        return 0;
    default:
        if (g->type != REF_STRING ||
            !ref_same_text(&g->s, f->v.s, LP_MAX_STRING, 0))
            return ref_why(why, whylen, "field %zu: string differs", k);
        return 0;
    }
}

/* A tag lp.h promises to write: non-empty key and value, not "time". */
static inline int ref_tag_kept(const loong_tag *t)
{
    return ref_nonempty(t->key) && ref_nonempty(t->value) &&
           strcmp(t->key, "time") != 0;
}

/* The same key once written (sanitised and cut)? */
static inline int ref_same_key(const char *a, const char *b)
{
    char *ka = ref_sanitize(a, LP_MAX_NAME), *kb = ref_sanitize(b, LP_MAX_NAME);
    int same = strcmp(ka, kb) == 0;

    free(ka);
    free(kb);
    return same;
}

/* Does a kept tag among tags[0..n) have this key? */
static inline int ref_has_key(const loong_tag *tags, size_t n,
                              const char *key)
{
    for (size_t j = 0; j < n; j++)
        if (ref_tag_kept(&tags[j]) && ref_same_key(tags[j].key, key))
            return 1;
    return 0;
}

/* later: tags that take precedence (the point's tags lose to extra_tags) */
static inline int ref_check_tags(const loong_tag *tags, size_t n,
                                 const loong_tag *later, size_t nlater,
                                 const ref_line *L, size_t *k, char *why,
                                 size_t whylen)
{
    for (size_t i = 0; i < n; i++) {
        if (!ref_tag_kept(&tags[i]) || ref_has_key(tags, i, tags[i].key) ||
            ref_has_key(later, nlater, tags[i].key))
            continue;
        if (*k >= L->ntags)
            return ref_why(why, whylen, "too few tags (%zu)", L->ntags);
        if (!ref_same_text(&L->tag_keys[*k], tags[i].key, LP_MAX_NAME,
                           1) ||
            !ref_same_text(&L->tag_vals[*k], tags[i].value, LP_MAX_NAME,
                           1))
            return ref_why(why, whylen, "tag %zu differs", *k);
        (*k)++;
    }
    return 0;
}

static inline int ref_check_line(const loong_point *pt,
                                 const loong_tag *extra, size_t nextra,
                                 int64_t ts, const ref_line *L, char *why,
                                 size_t whylen)
{
    size_t k = 0;

    if (!ref_same_text(&L->meas, pt->measurement, LP_MAX_NAME, 1))
        return ref_why(why, whylen, "measurement differs");
    if (ref_check_tags(pt->tags, pt->ntags, extra, nextra, L, &k, why,
                       whylen) < 0 ||
        ref_check_tags(extra, nextra, NULL, 0, L, &k, why, whylen) < 0)
        return -1;
    if (k != L->ntags)
        return ref_why(why, whylen, "%zu tags, want %zu", L->ntags, k);
    k = 0;
    for (size_t i = 0; i < pt->nfields; i++) {
        if (!ref_field_valid(&pt->fields[i]))
            continue;
        int seen = 0; /* a repeated field key: the first one is kept */
        for (size_t j = 0; j < i && !seen; j++)
            seen = ref_field_valid(&pt->fields[j]) &&
                   ref_same_key(pt->fields[j].key, pt->fields[i].key);
        if (seen)
            continue;
        if (k >= L->nfields)
            return ref_why(why, whylen, "too few fields (%zu)", L->nfields);
        if (ref_check_field(&pt->fields[i], &L->fields[k], k, why,
                            whylen) < 0)
            return -1;
        k++;
    }
    if (k != L->nfields)
        return ref_why(why, whylen, "%zu fields, want %zu", L->nfields, k);
    if (ts == 0 ? L->has_ts : !L->has_ts || L->ts != ts)
        return ref_why(why, whylen, "timestamp differs");
    return 0;
}

/* InfluxDB's own rules on a parsed line, whatever the point was: no tag or
 * field key "time", no tag key twice, no field key twice. Checked on the
 * keys as written, so two inputs that only become equal once sanitised or
 * cut ("a\n" and "a\t" are both "a ") are caught too. */
static inline int ref_same_str(const ref_str *a, const ref_str *b)
{
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

static inline int ref_influx_rules(const ref_line *L, char *why,
                                   size_t whylen)
{
    static const ref_str time_key = {"time", 4};

    for (size_t i = 0; i < L->ntags; i++) {
        if (ref_same_str(&L->tag_keys[i], &time_key))
            return ref_why(why, whylen, "tag key \"time\"");
        for (size_t j = 0; j < i; j++) {
            if (ref_same_str(&L->tag_keys[i], &L->tag_keys[j]))
                return ref_why(why, whylen, "tags %zu and %zu have the "
                               "same key", j, i);
        }
    }
    for (size_t i = 0; i < L->nfields; i++) {
        if (ref_same_str(&L->fields[i].key, &time_key))
            return ref_why(why, whylen, "field key \"time\"");
        for (size_t j = 0; j < i; j++) {
            if (ref_same_str(&L->fields[i].key, &L->fields[j].key))
                return ref_why(why, whylen, "fields %zu and %zu have the "
                               "same key", j, i);
        }
    }
    return 0;
}

/* Check rc and out, lp_encode's answer for this point: 0, or -1 with the
 * reason in why. */
static inline int ref_verify(const loong_point *pt, const loong_tag *extra,
                             size_t nextra, int64_t ts, ssize_t rc,
                             const char *out, char *why, size_t whylen)
{
    int valid = pt != NULL && ref_nonempty(pt->measurement);
    const char *nl;
    ref_line L;
    int res;

    if (valid) {
        valid = 0;
        for (size_t i = 0; i < pt->nfields; i++)
            valid |= ref_field_valid(&pt->fields[i]);
    }
    if (!valid) {
        if (rc == LOONG_EINVAL)
            return 0;
        return ref_why(why, whylen, "want LOONG_EINVAL, got %zd", rc);
    }
    if (rc <= 0)
        return ref_why(why, whylen, "lp_encode failed: %zd", rc);
    nl = memchr(out, '\n', (size_t)rc);
    if (nl != out + rc - 1)
        return ref_why(why, whylen, "'\\n' at %td of %zd",
                       nl ? nl - out : -1, rc);
    if (ref_parse(out, (size_t)rc, &L) < 0) {
        res = ref_why(why, whylen, "parser: %s", L.err);
    } else {
        res = ref_influx_rules(&L, why, whylen);
        if (res == 0)
            res = ref_check_line(pt, extra, nextra, ts, &L, why, whylen);
    }
    ref_line_free(&L);
    return res;
}

#endif
