/* Line protocol encoder: a rule-by-rule test, then a property test that
 * throws many thousands of random adversarial points at lp_encode and
 * checks every line with the reference parser of lp_ref.h. */
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/lp.h"
#include "lp_ref.h"

#define RANDOM_POINTS 30000
#define SEED 0x10046C0FFEEULL

/* ---- helpers ----------------------------------------------------------- */

static char out[1 << 17];

static loong_field ffloat(const char *k, double v)
{
    loong_field f = {.key = k, .type = LOONG_FIELD_FLOAT};
    f.v.f = v;
    return f;
}

static loong_field fint(const char *k, int64_t v)
{
    loong_field f = {.key = k, .type = LOONG_FIELD_INT};
    f.v.i = v;
    return f;
}

static loong_field fuint(const char *k, uint64_t v)
{
    loong_field f = {.key = k, .type = LOONG_FIELD_UINT};
    f.v.u = v;
    return f;
}

static loong_field fbool(const char *k, int v)
{
    loong_field f = {.key = k, .type = LOONG_FIELD_BOOL};
    f.v.b = v;
    return f;
}

static loong_field fstr(const char *k, const char *v)
{
    loong_field f = {.key = k, .type = LOONG_FIELD_STRING};
    f.v.s = v;
    return f;
}

/* Encode and also run the reference check; the line, or "" on error. */
static ssize_t enc(const char *meas, const loong_tag *tags, size_t ntags,
                   const loong_field *fields, size_t nfields, int64_t ts)
{
    loong_point pt = {meas, tags, ntags, fields, nfields, 0};
    char why[256];
    ssize_t n = lp_encode(out, sizeof out, &pt, NULL, 0, ts);

    if (!CHECK(ref_verify(&pt, NULL, 0, ts, n, out, why, sizeof why) == 0))
        fprintf(stderr, "    %s\n", why);
    if (n < 0)
        out[0] = '\0';
    return n;
}

static void expect_line(const char *meas, const loong_tag *tags,
                        size_t ntags, const loong_field *fields,
                        size_t nfields, int64_t ts, const char *want)
{
    ssize_t n = enc(meas, tags, ntags, fields, nfields, ts);

    CHECK_EQ_MEM(out, n > 0 ? (size_t)n : 0, want, strlen(want));
}

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);

    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

/* ---- hand-written cases ------------------------------------------------ */

static void test_basic(void)
{
    loong_tag tags[] = {{"host", "a"}, {"pid", "42"}};
    loong_field f[] = {ffloat("v", 1.5), fint("n", -3), fbool("ok", 1),
                       fstr("s", "hi")};

    expect_line("cpu", tags, 2, f, 4, 1700000000000000000LL,
                "cpu,host=a,pid=42 v=1.5,n=-3i,ok=true,s=\"hi\" "
                "1700000000000000000\n");
    expect_line("cpu", NULL, 0, f, 1, 0, "cpu v=1.5\n");
    expect_line("cpu", NULL, 0, f, 1, -5, "cpu v=1.5 -5\n");
}

#define FW "\xEF\xBC\xBC" /* U+FF3C, for a name's last backslash */

static void test_escapes(void)
{
    loong_tag tags[] = {{"k,= \\", "v,= \\"}, {"a", "b\\"}, {"c", "d"}};
    loong_field f[] = {fstr("f,= \\\"", "say \"hi\", =\\"),
                       fstr("t", "ends\\")};

    expect_line("m, =\\#", tags, 3, f, 2, 0,
                "m\\,\\ =\\\\#,"
                "k\\,\\=\\ " FW "=v\\,\\=\\ " FW ",a=b" FW ",c=d "
                "f\\,\\=\\ \\\\\"=\"say \\\"hi\\\", =\\\\\","
                "t=\"ends\\\\\"\n");
    /* a trailing backslash must not escape the separator after it: InfluxDB
     * 1.x reads one after "\\\\" as escaped, so it becomes U+FF3C; one
     * inside a name stays an escaped backslash */
    expect_line("m\\", NULL, 0, f + 1, 1, 0, "m" FW " t=\"ends\\\\\"\n");
    expect_line("a\\\\", NULL, 0, f + 1, 1, 0,
                "a\\\\" FW " t=\"ends\\\\\"\n");
    expect_line("a\\b", NULL, 0, f + 1, 1, 0, "a\\\\b t=\"ends\\\\\"\n");
    /* a leading '#' would make a comment line */
    expect_line("#m", NULL, 0, f + 1, 1, 0, "\\#m t=\"ends\\\\\"\n");
    expect_line("m#", NULL, 0, f + 1, 1, 0, "m# t=\"ends\\\\\"\n");
}

static void test_controls_and_utf8(void)
{
    loong_tag tags[] = {{"k\n", "v\r\n"}, {"\t", "x"}};
    loong_field f[] = {fstr("s\x7f", "a\nb\rc\x01\x1f"),
                       fstr("u", "\xff\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                                 "\xed\xa0\x80\xc0\xaf\xe2\x82")};

    expect_line("m\n", tags, 2, f, 2, 0,
                "m\\ ,k\\ =v\\ \\ ,\\ =x "
                "s\\ =\"a b c  \","
                "u=\"\xef\xbf\xbd\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"\n");
    /* U+2028, NEL and U+FFFD are valid characters: kept as they are */
    expect_line("\xe2\x80\xa8", NULL, 0, f, 1, 0,
                "\xe2\x80\xa8 s\\ =\"a b c  \"\n");
}

static void test_numbers(void)
{
    loong_field f[] = {
        ffloat("a", 0.1), ffloat("b", 1.0), ffloat("c", -0.0),
        ffloat("d", 1e300), ffloat("e", 5e-324), ffloat("g", -DBL_MAX),
        fint("h", INT64_MIN), fint("i", INT64_MAX), fint("j", 0),
        fuint("k", UINT64_MAX), fuint("l", (uint64_t)INT64_MAX + 1),
        fuint("m", 7), fbool("n", 0), fbool("o", 2), fbool("p", -1),
    };

    expect_line("x", NULL, 0, f, sizeof f / sizeof f[0], 0,
                "x a=0.10000000000000001,b=1,c=-0,d=1.0000000000000001e+300,"
                "e=4.9406564584124654e-324,g=-1.7976931348623157e+308,"
                "h=-9223372036854775808i,i=9223372036854775807i,j=0i,"
                "k=9223372036854775807i,l=9223372036854775807i,m=7i,"
                "n=false,o=true,p=true\n");
}

static void test_nan_inf_and_bad_fields(void)
{
    loong_field bad[] = {ffloat("a", NAN), ffloat("b", INFINITY),
                         ffloat("c", -INFINITY), fint("", 1),
                         fint(NULL, 2), {.key = "t", .type = 0},
                         {.key = "u", .type = 99}};
    loong_field mixed[] = {ffloat("a", NAN), fint("b", 1),
                           ffloat("c", INFINITY), ffloat("d", 2.5)};
    loong_point pt = {"m", NULL, 0, bad, 7, 0};

    CHECK_EQ_INT(enc("m", NULL, 0, bad, 7, 0), LOONG_EINVAL);
    CHECK_EQ_INT(enc("m", NULL, 0, bad, 0, 0), LOONG_EINVAL);
    CHECK_EQ_INT(lp_encode(out, sizeof out, NULL, NULL, 0, 0), LOONG_EINVAL);
    pt.fields = NULL;
    pt.nfields = 0;
    CHECK_EQ_INT(lp_encode(out, sizeof out, &pt, NULL, 0, 0), LOONG_EINVAL);
    expect_line("m", NULL, 0, mixed, 4, 0, "m b=1i,d=2.5\n");
    /* EINVAL wins over ETRUNC: the point itself is wrong */
    pt.fields = bad;
    pt.nfields = 7;
    CHECK_EQ_INT(lp_encode(out, 0, &pt, NULL, 0, 0), LOONG_EINVAL);
}

static void test_measurement_required(void)
{
    loong_field f[] = {fint("a", 1)};

    CHECK_EQ_INT(enc("", NULL, 0, f, 1, 0), LOONG_EINVAL);
    CHECK_EQ_INT(enc(NULL, NULL, 0, f, 1, 0), LOONG_EINVAL);
    /* only control characters: a (escaped) space, still a measurement */
    expect_line("\n", NULL, 0, f, 1, 0, "\\  a=1i\n");
}

static void test_tags(void)
{
    loong_tag tags[] = {{"", "x"}, {"y", ""}, {NULL, "z"}, {"w", NULL},
                        {"a", "1"}};
    loong_tag extra[] = {{"host", "h"}, {"", "skip"}, {"pid", "9"}};
    loong_field f[] = {fint("v", 1)};
    loong_point pt = {"m", tags, 5, f, 1, 0};
    char why[256];
    ssize_t n;

    expect_line("m", tags, 5, f, 1, 0, "m,a=1 v=1i\n");
    n = lp_encode(out, sizeof out, &pt, extra, 3, 12);
    CHECK_EQ_MEM(out, n > 0 ? (size_t)n : 0, "m,a=1,host=h,pid=9 v=1i 12\n",
                 strlen("m,a=1,host=h,pid=9 v=1i 12\n"));
    CHECK(ref_verify(&pt, extra, 3, 12, n, out, why, sizeof why) == 0);
    pt.ntags = 0;
    n = lp_encode(out, sizeof out, &pt, extra, 3, 0);
    CHECK_EQ_STR(n > 0 ? out : "", "m,host=h,pid=9 v=1i\n");
    /* NULL arrays with counts are refused, not read */
    pt.tags = NULL;
    pt.ntags = 2;
    CHECK_EQ_INT(lp_encode(out, sizeof out, &pt, NULL, 0, 0), LOONG_EINVAL);
    pt.ntags = 0;
    CHECK_EQ_INT(lp_encode(out, sizeof out, &pt, NULL, 1, 0), LOONG_EINVAL);
}

static void test_truncation(void)
{
    char *a2000 = repeat("a", 2000);
    char *a1023 = repeat("a", 1023);
    char *euro = malloc(1023 + 3 + 1);
    char *s20000 = repeat("s", 20000);
    char *bad = repeat("\xff", 2000);
    char *commas = repeat(",", 2000);
    char *want = malloc(LP_MAX_STRING * 3);
    loong_field f[] = {fstr("s", s20000)};
    ssize_t n;

    /* names: 1024 bytes */
    n = enc(a2000, NULL, 0, f, 1, 0);
    CHECK(n > 0 && memcmp(out, a2000, 1024) == 0 && out[1024] == ' ');
    /* a character that would cross the limit is left out whole */
    memcpy(euro, a1023, 1023);
    memcpy(euro + 1023, "\xe2\x82\xac", 4);
    n = enc(euro, NULL, 0, f, 1, 0);
    CHECK(n > 0 && memcmp(out, a1023, 1023) == 0 && out[1023] == ' ');
    /* invalid bytes grow to 3 each: 341 U+FFFD fit in 1024 */
    n = enc(bad, NULL, 0, f, 1, 0);
    CHECK(n > 0 && out[341 * 3] == ' ' && out[341 * 3 - 1] == '\xbd');
    /* the cut counts the text, not its escapes */
    n = enc(commas, NULL, 0, f, 1, 0);
    CHECK(n > 0 && out[2048] == ' ' && out[2047] == ',');
    /* strings: 16384 bytes */
    memset(want, 0, LP_MAX_STRING * 3);
    memcpy(want, "m s=\"", 5);
    memset(want + 5, 's', LP_MAX_STRING);
    memcpy(want + 5 + LP_MAX_STRING, "\"\n", 3);
    expect_line("m", NULL, 0, f, 1, 0, want);
    free(a2000);
    free(a1023);
    free(euro);
    free(s20000);
    free(bad);
    free(commas);
    free(want);
}

/* cap too small gives LOONG_ETRUNC and never a byte written past cap. */
static void check_caps(const loong_point *pt, const loong_tag *extra,
                       size_t nextra, int64_t ts, const char *line, size_t n,
                       uint64_t r)
{
    size_t caps[4] = {n, n - 1, n / 2, r % n};

    for (size_t i = 0; i < 4; i++) {
        size_t cap = caps[i];
        char *b = malloc(cap + 16);
        ssize_t got;
        int canary_ok = 1;

        memset(b, 0x5A, cap + 16);
        got = lp_encode(b, cap, pt, extra, nextra, ts);
        for (size_t k = cap; k < cap + 16; k++)
            canary_ok &= b[k] == 0x5A;
        CHECK(canary_ok);
        if (cap == n)
            CHECK(got == (ssize_t)n && memcmp(b, line, n) == 0);
        else
            CHECK_EQ_INT(got, LOONG_ETRUNC);
        free(b);
    }
}

static void test_etrunc(void)
{
    loong_field f[] = {fint("v", 1)};
    loong_point pt = {"m", NULL, 0, f, 1, 0};
    const char *line = "m v=1i 5\n";

    CHECK_EQ_INT(lp_encode(out, 0, &pt, NULL, 0, 5), LOONG_ETRUNC);
    CHECK_EQ_INT(lp_encode(NULL, 100, &pt, NULL, 0, 5), LOONG_ETRUNC);
    CHECK_EQ_INT(lp_encode(out, 8, &pt, NULL, 0, 5), LOONG_ETRUNC);
    CHECK_EQ_INT(lp_encode(out, 9, &pt, NULL, 0, 5), 9);
    check_caps(&pt, NULL, 0, 5, line, strlen(line), 3);
}

static void test_encoded_max_worst_cases(void)
{
    /* every byte invalid (x3) and every character escaped (x2) */
    char *bad = repeat("\xff", 5000);
    char *esc = repeat("\\", 30000);
    char *ctl = repeat("\n", 30000);
    loong_tag tags[] = {{bad, esc}, {ctl, bad}};
    loong_field f[] = {fstr(esc, esc), fstr(bad, bad), fstr(ctl, ctl),
                       ffloat("f", -2.2250738585072014e-308),
                       fint("i", INT64_MIN), fbool("b", 0)};
    loong_point pt = {esc, tags, 2, f, 6, 0};
    size_t max = lp_encoded_max(&pt, tags, 2);
    char *b = malloc(max);
    ssize_t n = lp_encode(b, max, &pt, tags, 2, INT64_MIN);
    char why[256];

    CHECK(n > 0 && (size_t)n <= max);
    if (!CHECK(ref_verify(&pt, tags, 2, INT64_MIN, n, b, why, sizeof why) ==
               0))
        fprintf(stderr, "    %s\n", why);
    CHECK(lp_encoded_max(NULL, NULL, 0) > 0);
    free(b);
    free(bad);
    free(esc);
    free(ctl);
}

/* The decimal point must be '.' even when the program chose a locale
 * that writes ",". Skipped when no such locale is installed. */
static void test_locale(void)
{
    static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8",
                                          "fr_FR.UTF-8", "fr_FR.utf8",
                                          "ru_RU.UTF-8", "de_DE"};
    loong_field f[] = {ffloat("v", 1.5)};
    const char *used = NULL;

    for (size_t i = 0; i < sizeof locales / sizeof locales[0] && !used; i++)
        used = setlocale(LC_NUMERIC, locales[i]) ? locales[i] : NULL;
    if (used == NULL) {
        printf("test_lp: no locale with a decimal comma here; locale "
               "case skipped\n");
        return;
    }
    expect_line("m", NULL, 0, f, 1, 0, "m v=1.5\n");
    setlocale(LC_NUMERIC, "C");
}

/* ---- random adversarial points ---------------------------------------- */

static uint64_t rng = SEED;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static size_t below(size_t n)
{
    return (size_t)(rnd() % n);
}

/* Pieces that have broken line protocol encoders: separators, quotes,
 * escapes (alone, doubled, trailing), line breaks, controls, and UTF-8
 * that is valid, overlong, surrogate, truncated or out of range. */
static const char *const TOKENS[] = {
    ",", "=", " ", "\"", "\\", "\n", "\r", "\t", "#", "\x01", "\x1f", "\x7f",
    "a", "Z", "0", "-", ".", "i", "e", "t", "\\\\", "\\\"", "\\,", "\\ ",
    "\\=", "\\n", "\"\"", "=\"", "\" ", "\x80", "\xbf", "\xc0", "\xc1\xbf",
    "\xc2", "\xc2\x85", "\xc2\xa0", "\xc3\xa9", "\xe0\x80\xaf", "\xe0\xa0\x80",
    "\xe2\x82", "\xe2\x82\xac", "\xe2\x80\xa8", "\xed\xa0\x80",
    "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xef\xbb\xbf",
    "\xf0\x9f\x98\x80", "\xf0\x80\x80\x80", "\xf0\x90\x80\x80",
    "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8",
    "\xfe", "\xff",
};
#define NTOKENS (sizeof TOKENS / sizeof TOKENS[0])

static const char *const WIDE[] = {"\xc3\xa9", "\xe2\x82\xac",
                                   "\xf0\x9f\x98\x80", "\xff", "\\", ","};

/* A point owns the strings it was built from. */
typedef struct rpoint {
    loong_point pt;
    loong_tag tags[6], extra[3];
    loong_field fields[7];
    size_t nextra;
    int64_t ts;
    char *owned[40];
    size_t nowned;
} rpoint;

static void put_piece(char **s, size_t *len, size_t *cap, const char *p,
                      size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *s = realloc(*s, *cap);
    }
    memcpy(*s + *len, p, n);
    *len += n;
    (*s)[*len] = '\0';
}

/* Random text: mostly short, sometimes past `limit` to exercise cuts. */
static const char *rand_text(rpoint *rp, size_t limit)
{
    size_t r = below(100), count, len = 0, cap = 16;
    int mode = (int)below(4);
    char *s;

    if (r < 2)
        return NULL;
    s = malloc(cap);
    s[0] = '\0';
    count = r < 8 ? 0 : r < 60 ? 1 + below(8) : r < 90 ? 9 + below(32)
            : r < 97 ? 41 + below(260) : limit / 4 + below(limit / 2);
    for (size_t i = 0; i < count; i++) {
        char byte;
        const char *t;
        if (mode == 1) { /* raw bytes */
            byte = (char)(1 + below(255));
            put_piece(&s, &len, &cap, &byte, 1);
            continue;
        }
        t = mode == 2 && count > 40 ? WIDE[below(6)] : TOKENS[below(NTOKENS)];
        put_piece(&s, &len, &cap, t, strlen(t));
    }
    rp->owned[rp->nowned++] = s;
    return s;
}

static double rand_double(void)
{
    static const double special[] = {0.0, -0.0, 1.0, 0.1, -1e-7, 1e21,
                                     1e16, DBL_MIN, DBL_MAX, -DBL_MAX,
                                     5e-324, NAN, INFINITY, -INFINITY};
    uint64_t bits = rnd();
    double d;

    switch (below(4)) {
    case 0:
        return special[below(sizeof special / sizeof special[0])];
    case 1:
        return (double)(int64_t)(rnd() % 2000001) - 1000000.0;
    default:
        memcpy(&d, &bits, sizeof d);
        return d;
    }
}

static void rand_field(rpoint *rp, loong_field *f)
{
    static const int types[] = {LOONG_FIELD_FLOAT, LOONG_FIELD_INT,
                                LOONG_FIELD_UINT, LOONG_FIELD_BOOL,
                                LOONG_FIELD_STRING};
    uint64_t r = rnd();

    memset(f, 0, sizeof *f);
    f->key = rand_text(rp, LP_MAX_NAME);
    f->type = below(40) == 0 ? (int)below(8) : types[below(5)];
    switch (f->type) {
    case LOONG_FIELD_FLOAT:
        f->v.f = rand_double();
        break;
    case LOONG_FIELD_INT:
        f->v.i = below(4) ? (int64_t)r : below(2) ? INT64_MIN : INT64_MAX;
        break;
    case LOONG_FIELD_UINT:
        f->v.u = below(4) ? r : below(2) ? UINT64_MAX : (uint64_t)INT64_MAX;
        break;
    case LOONG_FIELD_BOOL:
        f->v.b = (int)(r % 5) - 2;
        break;
    case LOONG_FIELD_STRING:
        f->v.s = rand_text(rp, below(30) == 0 ? LP_MAX_STRING : LP_MAX_NAME);
        break;
    }
}

static void rand_point(rpoint *rp)
{
    static const int64_t stamps[] = {0, 1, -1, INT64_MIN, INT64_MAX,
                                     1700000000123456789LL};

    memset(rp, 0, sizeof *rp);
    rp->pt.measurement = below(300) == 0 ? "" : rand_text(rp, LP_MAX_NAME);
    rp->pt.ntags = below(7);
    for (size_t i = 0; i < rp->pt.ntags; i++) {
        rp->tags[i].key = rand_text(rp, LP_MAX_NAME);
        rp->tags[i].value = rand_text(rp, LP_MAX_NAME);
    }
    rp->pt.tags = rp->pt.ntags ? rp->tags : NULL;
    rp->nextra = below(4);
    for (size_t i = 0; i < rp->nextra; i++) {
        rp->extra[i].key = rand_text(rp, LP_MAX_NAME);
        rp->extra[i].value = rand_text(rp, LP_MAX_NAME);
    }
    rp->pt.nfields = below(50) == 0 ? 0 : 1 + below(6);
    for (size_t i = 0; i < rp->pt.nfields; i++)
        rand_field(rp, &rp->fields[i]);
    rp->pt.fields = rp->fields;
    rp->ts = below(3) ? (int64_t)rnd() : stamps[below(6)];
}

static void free_point(rpoint *rp)
{
    for (size_t i = 0; i < rp->nowned; i++)
        free(rp->owned[i]);
}

static void test_random_points(void)
{
    static rpoint rp;
    size_t ok_lines = 0, refused = 0;
    char why[256];

    for (int it = 0; it < RANDOM_POINTS; it++) {
        size_t max;
        char *b;
        ssize_t n;

        CHECK_CONTEXT("random point %d, seed 0x%llx", it,
                      (unsigned long long)SEED);
        rand_point(&rp);
        max = lp_encoded_max(&rp.pt, rp.extra, rp.nextra);
        b = malloc(max); /* exactly max: ASan sees any overrun */
        n = lp_encode(b, max, &rp.pt, rp.extra, rp.nextra, rp.ts);
        if (!CHECK(ref_verify(&rp.pt, rp.extra, rp.nextra, rp.ts, n, b, why,
                              sizeof why) == 0))
            fprintf(stderr, "    %s\n", why);
        if (n > 0) {
            ok_lines++;
            CHECK((size_t)n <= max);
            check_caps(&rp.pt, rp.extra, rp.nextra, rp.ts, b, (size_t)n,
                       rnd());
        } else {
            refused++;
        }
        free(b);
        free_point(&rp);
    }
    CHECK_CONTEXT("%s", "");
    /* the generator must exercise both outcomes */
    CHECK(ok_lines > RANDOM_POINTS / 2);
    CHECK(refused > 100);
    printf("test_lp: %d random points: %zu lines checked, %zu refused\n",
           RANDOM_POINTS, ok_lines, refused);
}

/* %.17g must round-trip every finite double, bit for bit. */
static void test_float_round_trip(void)
{
    int bad = 0;

    for (int i = 0; i < 200000; i++) {
        uint64_t bits = rnd();
        double d, back;
        loong_field f;
        loong_point pt = {"m", NULL, 0, &f, 1, 0};
        ssize_t n;

        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        f = ffloat("v", d);
        n = lp_encode(out, sizeof out, &pt, NULL, 0, 0);
        back = n > 4 ? strtod(out + 4, NULL) : NAN;
        bad += memcmp(&back, &d, sizeof d) != 0;
    }
    CHECK_EQ_INT(bad, 0);
}

/* Lines InfluxDB would refuse whole: "time" keys, repeated keys. */
static void test_refused_keys(void)
{
    loong_tag t[] = {{"time", "x"}, {"a", "1"}, {"a", "2"}, {"host", "me"}};
    loong_field f[] = {{"time", LOONG_FIELD_INT, {.i = 1}},
                       {"v", LOONG_FIELD_INT, {.i = 2}},
                       {"v", LOONG_FIELD_INT, {.i = 3}}};
    expect_line("m", t, 4, f, 3, 0, "m,a=1,host=me v=2i\n");
    /* the runtime's tags win over a point's own tag of the same key */
    loong_tag extra[] = {{"host", "box"}, {"pid", "7"}};
    loong_point pt = {"m", t, 4, f, 3, 0};
    char why[256];
    ssize_t n = lp_encode(out, sizeof out, &pt, extra, 2, 5);
    if (!CHECK(ref_verify(&pt, extra, 2, 5, n, out, why, sizeof why) == 0))
        fprintf(stderr, "    %s\n", why);
    const char *want = "m,a=1,host=box,pid=7 v=2i 5\n";
    CHECK_EQ_MEM(out, n > 0 ? (size_t)n : 0, want, strlen(want));
    /* a point whose only field is "time" has no field */
    CHECK_EQ_INT(enc("m", NULL, 0, f, 1, 0), LOONG_EINVAL);

    /* keys that differ only until written are repeated keys too: control
     * characters become a space, bad bytes U+FFFD, long keys are cut */
    {
        char *k1 = repeat("k", LP_MAX_NAME + 1), *k2 = repeat("k", 1500);
        char *k3 = repeat("k", LP_MAX_NAME - 1);
        char *want2 = malloc(4 * LP_MAX_NAME);
        loong_tag t2[] = {{"a\n", "1"}, {"a\t", "2"}, {"\xFF", "3"},
                          {"\xFE", "4"}, {k1, "5"}, {k2, "6"}, {k3, "7"},
                          {"pid\x7F", "8"}};
        loong_tag extra2[] = {{"pid ", "9"}};
        loong_field f2[] = {{"v\x01", LOONG_FIELD_INT, {.i = 1}},
                            {"v\x02", LOONG_FIELD_INT, {.i = 2}},
                            {k1, LOONG_FIELD_INT, {.i = 3}},
                            {k2, LOONG_FIELD_INT, {.i = 4}}};
        loong_point pt2 = {"m", t2, 8, f2, 4, 0};
        if (want2 == NULL)
            abort();
        n = lp_encode(out, sizeof out, &pt2, extra2, 1, 0);
        if (!CHECK(ref_verify(&pt2, extra2, 1, 0, n, out, why,
                              sizeof why) == 0))
            fprintf(stderr, "    %s\n", why);
        snprintf(want2, 4 * LP_MAX_NAME,
                 "m,a\\ =1,\xEF\xBF\xBD=3,%s=5,%s=7,pid\\ =9 v\\ =1i,%s=3i\n",
                 k2 + 1500 - LP_MAX_NAME, k3, k2 + 1500 - LP_MAX_NAME);
        CHECK_EQ_MEM(out, n > 0 ? (size_t)n : 0, want2, strlen(want2));
        free(k1);
        free(k2);
        free(k3);
        free(want2);
    }
}

int main(void)
{
    test_basic();
    test_escapes();
    test_controls_and_utf8();
    test_numbers();
    test_nan_inf_and_bad_fields();
    test_measurement_required();
    test_tags();
    test_refused_keys();
    test_truncation();
    test_etrunc();
    test_encoded_max_worst_cases();
    test_locale();
    test_float_round_trip();
    test_random_points();
    return CHECK_DONE("test_lp");
}
