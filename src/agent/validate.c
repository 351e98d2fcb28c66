/* The strict line protocol validator: see validate.h. One pass for the
 * bytes (control characters, UTF-8), one for the structure. */
#include "agent/validate.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct scan {
    const char *p;
    const char *end;
    const char *why;
} scan;

static int bad(scan *s, const char *why)
{
    s->why = why;
    return 0;
}

static int bytes_ok(const char *line, size_t len, const char **why)
{
    const unsigned char *u = (const unsigned char *)line;
    const unsigned char *end = u + len;

    while (u < end) {
        if (*u < 0x80) {
            if (*u < 0x20 || *u == 0x7F) {
                *why = "control character";
                return 0;
            }
            u++;
            continue;
        }
        size_t n = utf8_len(u);
        if (n == 0 || n > (size_t)(end - u)) {
            *why = "invalid UTF-8";
            return 0;
        }
        u += n;
    }
    return 1;
}

/* A name or tag value: up to the first unescaped byte of stops (or the
 * end). A '\' takes the next byte with it. */
static int token(scan *s, const char *stops, span *out, const char *what)
{
    const char *p = s->p;

    while (p < s->end && strchr(stops, *p) == NULL) {
        if (*p == '\\') {
            if (p + 1 >= s->end)
                return bad(s, "backslash at the end of the line");
            p++;
        }
        p++;
    }
    out->p = s->p;
    out->n = (size_t)(p - s->p);
    s->p = p;
    if (out->n == 0)
        return bad(s, what);
    /* InfluxDB 1.x takes a separator after any backslash as escaped, even
     * after an escaped backslash (a\\ b): refused, not misread */
    if (p < s->end && p[-1] == '\\')
        return bad(s, "escaped backslash before a separator");
    return 1;
}

static int is_time(span k)
{
    return k.n == 4 && memcmp(k.p, "time", 4) == 0;
}

static int repeated(const span *keys, size_t n, span k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i].n == k.n && memcmp(keys[i].p, k.p, k.n) == 0)
            return 1;
    return 0;
}

static int tags(scan *s)
{
    span keys[LPV_MAX_TAGS];
    size_t n = 0;

    while (s->p < s->end && *s->p == ',') {
        span k, v;
        s->p++;
        if (!token(s, "=, ", &k, "empty tag key"))
            return 0;
        if (s->p >= s->end || *s->p != '=')
            return bad(s, "tag without '='");
        s->p++;
        if (!token(s, "=, ", &v, "empty tag value"))
            return 0;
        if (s->p < s->end && *s->p == '=')
            return bad(s, "unescaped '=' in a tag value");
        if (is_time(k))
            return bad(s, "tag key 'time'");
        if (repeated(keys, n, k))
            return bad(s, "repeated tag key");
        if (n == LPV_MAX_TAGS)
            return bad(s, "too many tags");
        keys[n++] = k;
    }
    return 1;
}

/* digits; returns how many */
static size_t digits(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    return (size_t)(q - p);
}

static int ends_value(scan *s, const char *p)
{
    return p == s->end || *p == ',' || *p == ' ';
}

static int number(scan *s)
{
    const char *p = s->p, *start = s->p;
    int is_int_form = 1;
    size_t d;

    if (p < s->end && *p == '-')
        p++;
    d = digits(p, s->end);
    p += d;
    if (p < s->end && *p == '.') {
        size_t f;
        p++;
        f = digits(p, s->end);
        p += f;
        is_int_form = 0;
        if (d == 0 && f == 0)
            return bad(s, "bad number");
    } else if (d == 0) {
        return bad(s, "bad field value");
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        is_int_form = 0;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        d = digits(p, s->end);
        if (d == 0)
            return bad(s, "bad exponent");
        p += d;
    }
    if (p < s->end && (*p == 'i' || *p == 'u')) {
        char buf[32];
        size_t n = (size_t)(p - start);
        if (*p == 'u')
            return bad(s, "unsigned value (InfluxDB 1.x refuses 'u')");
        if (!is_int_form)
            return bad(s, "bad integer");
        if (n >= sizeof buf)
            return bad(s, "integer out of range");
        memcpy(buf, start, n);
        buf[n] = '\0';
        errno = 0;
        (void)strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            return bad(s, "integer out of range");
        p++;
    } else {
        char buf[400];
        size_t n = (size_t)(p - start);
        double v;
        if (n >= sizeof buf)
            return bad(s, "number too long");
        memcpy(buf, start, n);
        buf[n] = '\0';
        v = strtod(buf, NULL);
        if (!isfinite(v))
            return bad(s, "float out of range");
    }
    if (!ends_value(s, p))
        return bad(s, "bad field value");
    s->p = p;
    return 1;
}

static int boolean(scan *s)
{
    static const char *const words[] = {"true", "True", "TRUE", "t", "T",
                                        "false", "False", "FALSE", "f", "F"};

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0 &&
            ends_value(s, s->p + n)) {
            s->p += n;
            return 1;
        }
    }
    return bad(s, "bad field value");
}

static int string(scan *s)
{
    const char *p = s->p + 1;

    while (p < s->end && *p != '"') {
        if (*p == '\\') {
            if (p + 1 >= s->end)
                return bad(s, "unterminated string");
            p++;
        }
        p++;
    }
    if (p >= s->end)
        return bad(s, "unterminated string");
    if ((size_t)(p - s->p - 1) > LPV_MAX_STRING)
        return bad(s, "string field too long");
    p++;
    if (!ends_value(s, p))
        return bad(s, "bad field value after a string");
    s->p = p;
    return 1;
}

static int fields(scan *s)
{
    span keys[LPV_MAX_FIELDS];
    size_t n = 0;

    for (;;) {
        span k;
        int ok;
        if (!token(s, "=, ", &k, "empty field key"))
            return 0;
        if (s->p >= s->end || *s->p != '=')
            return bad(s, "field without '='");
        s->p++;
        if (is_time(k))
            return bad(s, "field key 'time'");
        if (repeated(keys, n, k))
            return bad(s, "repeated field key");
        if (n == LPV_MAX_FIELDS)
            return bad(s, "too many fields");
        keys[n++] = k;
        if (s->p >= s->end)
            return bad(s, "missing field value");
        if (*s->p == '"')
            ok = string(s);
        else if (*s->p == 't' || *s->p == 'T' || *s->p == 'f' ||
                 *s->p == 'F')
            ok = boolean(s);
        else
            ok = number(s);
        if (!ok)
            return 0;
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        return 1;
    }
}

static int timestamp(scan *s)
{
    const char *p = s->p;
    char buf[32];
    size_t n;

    if (p < s->end && *p == '-')
        p++;
    n = digits(p, s->end);
    if (n == 0 || p + n != s->end)
        return bad(s, "bad timestamp");
    n = (size_t)(s->end - s->p);
    if (n >= sizeof buf)
        return bad(s, "timestamp out of range");
    memcpy(buf, s->p, n);
    buf[n] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    /* InfluxDB keeps the two extreme values for itself */
    if (errno == ERANGE || v < INT64_MIN + 2 || v > INT64_MAX - 1)
        return bad(s, "timestamp out of range");
    s->p = s->end;
    return 1;
}

int lpv_check(const char *line, size_t len, int *has_ts, const char **why)
{
    scan s = {line, line + len, NULL};
    span m;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    *has_ts = 0;
    if (len == 0) {
        *why = "empty line";
        return 0;
    }
    if (len > LPV_MAX_LINE) {
        *why = "line too long";
        return 0;
    }
    if (!bytes_ok(line, len, why))
        return 0;
    if (line[0] == '#') {
        *why = "comment";
        return 0;
    }
    if (!token(&s, ", ", &m, "empty measurement") || !tags(&s))
        goto fail;
    if (s.p >= s.end || *s.p != ' ') {
        bad(&s, "no fields");
        goto fail;
    }
    s.p++;
    if (!fields(&s))
        goto fail;
    if (s.p < s.end) {
        /* fields end at a space: the timestamp follows */
        s.p++;
        if (!timestamp(&s))
            goto fail;
        *has_ts = 1;
    }
    return 1;
fail:
    *why = s.why;
    return 0;
}
