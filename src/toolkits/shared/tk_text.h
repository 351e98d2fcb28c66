/* Text output helpers shared by the bundled toolkits (function, mem,
 * exception): a growable buffer, collapsed-stack frame names and JSON
 * strings. Linked into each bundled toolkit (symbols stay hidden); a
 * toolkit written elsewhere needs only include/loong/loong.h. */
#ifndef LOONG_TOOLKITS_TK_TEXT_H
#define LOONG_TOOLKITS_TK_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include <loong/loong.h>

/* Text or bytes, NUL-terminated after len; oom sticks after a failed
 * growth (later puts are dropped), so a writer checks it once at the end. */
typedef struct tk_buf {
    char *p;
    size_t len, cap;
    int oom;
} tk_buf;

void tk_put(tk_buf *b, const void *s, size_t n);
void tk_puts(tk_buf *b, const char *s);
/* At most 511 bytes per call. */
void tk_putf(tk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "qualname (file:line)" with no ';' nor line break: one frame of a
 * collapsed stack (flamegraph.pl's format); NULL ci: "?". */
void tk_put_frame(tk_buf *b, const loong_code_info *ci);
/* s as a JSON string, quotes included: '"', '\\' and control characters
 * escaped; the bytes are UTF-8 as the runtime gives them. */
void tk_put_json_str(tk_buf *b, const char *s);
void tk_json_str(FILE *f, const char *s);

#endif
