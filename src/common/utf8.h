/* UTF-8 validation shared by the line protocol encoder and the JSON
 * writer. */
#ifndef LOONG_COMMON_UTF8_H
#define LOONG_COMMON_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence starting at s, or 0 (RFC 3629:
 * no overlong forms, surrogates or code points past U+10FFFF). s is
 * NUL-terminated and a NUL is never a continuation byte, so this never
 * reads past the end. */
static inline size_t utf8_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        lo = s[0] == 0xE0 ? 0xA0 : 0x80; /* overlong */
        hi = s[0] == 0xED ? 0x9F : 0xBF; /* surrogates */
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        lo = s[0] == 0xF0 ? 0x90 : 0x80; /* overlong */
        hi = s[0] == 0xF4 ? 0x8F : 0xBF; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

#endif
