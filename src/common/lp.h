/* InfluxDB line protocol encoder.
 *
 * One call encodes one point as exactly one line ending in '\n'. Whatever
 * the input bytes, the output cannot break the line or start another:
 * - control characters (0x00-0x1F, 0x7F) become a space, then are escaped
 *   where a space must be;
 * - bytes that are not valid UTF-8 become U+FFFD;
 * - measurement: ',' ' ' and '\' are escaped with a backslash;
 * - tag keys, tag values, field keys: ',' '=' ' ' and '\' are escaped;
 * - a measurement, key or tag value that would end in a backslash ends in
 *   U+FF3C instead (InfluxDB 1.x cannot read an escaped one there);
 * - string field values: '"' and '\' are escaped;
 * - names and tag values are cut at LP_MAX_NAME bytes, string fields at
 *   LP_MAX_STRING bytes, on a UTF-8 boundary;
 * - tags with an empty key or value are left out (InfluxDB rejects them),
 *   and so are tags and fields named "time", repeated tag keys (extra_tags
 *   win over the point's own) and repeated field keys (the first wins);
 * - float fields that are NaN or infinite are left out; a point left with
 *   no field is refused (LOONG_EINVAL);
 * - unsigned fields are written as integers ("i"), clamped to INT64_MAX,
 *   because InfluxDB 1.x does not accept "u" by default.
 */
#ifndef LOONG_COMMON_LP_H
#define LOONG_COMMON_LP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loong/loong.h"

#define LP_MAX_NAME 1024
#define LP_MAX_STRING 16384

/* Encode a point into out (cap bytes). extra_tags (may be NULL) are added
 * after the point's own tags (the runtime's host/program/pid). ts_ns == 0
 * writes no timestamp. Returns the length written (including '\n'), or
 * LOONG_ETRUNC if cap is too small (nothing useful written), or
 * LOONG_EINVAL if the point has no measurement or no valid field. */
ssize_t lp_encode(char *out, size_t cap, const loong_point *point,
                  const loong_tag *extra_tags, size_t nextra,
                  int64_t ts_ns);

/* Bytes lp_encode could need at most for this point (a safe capacity). */
size_t lp_encoded_max(const loong_point *point, const loong_tag *extra_tags,
                      size_t nextra);

#endif
