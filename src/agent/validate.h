/* A strict InfluxDB line protocol validator (1.x, as /write accepts it).
 *
 * loongd forwards a line only if every part of it is well formed, so one
 * bad line can never make InfluxDB refuse a batch, and no line can turn
 * into two points or change another one:
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * - no control character (0x00-0x1F, 0x7F) anywhere, valid UTF-8 only;
 * - a backslash escapes the byte after it (there must be one) wherever
 *   the scanner looks for a separator, as InfluxDB's own scanner does;
 * - a name or tag value may not end in an escaped backslash ("\\\\")
 *   before its separator: InfluxDB 1.x would take the separator as
 *   escaped and read another point than the sender meant;
 * - measurement: not empty, not a comment ('#' first);
 * - tags: keys and values not empty, no unescaped '=' in a value, no key
 *   "time", no key twice, at most LPV_MAX_TAGS;
 * - exactly one space before the fields and before the timestamp;
 * - fields: keys not empty, not "time", not twice, at most LPV_MAX_FIELDS;
 *   values: a finite float (-?(digits[.digits]|.digits)([eE][+-]?digits)?),
 *   an integer with 'i' in int64 range, a boolean (t T true True TRUE f F
 *   false False FALSE) or a double-quoted string (backslash escapes, at
 *   most LPV_MAX_STRING bytes inside); unsigned 'u' values are refused
 *   (InfluxDB 1.x refuses them unless configured);
 * - timestamp: an int64 (optionally negative), nothing after it.
 */
#ifndef LOONG_AGENT_VALIDATE_H
#define LOONG_AGENT_VALIDATE_H

#include <stddef.h>

#define LPV_MAX_LINE 65536
#define LPV_MAX_TAGS 256
#define LPV_MAX_FIELDS 256
#define LPV_MAX_STRING 65535

/* Check one line of len bytes, without its '\n'. The byte at line[len]
 * must be readable and be '\n' or '\0' (the UTF-8 check may look at it).
 * Returns 1 if the line is valid (*has_ts says if it carries a timestamp),
 * 0 if not, with *why (a static string) saying what is wrong. */
int lpv_check(const char *line, size_t len, int *has_ts, const char **why);

#endif
