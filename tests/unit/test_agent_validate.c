/* loongd's strict line protocol validator: good lines, each way a line
 * can be bad, everything lp_encode writes (random points) is accepted,
 * and random byte mutations never crash and never pass a control
 * character, a bad UTF-8 sequence or an unbalanced quote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/validate.h"
#include "check.h"
#include "common/lp.h"

static int check_line(const char *s, int *has_ts, const char **why)
{
    char buf[LPV_MAX_LINE + 2];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    buf[n] = '\n';
    return lpv_check(buf, n, has_ts, why);
}

static void good(const char *s, int ts)
{
    int has_ts = -1;
    const char *why = "";
    CHECK_CONTEXT("good line \"%s\"", s);
    if (!CHECK(check_line(s, &has_ts, &why)))
        fprintf(stderr, "    refused: %s\n", why);
    CHECK_EQ_INT(has_ts, ts);
    CHECK_CONTEXT("%s", "");
}

static void bad(const char *s, const char *says)
{
    int has_ts;
    const char *why = NULL;
    CHECK_CONTEXT("bad line \"%s\"", s);
    CHECK(!check_line(s, &has_ts, &why));
    if (!CHECK(why != NULL && strstr(why, says) != NULL))
        fprintf(stderr, "    why: %s, expected %s\n", why ? why : "(null)",
                says);
    CHECK_CONTEXT("%s", "");
}

static void fixed(void)
{
    good("m f=1", 0);
    good("m f=1 1700000000000000000", 1);
    good("m f=-1.5e-3,g=.5,h=1.,i=-7i,j=\"s\",k=t,l=FALSE 0", 1);
    good("m,host=a,pid=1 calls=3i -5", 1);
    good("m\\ x\\,y,t\\ k=v\\,w\\=z f\\ k=1", 0);
    good("m,t=a\\\\b f=\"q\\\"w\\\\e, x=1 y\"", 0);
    good("m f=\"a\\\\\"", 0);
    bad("m,t=a\\\\ f=1", "escaped backslash before a separator");
    bad("m,t=a\\\\,u=b f=1", "escaped backslash before a separator");
    bad("m\\\\ f=1", "escaped backslash before a separator");
    bad("m f\\\\=1", "escaped backslash before a separator");
    good("m f=\"\"", 0);
    good("m,t=\xe9\x87\x91 f=\"\xf0\x9f\x90\x89\"", 0);
    good("m=x f=1", 0);
    good("m f=9223372036854775807i", 0);
    good("m f=1 9223372036854775806", 1);

    bad("", "empty line");
    bad("# comment", "comment");
    bad(",t=a f=1", "empty measurement");
    bad("m", "no fields");
    bad("m ", "empty field key");
    bad("m,t=a", "no fields");
    bad("m,=a f=1", "empty tag key");
    bad("m,t= f=1", "empty tag value");
    bad("m,t f=1", "tag without '='");
    bad("m,t=a=b f=1", "unescaped '='");
    bad("m,time=1 f=1", "tag key 'time'");
    bad("m,t=a,t=b f=1", "repeated tag key");
    bad("m f=1,f=2", "repeated field key");
    bad("m time=1", "field key 'time'");
    bad("m f", "field without '='");
    bad("m f=", "missing field value");
    bad("m f=1u", "unsigned");
    bad("m f=1.5i", "bad integer");
    bad("m f=99999999999999999999i", "out of range");
    bad("m f=1e999", "out of range");
    bad("m f=abc", "bad field value");
    bad("m f=tru", "bad field value");
    bad("m f=truex", "bad field value");
    bad("m f=-", "bad field value");
    bad("m f=.", "bad number");
    bad("m f=1e", "bad exponent");
    bad("m f=1x", "bad field value");
    bad("m f=NaN", "bad field value");
    bad("m f=\"abc", "unterminated string");
    bad("m f=\"abc\\\"", "unterminated string");
    bad("m f=\"a\"b", "after a string");
    bad("m f=1  5", "bad timestamp");
    bad("m f=1 5 ", "bad timestamp");
    bad("m f=1 1.5", "bad timestamp");
    bad("m f=1 x", "bad timestamp");
    bad("m f=1 99999999999999999999", "out of range");
    bad("m f=1 9223372036854775807", "out of range");
    bad("m f=1,", "empty field key");
    bad("m  f=1", "empty field key");
    bad("m\\", "backslash at the end");
    bad("m f=1\tg", "control character");
    bad("m f=\"a\rb\"", "control character");
    bad("m,t=\xff f=1", "invalid UTF-8");
    bad("m,t=\xe9\x87 f=1", "invalid UTF-8");
    bad("m,t=\xed\xa0\x80 f=1", "invalid UTF-8"); /* a surrogate */
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Hostile text: every ASCII byte, control characters, bytes of UTF-8 and
 * not. */
static void random_text(char *s, size_t max)
{
    static const char *const parts[] = {
        ",", "=", " ", "\\", "\"", "\n", "\r", "\t", "#", "a", "Z", "0",
        "time", "\xc3\xa9", "\xf0\x9f\x90\x89", "\xff", "\xe2\x80\xa8", "i",
        "u", "'", "{", "}"};
    size_t n = next() % max, len = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[next() % (sizeof parts / sizeof parts[0])];
        if (len + strlen(p) + 1 >= max)
            break;
        strcpy(s + len, p);
        len += strlen(p);
    }
}

/* Every point lp_encode writes is accepted: the runtime's output is never
 * refused by its agent. */
static void encoder_output_accepted(void)
{
    char meas[64], tk[3][64], tv[3][64], fk[4][64], fs[64], line[8192];

    for (int iter = 0; iter < 20000; iter++) {
        random_text(meas, sizeof meas);
        loong_tag tags[3];
        loong_field f[4];
        for (int i = 0; i < 3; i++) {
            random_text(tk[i], sizeof tk[i]);
            random_text(tv[i], sizeof tv[i]);
            tags[i] = (loong_tag){tk[i], tv[i]};
        }
        for (int i = 0; i < 4; i++)
            random_text(fk[i], sizeof fk[i]);
        random_text(fs, sizeof fs);
        f[0] = (loong_field){fk[0], LOONG_FIELD_INT, {.i = (int64_t)next()}};
        f[1] = (loong_field){fk[1], LOONG_FIELD_FLOAT,
                             {.f = (double)(int64_t)next() / 7.0e3}};
        f[2] = (loong_field){fk[2], LOONG_FIELD_STRING, {.s = fs}};
        f[3] = (loong_field){fk[3], LOONG_FIELD_BOOL, {.b = iter & 1}};
        loong_tag extra[] = {{"host", "h"}, {"pid", "1"}};
        loong_point pt = {meas, tags, 3, f, 4, 0};
        ssize_t n = lp_encode(line, sizeof line, &pt, extra, 2,
                              (int64_t)(next() >> 2));
        if (n <= 0)
            continue;
        int has_ts;
        const char *why = "";
        CHECK_CONTEXT("iteration %d: %.*s", iter, (int)n - 1, line);
        /* a name ending in '\\' is written "\\\\" before its separator,
         * which InfluxDB 1.x misreads: the one refusal allowed */
        if (!lpv_check(line, (size_t)n - 1, &has_ts, &why)) {
            if (!CHECK(strcmp(why, "escaped backslash before a separator") ==
                       0))
                fprintf(stderr, "    refused: %s\n", why);
            continue;
        }
        CHECK(has_ts == 1);
    }
    CHECK_CONTEXT("%s", "");
}

/* Mutations of good lines: never a crash (ASan), and what passes has no
 * control character. */
static void mutations(void)
{
    static const char *const seeds[] = {
        "m,t=a\\ b,u=c f=1i,g=\"x\\\"y\",h=t 1700000000000000000",
        "cpu,host=a usage=0.5 1", "m f=\"\xe9\x87\x91\" -1"};
    char line[256];
    unsigned long passed = 0;

    for (int iter = 0; iter < 200000; iter++) {
        const char *s = seeds[iter % 3];
        size_t n = strlen(s);
        memcpy(line, s, n);
        for (int k = 0; k < 1 + (int)(next() % 4); k++) {
            size_t at = next() % n;
            line[at] = (char)(next() % 256);
        }
        line[n] = '\n';
        int has_ts;
        const char *why;
        if (lpv_check(line, n, &has_ts, &why)) {
            passed++;
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)line[i] < 0x20 || line[i] == 0x7F)
                    CHECK(0);
        }
    }
    CHECK(passed > 0);
}

int main(void)
{
    fixed();
    encoder_output_accepted();
    mutations();
    return CHECK_DONE("test_agent_validate");
}
