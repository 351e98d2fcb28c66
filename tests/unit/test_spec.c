/* Unit tests of src/common/spec.c: toolkit specs, lists, durations. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/spec.h"

/* Parse s; expect success; return the spec (caller frees). */
static tk_spec parse_ok(const char *s)
{
    tk_spec sp;
    char err[256] = "";
    int rc = tk_spec_parse(s, &sp, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "    parsing \"%s\": %s\n", s, err);
    return sp;
}

/* Parse s; expect LOONG_EINVAL and a message containing want. */
static void parse_bad(const char *s, const char *want)
{
    tk_spec sp;
    char err[256] = "";
    int rc = tk_spec_parse(s, &sp, err, sizeof err);
    CHECK_EQ_INT(rc, LOONG_EINVAL);
    CHECK_HAS(err, want);
    CHECK(sp.name == NULL && sp.nopts == 0 && sp.opts == NULL);
    if (rc == 0)
        tk_spec_free(&sp);
}

static void test_parse(void)
{
    tk_spec sp = parse_ok("example");
    CHECK_EQ_STR(sp.name, "example");
    CHECK_EQ_INT(sp.nopts, 0);
    tk_spec_free(&sp);
    CHECK(sp.name == NULL);
    tk_spec_free(&sp); /* twice is harmless */

    sp = parse_ok("example:measurement=demo,top=10");
    CHECK_EQ_STR(sp.name, "example");
    CHECK_EQ_INT(sp.nopts, 2);
    if (sp.nopts == 2) {
        CHECK_EQ_STR(sp.opts[0].key, "measurement");
        CHECK_EQ_STR(sp.opts[0].value, "demo");
        CHECK_EQ_STR(sp.opts[1].key, "top");
        CHECK_EQ_STR(sp.opts[1].value, "10");
    }
    tk_spec_free(&sp);

    /* values may hold ':' '=' '/' spaces, and be empty */
    sp = parse_ok("x:url=http://h:80/a=b,empty=,Sp_1=a b");
    CHECK_EQ_INT(sp.nopts, 3);
    if (sp.nopts == 3) {
        CHECK_EQ_STR(sp.opts[0].value, "http://h:80/a=b");
        CHECK_EQ_STR(sp.opts[1].key, "empty");
        CHECK_EQ_STR(sp.opts[1].value, "");
        CHECK_EQ_STR(sp.opts[2].key, "Sp_1");
        CHECK_EQ_STR(sp.opts[2].value, "a b");
    }
    tk_spec_free(&sp);

    /* "name:" is the name with no options */
    sp = parse_ok("x:");
    CHECK_EQ_STR(sp.name, "x");
    CHECK_EQ_INT(sp.nopts, 0);
    tk_spec_free(&sp);

    /* paths */
    sp = parse_ok("/opt/tk/x.so:k=v");
    CHECK_EQ_STR(sp.name, "/opt/tk/x.so");
    CHECK_EQ_INT(sp.nopts, 1);
    tk_spec_free(&sp);
    sp = parse_ok("./x.so");
    CHECK_EQ_STR(sp.name, "./x.so");
    tk_spec_free(&sp);
    sp = parse_ok("x.so:k=v");
    CHECK_EQ_STR(sp.name, "x.so");
    tk_spec_free(&sp);
    /* a ':' inside a path that ends in .so */
    sp = parse_ok("/opt/a:b/x.so:k=v");
    CHECK_EQ_STR(sp.name, "/opt/a:b/x.so");
    CHECK_EQ_INT(sp.nopts, 1);
    if (sp.nopts == 1)
        CHECK_EQ_STR(sp.opts[0].value, "v");
    tk_spec_free(&sp);
    sp = parse_ok("/opt/a:b/x.so");
    CHECK_EQ_STR(sp.name, "/opt/a:b/x.so");
    CHECK_EQ_INT(sp.nopts, 0);
    tk_spec_free(&sp);
    /* ... but a ".so" inside a value does not move the split */
    sp = parse_ok("/opt/x.so:lib=/usr/lib/y.so");
    CHECK_EQ_STR(sp.name, "/opt/x.so");
    if (sp.nopts == 1)
        CHECK_EQ_STR(sp.opts[0].value, "/usr/lib/y.so");
    tk_spec_free(&sp);
    sp = parse_ok("name:lib=/a/b.so");
    CHECK_EQ_STR(sp.name, "name");
    tk_spec_free(&sp);
    sp = parse_ok("/opt/dir.so.d/x.so:k=1");
    CHECK_EQ_STR(sp.name, "/opt/dir.so.d/x.so");
    tk_spec_free(&sp);

    parse_bad("", "empty");
    parse_bad(NULL, "empty");
    parse_bad(":k=v", "no toolkit name");
    parse_bad("k=v", "no toolkit name");
    parse_bad("a;b", "';'");
    parse_bad("x:k=a;b", "';'");
    parse_bad("a,b", "bad toolkit name 'a,b'");
    parse_bad("x:k", "option 'k'");
    parse_bad("x:k", "no value");
    parse_bad("x:=v", "no key");
    parse_bad("x:a=1,,b=2", "empty option");
    parse_bad("x:a=1,", "empty option");
    parse_bad("x:,a=1", "empty option");
    parse_bad("x:a-b=1", "bad option key 'a-b'");
    parse_bad("x:a b=1", "bad option key");
    parse_bad("x:a=1,b=2,a=3", "option 'a' given twice");

    /* messages are optional and bounded */
    tk_spec sp2;
    CHECK_EQ_INT(tk_spec_parse("x:k", &sp2, NULL, 0), LOONG_EINVAL);
    char tiny[8];
    CHECK_EQ_INT(tk_spec_parse("x:k", &sp2, tiny, sizeof tiny), LOONG_EINVAL);
    CHECK_EQ_INT(strlen(tiny), sizeof tiny - 1);
}

static void test_format(void)
{
    const char *cases[] = {"example", "example:a=1",
                           "x:url=http://h:80/a=b,empty=,k=a b",
                           "/opt/a:b/x.so:k=v"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tk_spec sp = parse_ok(cases[i]);
        char *f = tk_spec_format(&sp);
        CHECK_EQ_STR(f, cases[i]);
        free(f);
        tk_spec_free(&sp);
    }
    tk_spec sp = parse_ok("x:");
    char *f = tk_spec_format(&sp);
    CHECK_EQ_STR(f, "x");
    free(f);
    tk_spec_free(&sp);

    /* a spec built by hand, as `loong run` does with a resolved path */
    loong_option o[2] = {{"a", "1"}, {"b", ""}};
    tk_spec hand = {(char *)"/p/t.so", 2, o};
    f = tk_spec_format(&hand);
    CHECK_EQ_STR(f, "/p/t.so:a=1,b=");
    free(f);
    CHECK(tk_spec_format(NULL) == NULL);
}

static void test_list(void)
{
    tk_spec *l;
    size_t n;
    char err[256] = "";

    CHECK_EQ_INT(tk_spec_parse_list("a;b:k=v;;c.so;", &l, &n, err, sizeof err),
                 0);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_EQ_STR(l[0].name, "a");
        CHECK_EQ_STR(l[1].name, "b");
        CHECK_EQ_INT(l[1].nopts, 1);
        CHECK_EQ_STR(l[2].name, "c.so");
    }
    tk_spec_free_list(l, n);

    CHECK_EQ_INT(tk_spec_parse_list("", &l, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 0);
    tk_spec_free_list(l, n);
    CHECK_EQ_INT(tk_spec_parse_list(";;;", &l, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 0);
    tk_spec_free_list(l, n);
    CHECK_EQ_INT(tk_spec_parse_list(NULL, &l, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 0);
    CHECK(l == NULL);

    /* an error in the middle: nothing is returned, nothing leaks */
    CHECK_EQ_INT(tk_spec_parse_list("a:x=1;b:k;c", &l, &n, err, sizeof err),
                 LOONG_EINVAL);
    CHECK(l == NULL);
    CHECK_EQ_INT(n, 0);
    CHECK_HAS(err, "'b:k'");

    /* a path holding ':' inside a list */
    CHECK_EQ_INT(
        tk_spec_parse_list("/a:b/x.so:k=v;y", &l, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_STR(l[0].name, "/a:b/x.so");
        CHECK_EQ_STR(l[1].name, "y");
    }
    tk_spec_free_list(l, n);
    tk_spec_free_list(NULL, 0);
}

static void dur_ok(const char *s, uint64_t want)
{
    uint64_t ms = 12345;
    int rc = duration_parse_ms(s, &ms);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(ms, want);
    if (rc != 0 || ms != want)
        fprintf(stderr, "    duration \"%s\"\n", s);
}

static void dur_bad(const char *s)
{
    uint64_t ms = 12345;
    int rc = duration_parse_ms(s, &ms);
    CHECK_EQ_INT(rc, LOONG_EINVAL);
    CHECK_EQ_INT(ms, 12345); /* untouched */
    if (rc == 0)
        fprintf(stderr, "    duration \"%s\" accepted\n", s);
}

static void test_duration(void)
{
    dur_ok("1s", 1000);
    dur_ok("250ms", 250);
    dur_ok("2m", 120000);
    dur_ok("0.5s", 500);
    dur_ok("1h", 3600000);
    dur_ok("24h", 86400000);
    dur_ok("1440m", 86400000);
    dur_ok("86400s", 86400000);
    dur_ok("86400000ms", 86400000);
    dur_ok("1ms", 1);
    dur_ok("0.001s", 1);
    dur_ok("1.001s", 1001);
    dur_ok("0.25m", 15000);
    dur_ok("0.0001h", 360);
    dur_ok("0001s", 1000);
    dur_ok("1.50000000000000000000s", 1500);
    dur_ok("00000000000000000000001ms", 1);

    dur_bad(NULL);
    dur_bad("");
    dur_bad("s");
    dur_bad("1");
    dur_bad("10");
    dur_bad("0s");
    dur_bad("0ms");
    dur_bad("0.0001s"); /* below 1ms */
    dur_bad("0.5ms");   /* not whole milliseconds */
    dur_bad("1.0005s");
    dur_bad("86400001ms");
    dur_bad("24.001h");
    dur_bad("25h");
    dur_bad("1441m");
    dur_bad("99999999999999999999999h");
    dur_bad("18446744073709551617ms");
    dur_bad("-1s");
    dur_bad("+1s");
    dur_bad(" 1s");
    dur_bad("1s ");
    dur_bad("1 s");
    dur_bad("1S");
    dur_bad("1sec");
    dur_bad("1us");
    dur_bad("1d");
    dur_bad("1.s");
    dur_bad(".5s");
    dur_bad("1..5s");
    dur_bad("1.5.0s");
    dur_bad("1e3ms");
    dur_bad("0x10s");
    dur_bad("1ms5");
    dur_bad("1.0000000001s"); /* finer than a nanosecond: refused */
}

int main(void)
{
    test_parse();
    test_format();
    test_list();
    test_duration();
    return CHECK_DONE("test_spec");
}
