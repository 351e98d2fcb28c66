/* Unit tests of `loong report`'s escaping (src/cli/report_json.c), its
 * parsers of the profile files (src/cli/report_data.c) and the template
 * fill (src/cli/report_page.c), with random and mutated input: nothing
 * may crash, and whatever is accepted must come out as valid JSON with no
 * '<' in it, so it can never leave its <script> element. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/report.h"

/* ---- helpers ------------------------------------------------------------ */

static sb str_buf;

static char *str_of(void (*fn)(sb *, const char *, size_t), const char *p,
                    size_t n)
{
    sb_free(&str_buf);
    sb_init(&str_buf);
    fn(&str_buf, p, n);
    return str_buf.p;
}

#define JSTR(lit) str_of(rj_str, (lit), sizeof(lit) - 1)
#define HTML(lit) str_of(rj_html, (lit), sizeof(lit) - 1)

typedef int (*loader)(sb *, const char *, size_t, report_error *);

/* Run a loader on a string literal: its output, or NULL with *e set. */
static sb last_out;
static report_error last_err;

static const char *load_n(loader fn, const char *p, size_t n)
{
    sb_free(&last_out);
    sb_init(&last_out);
    sb_puts(&last_out, "PREFIX");
    memset(&last_err, 0, sizeof last_err);
    int rc = fn(&last_out, p, n, &last_err);
    if (rc != 0) {
        /* on error, nothing was added */
        CHECK_EQ_STR(last_out.p, "PREFIX");
        CHECK(last_err.msg[0] != '\0');
        return NULL;
    }
    CHECK(strncmp(last_out.p, "PREFIX", 6) == 0);
    return last_out.p + 6;
}

#define LOAD(fn, lit) load_n((fn), (lit), sizeof(lit) - 1)

static int doc(const char *p, size_t n, size_t first_line)
{
    sb_free(&last_out);
    sb_init(&last_out);
    memset(&last_err, 0, sizeof last_err);
    return rj_document(&last_out, p, n, first_line, &last_err);
}

#define DOC(lit) doc((lit), sizeof(lit) - 1, 1)

/* Valid UTF-8 throughout (RFC 3629), checked independently of the code. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], len, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (i + len > n)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += len;
    }
    return 1;
}

/* What may go into the page's <script>: valid UTF-8, no '<' (so no
 * "</script" and no "<!--"), no raw control but '\n', and JSON. */
static void check_script_safe(const char *p, size_t n)
{
    CHECK(valid_utf8((const unsigned char *)p, n));
    CHECK(memchr(p, '<', n) == NULL);
    int ctl = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 && p[i] != '\n')
            ctl = 1;
    CHECK(!ctl);
    sb again;
    report_error e;
    sb_init(&again);
    CHECK_EQ_INT(rj_document(&again, p, n, 1, &e), 0);
    sb_free(&again);
}

/* ---- rj_str ------------------------------------------------------------- */

static void test_json_string(void)
{
    CHECK_EQ_STR(JSTR(""), "\"\"");
    CHECK_EQ_STR(JSTR("plain text"), "\"plain text\"");
    CHECK_EQ_STR(JSTR("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
    CHECK_EQ_STR(JSTR("a\nb\tc\r\x01\x1f\x7f"),
                 "\"a\\nb\\tc\\u000d\\u0001\\u001f\\u007f\"");
    CHECK_EQ_STR(JSTR("</script><script>alert(1)</script>"),
                 "\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"
                 "\\u003c/script\\u003e\"");
    CHECK_EQ_STR(JSTR("<!-- a & b -->"),
                 "\"\\u003c!-- a \\u0026 b --\\u003e\"");
    /* unicode passes through; U+2028 and U+2029 are escaped */
    CHECK_EQ_STR(JSTR("\xc3\xb1 \xe4\xb8\x96 \xf0\x9f\x90\x8d"),
                 "\"\xc3\xb1 \xe4\xb8\x96 \xf0\x9f\x90\x8d\"");
    CHECK_EQ_STR(JSTR("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"),
                 "\"a\\u2028b\\u2029c\"");
    /* invalid UTF-8: one U+FFFD per bad byte, never the byte */
    CHECK_EQ_STR(JSTR("\x80"), "\"\\ufffd\"");
    CHECK_EQ_STR(JSTR("a\xc0\xaf" "b"), "\"a\\ufffd\\ufffdb\"");   /* overlong */
    CHECK_EQ_STR(JSTR("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    CHECK_EQ_STR(JSTR("\xf4\x90\x80\x80"),
                 "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  /* > U+10FFFF */
    CHECK_EQ_STR(JSTR("\xe4\xb8"), "\"\\ufffd\\ufffd\""); /* truncated */
    CHECK_EQ_STR(JSTR("\xff\xfe"), "\"\\ufffd\\ufffd\"");
    /* a NUL inside the length */
    CHECK_EQ_STR(JSTR("a\0b"), "\"a\\ufffdb\"");
    /* a truncated sequence at the end of the length, not of the memory */
    CHECK_EQ_STR(str_of(rj_str, "\xe4\xb8\x96", 2), "\"\\ufffd\\ufffd\"");
}

static void test_html_text(void)
{
    CHECK_EQ_STR(HTML("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    CHECK_EQ_STR(HTML("</title><script>"),
                 "&lt;/title&gt;&lt;script&gt;");
    CHECK_EQ_STR(HTML("x\x01y\x7fz\tw\n"), "xyz\tw\n");
    CHECK_EQ_STR(HTML("\xc3\xb1\xff"), "\xc3\xb1\xef\xbf\xbd");
    CHECK_EQ_STR(HTML("a\0b"), "a\xef\xbf\xbd" "b");
}

/* ---- numbers and the JSON reader ----------------------------------------- */

static void test_number(void)
{
    static const struct {
        const char *s;
        size_t want;
    } cases[] = {
        {"0", 1},       {"-0", 2},      {"12", 2},      {"1.5", 3},
        {"-1.5e+10", 8}, {"2E-3", 4},   {"1e5x", 3},    {"01", 1},
        {"", 0},        {"-", 0},       {"+1", 0},      {".5", 0},
        {"1.", 0},      {"1e", 0},      {"1e+", 0},     {"abc", 0},
        {"86233.474", 9}, {"NaN", 0},   {"Infinity", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_CONTEXT("number '%s'", cases[i].s);
        CHECK_EQ_INT(rj_number_len(cases[i].s, strlen(cases[i].s)),
                     cases[i].want);
    }
    CHECK_CONTEXT("%s", "");
}

static void test_document(void)
{
    CHECK_EQ_INT(DOC(" {\"a\": [1, -2.5e3, true, false, null, \"x\"],"
                     " \"b\": {}, \"c\": []}\n"),
                 0);
    CHECK_EQ_STR(last_out.p,
                 "{\"a\":[1,-2.5e3,true,false,null,\"x\"],\"b\":{},\"c\":[]}");
    /* strings are decoded and written again through rj_str */
    CHECK_EQ_INT(DOC("\"\\u003c/script>\\/\\\"\\\\\\b\\f\\n\\r\\t\""), 0);
    CHECK_EQ_STR(last_out.p,
                 "\"\\u003c/script\\u003e/\\\"\\\\\\u0008\\u000c\\n"
                 "\\u000d\\t\"");
    CHECK_EQ_INT(DOC("\"\\ud83d\\udc0d \\u00f1 \\u4E16\""), 0);
    CHECK_EQ_STR(last_out.p, "\"\xf0\x9f\x90\x8d \xc3\xb1 \xe4\xb8\x96\"");
    CHECK_EQ_INT(DOC("\"\\ud83d x \\udc0d\""), 0); /* lone surrogates */
    CHECK_EQ_STR(last_out.p, "\"\xef\xbf\xbd x \xef\xbf\xbd\"");
    CHECK_EQ_INT(DOC("\"\\u0000\""), 0);
    CHECK_EQ_STR(last_out.p, "\"\\ufffd\"");
    CHECK_EQ_INT(DOC("\"raw \xff bytes\""), 0);
    CHECK_EQ_STR(last_out.p, "\"raw \\ufffd bytes\"");

    static const struct {
        const char *s;
        size_t line;
        const char *msg;
    } bad[] = {
        {"", 1, "unexpected end of input"},
        {"{", 1, "unexpected end of input"},
        {"{\n\"a\": [1,\n\n\n", 2, "unexpected end of input"},
        {"{\"a\" 1}", 1, "expected ':'"},
        {"{\"a\": 1,}", 1, "expected a string key"},
        {"[1 2]", 1, "expected ',' or ']'"},
        {"[1,]", 1, "expected a value"},
        {"{\"a\":1}}", 1, "after the value"},
        {"\"abc", 1, "unexpected end of input"},
        {"\"a\\", 1, "unexpected end of input"},
        {"\"a\\x\"", 1, "bad escape"},
        {"\"\\u12\"", 1, "bad \\u escape"},
        {"\"a\nb\"", 1, "control character"},
        {"tru", 1, "expected a value"},
        {"01", 1, "after the value"},
        {"{\n\"a\": 1,\n\"b\": nope\n}", 3, "expected a value"},
        {"[1,\n2,\n\n-]", 4, "expected a value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_CONTEXT("bad JSON '%s'", bad[i].s);
        CHECK_EQ_INT(doc(bad[i].s, strlen(bad[i].s), 1), -1);
        CHECK_EQ_U64(last_err.line, bad[i].line);
        CHECK_HAS(last_err.msg, bad[i].msg);
        CHECK_EQ_U64(last_out.len, 0);
    }
    CHECK_CONTEXT("%s", "");
    /* first_line shifts the line reported */
    CHECK_EQ_INT(doc("{\n\"a\": ]", 8, 41), -1);
    CHECK_EQ_U64(last_err.line, 42);

    /* nesting: RJ_MAX_DEPTH levels are fine, one more is not */
    char deep[2 * RJ_MAX_DEPTH + 4];
    memset(deep, '[', RJ_MAX_DEPTH);
    memset(deep + RJ_MAX_DEPTH, ']', RJ_MAX_DEPTH);
    CHECK_EQ_INT(doc(deep, 2 * RJ_MAX_DEPTH, 1), 0);
    memset(deep, '[', RJ_MAX_DEPTH + 1);
    memset(deep + RJ_MAX_DEPTH + 1, ']', RJ_MAX_DEPTH + 1);
    CHECK_EQ_INT(doc(deep, 2 * RJ_MAX_DEPTH + 2, 1), -1);
    CHECK_HAS(last_err.msg, "nested too deep");
}

/* ---- collapsed stacks ----------------------------------------------------- */

static void test_collapsed(void)
{
    const char *j;

    j = LOAD(rd_collapsed, "main;b 3\n"
                           "main;a;x 5\r\n"
                           "\n"
                           "main 2\n"
                           "main;a;x 1\n"
                           "other 0\n"
                           "solo\t4\n");
    CHECK_EQ_STR(j, "{\"total\":15,\"stacks\":6,"
                    "\"names\":[\"main\",\"b\",\"a\",\"x\",\"solo\"],\n"
                    "\"n\":[-1,0,2,3,1,4],\n"
                    "\"d\":[0,1,2,3,2,1],\n"
                    "\"v\":[15,11,6,6,3,4]}");

    /* names with spaces, quotes and markup; fractional weights */
    j = LOAD(rd_collapsed, "f (a b.py:1);</script> \"x\" 2.5\n");
    CHECK_EQ_STR(j, "{\"total\":2.5,\"stacks\":1,\"names\":[\"f (a b.py:1)\","
                    "\"\\u003c/script\\u003e \\\"x\\\"\"],\n"
                    "\"n\":[-1,0,1],\n\"d\":[0,1,2],\n\"v\":[2.5,2.5,2.5]}");

    /* empty input: the root alone */
    j = LOAD(rd_collapsed, "");
    CHECK_EQ_STR(j, "{\"total\":0,\"stacks\":0,\"names\":[],\n\"n\":[-1],\n"
                    "\"d\":[0],\n\"v\":[0]}");

    static const struct {
        const char *s;
        size_t line;
        const char *msg;
    } bad[] = {
        {"a;b 1\nnovalue\n", 2, "expected 'FRAME;FRAME;... VALUE'"},
        {"a;b x1\n", 1, "bad value 'x1'"},
        {"a -1\n", 1, "bad value '-1'"},
        {"a 1e999\n", 1, "bad value"},
        {"a 0x10\n", 1, "bad value"},
        {"a;;b 1\n", 1, "empty frame name"},
        {"a;b; 1\n", 1, "empty frame name"},
        {";a 1\n", 1, "empty frame name"},
        {"\n\n 5\n", 3, "no frames before the value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_CONTEXT("bad collapsed '%s'", bad[i].s);
        CHECK(load_n(rd_collapsed, bad[i].s, strlen(bad[i].s)) == NULL);
        CHECK_EQ_U64(last_err.line, bad[i].line);
        CHECK_HAS(last_err.msg, bad[i].msg);
    }
    CHECK_CONTEXT("%s", "");
}

/* 20000 distinct stacks: merged and ordered, fast enough for a test. */
static void test_collapsed_large(void)
{
    sb in;
    uint64_t x = 42;
    sb_init(&in);
    for (int i = 0; i < 20000; i++) {
        int depth = 3 + i % 25;
        sb_puts(&in, "main");
        for (int d = 0; d < depth; d++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            sb_printf(&in, ";fn_%u (m.py:%u)", (unsigned)(x >> 33) % 300,
                      (unsigned)(x >> 40) % 50);
        }
        sb_printf(&in, " %d\n", 1 + i % 7);
    }
    const char *j = load_n(rd_collapsed, in.p, in.len);
    CHECK(j != NULL);
    if (j) {
        CHECK(strncmp(j, "{\"total\":", 9) == 0);
        check_script_safe(j, strlen(j));
    }
    sb_free(&in);
}

/* ---- TSV and JSON lines ---------------------------------------------------- */

static void test_tsv(void)
{
    const char *j;

    j = LOAD(rd_tsv, "calls\tself_us\tfunction\tline\n"
                     "3\t1.5\t</script>\t10\r\n"
                     "12\t\tf g\t-2\n"
                     "\n");
    CHECK_EQ_STR(j, "{\"columns\":[\"calls\",\"self_us\",\"function\","
                    "\"line\"],\"numeric\":[true,true,false,true],"
                    "\"rows\":[\n[3,1.5,\"\\u003c/script\\u003e\",10],\n"
                    "[12,null,\"f g\",-2]]}");
    /* a column with one non-number is text, numbers included */
    j = LOAD(rd_tsv, "a\tb\n1\tx\n2\t3\n");
    CHECK_EQ_STR(j, "{\"columns\":[\"a\",\"b\"],\"numeric\":[true,false],"
                    "\"rows\":[\n[1,\"x\"],\n[2,\"3\"]]}");
    /* a header alone */
    j = LOAD(rd_tsv, "calls\tfunction\n");
    CHECK_EQ_STR(j, "{\"columns\":[\"calls\",\"function\"],\"numeric\":"
                    "[false,false],\"rows\":[]}");
    /* cells that are not JSON numbers stay text */
    j = LOAD(rd_tsv, "a\n0x1F\n");
    CHECK_EQ_STR(j, "{\"columns\":[\"a\"],\"numeric\":[false],\"rows\":"
                    "[\n[\"0x1F\"]]}");

    CHECK(LOAD(rd_tsv, "") == NULL);
    CHECK_EQ_U64(last_err.line, 1);
    CHECK_HAS(last_err.msg, "no header line");
    CHECK(LOAD(rd_tsv, "a\tb\n1\t2\n3\n") == NULL);
    CHECK_EQ_U64(last_err.line, 3);
    CHECK_HAS(last_err.msg, "1 fields, the header has 2");
    CHECK(LOAD(rd_tsv, "a\tb\n1\t2\t3\n") == NULL);
    CHECK_EQ_U64(last_err.line, 2);
}

static void test_jsonl(void)
{
    const char *j;

    j = LOAD(rd_jsonl, "{\"a\": 1}\n\n  {\"f\": \"</script>\", \"c\": []}\r\n");
    CHECK_EQ_STR(j, "[{\"a\":1},\n{\"f\":\"\\u003c/script\\u003e\","
                    "\"c\":[]}]");
    j = LOAD(rd_jsonl, "");
    CHECK_EQ_STR(j, "[]");
    CHECK(LOAD(rd_jsonl, "{\"a\": 1}\n[1]\n") == NULL);
    CHECK_EQ_U64(last_err.line, 2);
    CHECK_HAS(last_err.msg, "expected a JSON object");
    CHECK(LOAD(rd_jsonl, "{}\n{}\n{\"a\": }\n") == NULL);
    CHECK_EQ_U64(last_err.line, 3);
    CHECK_HAS(last_err.msg, "expected a value");
    /* an object cut by a newline is an error on its first line */
    CHECK(LOAD(rd_jsonl, "{\"a\":\n1}\n") == NULL);
    CHECK_EQ_U64(last_err.line, 1);

    j = LOAD(rd_json_object, "\n{\"pid\": 4, \"argv\": [\"a\\nb\"]}\n");
    CHECK_EQ_STR(j, "{\"pid\":4,\"argv\":[\"a\\nb\"]}");
    CHECK(LOAD(rd_json_object, "\n\n[1]") == NULL);
    CHECK_EQ_U64(last_err.line, 3);
    CHECK(LOAD(rd_json_object, "") == NULL);
}

/* ---- the page ---------------------------------------------------------------- */

static size_t count(const char *hay, size_t n, const char *needle)
{
    size_t c = 0, nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (strncasecmp(hay + i, needle, nl) == 0)
            c++;
    return c;
}

static void test_template(void)
{
    /* the placeholders, once each but the title (<title> and <h1>) */
    CHECK_EQ_INT(count(report_html, report_html_len, "{{TITLE}}"), 2);
    CHECK_EQ_INT(count(report_html, report_html_len, "{{CSS}}"), 1);
    CHECK_EQ_INT(count(report_html, report_html_len, "{{JS}}"), 1);
    CHECK_EQ_INT(count(report_html, report_html_len, "{{DATA}}"), 1);
    CHECK_EQ_INT(strlen(report_html), report_html_len);
    /* what is pasted into <style> and <script> cannot close them */
    CHECK_EQ_INT(count(report_css, report_css_len, "</style"), 0);
    CHECK_EQ_INT(count(report_js, report_js_len, "</script"), 0);
    CHECK_EQ_INT(count(report_js, report_js_len, "<!--"), 0);
    /* nothing in the page is fetched from anywhere */
    CHECK_EQ_INT(count(report_html, report_html_len, "http:"), 0);
    CHECK_EQ_INT(count(report_html, report_html_len, "https:"), 0);
    CHECK_EQ_INT(count(report_css, report_css_len, "url("), 0);
    CHECK_EQ_INT(count(report_css, report_css_len, "@import"), 0);
    CHECK_EQ_INT(count(report_js, report_js_len, "fetch("), 0);
    CHECK_EQ_INT(count(report_js, report_js_len, "XMLHttpRequest"), 0);
    CHECK_EQ_INT(count(report_js, report_js_len, "innerHTML"), 0);

    sb page;
    sb_init(&page);
    report_fill(&page, "</title><b>x", 12, "{\"k\":1}", 7);
    CHECK(!page.oom);
    CHECK_EQ_INT(count(page.p, page.len, "{{"), 0);
    CHECK_EQ_INT(count(page.p, page.len, "&lt;/title&gt;&lt;b&gt;x"), 2);
    CHECK_EQ_INT(count(page.p, page.len, "</title><b>"), 0);
    CHECK_EQ_INT(count(page.p, page.len,
                       "<script type=\"application/json\" id=\"loong-data\">"
                       "{\"k\":1}</script>"),
                 1);
    CHECK_EQ_INT(count(page.p, page.len, "loong report: draws the page"), 1);
    CHECK_EQ_INT(count(page.p, page.len, "--match:"), 1); /* the CSS */
    sb_free(&page);
}

/* ---- random and mutated input ------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* bytes biased towards the ones the parsers care about */
static char rnd_byte(void)
{
    static const char interesting[] = ";\n\r\t \"\\{}[]:,<>/&0123456789.-eE"
                                      "tfnu\x80\xc3\xe2\xed\xf0\xff";
    if (rnd(3))
        return interesting[rnd(sizeof interesting - 1)];
    return (char)rnd(256);
}

static const char *const seeds[] = {
    "main;a;b 3\nmain;c 4\n",
    "calls\ttotal_us\tfunction\n1\t2.5\tf\n3\t4\tg\n",
    "{\"wall_ns\": 1, \"duration_us\": 2.5, \"function\": \"f\", "
    "\"calls\": [{\"depth\": 1, \"function\": \"\\u003c\"}]}\n{}\n",
    "{\"pid\": 4, \"argv\": [\"python3\", \"x.py\"], \"python\": "
    "{\"version\": \"3.12.1\"}, \"end\": null}\n",
};

static void fuzz_one(const char *p, size_t n)
{
    static const loader loaders[] = {rd_collapsed, rd_tsv, rd_jsonl,
                                     rd_json_object};
    for (size_t k = 0; k < 4; k++) {
        const char *j = load_n(loaders[k], p, n);
        if (j)
            check_script_safe(j, strlen(j));
    }
    sb s;
    sb_init(&s);
    rj_str(&s, p, n);
    check_script_safe(s.p, s.len);
    s.len = 0;
    rj_html(&s, p, n);
    CHECK(valid_utf8((const unsigned char *)s.p, s.len));
    CHECK(memchr(s.p, '<', s.len) == NULL && memchr(s.p, '>', s.len) == NULL);
    sb_free(&s);
}

static void test_fuzz(void)
{
    char buf[512];
    unsigned long before = check_failed_;

    for (int round = 0; round < 6000 && check_failed_ == before; round++) {
        size_t n;
        if (round % 2) { /* random bytes */
            n = rnd(sizeof buf);
            for (size_t i = 0; i < n; i++)
                buf[i] = rnd_byte();
        } else { /* a seed with a few bytes changed, cut or repeated */
            const char *s = seeds[rnd(4)];
            n = strlen(s);
            memcpy(buf, s, n);
            for (int m = rnd(4) + 1; m > 0; m--) {
                size_t at = rnd((uint32_t)n);
                switch (rnd(3)) {
                case 0:
                    buf[at] = rnd_byte();
                    break;
                case 1:
                    n = at + 1;
                    break;
                default:
                    if (n * 2 < sizeof buf) {
                        memcpy(buf + n, buf, n);
                        n *= 2;
                    }
                }
            }
        }
        CHECK_CONTEXT("fuzz round %d, %zu bytes", round, n);
        /* the parsers take lengths: no NUL terminator to lean on */
        char *heap = malloc(n ? n : 1);
        memcpy(heap, buf, n);
        fuzz_one(heap, n);
        free(heap);
    }
    CHECK_CONTEXT("%s", "");
}

int main(void)
{
    test_json_string();
    test_html_text();
    test_number();
    test_document();
    test_collapsed();
    test_collapsed_large();
    test_tsv();
    test_jsonl();
    test_template();
    test_fuzz();
    sb_free(&last_out);
    sb_free(&str_buf);
    return CHECK_DONE("test_report");
}
