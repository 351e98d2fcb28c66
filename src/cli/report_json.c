/* `loong report`: escaping for the page, and a strict JSON reader that
 * re-encodes what it reads (meta.json, function.slow.jsonl) so that only
 * rj_str() ever writes a string into the page. See report.h. */
#include "cli/report.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length (1-4) of the valid UTF-8 sequence at s[0..n), or 0: invalid,
 * truncated, overlong, a surrogate or past U+10FFFF (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        lo = s[0] == 0xE0 ? 0xA0 : 0x80;
        hi = s[0] == 0xED ? 0x9F : 0xBF;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        lo = s[0] == 0xF0 ? 0x90 : 0x80;
        hi = s[0] == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

void rj_str(sb *out, const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;

    sb_putc(out, '"');
    while (i < n) {
        size_t len = utf8_seq(u + i, n - i);
        unsigned char c = u[i];

        if (len == 0 || c == 0) {
            sb_puts(out, "\\ufffd");
            i++;
            continue;
        }
        if (len == 1) {
            switch (c) {
            case '"':
                sb_puts(out, "\\\"");
                break;
            case '\\':
                sb_puts(out, "\\\\");
                break;
            case '\n':
                sb_puts(out, "\\n");
                break;
            case '\t':
                sb_puts(out, "\\t");
                break;
            case '<':
            case '>':
            case '&':
                sb_printf(out, "\\u%04x", c);
                break;
            default:
                if (c < 0x20 || c == 0x7F)
                    sb_printf(out, "\\u%04x", c);
                else
                    sb_putc(out, (char)c);
            }
        } else if (len == 3 && c == 0xE2 && u[i + 1] == 0x80 &&
                   (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            /* U+2028, U+2029: line ends for older JavaScript parsers */
            sb_printf(out, "\\u%04x", 0x2000 + u[i + 2] - 0x80);
        } else {
            sb_putn(out, p + i, len);
        }
        i += len;
    }
    sb_putc(out, '"');
}

void rj_html(sb *out, const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;

    while (i < n) {
        size_t len = utf8_seq(u + i, n - i);
        unsigned char c = u[i];

        if (len == 0 || c == 0) {
            sb_puts(out, "\xEF\xBF\xBD");
            i++;
            continue;
        }
        if (len == 1) {
            switch (c) {
            case '&':
                sb_puts(out, "&amp;");
                break;
            case '<':
                sb_puts(out, "&lt;");
                break;
            case '>':
                sb_puts(out, "&gt;");
                break;
            case '"':
                sb_puts(out, "&quot;");
                break;
            case '\'':
                sb_puts(out, "&#39;");
                break;
            default:
                if ((c >= 0x20 && c != 0x7F) || c == '\t' || c == '\n')
                    sb_putc(out, (char)c);
            }
        } else {
            sb_putn(out, p + i, len);
        }
        i += len;
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

size_t rj_number_len(const char *p, size_t n)
{
    size_t i = 0;

    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0') {
        i++;
    } else if (i < n && p[i] >= '1' && p[i] <= '9') {
        while (i < n && is_digit(p[i]))
            i++;
    } else {
        return 0;
    }
    if (i < n && p[i] == '.') {
        if (i + 1 >= n || !is_digit(p[i + 1]))
            return 0;
        i++;
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (p[j] == '+' || p[j] == '-'))
            j++;
        if (j >= n || !is_digit(p[j]))
            return 0;
        while (j < n && is_digit(p[j]))
            j++;
        i = j;
    }
    return i;
}

/* ---- the reader ---------------------------------------------------------- */

typedef struct reader {
    const char *p;
    size_t n, i;
    sb *out;
    sb tmp; /* a string's decoded bytes */
    report_error *e;
    const char *err; /* set at the first error */
    size_t err_at;
    char at_end[96]; /* the message of an error at the end of the input */
} reader;

static int fail(reader *r, const char *msg)
{
    if (r->err)
        return -1;
    r->err = msg;
    r->err_at = r->i;
    if (r->i >= r->n) {
        /* cut short: name the last line with something on it */
        snprintf(r->at_end, sizeof r->at_end, "unexpected end of input (%s)",
                 msg);
        r->err = r->at_end;
        while (r->err_at > 0 && (r->p[r->err_at - 1] == '\n' ||
                                 r->p[r->err_at - 1] == '\r' ||
                                 r->p[r->err_at - 1] == ' ' ||
                                 r->p[r->err_at - 1] == '\t'))
            r->err_at--;
        if (r->err_at > 0)
            r->err_at--;
    }
    return -1;
}

static void skip_ws(reader *r)
{
    while (r->i < r->n && (r->p[r->i] == ' ' || r->p[r->i] == '\t' ||
                           r->p[r->i] == '\n' || r->p[r->i] == '\r'))
        r->i++;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static void put_utf8(sb *s, unsigned cp)
{
    char b[4];

    if (cp < 0x80) {
        b[0] = (char)cp;
        sb_putn(s, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        sb_putn(s, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        sb_putn(s, b, 3);
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        sb_putn(s, b, 4);
    }
}

/* At '"': decode the string into r->tmp, then write it with rj_str. */
static int read_string(reader *r)
{
    r->tmp.len = 0;
    r->i++;
    for (;;) {
        if (r->i >= r->n)
            return fail(r, "unterminated string");
        unsigned char c = (unsigned char)r->p[r->i];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(r, "control character in a string");
        if (c != '\\') {
            size_t start = r->i;
            while (r->i < r->n && r->p[r->i] != '"' && r->p[r->i] != '\\' &&
                   (unsigned char)r->p[r->i] >= 0x20)
                r->i++;
            sb_putn(&r->tmp, r->p + start, r->i - start);
            continue;
        }
        if (r->i + 1 >= r->n) {
            r->i = r->n;
            return fail(r, "unterminated string");
        }
        char esc = r->p[r->i + 1];
        const char *simple = strchr("\"\\/bfnrt", esc);
        if (esc != '\0' && simple != NULL) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            sb_putc(&r->tmp, to[simple - "\"\\/bfnrt"]);
            r->i += 2;
            continue;
        }
        if (esc != 'u')
            return fail(r, "bad escape in a string");
        unsigned cp, lo;
        if (r->i + 6 > r->n || hex4(r->p + r->i + 2, &cp) < 0)
            return fail(r, "bad \\u escape in a string");
        r->i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && r->i + 6 <= r->n &&
            r->p[r->i] == '\\' && r->p[r->i + 1] == 'u' &&
            hex4(r->p + r->i + 2, &lo) == 0 && lo >= 0xDC00 &&
            lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            r->i += 6;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD; /* a lone surrogate */
        }
        put_utf8(&r->tmp, cp);
    }
    r->i++; /* the closing quote */
    rj_str(r->out, r->tmp.p, r->tmp.len);
    return 0;
}

static int read_value(reader *r, int depth)
{
    skip_ws(r);
    if (r->i >= r->n)
        return fail(r, "expected a value");
    char c = r->p[r->i];
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (depth >= RJ_MAX_DEPTH)
            return fail(r, "nested too deep");
        sb_putc(r->out, c);
        r->i++;
        skip_ws(r);
        if (r->i < r->n && r->p[r->i] == close) {
            sb_putc(r->out, close);
            r->i++;
            return 0;
        }
        for (int first = 1;; first = 0) {
            if (!first)
                sb_putc(r->out, ',');
            if (c == '{') {
                skip_ws(r);
                if (r->i >= r->n || r->p[r->i] != '"')
                    return fail(r, "expected a string key");
                if (read_string(r) < 0)
                    return -1;
                skip_ws(r);
                if (r->i >= r->n || r->p[r->i] != ':')
                    return fail(r, "expected ':' after a key");
                sb_putc(r->out, ':');
                r->i++;
            }
            if (read_value(r, depth + 1) < 0)
                return -1;
            skip_ws(r);
            if (r->i < r->n && r->p[r->i] == ',') {
                r->i++;
                continue;
            }
            if (r->i < r->n && r->p[r->i] == close) {
                sb_putc(r->out, close);
                r->i++;
                return 0;
            }
            return fail(r, c == '{' ? "expected ',' or '}'"
                                    : "expected ',' or ']'");
        }
    }
    if (c == '"')
        return read_string(r);
    static const char *const words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t wl = strlen(words[k]);
        if (r->n - r->i >= wl && memcmp(r->p + r->i, words[k], wl) == 0) {
            sb_putn(r->out, words[k], wl);
            r->i += wl;
            return 0;
        }
    }
    size_t nl = rj_number_len(r->p + r->i, r->n - r->i);
    if (nl == 0)
        return fail(r, "expected a value");
    sb_putn(r->out, r->p + r->i, nl);
    r->i += nl;
    return 0;
}

int rj_document(sb *out, const char *p, size_t n, size_t first_line,
                report_error *e)
{
    reader r = {p, n, 0, out, {0}, e, NULL, 0, ""};
    size_t saved = out->len;
    int rc;

    sb_init(&r.tmp);
    rc = read_value(&r, 0);
    if (rc == 0) {
        skip_ws(&r);
        if (r.i < r.n)
            rc = fail(&r, "unexpected text after the value");
    }
    if (rc == 0 && (out->oom || r.tmp.oom)) {
        r.err_at = 0;
        r.err = "out of memory";
        rc = -1;
    }
    sb_free(&r.tmp);
    if (rc < 0) {
        size_t line = first_line;
        for (size_t k = 0; k < r.err_at && k < n; k++)
            line += p[k] == '\n';
        e->line = line;
        snprintf(e->msg, sizeof e->msg, "%s", r.err);
        if (out->p != NULL) {
            out->len = saved;
            out->p[saved] = '\0';
        }
    }
    return rc;
}

/* ---- a look-up in a document already read --------------------------------- */

static size_t skip_space(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                     p[i] == '\r'))
        i++;
    return i;
}

/* At '"': the index past the closing quote. */
static size_t skip_string(const char *p, size_t n, size_t i)
{
    for (i++; i < n && p[i] != '"'; i++)
        if (p[i] == '\\')
            i++;
    return i < n ? i + 1 : n;
}

/* The index past the value at i. */
static size_t skip_value(const char *p, size_t n, size_t i)
{
    size_t depth = 0;

    do {
        if (i >= n)
            return n;
        if (p[i] == '"') {
            i = skip_string(p, n, i);
            continue;
        }
        if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if (p[i] == '}' || p[i] == ']') {
            depth--;
        } else if (depth == 0) {
            while (i < n && strchr(",}] \t\r\n", p[i]) == NULL)
                i++;
            return i;
        }
        i++;
    } while (depth > 0);
    return i;
}

int rj_find_key(const char *p, size_t n, const char *key, const char **v,
                size_t *vn)
{
    size_t i = skip_space(p, n, 0), klen = strlen(key);

    if (i >= n || p[i] != '{')
        return 0;
    i++;
    for (;;) {
        i = skip_space(p, n, i);
        if (i >= n || p[i] != '"')
            return 0;
        size_t k = i + 1;
        i = skip_string(p, n, i);
        int match = i - k == klen + 1 && memcmp(p + k, key, klen) == 0;
        i = skip_space(p, n, i);
        if (i >= n || p[i] != ':')
            return 0;
        i = skip_space(p, n, i + 1);
        size_t start = i;
        i = skip_value(p, n, i);
        if (match) {
            *v = p + start;
            *vn = i - start;
            return 1;
        }
        i = skip_space(p, n, i);
        if (i >= n || p[i] != ',')
            return 0;
        i++;
    }
}
