/* InfluxDB line protocol encoder. The rules are in lp.h.
 *
 * Every piece of text goes through put_text, which sanitises (control
 * characters, invalid UTF-8), cuts and escapes in one pass, so no input can
 * reach the output unescaped. Details beyond lp.h, all needed for "the output
 * cannot break the line":
 * - invalid UTF-8 is replaced one byte at a time: each byte that does not
 *   start a valid sequence (RFC 3629: no overlong forms, no surrogates,
 *   nothing past U+10FFFF) becomes one U+FFFD;
 * - a measurement, key or tag value ending in a backslash has that one
 *   written as U+FF3C (FULLWIDTH REVERSE SOLIDUS): InfluxDB 1.x would read
 *   "\\" followed by a separator as an escaped separator;
 * - a measurement starting with '#' has it escaped ("\#"), because InfluxDB
 *   reads a line starting with '#' as a comment and drops it;
 * - a tag or field named "time", a tag key that repeats (the runtime's
 *   extra tags win over a point's own), and a repeated field key (the first
 *   wins) are left out, as InfluxDB would refuse the whole line;
 * - a field with a NULL or empty key, or an unknown type, is left out like a
 *   NaN float (InfluxDB rejects the whole line otherwise).
 */
#include "lp.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The longest number we write: "%.17g" needs at most 24 bytes
 * ("-2.2250738585072014e-308"), an integer 21 ("-9223372036854775808i"). */
#define LP_NUM_MAX 32
#define LP_TS_MAX 21 /* ' ' and an int64 */

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */
static const char FULLWIDTH_BACKSLASH[] = "\xEF\xBC\xBC"; /* U+FF3C */

enum { TEXT_MEASUREMENT, TEXT_KEY, TEXT_STRING };

/* Output cursor: writes stop, and `over` is set, once cap is reached. */
typedef struct lpw {
    char *p;
    size_t cap;
    size_t len;
    int over;
} lpw;

static void w_put(lpw *w, const char *s, size_t n)
{
    if (w->over || n > w->cap - w->len) {
        w->over = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void w_putc(lpw *w, char c)
{
    w_put(w, &c, 1);
}

static int must_escape(unsigned char c, int kind, size_t pos)
{
    switch (kind) {
    case TEXT_MEASUREMENT:
        return c == ',' || c == ' ' || c == '\\' || (c == '#' && pos == 0);
    case TEXT_KEY:
        return c == ',' || c == '=' || c == ' ' || c == '\\';
    default:
        return c == '"' || c == '\\';
    }
}

/* Write s sanitised, cut to `limit` sanitised bytes on a character
 * boundary, and escaped for its place in the line. */
static void put_text(lpw *w, const char *s, size_t limit, int kind)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t used = 0, last = w->len;
    int last_backslash = 0;

    while (*u) {
        size_t in = utf8_len(u);
        const char *out = (const char *)u;
        size_t outn = in;
        char space = ' ';

        if (in == 0) {
            out = REPLACEMENT;
            outn = 3;
            in = 1;
        } else if (*u < 0x20 || *u == 0x7F) {
            out = &space;
        }
        if (outn > limit - used)
            break;
        last = w->len;
        last_backslash = outn == 1 && *out == '\\';
        if (outn == 1 && must_escape((unsigned char)*out, kind, used))
            w_putc(w, '\\');
        w_put(w, out, outn);
        used += outn;
        u += in;
    }
    /* InfluxDB 1.x reads the separator after an escaped backslash as
     * escaped too: a name cannot end in one, so a last one becomes U+FF3C */
    if (last_backslash && kind != TEXT_STRING && !w->over) {
        w->len = last;
        w_put(w, FULLWIDTH_BACKSLASH, 3);
    }
}

static int nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* "time" is InfluxDB's own column: a tag or field by that name fails the
 * whole line. */
static int key_ok(const char *key)
{
    return nonempty(key) && strcmp(key, "time") != 0;
}

static int field_ok(const loong_field *f)
{
    if (!key_ok(f->key))
        return 0;
    switch (f->type) {
    case LOONG_FIELD_FLOAT:
        return isfinite(f->v.f);
    case LOONG_FIELD_INT:
    case LOONG_FIELD_UINT:
    case LOONG_FIELD_BOOL:
    case LOONG_FIELD_STRING:
        return 1;
    default:
        return 0;
    }
}

/* "%.17g" round-trips every double. Its decimal point follows LC_NUMERIC,
 * which the host program may have set to ",": write '.' whatever it is. */
static void put_float(lpw *w, double v)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    int in_point = 0;

    if (n < 0 || n >= (int)sizeof tmp) {
        w_putc(w, '0'); /* cannot happen for a finite double */
        return;
    }
    for (int i = 0; i < n; i++) {
        char c = tmp[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e') {
            w_putc(w, c);
            in_point = 0;
        } else if (!in_point) {
            w_putc(w, '.');
            in_point = 1;
        }
    }
}

static void put_int(lpw *w, int64_t v)
{
    char tmp[LP_NUM_MAX];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64 "i", v);
    w_put(w, tmp, (size_t)n);
}

static void put_value(lpw *w, const loong_field *f)
{
    switch (f->type) {
    case LOONG_FIELD_FLOAT:
        put_float(w, f->v.f);
        break;
    case LOONG_FIELD_INT:
        put_int(w, f->v.i);
        break;
    case LOONG_FIELD_UINT:
        /* InfluxDB 1.x refuses "u" unless configured: clamp to an int */
        put_int(w, f->v.u > (uint64_t)INT64_MAX ? INT64_MAX
                                                 : (int64_t)f->v.u);
        break;
    case LOONG_FIELD_BOOL:
        w_put(w, f->v.b ? "true" : "false", f->v.b ? 4 : 5);
        break;
    default:
        w_putc(w, '"');
        put_text(w, f->v.s ? f->v.s : "", LP_MAX_STRING, TEXT_STRING);
        w_putc(w, '"');
        break;
    }
}

/* Keys are compared as they are written, sanitised and cut: "a\n" and
 * "a\t" both become "a " and would repeat a key all the same. */
static int same_key(const char *a, const char *b)
{
    char ba[2 * LP_MAX_NAME], bb[2 * LP_MAX_NAME];
    lpw wa = {ba, sizeof ba, 0, 0}, wb = {bb, sizeof bb, 0, 0};

    if (strcmp(a, b) == 0)
        return 1;
    put_text(&wa, a, LP_MAX_NAME, TEXT_KEY);
    put_text(&wb, b, LP_MAX_NAME, TEXT_KEY);
    return wa.len == wb.len && memcmp(ba, bb, wa.len) == 0;
}

static int tag_ok(const loong_tag *t)
{
    return key_ok(t->key) && nonempty(t->value);
}

/* A key already written (earlier in tags) or still to come from shadow
 * (the runtime's own host/program/pid): a repeated tag key fails the line. */
static int tag_repeated(const loong_tag *tags, size_t i,
                        const loong_tag *shadow, size_t nshadow)
{
    for (size_t j = 0; j < i; j++)
        if (tag_ok(&tags[j]) && same_key(tags[j].key, tags[i].key))
            return 1;
    for (size_t j = 0; j < nshadow; j++)
        if (tag_ok(&shadow[j]) && same_key(shadow[j].key, tags[i].key))
            return 1;
    return 0;
}

static void put_tags(lpw *w, const loong_tag *tags, size_t n,
                     const loong_tag *shadow, size_t nshadow)
{
    for (size_t i = 0; i < n; i++) {
        if (!tag_ok(&tags[i]) || tag_repeated(tags, i, shadow, nshadow))
            continue;
        w_putc(w, ',');
        put_text(w, tags[i].key, LP_MAX_NAME, TEXT_KEY);
        w_putc(w, '=');
        put_text(w, tags[i].value, LP_MAX_NAME, TEXT_KEY);
    }
}

static void put_fields(lpw *w, const loong_field *fields, size_t n)
{
    char sep = ' ';

    for (size_t i = 0; i < n; i++) {
        if (!field_ok(&fields[i]))
            continue;
        int repeated = 0; /* the first of a repeated field key wins */
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = field_ok(&fields[j]) &&
                       same_key(fields[j].key, fields[i].key);
        if (repeated)
            continue;
        w_putc(w, sep);
        put_text(w, fields[i].key, LP_MAX_NAME, TEXT_KEY);
        w_putc(w, '=');
        put_value(w, &fields[i]);
        sep = ',';
    }
}

static int point_ok(const loong_point *pt, const loong_tag *extra,
                    size_t nextra)
{
    if (pt == NULL || !nonempty(pt->measurement))
        return 0;
    if ((pt->ntags > 0 && pt->tags == NULL) ||
        (nextra > 0 && extra == NULL) || pt->fields == NULL)
        return 0;
    for (size_t i = 0; i < pt->nfields; i++) {
        if (field_ok(&pt->fields[i]))
            return 1;
    }
    return 0;
}

ssize_t lp_encode(char *out, size_t cap, const loong_point *point,
                  const loong_tag *extra_tags, size_t nextra,
                  int64_t ts_ns)
{
    lpw w = {out, cap, 0, 0};

    if (!point_ok(point, extra_tags, nextra))
        return LOONG_EINVAL;
    if (out == NULL)
        return LOONG_ETRUNC;
    put_text(&w, point->measurement, LP_MAX_NAME, TEXT_MEASUREMENT);
    put_tags(&w, point->tags, point->ntags, extra_tags, nextra);
    put_tags(&w, extra_tags, nextra, NULL, 0);
    put_fields(&w, point->fields, point->nfields);
    if (ts_ns != 0) {
        char tmp[LP_TS_MAX + 1];
        int n = snprintf(tmp, sizeof tmp, " %" PRId64, ts_ns);
        w_put(&w, tmp, (size_t)n);
    }
    w_putc(&w, '\n');
    if (w.over)
        return LOONG_ETRUNC;
    /* a courtesy for debugging: NUL-terminate when there is room */
    if (w.len < cap)
        out[w.len] = '\0';
    return (ssize_t)w.len;
}

/* Each input byte gives at most 3 sanitised bytes (U+FFFD), the cut keeps
 * at most `limit`, and escaping at most doubles that. */
static size_t text_max(const char *s, size_t limit)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strnlen(s, limit);
    return 2 * (3 * n < limit ? 3 * n : limit);
}

static size_t tags_max(const loong_tag *tags, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; tags != NULL && i < n; i++) {
        total += 2 + text_max(tags[i].key, LP_MAX_NAME) +
                 text_max(tags[i].value, LP_MAX_NAME);
    }
    return total;
}

size_t lp_encoded_max(const loong_point *point, const loong_tag *extra_tags,
                      size_t nextra)
{
    size_t total = LP_TS_MAX + 2; /* timestamp, '\n' and a NUL */

    if (point == NULL)
        return total;
    total += text_max(point->measurement, LP_MAX_NAME);
    total += tags_max(point->tags, point->ntags);
    total += tags_max(extra_tags, nextra);
    for (size_t i = 0; point->fields != NULL && i < point->nfields; i++) {
        const loong_field *f = &point->fields[i];
        total += 2 + text_max(f->key, LP_MAX_NAME);
        if (f->type == LOONG_FIELD_STRING)
            total += 2 + text_max(f->v.s, LP_MAX_STRING);
        else
            total += LP_NUM_MAX;
    }
    return total;
}
