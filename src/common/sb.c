/* Growable string builder: see sb.h. */
#include "sb.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_MIN_CAP 64

void sb_init(sb *s)
{
    s->len = 0;
    s->oom = 0;
    s->cap = SB_MIN_CAP;
    s->p = malloc(s->cap);
    if (s->p == NULL) {
        s->cap = 0;
        s->oom = 1;
        return;
    }
    s->p[0] = '\0';
}

void sb_free(sb *s)
{
    free(s->p);
    s->p = NULL;
    s->len = 0;
    s->cap = 0;
    s->oom = 0;
}

/* Make room for n more bytes and the NUL. 0, or -1 with oom set. */
static int sb_reserve(sb *s, size_t n)
{
    size_t need, cap;
    char *p;

    if (s->oom)
        return -1;
    if (n >= SIZE_MAX - s->len) {
        s->oom = 1;
        return -1;
    }
    need = s->len + n + 1;
    if (need <= s->cap)
        return 0;
    cap = s->cap < SB_MIN_CAP ? SB_MIN_CAP : s->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(s->p, cap);
    if (p == NULL) {
        s->oom = 1;
        return -1;
    }
    s->p = p;
    s->cap = cap;
    return 0;
}

void sb_putn(sb *s, const char *p, size_t n)
{
    if (sb_reserve(s, n) < 0)
        return;
    if (n > 0)
        memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

void sb_putc(sb *s, char c)
{
    sb_putn(s, &c, 1);
}

void sb_puts(sb *s, const char *str)
{
    if (str != NULL)
        sb_putn(s, str, strlen(str));
}

void sb_printf(sb *s, const char *fmt, ...)
{
    va_list ap, ap2;
    size_t room;
    int n;

    if (sb_reserve(s, 0) < 0)
        return;
    room = s->cap - s->len;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(s->p + s->len, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= room && sb_reserve(s, (size_t)n) == 0)
        vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        s->oom = 1; /* an encoding error: flag it like a failure */
    if (s->oom) {
        s->p[s->len] = '\0'; /* drop a partial write */
        return;
    }
    s->len += (size_t)n;
}

/* C0 controls, DEL and the C1 controls (U+0080-U+009F, "\xC2\x80"-"\xC2\x9F"
 * in UTF-8) are written as \u escapes. */
static int control_code(const unsigned char *u, size_t n)
{
    if (n == 1 && (u[0] < 0x20 || u[0] == 0x7F))
        return u[0];
    if (n == 2 && u[0] == 0xC2 && u[1] < 0xA0)
        return u[1];
    return -1;
}

void sb_json_str(sb *s, const char *str)
{
    const unsigned char *u = (const unsigned char *)str;

    if (str == NULL) {
        sb_puts(s, "null");
        return;
    }
    sb_putc(s, '"');
    while (*u) {
        size_t n = utf8_len(u);
        int ctl = n ? control_code(u, n) : -1;

        if (n == 0) {
            sb_putn(s, "\xEF\xBF\xBD", 3); /* U+FFFD, one per bad byte */
            n = 1;
        } else if (ctl >= 0) {
            sb_printf(s, "\\u%04x", (unsigned)ctl);
        } else if (*u == '"' || *u == '\\') {
            sb_putc(s, '\\');
            sb_putc(s, (char)*u);
        } else {
            sb_putn(s, (const char *)u, n);
        }
        u += n;
    }
    sb_putc(s, '"');
}
