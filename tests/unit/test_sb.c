/* Unit tests of src/common/sb.c, the string builder: growth, printf,
 * the out-of-memory flag and JSON string escaping. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/sb.h"
#include "lp_ref.h" /* ref_decode / ref_utf8: UTF-8 by code point */

#define FFFD "\xEF\xBF\xBD"

/* s holds exactly want, NUL-terminated */
#define CHECK_SB(s, want)                                                  \
    do {                                                                   \
        CHECK_EQ_MEM((s)->p, (s)->len, (want), sizeof(want) - 1);          \
        CHECK((s)->p != NULL && (s)->p[(s)->len] == '\0');                 \
        CHECK((s)->cap > (s)->len);                                        \
        CHECK_EQ_INT((s)->oom, 0);                                         \
    } while (0)

static void test_init_and_growth(void)
{
    sb s;
    size_t last_cap, grew = 0;

    sb_init(&s);
    CHECK_SB(&s, "");
    sb_puts(&s, NULL); /* ignored */
    sb_puts(&s, "");
    sb_putn(&s, "ignored", 0);
    CHECK_SB(&s, "");
    sb_putc(&s, 'a');
    sb_puts(&s, "bc");
    sb_putn(&s, "defXYZ", 3);
    CHECK_SB(&s, "abcdef");

    /* one byte at a time across many growths */
    last_cap = s.cap;
    for (int i = 0; i < 100000; i++) {
        sb_putc(&s, (char)('a' + i % 26));
        if (s.cap != last_cap) {
            grew++;
            last_cap = s.cap;
        }
    }
    CHECK_EQ_U64(s.len, 100006);
    CHECK(grew > 3 && grew < 40); /* geometric, not one step per byte */
    {
        int bad = 0;
        for (int i = 0; i < 100000; i++)
            bad += s.p[6 + i] != (char)('a' + i % 26);
        CHECK_EQ_INT(bad, 0);
    }
    CHECK(s.p[s.len] == '\0');
    CHECK(s.cap > s.len);
    sb_free(&s);
    CHECK(s.p == NULL);
    CHECK_EQ_U64(s.len, 0);
    CHECK_EQ_U64(s.cap, 0);

    /* one big piece, with NUL bytes inside */
    {
        size_t n = 3 * 1024 * 1024 + 7;
        char *big = malloc(n);
        if (CHECK(big != NULL)) {
            for (size_t i = 0; i < n; i++)
                big[i] = (char)(i * 7);
            sb_init(&s);
            sb_putc(&s, '<');
            sb_putn(&s, big, n);
            sb_putc(&s, '>');
            CHECK_EQ_U64(s.len, n + 2);
            CHECK(s.p[0] == '<' && s.p[n + 1] == '>' && s.p[n + 2] == '\0');
            CHECK(memcmp(s.p + 1, big, n) == 0);
            sb_free(&s);
            free(big);
        }
    }
}

static void test_printf(void)
{
    sb s;
    char want[9000];

    sb_init(&s);
    sb_printf(&s, "%d-%s-%c", 42, "x", 'y');
    CHECK_SB(&s, "42-x-y");
    sb_printf(&s, "%s", "");
    CHECK_SB(&s, "42-x-y");
    sb_printf(&s, "|%5.2f|%llu|%x", 3.14159, 18446744073709551615ULL, 255u);
    CHECK_SB(&s, "42-x-y| 3.14|18446744073709551615|ff");
    sb_free(&s);

    /* output sizes around the room left, so both the direct and the
     * grow-and-retry paths run, at every length up to several growths */
    for (size_t n = 0; n < 600; n++) {
        sb_init(&s);
        for (size_t k = 0; k < n % 70; k++)
            sb_putc(&s, '.');
        {
            size_t pre = s.len;
            char *arg = malloc(n + 1);
            if (arg == NULL)
                abort();
            memset(arg, 'q', n);
            arg[n] = '\0';
            sb_printf(&s, "[%s]", arg);
            CHECK_CONTEXT("printf of %zu bytes after %zu", n + 2, pre);
            CHECK_EQ_U64(s.len, pre + n + 2);
            CHECK(s.p[pre] == '[' && s.p[s.len - 1] == ']');
            CHECK(s.p[s.len] == '\0');
            CHECK(strspn(s.p + pre + 1, "q") == n);
            CHECK_EQ_INT(s.oom, 0);
            free(arg);
        }
        sb_free(&s);
    }
    CHECK_CONTEXT("%s", "");

    /* a long one */
    sb_init(&s);
    sb_puts(&s, "a");
    sb_printf(&s, "%8000d|", 7);
    snprintf(want, sizeof want, "a%8000d|", 7);
    CHECK_EQ_MEM(s.p, s.len, want, strlen(want));
    sb_printf(&s, "%s", "end");
    CHECK(s.len == 8005 && strcmp(s.p + 8002, "end") == 0);
    sb_free(&s);
}

static void test_oom(void)
{
    sb s;

    /* a size that cannot be had: oom, and nothing else changes */
    sb_init(&s);
    sb_puts(&s, "keep");
    sb_putn(&s, "x", SIZE_MAX);
    CHECK_EQ_INT(s.oom, 1);
    CHECK_EQ_MEM(s.p, s.len, "keep", 4);
    /* further writes are ignored, so callers check once at the end */
    sb_putc(&s, 'y');
    sb_puts(&s, "zz");
    sb_printf(&s, "%d", 12345);
    sb_json_str(&s, "j");
    sb_json_str(&s, NULL);
    CHECK_EQ_MEM(s.p, s.len, "keep", 4);
    CHECK(s.p[s.len] == '\0');
    CHECK_EQ_INT(s.oom, 1);
    sb_free(&s);
    CHECK_EQ_INT(s.oom, 0);
    CHECK(s.p == NULL);
}

/* ---- JSON ----------------------------------------------------------------- */

#define CHECK_JSON(in, want)                                               \
    check_json_((in), (want), sizeof(want) - 1, __LINE__)

static void check_json_(const char *in, const char *want, size_t wantn,
                        int line)
{
    sb s;

    CHECK_CONTEXT("json at line %d", line);
    sb_init(&s);
    sb_json_str(&s, in);
    CHECK_EQ_MEM(s.p, s.len, want, wantn);
    CHECK(s.p[s.len] == '\0');
    CHECK_EQ_INT(s.oom, 0);
    sb_free(&s);
    CHECK_CONTEXT("%s", "");
}

static void test_json_cases(void)
{
    CHECK_JSON(NULL, "null");
    CHECK_JSON("", "\"\"");
    CHECK_JSON("plain text / 123", "\"plain text / 123\"");
    CHECK_JSON("say \"hi\"", "\"say \\\"hi\\\"\"");
    CHECK_JSON("C:\\dir\\", "\"C:\\\\dir\\\\\"");
    CHECK_JSON("\"\\\"", "\"\\\"\\\\\\\"\"");
    /* control characters as \u00XX */
    CHECK_JSON("a\nb", "\"a\\u000ab\"");
    CHECK_JSON("\x01\x02\t\r\x1f", "\"\\u0001\\u0002\\u0009\\u000d\\u001f\"");
    CHECK_JSON("\x7f", "\"\\u007f\"");
    CHECK_JSON("\x1b[0m", "\"\\u001b[0m\"");
    /* C1 controls, U+0080-U+009F, too; U+00A0 is not one */
    CHECK_JSON("\xC2\x80\xC2\x85\xC2\x9F\xC2\xA0",
               "\"\\u0080\\u0085\\u009f\xC2\xA0\"");
    /* valid UTF-8 passes as it is */
    CHECK_JSON("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF "
               "\xEF\xBF\xBD",
               "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF "
               "\xEF\xBF\xBD\"");
    /* invalid UTF-8: one U+FFFD per byte that starts no valid character */
    CHECK_JSON("\xFF", "\"" FFFD "\"");
    CHECK_JSON("a\x80z", "\"a" FFFD "z\"");
    CHECK_JSON("\xC0\xAF", "\"" FFFD FFFD "\"");           /* overlong */
    CHECK_JSON("\xE0\x80\xAF", "\"" FFFD FFFD FFFD "\"");  /* overlong */
    CHECK_JSON("\xED\xA0\x80", "\"" FFFD FFFD FFFD "\"");  /* surrogate */
    CHECK_JSON("\xF4\x90\x80\x80",
               "\"" FFFD FFFD FFFD FFFD "\"");             /* > U+10FFFF */
    CHECK_JSON("\xF5\xF8\xFE", "\"" FFFD FFFD FFFD "\"");
    CHECK_JSON("\xE2\x82", "\"" FFFD FFFD "\"");           /* cut short */
    CHECK_JSON("\xE2\x82\"", "\"" FFFD FFFD "\\\"\"");
    CHECK_JSON("\xF0\x9F\x98\n", "\"" FFFD FFFD FFFD "\\u000a\"");
    CHECK_JSON("\xC3\\", "\"" FFFD "\\\\\"");

    /* appended after what is there */
    {
        sb s;
        sb_init(&s);
        sb_puts(&s, "{");
        sb_json_str(&s, "k");
        sb_putc(&s, ':');
        sb_json_str(&s, NULL);
        sb_putc(&s, ',');
        sb_json_str(&s, "v\"");
        sb_putc(&s, '}');
        CHECK_SB(&s, "{\"k\":null,\"v\\\"\"}");
        sb_free(&s);
    }
}

/* A strict JSON string decoder: the literal at p (n bytes, quotes
 * included) into UTF-8 at out. -1 if it is not a valid JSON string, or if
 * it leaves a control character raw (C0, DEL or C1). */
static long json_decode(const char *p, size_t n, char *out)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 1, o = 0;

    if (n < 2 || p[0] != '"' || p[n - 1] != '"')
        return -1;
    while (i < n - 1) {
        uint32_t cp;
        size_t k;

        if (u[i] == '"')
            return -1;
        if (u[i] == '\\') {
            char e;
            if (i + 1 >= n - 1)
                return -1;
            e = p[i + 1];
            if (e == 'u') {
                unsigned v;
                char hex[5];
                if (i + 6 > n - 1)
                    return -1;
                memcpy(hex, p + i + 2, 4);
                hex[4] = '\0';
                if (strspn(hex, "0123456789abcdefABCDEF") != 4 ||
                    sscanf(hex, "%x", &v) != 1 || (v >= 0xD800 && v <= 0xDFFF))
                    return -1;
                o += ref_utf8(v, out + o);
                i += 6;
                continue;
            }
            switch (e) {
            case '"': out[o++] = '"'; break;
            case '\\': out[o++] = '\\'; break;
            case '/': out[o++] = '/'; break;
            case 'b': out[o++] = '\b'; break;
            case 'f': out[o++] = '\f'; break;
            case 'n': out[o++] = '\n'; break;
            case 'r': out[o++] = '\r'; break;
            case 't': out[o++] = '\t'; break;
            default: return -1;
            }
            i += 2;
            continue;
        }
        k = ref_decode(u + i, n - 1 - i, &cp);
        if (k == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return -1;
        memcpy(out + o, p + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
    return (long)o;
}

/* What the JSON string must decode to: in with each byte that starts no
 * valid character replaced by U+FFFD. */
static size_t json_expected(const char *in, char *out)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t n = strlen(in), i = 0, o = 0;

    while (i < n) {
        uint32_t cp;
        size_t k = ref_decode(u + i, n - i, &cp);
        if (k == 0) {
            memcpy(out + o, FFFD, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, in + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return o;
}

static uint64_t rng = 0x5B5EED;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_json_property(void)
{
    static const char *const atoms[] = {
        "\"", "\\", "/", "\n", "\r", "\t", "\x01", "\x1f", "\x7f", " ",
        "a", "Z", "\xC2\x80", "\xC2\x9F", "\xC2\xA0", "\xC3\xA9",
        "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD", "\xFF", "\x80",
        "\xC0", "\xC1\xBF", "\xE0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xF0\x9F", "\xE2\x82", "\xF8\x88\x80\x80\x80", "\\u0041", "u00",
    };
    enum { N = 20000, MAXATOMS = 40 };
    int bad = 0;

    for (int it = 0; it < N; it++) {
        char in[MAXATOMS * 8 + 1], want[MAXATOMS * 8 * 3 + 1];
        char got[MAXATOMS * 8 * 3 + 1];
        size_t len = 0, natoms = rnd() % MAXATOMS, wn;
        long gn;
        sb s;

        for (size_t i = 0; i < natoms; i++) {
            const char *a = atoms[rnd() % (sizeof atoms / sizeof atoms[0])];
            memcpy(in + len, a, strlen(a));
            len += strlen(a);
        }
        in[len] = '\0';
        sb_init(&s);
        sb_json_str(&s, in);
        gn = json_decode(s.p, s.len, got);
        wn = json_expected(in, want);
        if (gn < 0 || (size_t)gn != wn || memcmp(got, want, wn) != 0 ||
            s.oom) {
            if (bad++ < 5) {
                CHECK_CONTEXT("json property iteration %d", it);
                CHECK_EQ_MEM(got, gn < 0 ? 0 : (size_t)gn, want, wn);
                check_show_("json", s.p, s.len, 300);
            }
        }
        sb_free(&s);
    }
    CHECK_CONTEXT("%s", "");
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    test_init_and_growth();
    test_printf();
    test_oom();
    test_json_cases();
    test_json_property();
    return CHECK_DONE("test_sb");
}
