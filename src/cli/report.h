/* `loong report`: what report.c, report_json.c and report_data.c share,
 * and what the unit tests (tests/unit/test_report.c) call.
 *
 * The report is one HTML page: the template of report/ (embedded into the
 * binary at build time, report_assets.c) with the data of one process
 * folder as JSON inside <script type="application/json">. Everything that
 * goes into that JSON passes through rj_str(), which escapes '<', '>' and
 * '&' too, so no input can close the script element or start a comment.
 */
#ifndef LOONG_CLI_REPORT_H
#define LOONG_CLI_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "common/sb.h"

/* Where parsing failed: line is 1-based, 0 when not about one line. */
typedef struct report_error {
    size_t line;
    char msg[256];
} report_error;

/* ---- report_json.c: escaping and JSON re-encoding ------------------- */

/* p[0..n) as a JSON string literal safe inside a <script> element: '"',
 * '\\', controls, '<', '>', '&', U+2028 and U+2029 escaped; invalid UTF-8
 * (and NUL bytes) become U+FFFD escapes, one per bad byte. */
void rj_str(sb *out, const char *p, size_t n);

/* p[0..n) as HTML text (also safe in a quoted attribute): & < > " '
 * escaped, controls but tab and newline dropped, invalid UTF-8 as U+FFFD. */
void rj_html(sb *out, const char *p, size_t n);

/* Length of the JSON number (RFC 8259 grammar) at the start of p[0..n),
 * or 0 if there is none. */
size_t rj_number_len(const char *p, size_t n);

/* Parse one JSON document in p[0..n) (whitespace around it allowed) and
 * append it to out re-encoded: strings through rj_str(), numbers as
 * written, nesting at most RJ_MAX_DEPTH. 0, or -1 with e set (e->line
 * counted from the start of p, plus first_line - 1). Nothing is appended
 * on error. */
#define RJ_MAX_DEPTH 64
int rj_document(sb *out, const char *p, size_t n, size_t first_line,
                report_error *e);

/* ---- report_data.c: the profile files as JSON ------------------------ */

/* A section loader: the text of one file to JSON appended to out. 0, or
 * -1 with e set (and out unchanged). */
typedef int (*report_loader)(sb *out, const char *text, size_t len,
                             report_error *e);

/* Collapsed stacks ("frame;frame;frame VALUE" per line) as a tree:
 *   {"total": T, "stacks": LINES, "names": [NAME...],
 *    "n": [NAME_INDEX...], "d": [DEPTH...], "v": [TOTAL...]}
 * Nodes in preorder, the root first ("n" -1, depth 0), children sorted by
 * name; identical paths are merged; a node's "v" is its value plus its
 * children's. Lines of value 0 and blank lines are left out. */
int rd_collapsed(sb *out, const char *text, size_t len, report_error *e);

/* A TSV table with a header line:
 *   {"columns": [NAME...], "numeric": [BOOL...], "rows": [[CELL...]...]}
 * A column is numeric when every non-empty cell is a JSON number; its
 * cells are numbers (null when empty), other cells strings. Every line
 * must have as many fields as the header. */
int rd_tsv(sb *out, const char *text, size_t len, report_error *e);

/* JSON lines: one object per non-blank line, as one array. */
int rd_jsonl(sb *out, const char *text, size_t len, report_error *e);

/* One JSON object (meta.json). */
int rd_json_object(sb *out, const char *text, size_t len, report_error *e);

/* ---- report_mem.c: the memory timeline from metrics.lp ----------------- */

#define RM_MAX_POINTS 2000 /* rows drawn at most (even) */
#define RM_MAX_FIELDS 64   /* distinct field names kept */
#define RM_MAX_LINE 65536  /* longer lines are left out */

/* The loong_mem points of metrics.lp, read from f line by line, as
 *   {"pid": PID, "points": N, "every": K, "skipped": S, "other_pid": O,
 *    "fields_dropped": D, "first_ns": "NS", "t0_ms": MS,
 *    "t": [MS_SINCE_FIRST...], "fields": {NAME: [VALUE or null...]...}}
 * Every numeric field is kept (up to RM_MAX_FIELDS names, in the order
 * first seen; D counts the values of the others), strings and booleans
 * are not. A line that does not parse, has no timestamp, is longer than
 * RM_MAX_LINE or is the last one without its '\n' is left out (S).
 * Points are of one process: the one whose pid tag is pid (the meta's;
 * if none is, or pid is NULL, the first pid seen); O counts the others'.
 * Past RM_MAX_POINTS points, rows are merged in pairs as often as needed,
 * so each row stands for K (a power of two) consecutive points: its time
 * is the last one's, its values the largest, or the sum for the
 * per-interval counts gc_pauses and gc_pause_us. 0, 1 when f holds no
 * loong_mem line (nothing appended), or -1 with e set (a read error, out
 * of memory; out unchanged). */
int rd_mem_timeline(sb *out, FILE *f, const char *pid, report_error *e);

/* The value of key in the top-level object of the valid JSON document
 * p[0..n), as it is written there (*v, *vn), or 0 when there is none. */
int rj_find_key(const char *p, size_t n, const char *key, const char **v,
                size_t *vn);

/* ---- report_assets.c (generated from report/ by tools/embed.c) ------- */

extern const char report_html[], report_css[], report_js[];
extern const size_t report_html_len, report_css_len, report_js_len;

/* ---- report_page.c --------------------------------------------------- */

/* The template with {{TITLE}}, {{CSS}}, {{JS}} and {{DATA}} replaced (the
 * title as HTML text, the data as it is: it must come from rj_*). */
void report_fill(sb *out, const char *title, size_t title_len,
                 const char *data, size_t data_len);

#endif
