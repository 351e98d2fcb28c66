/* libFuzzer harness for the line protocol encoder (`make fuzz`).
 *
 * The input is read as: a few control bytes (how many tags, extra tags
 * and fields, each field's type and 8 bytes of value, the timestamp), then
 * the texts, separated by NUL bytes: measurement, tag keys and values,
 * extra tag keys and values, field keys, string values. The line is checked
 * by the reference parser of tests/unit/lp_ref.h; any difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lp.h"
#include "lp_ref.h"

#define MAX_TAGS 8
#define MAX_FIELDS 8
#define MAX_TEXTS (1 + 4 * MAX_TAGS + 2 * MAX_FIELDS)

typedef struct reader {
    const uint8_t *p;
    size_t n, pos;
    char *texts[MAX_TEXTS];
    size_t ntexts;
} reader;

static uint8_t take_byte(reader *r)
{
    return r->pos < r->n ? r->p[r->pos++] : 0;
}

static uint64_t take_u64(reader *r)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | take_byte(r);
    return v;
}

/* The next text, up to a NUL or the end; NULL once the input is used up,
 * so NULL pointers get fuzzed too. */
static const char *take_text(reader *r)
{
    const uint8_t *nul;
    size_t len;
    char *s;

    if (r->pos >= r->n)
        return NULL;
    nul = memchr(r->p + r->pos, 0, r->n - r->pos);
    len = nul ? (size_t)(nul - (r->p + r->pos)) : r->n - r->pos;
    s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, r->p + r->pos, len);
    s[len] = '\0';
    r->pos += len + (nul != NULL);
    r->texts[r->ntexts++] = s;
    return s;
}

static void fail(const char *why, const char *line, ssize_t n)
{
    fprintf(stderr, "fuzz_lp: %s\n", why);
    if (n > 0)
        fwrite(line, 1, (size_t)n, stderr);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0, {0}, 0};
    loong_tag tags[MAX_TAGS], extra[MAX_TAGS];
    loong_field fields[MAX_FIELDS];
    loong_point pt;
    size_t ntags = take_byte(&r) % MAX_TAGS;
    size_t nextra = take_byte(&r) % MAX_TAGS;
    size_t nfields = take_byte(&r) % MAX_FIELDS;
    int64_t ts = (int64_t)take_u64(&r);
    char why[256];
    size_t max;
    ssize_t n;
    char *out;

    memset(fields, 0, sizeof fields);
    for (size_t i = 0; i < nfields; i++) {
        uint64_t v;
        fields[i].type = take_byte(&r) % 7; /* 0 and 6: unknown types */
        v = take_u64(&r);
        memcpy(&fields[i].v, &v, sizeof v); /* every double, NaN included */
        if (fields[i].type == LOONG_FIELD_BOOL)
            fields[i].v.b = (int)(v % 5) - 2;
    }
    pt.measurement = take_text(&r);
    for (size_t i = 0; i < ntags; i++) {
        tags[i].key = take_text(&r);
        tags[i].value = take_text(&r);
    }
    for (size_t i = 0; i < nextra; i++) {
        extra[i].key = take_text(&r);
        extra[i].value = take_text(&r);
    }
    for (size_t i = 0; i < nfields; i++) {
        fields[i].key = take_text(&r);
        if (fields[i].type == LOONG_FIELD_STRING)
            fields[i].v.s = take_text(&r);
    }
    pt.tags = tags;
    pt.ntags = ntags;
    pt.fields = fields;
    pt.nfields = nfields;
    pt.wall_ns = 0;

    max = lp_encoded_max(&pt, extra, nextra);
    out = malloc(max);
    n = lp_encode(out, max, &pt, extra, nextra, ts);
    if (ref_verify(&pt, extra, nextra, ts, n, out, why, sizeof why) < 0)
        fail(why, out, n);
    if (n > 0 && (size_t)n > max)
        fail("longer than lp_encoded_max", out, n);
    if (n > 0 && lp_encode(out, (size_t)n - 1, &pt, extra, nextra, ts) !=
                     LOONG_ETRUNC)
        fail("cap one byte short did not give LOONG_ETRUNC", out, n);
    free(out);
    for (size_t i = 0; i < r.ntexts; i++)
        free(r.texts[i]);
    return 0;
}
