/* Toolkit specs ("name:k=v,k=v" or "/path/x.so:k=v"), lists of them
 * separated by ';', and durations ("1s", "250ms", "2m", "0.5s"). */
#ifndef LOONG_COMMON_SPEC_H
#define LOONG_COMMON_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "loong/loong.h"

typedef struct tk_spec {
    char *name;               /* a name or a path to a .so */
    size_t nopts;
    loong_option *opts;       /* keys and values are heap strings */
} tk_spec;

/* 0, or LOONG_EINVAL with a specific message in err. Keys are
 * [A-Za-z0-9_]+; values are any text without ',' or ';'. A key may not
 * repeat. */
int tk_spec_parse(const char *s, tk_spec *out, char *err, size_t errlen);
void tk_spec_free(tk_spec *spec);
/* A ';'-separated list. Empty items are ignored. */
int tk_spec_parse_list(const char *s, tk_spec **out, size_t *n, char *err,
                       size_t errlen);
void tk_spec_free_list(tk_spec *specs, size_t n);
/* Render back to "name:k=v,k=v" (heap string). */
char *tk_spec_format(const tk_spec *spec);

/* Duration to milliseconds; 1ms..24h. 0 or LOONG_EINVAL. */
int duration_parse_ms(const char *s, uint64_t *ms);

#endif
