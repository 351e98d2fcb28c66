/* `loong report`: the memory timeline, the loong_mem points of metrics.lp
 * as series for the page's chart. See report.h.
 *
 * Unlike the profile files, metrics.lp is read forgivingly and in bounded
 * memory: it may be large (every toolkit's points, every interval, for as
 * long as the process ran), still being written, or cut short. It is read
 * in blocks; a loong_mem line that does not parse (or is longer than
 * RM_MAX_LINE, or has no timestamp, or is the last line and has no '\n')
 * is counted and left out; other measurements are passed over. At most
 * RM_MAX_POINTS points are kept: beyond that, consecutive points are
 * merged in pairs, as often as needed (see rd_mem_timeline).
 */
#include "cli/report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEASUREMENT "loong_mem"
#define MEASUREMENT_LEN (sizeof MEASUREMENT - 1)
#define RM_MAX_KEY 128 /* longer field keys are passed over */
#define RM_MAX_PID 32

typedef struct timeline {
    /* the fields, in the order first seen */
    char *name[RM_MAX_FIELDS];
    size_t name_len[RM_MAX_FIELDS];
    unsigned char sums[RM_MAX_FIELDS]; /* merged by adding, not by max */
    unsigned nfields;

    double *val;   /* RM_MAX_POINTS rows of RM_MAX_FIELDS, NAN: absent */
    double *t;     /* per row: ms since the first point */
    unsigned rows; /* used */
    uint64_t every;   /* points per row */
    uint64_t in_last; /* points in the last row */

    int64_t first_ns;
    int have_first;

    const char *want; /* the pid wanted, NULL: the first seen */
    char pid[RM_MAX_PID];
    int have_pid;

    uint64_t points, skipped, other_pid, fields_dropped;
} timeline;

/* ---- one line ------------------------------------------------------------ */

/* p[0..n): the end of a token that stops at an unescaped byte of stops
 * (a backslash takes the byte after it along), or NULL for a backslash at
 * the end. */
static const char *token_end(const char *p, const char *end,
                             const char *stops)
{
    while (p < end && strchr(stops, *p) == NULL) {
        if (*p == '\\') {
            if (p + 1 >= end)
                return NULL;
            p++;
        }
        p++;
    }
    return p;
}

/* The token p[0..n) without its escapes into buf (at most size - 1
 * bytes). Its length, or -1 when it does not fit. */
static long unescape(const char *p, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n)
            i++;
        if (k + 1 >= size)
            return -1;
        buf[k++] = p[i];
    }
    buf[k] = '\0';
    return (long)k;
}

/* Is the line's measurement loong_mem? (It holds no byte the protocol
 * escapes, so the raw token is compared.) */
static int is_ours(const char *p, size_t n)
{
    return n > MEASUREMENT_LEN &&
           memcmp(p, MEASUREMENT, MEASUREMENT_LEN) == 0 &&
           (p[MEASUREMENT_LEN] == ',' || p[MEASUREMENT_LEN] == ' ');
}

/* A numeric field value, p[0..n): "12i", "12u", "1.5", "-3e2". 1 and *v,
 * 0 when it is a boolean or a string (not drawn), -1 when malformed. */
static int field_number(const char *p, size_t n, double *v)
{
    char buf[64];
    char *stop;

    if (n == 0)
        return -1;
    if (p[0] == '"')
        return n >= 2 && p[n - 1] == '"' ? 0 : -1;
    static const char *const words[] = {"t", "T", "true", "True", "TRUE",
                                        "f", "F", "false", "False", "FALSE"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], p, n) == 0)
            return 0;
    if (n >= sizeof buf)
        return -1;
    int integer = p[n - 1] == 'i' || p[n - 1] == 'u';
    size_t len = n - (size_t)integer;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
              (!integer && (c == 'e' || c == 'E'))))
            return -1;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    if (integer && p[n - 1] == 'u') {
        if (p[0] == '-')
            return -1;
        unsigned long long u = strtoull(buf, &stop, 10);
        *v = (double)u;
    } else if (integer) {
        long long i = strtoll(buf, &stop, 10);
        *v = (double)i;
    } else {
        *v = strtod(buf, &stop);
    }
    if (stop != buf + len || errno == ERANGE || !isfinite(*v))
        return -1;
    return 1;
}

/* The column of field key (unescaped), added if new; -1 when all
 * RM_MAX_FIELDS are taken, -2 when out of memory. */
static int column(timeline *tl, const char *key, size_t n)
{
    for (unsigned i = 0; i < tl->nfields; i++)
        if (tl->name_len[i] == n && memcmp(tl->name[i], key, n) == 0)
            return (int)i;
    if (tl->nfields == RM_MAX_FIELDS)
        return -1;
    char *copy = malloc(n + 1);
    if (!copy)
        return -2;
    memcpy(copy, key, n);
    copy[n] = '\0';
    unsigned i = tl->nfields++;
    tl->name[i] = copy;
    tl->name_len[i] = n;
    /* counts of the interval: a merged row holds their sum */
    tl->sums[i] = strcmp(copy, "gc_pauses") == 0 ||
                  strcmp(copy, "gc_pause_us") == 0;
    return (int)i;
}

/* A new row for the next point, merging rows in pairs when full. */
static unsigned next_row(timeline *tl)
{
    if (tl->rows > 0 && tl->in_last < tl->every)
        return tl->rows - 1;
    if (tl->rows == RM_MAX_POINTS) {
        /* every row holds `every` points: merge 2k and 2k+1 into k */
        for (unsigned k = 0; k < RM_MAX_POINTS / 2; k++) {
            double *dst = tl->val + (size_t)k * RM_MAX_FIELDS;
            const double *a = tl->val + (size_t)(2 * k) * RM_MAX_FIELDS;
            const double *b = a + RM_MAX_FIELDS;
            for (unsigned f = 0; f < RM_MAX_FIELDS; f++) {
                double x = a[f], y = b[f];
                if (isnan(x))
                    dst[f] = y;
                else if (isnan(y))
                    dst[f] = x;
                else
                    dst[f] = tl->sums[f] ? x + y : (x > y ? x : y);
            }
            tl->t[k] = tl->t[2 * k + 1];
        }
        tl->rows = RM_MAX_POINTS / 2;
        tl->every *= 2;
        /* the last row is full: fall through to a new one */
    }
    unsigned r = tl->rows++;
    double *row = tl->val + (size_t)r * RM_MAX_FIELDS;
    for (unsigned f = 0; f < RM_MAX_FIELDS; f++)
        row[f] = NAN;
    tl->in_last = 0;
    return r;
}

/* A timestamp: an int64, the whole of p[0..n). */
static int parse_ts(const char *p, size_t n, int64_t *ts)
{
    char buf[32];
    char *stop;

    if (n == 0 || n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (i == 0 && p[i] == '-')))
            return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    errno = 0;
    long long v = strtoll(buf, &stop, 10);
    if (stop != buf + n || errno == ERANGE)
        return -1;
    *ts = v;
    return 0;
}

/* The end of the field value at v (checked already: a string is closed). */
static const char *value_end(const char *v, const char *end)
{
    if (v < end && *v == '"') {
        for (v++; *v != '"'; v++)
            if (*v == '\\')
                v++;
        return v + 1;
    }
    while (v < end && *v != ',')
        v++;
    return v;
}

/* One loong_mem line (without its '\n'). 1 taken, 0 passed over
 * (another pid), -1 malformed, -2 out of memory. */
static int take_line(timeline *tl, const char *line, size_t n)
{
    const char *p = line, *end = line + n;
    const char *pid = NULL;
    size_t pid_n = 0;
    char pidbuf[RM_MAX_PID];

    /* measurement, then tags */
    p = token_end(p, end, ", ");
    if (!p)
        return -1;
    while (p < end && *p == ',') {
        const char *k = p + 1, *ke = token_end(k, end, "=, ");
        if (!ke || ke == k || ke >= end || *ke != '=')
            return -1;
        const char *v = ke + 1, *ve = token_end(v, end, ", ");
        if (!ve || ve == v)
            return -1;
        if (ke - k == 3 && memcmp(k, "pid", 3) == 0) {
            long len = unescape(v, (size_t)(ve - v), pidbuf, sizeof pidbuf);
            if (len < 0)
                return -1;
            pid = pidbuf;
            pid_n = (size_t)len;
        }
        p = ve;
    }
    if (p >= end || *p != ' ')
        return -1;
    const char *fields = ++p;
    /* the fields, checked first: values, then the timestamp */
    for (;;) {
        const char *ke = token_end(p, end, "=, ");
        if (!ke || ke == p || ke >= end || *ke != '=')
            return -1;
        p = ke + 1;
        if (p < end && *p == '"') {
            p++;
            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                p++;
            }
            if (p >= end)
                return -1;
            p++;
        } else {
            while (p < end && *p != ',' && *p != ' ')
                p++;
        }
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    const char *fields_end = p;
    int64_t ts;
    if (p >= end || *p != ' ' || parse_ts(p + 1, (size_t)(end - p - 1),
                                          &ts) < 0)
        return -1; /* no timestamp: not placed in time */

    /* the values: every one checked before anything is kept */
    for (p = fields; p < fields_end;) {
        const char *v = token_end(p, fields_end, "=") + 1;
        const char *ve = value_end(v, fields_end);
        double x;
        if (field_number(v, (size_t)(ve - v), &x) < 0)
            return -1;
        p = ve + (ve < fields_end);
    }

    /* whose point: the pid wanted, or the first seen */
    if (pid) {
        const char *want = tl->want ? tl->want : tl->have_pid ? tl->pid : NULL;
        if (want && (strlen(want) != pid_n || memcmp(want, pid, pid_n) != 0))
            return 0;
        if (!tl->have_pid) {
            memcpy(tl->pid, pid, pid_n + 1);
            tl->have_pid = 1;
        }
    }

    /* its time, since the first point kept */
    int64_t since;
    if (__builtin_sub_overflow(ts, tl->have_first ? tl->first_ns : ts,
                               &since))
        return -1;
    if (!tl->have_first) {
        tl->first_ns = ts;
        tl->have_first = 1;
    }

    /* the numbers, by column; a repeated key: the first wins */
    struct {
        int col;
        double v;
    } got[RM_MAX_FIELDS];
    unsigned ngot = 0;
    for (p = fields; p < fields_end;) {
        const char *ke = token_end(p, fields_end, "=");
        const char *v = ke + 1, *ve = value_end(v, fields_end);
        char key[RM_MAX_KEY];
        double x = 0;
        long klen = unescape(p, (size_t)(ke - p), key, sizeof key);
        p = ve + (ve < fields_end);
        if (field_number(v, (size_t)(ve - v), &x) <= 0 || klen <= 0)
            continue;
        int col = column(tl, key, (size_t)klen);
        if (col == -2)
            return -2;
        if (col == -1) {
            tl->fields_dropped++;
            continue;
        }
        int seen = 0;
        for (unsigned i = 0; i < ngot; i++)
            seen |= got[i].col == col;
        if (!seen) {
            got[ngot].col = col;
            got[ngot].v = x;
            ngot++;
        }
    }

    unsigned r = next_row(tl);
    double *row = tl->val + (size_t)r * RM_MAX_FIELDS;
    for (unsigned i = 0; i < ngot; i++) {
        double *cell = &row[got[i].col];
        if (isnan(*cell))
            *cell = got[i].v;
        else if (tl->sums[got[i].col])
            *cell += got[i].v;
        else if (got[i].v > *cell)
            *cell = got[i].v;
    }
    tl->t[r] = (double)since / 1e6;
    tl->in_last++;
    tl->points++;
    return 1;
}

/* ---- the file ------------------------------------------------------------- */

#define BLOCK 65536

/* Every line of f to take_line (loong_mem lines only). 0, or -1 with e
 * set. */
static int read_points(timeline *tl, FILE *f, report_error *e)
{
    char *block = malloc(BLOCK);
    char *line = malloc(RM_MAX_LINE);
    size_t len = 0; /* of the line so far, kept up to RM_MAX_LINE */
    int too_long = 0, rc = -1;

    if (!block || !line) {
        snprintf(e->msg, sizeof e->msg, "out of memory");
        goto out;
    }
    for (;;) {
        size_t got = fread(block, 1, BLOCK, f);
        if (got == 0) {
            if (ferror(f)) {
                snprintf(e->msg, sizeof e->msg, "%s", strerror(errno));
                goto out;
            }
            break;
        }
        for (size_t i = 0; i < got;) {
            const char *nl = memchr(block + i, '\n', got - i);
            size_t seg = nl ? (size_t)(nl - (block + i)) : got - i;
            if (len + seg > RM_MAX_LINE) {
                size_t room = RM_MAX_LINE - len;
                memcpy(line + len, block + i, room);
                len = RM_MAX_LINE;
                too_long = 1;
            } else {
                memcpy(line + len, block + i, seg);
                len += seg;
            }
            i += seg + (nl != NULL);
            if (!nl)
                break;
            size_t n = len;
            if (n > 0 && line[n - 1] == '\r' && !too_long)
                n--;
            if (is_ours(line, n)) {
                int r = too_long ? -1 : take_line(tl, line, n);
                if (r == -2) {
                    snprintf(e->msg, sizeof e->msg, "out of memory");
                    goto out;
                }
                if (r == 0)
                    tl->other_pid++;
                if (r < 0)
                    tl->skipped++;
            }
            len = 0;
            too_long = 0;
        }
    }
    /* a last line with no '\n': being written, or cut short */
    if (len > 0 && is_ours(line, len))
        tl->skipped++;
    rc = 0;
out:
    free(block);
    free(line);
    return rc;
}

static void put_value(sb *out, double v)
{
    if (isnan(v))
        sb_puts(out, "null");
    else if (v == floor(v) && fabs(v) < 1e17)
        sb_printf(out, "%.0f", v);
    else
        sb_printf(out, "%.17g", v);
}

static void emit(sb *out, const timeline *tl)
{
    sb_puts(out, "{\"pid\":");
    if (tl->have_pid)
        rj_str(out, tl->pid, strlen(tl->pid));
    else
        sb_puts(out, "null");
    sb_printf(out,
              ",\"points\":%llu,\"every\":%llu,\"skipped\":%llu,"
              "\"other_pid\":%llu,\"fields_dropped\":%llu,"
              "\"first_ns\":\"%lld\",\"t0_ms\":",
              (unsigned long long)tl->points, (unsigned long long)tl->every,
              (unsigned long long)tl->skipped,
              (unsigned long long)tl->other_pid,
              (unsigned long long)tl->fields_dropped,
              (long long)tl->first_ns);
    /* whole milliseconds and the rest apart: a double of the nanoseconds
     * would lose the microseconds */
    if (tl->first_ns >= 0)
        sb_printf(out, "%lld.%06lld", (long long)(tl->first_ns / 1000000),
                  (long long)(tl->first_ns % 1000000));
    else
        sb_printf(out, "%.3f", (double)tl->first_ns / 1e6);
    sb_puts(out, ",\n\"t\":[");
    for (unsigned r = 0; r < tl->rows; r++)
        sb_printf(out, r ? ",%.15g" : "%.15g", tl->t[r]);
    sb_puts(out, "],\n\"fields\":{");
    for (unsigned f = 0; f < tl->nfields; f++) {
        if (f)
            sb_puts(out, ",\n");
        rj_str(out, tl->name[f], tl->name_len[f]);
        sb_puts(out, ":[");
        for (unsigned r = 0; r < tl->rows; r++) {
            if (r)
                sb_putc(out, ',');
            put_value(out, tl->val[(size_t)r * RM_MAX_FIELDS + f]);
        }
        sb_putc(out, ']');
    }
    sb_puts(out, "}}");
}

static void timeline_free(timeline *tl)
{
    for (unsigned i = 0; i < tl->nfields; i++)
        free(tl->name[i]);
    free(tl->val);
    free(tl->t);
}

int rd_mem_timeline(sb *out, FILE *f, const char *pid, report_error *e)
{
    size_t saved = out->len;
    int rc = -1;

    e->line = 0;
    for (int pass = 0; pass < 2; pass++) {
        timeline tl;
        memset(&tl, 0, sizeof tl);
        tl.every = 1;
        tl.want = pid && pid[0] ? pid : NULL;
        tl.val = malloc(sizeof(double) * RM_MAX_POINTS * RM_MAX_FIELDS);
        tl.t = malloc(sizeof(double) * RM_MAX_POINTS);
        if (!tl.val || !tl.t) {
            timeline_free(&tl);
            snprintf(e->msg, sizeof e->msg, "out of memory");
            return -1;
        }
        rc = read_points(&tl, f, e);
        if (rc == 0 && tl.points == 0 && tl.other_pid > 0 && tl.want &&
            pass == 0 && fseek(f, 0, SEEK_SET) == 0) {
            /* none of the process named: the file is another one's; draw
             * the first process found in it instead */
            pid = NULL;
            timeline_free(&tl);
            continue;
        }
        if (rc == 0 && tl.points == 0 && tl.skipped == 0)
            rc = 1; /* no loong_mem point: no section */
        else if (rc == 0)
            emit(out, &tl);
        timeline_free(&tl);
        break;
    }
    if (rc == 0 && out->oom) {
        snprintf(e->msg, sizeof e->msg, "out of memory");
        rc = -1;
    }
    if (rc != 0 && out->p != NULL) {
        out->len = saved;
        out->p[saved] = '\0';
    }
    return rc;
}
