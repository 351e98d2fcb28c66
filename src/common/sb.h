/* A growable string builder. On allocation failure it sets oom and
 * ignores further writes, so callers check once at the end. */
#ifndef LOONG_COMMON_SB_H
#define LOONG_COMMON_SB_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sb {
    char *p;     /* NUL-terminated when len > 0 or after sb_init */
    size_t len;
    size_t cap;
    int oom;
} sb;

void sb_init(sb *s);
void sb_free(sb *s);
void sb_putc(sb *s, char c);
void sb_putn(sb *s, const char *p, size_t n);
void sb_puts(sb *s, const char *str);
void sb_printf(sb *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append str as a JSON string literal, quotes included; invalid UTF-8
 * becomes U+FFFD, control characters are \u-escaped. NULL gives null. */
void sb_json_str(sb *s, const char *str);

#endif
