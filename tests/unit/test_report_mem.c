/* Unit tests of `loong report`'s memory timeline (src/cli/report_mem.c):
 * loong_mem points of metrics.lp read forgivingly (bad, cut and foreign
 * lines left out and counted), one process's points, merging past
 * RM_MAX_POINTS, and mutated input: nothing may crash, and what comes out
 * is valid JSON with no '<' in it. Also rj_find_key (report_json.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/report.h"

static sb out;
static report_error err;

/* rd_mem_timeline on text[0..n): its status; the JSON in out.p. */
static int timeline_n(const char *text, size_t n, const char *pid)
{
    char *copy = malloc(n + 1);
    memcpy(copy, text, n);
    FILE *f = n ? fmemopen(copy, n, "r") : fopen("/dev/null", "r");
    sb_free(&out);
    sb_init(&out);
    sb_puts(&out, "PREFIX");
    memset(&err, 0, sizeof err);
    int rc = rd_mem_timeline(&out, f, pid, &err);
    fclose(f);
    free(copy);
    CHECK(strncmp(out.p, "PREFIX", 6) == 0);
    if (rc != 0)
        CHECK_EQ_STR(out.p, "PREFIX"); /* nothing added */
    return rc;
}

static int timeline(const char *text, const char *pid)
{
    return timeline_n(text, strlen(text), pid);
}

static const char *json(void)
{
    return out.p + 6;
}

/* Valid JSON that cannot leave its <script> element. */
static void check_safe(void)
{
    const char *j = json();
    size_t n = strlen(j);
    sb again;
    report_error e;

    CHECK(memchr(j, '<', n) == NULL);
    sb_init(&again);
    CHECK_EQ_INT(rj_document(&again, j, n, 1, &e), 0);
    sb_free(&again);
}

static void test_lines(void)
{
    const char *text =
        "loong_mem,host=a\\ b,program=x\\,y,pid=42 rss_bytes=100i,"
        "s=\"a b, c=\\\"d\\\" 9\",ok=true,f=1.5 1000000000\n"
        "loong_function,function=f calls=1i 1000000001\n"
        "garbage line here\n"
        "\n"
        "loong_mem,pid=42 rss_bytes=200i,new_field=7u 1002000000\r\n"
        "loong_mem,pid=42 rss_bytes=12x 1003000000\n"     /* bad value */
        "loong_mem,pid=42 rss_bytes=300i\n"               /* no time */
        "loong_mem,pid=43 rss_bytes=999i 1004000000\n"    /* another pid */
        "loong_mem_alloc,function=leak alloc_bytes=5i 1005000000\n"
        "loong_mem\\ x,pid=42 rss_bytes=5i 1005000000\n"  /* not ours */
        "loong_mem,pid=42 rss_bytes=400i,rss_bytes=1i 1006000000\n"
        "loong_mem,pid=42 rss_bytes=500i 100700";         /* cut short */
    CHECK_EQ_INT(timeline(text, "42"), 0);
    CHECK_EQ_STR(json(),
                 "{\"pid\":\"42\",\"points\":3,\"every\":1,\"skipped\":3,"
                 "\"other_pid\":1,\"fields_dropped\":0,"
                 "\"first_ns\":\"1000000000\",\"t0_ms\":1000.000000,\n"
                 "\"t\":[0,2,6],\n"
                 "\"fields\":{\"rss_bytes\":[100,200,400],\n"
                 "\"f\":[1.5,null,null],\n"
                 "\"new_field\":[null,7,null]}}");
    check_safe();

    /* no pid wanted: the first one seen */
    CHECK_EQ_INT(timeline(text, NULL), 0);
    CHECK_HAS(json(), "\"pid\":\"42\",\"points\":3,");
    /* a pid no point has: the file is another process's, drawn anyway */
    CHECK_EQ_INT(timeline(text, "7"), 0);
    CHECK_HAS(json(), "\"pid\":\"42\",\"points\":3,\"every\":1,"
                      "\"skipped\":3,\"other_pid\":1,");
    /* the other pid, when asked for */
    CHECK_EQ_INT(timeline(text, "43"), 0);
    CHECK_HAS(json(), "\"pid\":\"43\",\"points\":1,\"every\":1,"
                      "\"skipped\":3,\"other_pid\":3,");
    CHECK_HAS(json(), "\"rss_bytes\":[999]");

    /* nothing of loong_mem: no section */
    CHECK_EQ_INT(timeline("loong_runtime records=1i 5\nx\n", "1"), 1);
    CHECK_EQ_INT(timeline("", "1"), 1);
    /* only bad loong_mem lines: a section that says so */
    CHECK_EQ_INT(timeline("loong_mem a=1i x\nloong_mem,pid=1 a=\n", "1"), 0);
    CHECK_HAS(json(), "\"points\":0,\"every\":1,\"skipped\":2,");
    CHECK_HAS(json(), "\"t\":[],\n\"fields\":{}}");
    check_safe();

    /* malformed in every place a scanner can go wrong */
    static const char *const bad[] = {
        "loong_mem a=1i",             /* no timestamp */
        "loong_mem a=1i 12x",         /* bad timestamp */
        "loong_mem a=1i 99999999999999999999", /* out of range */
        "loong_mem a=1i  5",          /* two spaces */
        "loong_mem a=1i 5 ",          /* space after the timestamp */
        "loong_mem, a=1i 5",          /* empty tag */
        "loong_mem,k a=1i 5",         /* tag without '=' */
        "loong_mem,k= a=1i 5",        /* empty tag value */
        "loong_mem  a=1i 5",          /* empty field key */
        "loong_mem =1i 5",            /* empty field key */
        "loong_mem a 5",              /* field without '=' */
        "loong_mem a= 5",             /* no value */
        "loong_mem a=1i, 5",          /* trailing comma */
        "loong_mem a=\"x 5",          /* unterminated string */
        "loong_mem a=\"x\"y 5",       /* text after a string */
        "loong_mem a=1.5i 5",         /* not an integer */
        "loong_mem a=-1u 5",          /* negative unsigned */
        "loong_mem a=0x10 5",         /* hex */
        "loong_mem a=nan 5",          /* not a number */
        "loong_mem a=inf 5",
        "loong_mem a=1e999 5",        /* out of range */
        "loong_mem a=99999999999999999999i 5",
        "loong_mem a=1i\\",           /* backslash at the end */
        "loong_mem,k=v\\",
        "loong_mem",                  /* nothing */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[256];
        CHECK_CONTEXT("bad line '%s'", bad[i]);
        snprintf(line, sizeof line, "loong_mem b=2i 4\n%s\nloong_mem b=3i 6\n",
                 bad[i]);
        int rc = timeline(line, NULL);
        CHECK_EQ_INT(rc, 0);
        if (strcmp(bad[i], "loong_mem") == 0) {
            /* no ',' or ' ' after it: not even a loong_mem line */
            CHECK_HAS(json(), "\"points\":2,\"every\":1,\"skipped\":0,");
        } else {
            CHECK_HAS(json(), "\"points\":2,\"every\":1,\"skipped\":1,");
        }
        CHECK_HAS(json(), "\"fields\":{\"b\":[2,3]}}");
    }
    CHECK_CONTEXT("%s", "");

    /* good in odd ways */
    CHECK_EQ_INT(timeline("loong_mem,pid=1 a=-1.5e3,b=t,c=\"\",d=+2,e=.5 -5\n"
                          "loong_mem,pid=1 a=18446744073709551615u 5\n",
                          "1"),
                 0);
    CHECK_HAS(json(), "\"points\":2,\"every\":1,\"skipped\":0,");
    CHECK_HAS(json(), "\"first_ns\":\"-5\",\"t0_ms\":-0.000,\n"
                      "\"t\":[0,1e-05],\n");
    CHECK_HAS(json(), "\"a\":[-1500,1.8446744073709552e+19]");
    CHECK_HAS(json(), "\"d\":[2,null],\n\"e\":[0.5,null]}}");
    check_safe();

    /* escaped field keys, markup in them: through rj_str */
    CHECK_EQ_INT(timeline("loong_mem a\\ b\\,c\\=d=1i,</script>=2i 1\n", NULL),
                 0);
    CHECK_HAS(json(), "\"fields\":{\"a b,c=d\":[1],\n"
                      "\"\\u003c/script\\u003e\":[2]}}");
    check_safe();

    /* timestamps too far apart to subtract */
    CHECK_EQ_INT(timeline("loong_mem a=1i -9223372036854775000\n"
                          "loong_mem a=2i 9223372036854775000\n",
                          NULL),
                 0);
    CHECK_HAS(json(), "\"points\":1,\"every\":1,\"skipped\":1,");
}

static void test_long_lines_and_many_fields(void)
{
    sb in;
    sb_init(&in);
    /* a line longer than RM_MAX_LINE, of ours and of another */
    sb_puts(&in, "loong_mem a=1i 1\nloong_mem s=\"");
    for (int i = 0; i < RM_MAX_LINE; i++)
        sb_putc(&in, 'x');
    sb_puts(&in, "\" 2\nloong_function s=\"");
    for (int i = 0; i < 3 * RM_MAX_LINE; i++)
        sb_putc(&in, 'y');
    sb_puts(&in, "\" 3\nloong_mem a=2i 4\n");
    /* 70 fields: 64 kept */
    sb_puts(&in, "loong_mem ");
    for (int i = 0; i < 70; i++)
        sb_printf(&in, "%sf%02d=%di", i ? "," : "", i, i);
    sb_puts(&in, " 5\n");
    CHECK_EQ_INT(timeline_n(in.p, in.len, NULL), 0);
    CHECK_HAS(json(), "\"points\":3,\"every\":1,\"skipped\":1,"
                      "\"other_pid\":0,\"fields_dropped\":7,");
    /* a, then f00..f62: 64 names */
    CHECK_HAS(json(), "\"f62\":[null,null,62]}}");
    CHECK(strstr(json(), "\"f63\"") == NULL);
    check_safe();
    sb_free(&in);
}

/* Past RM_MAX_POINTS points: rows of 4 points (the smallest power of two
 * that brings 4003 points under 2000), the largest value of each, the
 * sum of gc_pauses, the last point's time. */
static void test_merged(void)
{
    sb in, want;
    const int n = 2 * RM_MAX_POINTS + 3;

    sb_init(&in);
    for (int i = 0; i < n; i++) {
        /* a spike at 1001: kept by its row */
        long rss = i == 1001 ? 1000000 : 100 + (i % 7);
        sb_printf(&in,
                  "loong_mem,pid=9 rss_bytes=%ldi,gc_pauses=%di,"
                  "gc_pause_us=%di,gc_pause_max_us=%di %d000000\n",
                  rss, i % 2, 10 * (i % 2), 10 * (i % 2), i);
        if (i == 2500)
            sb_puts(&in, "loong_mem,pid=9 x=1i\n"); /* bad: no time */
    }
    CHECK_EQ_INT(timeline_n(in.p, in.len, "9"), 0);
    CHECK_HAS(json(), "{\"pid\":\"9\",\"points\":4003,\"every\":4,"
                      "\"skipped\":1,");
    int rows = (n + 3) / 4;
    CHECK_EQ_INT(rows, 1001);
    sb_init(&want);
    sb_puts(&want, "\"t\":[");
    for (int r = 0; r < rows; r++) {
        int last = 4 * r + 3 < n ? 4 * r + 3 : n - 1;
        sb_printf(&want, r ? ",%d" : "%d", last);
    }
    sb_puts(&want, "]");
    CHECK_HAS(json(), want.p);
    want.len = 0;
    sb_puts(&want, "\"rss_bytes\":[");
    for (int r = 0; r < rows; r++) {
        long mx = 0;
        for (int i = 4 * r; i < 4 * r + 4 && i < n; i++) {
            long rss = i == 1001 ? 1000000 : 100 + (i % 7);
            mx = rss > mx ? rss : mx;
        }
        sb_printf(&want, r ? ",%ld" : "%ld", mx);
    }
    sb_puts(&want, "]");
    CHECK_HAS(json(), want.p);
    want.len = 0;
    sb_puts(&want, "\"gc_pauses\":[");
    for (int r = 0; r < rows; r++)
        sb_printf(&want, r ? ",%d" : "%d", 4 * r + 4 <= n ? 2 : 1);
    sb_puts(&want, "],\n\"gc_pause_us\":[");
    for (int r = 0; r < rows; r++)
        sb_printf(&want, r ? ",%d" : "%d", 4 * r + 4 <= n ? 20 : 10);
    sb_puts(&want, "],\n\"gc_pause_max_us\":[");
    for (int r = 0; r < rows; r++)
        sb_printf(&want, r ? ",%d" : "%d", 10);
    sb_puts(&want, "]}}");
    CHECK_HAS(json(), want.p);
    check_safe();

    /* exactly RM_MAX_POINTS: as they are */
    in.len = 0;
    for (int i = 0; i < RM_MAX_POINTS; i++)
        sb_printf(&in, "loong_mem a=%di %d000000\n", i, i);
    CHECK_EQ_INT(timeline_n(in.p, in.len, NULL), 0);
    CHECK_HAS(json(), "\"points\":2000,\"every\":1,");
    /* one more: pairs */
    sb_printf(&in, "loong_mem a=%di %d000000\n", 7, RM_MAX_POINTS);
    CHECK_EQ_INT(timeline_n(in.p, in.len, NULL), 0);
    CHECK_HAS(json(), "\"points\":2001,\"every\":2,");
    CHECK_HAS(json(), ",1997,1999,2000]");
    CHECK_HAS(json(), ",1997,1999,7]}}");
    sb_free(&in);
    sb_free(&want);
}

static void test_find_key(void)
{
    const char *v;
    size_t vn;
    const char *doc = "{\"a\": {\"pid\": 1}, \"p\\\"id\": 3, \"l\": [1, "
                      "{\"x\": \"]}\"}], \"pid\" : 42 , \"z\": null}";

    CHECK_EQ_INT(rj_find_key(doc, strlen(doc), "pid", &v, &vn), 1);
    CHECK_EQ_MEM(v, vn, "42", 2);
    CHECK_EQ_INT(rj_find_key(doc, strlen(doc), "l", &v, &vn), 1);
    CHECK_EQ_MEM(v, vn, "[1, {\"x\": \"]}\"}]", 16);
    CHECK_EQ_INT(rj_find_key(doc, strlen(doc), "z", &v, &vn), 1);
    CHECK_EQ_MEM(v, vn, "null", 4);
    CHECK_EQ_INT(rj_find_key(doc, strlen(doc), "x", &v, &vn), 0);
    CHECK_EQ_INT(rj_find_key("{}", 2, "pid", &v, &vn), 0);
    CHECK_EQ_INT(rj_find_key("[1]", 3, "pid", &v, &vn), 0);
    CHECK_EQ_INT(rj_find_key(" {\"pid\":\"7\"}", 12, "pid", &v, &vn), 1);
    CHECK_EQ_MEM(v, vn, "\"7\"", 3);
}

/* ---- mutated input ------------------------------------------------------------ */

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static char rnd_byte(void)
{
    static const char interesting[] = " ,=\\\"\n\r0123456789.-+eEiutf"
                                      "\x80\xc3\xff<";
    if (rnd(3))
        return interesting[rnd(sizeof interesting - 1)];
    return (char)rnd(256);
}

static void test_fuzz(void)
{
    static const char seed[] =
        "loong_mem,host=h,pid=1 rss_bytes=100i,s=\"a b\",f=1.5 1000\n"
        "loong_mem,pid=1 rss_bytes=200i,gc_pauses=2i 2000\n"
        "loong_mem_alloc,function=f alloc_bytes=1i 2000\n"
        "loong_mem,pid=2 rss_bytes=300i 3000\n";
    char buf[1024];
    unsigned long before = check_failed_;

    for (int round = 0; round < 5000 && check_failed_ == before; round++) {
        size_t n = sizeof seed - 1;
        memcpy(buf, seed, n);
        for (int m = (int)rnd(6) + 1; m > 0; m--) {
            size_t at = rnd((uint32_t)n);
            switch (rnd(4)) {
            case 0:
            case 1:
                buf[at] = rnd_byte();
                break;
            case 2:
                n = at + 1;
                break;
            default:
                if (n * 2 < sizeof buf) {
                    memcpy(buf + n, buf, n);
                    n *= 2;
                }
            }
        }
        CHECK_CONTEXT("fuzz round %d, %zu bytes", round, n);
        int rc = timeline_n(buf, n, rnd(2) ? "1" : NULL);
        CHECK(rc == 0 || rc == 1);
        if (rc == 0)
            check_safe();
    }
    CHECK_CONTEXT("%s", "");
}

int main(void)
{
    test_lines();
    test_long_lines_and_many_fields();
    test_merged();
    test_find_key();
    test_fuzz();
    sb_free(&out);
    return CHECK_DONE("test_report_mem");
}
