/* Toolkit specs, lists of them, and durations. See spec.h. */
#include "common/spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return LOONG_EINVAL;
}

static int fail_oom(char *err, size_t errlen)
{
    fail(err, errlen, "out of memory");
    return LOONG_ENOMEM;
}

static char *dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Where the toolkit part of a spec ends. Normally at the first ':'. A path
 * may itself hold a ':' ("/opt/a:b/x.so:k=v"), so when the text before
 * the first ':' contains a '/', the name runs to the first ".so" that is
 * followed by ':' or by the end, provided no ',' or '=' comes before it. */
static size_t name_end(const char *s)
{
    size_t colon = strcspn(s, ":");
    if (memchr(s, '/', colon) != NULL) {
        for (const char *p = s; (p = strstr(p, ".so")) != NULL; p++) {
            size_t end = (size_t)(p - s) + 3;
            if (strcspn(s, ",=") < end)
                break;
            if (s[end] == ':' || s[end] == '\0')
                return end;
        }
    }
    return colon;
}

int tk_spec_parse(const char *s, tk_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (s == NULL || *s == '\0')
        return fail(err, errlen, "empty toolkit spec");
    if (strchr(s, ';') != NULL)
        return fail(err, errlen,
                    "toolkit spec '%s' contains ';' (one toolkit per spec)",
                    s);

    size_t nlen = name_end(s);
    if (nlen == 0)
        return fail(err, errlen,
                    "toolkit spec '%s' has no toolkit name "
                    "(expected NAME[:key=value,...])",
                    s);
    if (memchr(s, '=', nlen) != NULL)
        return fail(err, errlen,
                    "toolkit spec '%s' has no toolkit name before its "
                    "options (expected NAME[:key=value,...])",
                    s);
    if (memchr(s, ',', nlen) != NULL)
        return fail(err, errlen,
                    "bad toolkit name '%.*s' in '%s' (one toolkit per "
                    "spec; expected NAME[:key=value,...])",
                    (int)nlen, s, s);

    /* Count the options to allocate once. */
    const char *opts = s[nlen] == ':' ? s + nlen + 1 : NULL;
    size_t nopts = 0;
    if (opts && *opts) {
        nopts = 1;
        for (const char *p = opts; *p; p++)
            nopts += (*p == ',');
    }

    tk_spec spec = {0};
    spec.name = dup_n(s, nlen);
    if (nopts)
        spec.opts = calloc(nopts, sizeof *spec.opts);
    if (!spec.name || (nopts && !spec.opts)) {
        tk_spec_free(&spec);
        return fail_oom(err, errlen);
    }

    const char *p = opts;
    for (size_t i = 0; i < nopts; i++) {
        size_t ilen = strcspn(p, ",");
        size_t klen = strcspn(p, "=,");
        if (ilen == 0) {
            fail(err, errlen, "empty option in toolkit spec '%s'", s);
            goto bad;
        }
        if (klen == ilen) {
            fail(err, errlen,
                 "option '%.*s' in toolkit spec '%s' has no value "
                 "(expected key=value)",
                 (int)ilen, p, s);
            goto bad;
        }
        if (klen == 0) {
            fail(err, errlen,
                 "option '%.*s' in toolkit spec '%s' has no key "
                 "(expected key=value)",
                 (int)ilen, p, s);
            goto bad;
        }
        for (size_t k = 0; k < klen; k++) {
            if (!is_key_char(p[k])) {
                fail(err, errlen,
                     "bad option key '%.*s' in toolkit spec '%s' "
                     "(keys are letters, digits and '_')",
                     (int)klen, p, s);
                goto bad;
            }
        }
        for (size_t j = 0; j < i; j++) {
            const char *prev = spec.opts[j].key;
            if (strlen(prev) == klen && memcmp(prev, p, klen) == 0) {
                fail(err, errlen,
                     "option '%.*s' given twice in toolkit spec '%s'",
                     (int)klen, p, s);
                goto bad;
            }
        }
        char *key = dup_n(p, klen);
        char *val = dup_n(p + klen + 1, ilen - klen - 1);
        spec.opts[i].key = key;
        spec.opts[i].value = val;
        spec.nopts = i + 1;
        if (!key || !val) {
            tk_spec_free(&spec);
            return fail_oom(err, errlen);
        }
        p += ilen + (p[ilen] == ',');
    }
    *out = spec;
    return 0;

bad:
    tk_spec_free(&spec);
    return LOONG_EINVAL;
}

void tk_spec_free(tk_spec *spec)
{
    if (spec == NULL)
        return;
    free(spec->name);
    if (spec->opts) {
        for (size_t i = 0; i < spec->nopts; i++) {
            free((char *)spec->opts[i].key);
            free((char *)spec->opts[i].value);
        }
        free((void *)spec->opts);
    }
    memset(spec, 0, sizeof *spec);
}

int tk_spec_parse_list(const char *s, tk_spec **out, size_t *n, char *err,
                       size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (s == NULL)
        return 0;

    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += (*p == ';');
    tk_spec *specs = calloc(cap, sizeof *specs);
    if (!specs)
        return fail_oom(err, errlen);

    size_t count = 0;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ";");
        if (len > 0) {
            char *item = dup_n(p, len);
            if (!item) {
                tk_spec_free_list(specs, count);
                return fail_oom(err, errlen);
            }
            int rc = tk_spec_parse(item, &specs[count], err, errlen);
            free(item);
            if (rc < 0) {
                tk_spec_free_list(specs, count);
                return rc;
            }
            count++;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (count == 0) {
        free(specs);
        specs = NULL;
    }
    *out = specs;
    *n = count;
    return 0;
}

void tk_spec_free_list(tk_spec *specs, size_t n)
{
    if (specs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        tk_spec_free(&specs[i]);
    free(specs);
}

char *tk_spec_format(const tk_spec *spec)
{
    if (spec == NULL || spec->name == NULL)
        return NULL;
    size_t len = strlen(spec->name) + 1;
    for (size_t i = 0; i < spec->nopts; i++)
        len += strlen(spec->opts[i].key) + 1 + strlen(spec->opts[i].value) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *w = out;
    size_t n = strlen(spec->name);
    memcpy(w, spec->name, n);
    w += n;
    for (size_t i = 0; i < spec->nopts; i++) {
        *w++ = i == 0 ? ':' : ',';
        n = strlen(spec->opts[i].key);
        memcpy(w, spec->opts[i].key, n);
        w += n;
        *w++ = '=';
        n = strlen(spec->opts[i].value);
        memcpy(w, spec->opts[i].value, n);
        w += n;
    }
    *w = '\0';
    return out;
}

/* ---- durations ------------------------------------------------------- */

#define DURATION_MAX_MS (24ull * 3600 * 1000)

int duration_parse_ms(const char *s, uint64_t *ms)
{
    if (s == NULL || !(*s >= '0' && *s <= '9'))
        return LOONG_EINVAL;

    /* Stop growing once past the maximum: no overflow, still refused. */
    uint64_t whole = 0;
    while (*s >= '0' && *s <= '9') {
        if (whole <= DURATION_MAX_MS)
            whole = whole * 10 + (uint64_t)(*s - '0');
        s++;
    }
    uint64_t frac = 0, scale = 1;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return LOONG_EINVAL;
        while (*s >= '0' && *s <= '9') {
            if (scale < 1000000000ull) {
                frac = frac * 10 + (uint64_t)(*s - '0');
                scale *= 10;
            } else if (*s != '0') {
                return LOONG_EINVAL; /* finer than we can represent */
            }
            s++;
        }
    }

    uint64_t unit;
    if (strcmp(s, "ms") == 0)
        unit = 1;
    else if (strcmp(s, "s") == 0)
        unit = 1000;
    else if (strcmp(s, "m") == 0)
        unit = 60 * 1000;
    else if (strcmp(s, "h") == 0)
        unit = 3600 * 1000;
    else
        return LOONG_EINVAL;

    if (whole > DURATION_MAX_MS)
        return LOONG_EINVAL;
    /* whole * unit <= 8.64e7 * 3.6e6 < 2^64; frac * unit < 1e9 * 3.6e6. */
    uint64_t total_whole = whole * unit;
    uint64_t frac_units = frac * unit;
    if (frac_units % scale != 0)
        return LOONG_EINVAL; /* not a whole number of milliseconds */
    uint64_t total = total_whole + frac_units / scale;
    if (total < 1 || total > DURATION_MAX_MS)
        return LOONG_EINVAL;
    *ms = total;
    return 0;
}
