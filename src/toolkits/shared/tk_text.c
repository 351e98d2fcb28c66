/* tk_text.h: the bundled toolkits' text output helpers. */
#include "shared/tk_text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void tk_put(tk_buf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n + 1)
            c *= 2;
        char *np = realloc(b->p, c);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = c;
    }
    if (n) /* s may be NULL when n is 0 */
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tk_puts(tk_buf *b, const char *s)
{
    tk_put(b, s, strlen(s));
}

void tk_putf(tk_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        tk_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void tk_put_frame(tk_buf *b, const loong_code_info *ci)
{
    char name[1024];
    int n = ci ? snprintf(name, sizeof name, "%s (%s:%d)", ci->qualname,
                          ci->filename, ci->first_line)
               : snprintf(name, sizeof name, "?");
    if (n < 0)
        return;
    if ((size_t)n >= sizeof name)
        n = sizeof name - 1;
    for (int i = 0; i < n; i++)
        if (name[i] == ';' || name[i] == '\n' || name[i] == '\r')
            name[i] = ':';
    tk_put(b, name, (size_t)n);
}

/* The escape for byte c, or NULL when c stands for itself. */
static const char *json_escape(unsigned char c, char tmp[8])
{
    if (c == '"' || c == '\\') {
        tmp[0] = '\\';
        tmp[1] = (char)c;
        tmp[2] = '\0';
        return tmp;
    }
    if (c < 0x20) {
        snprintf(tmp, 8, "\\u%04x", c);
        return tmp;
    }
    return NULL;
}

void tk_put_json_str(tk_buf *b, const char *s)
{
    char tmp[8];
    tk_put(b, "\"", 1);
    for (; *s; s++) {
        const char *e = json_escape((unsigned char)*s, tmp);
        if (e)
            tk_puts(b, e);
        else
            tk_put(b, s, 1);
    }
    tk_put(b, "\"", 1);
}

void tk_json_str(FILE *f, const char *s)
{
    char tmp[8];
    fputc('"', f);
    for (; *s; s++) {
        const char *e = json_escape((unsigned char)*s, tmp);
        if (e)
            fputs(e, f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}
