/* The agent's figures: one line of JSON for the status socket, and
 * `loongd --status`, which asks a running agent for it. */
#include "agent/agent.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/agent.h"

typedef struct out {
    char *p;
    size_t cap, len;
} out;

static void add(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n < o->cap - o->len ? (size_t)n
                                              : o->cap - o->len - 1;
}

/* a JSON string of printable ASCII and UTF-8 */
static void add_str(out *o, const char *key, const char *s)
{
    add(o, ", \"%s\": \"", key);
    for (; *s && o->len + 8 < o->cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            add(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            add(o, " ");
        else
            add(o, "%c", c);
    }
    add(o, "\"");
}

size_t status_json(char *buf, size_t cap, const agent_stats *st,
                   const char *output_name, long pid, uint64_t start_ms)
{
    out o = {buf, cap, 0};
    uint64_t dropped = st->dropped_full + st->dropped_refused +
                       st->dropped_exit;
    uint64_t buffered = st->mem_lines + st->spool_lines + st->inflight_lines;

    buf[0] = '\0';
    add(&o, "{\"pid\": %ld, \"uptime_s\": %.1f", pid,
        (double)(now_ms() - start_ms) / 1000.0);
    add_str(&o, "output", output_name);
    add_str(&o, "state", st->retrying ? "retrying" : "ok");
#define F(name, v) add(&o, ", \"" name "\": %" PRIu64, (uint64_t)(v))
    F("received", st->received);
    F("rejected", st->rejected);
    F("written", st->written);
    F("dropped", dropped);
    F("dropped_full", st->dropped_full);
    F("dropped_refused", st->dropped_refused);
    F("dropped_exit", st->dropped_exit);
    F("buffered", buffered);
    F("buffered_bytes", st->mem_bytes + st->spool_bytes);
    F("memory_lines", st->mem_lines + st->inflight_lines);
    F("spooled", st->spool_lines);
    F("recovered", st->recovered);
    F("self", st->self);
    F("datagrams", st->datagrams);
    F("batches", st->batches);
    F("retries", st->retries);
#undef F
    add_str(&o, "last_error", st->last_error);
    add(&o, "}\n");
    return o.len;
}

int status_query(const char *path, int json)
{
    char buf[4096], err[512];

    if (agent_status_fetch(path, buf, sizeof buf, err, sizeof err) != 0) {
        fprintf(stderr, "loongd: %s\n", err);
        return 1;
    }
    if (json)
        fputs(buf, stdout);
    else
        agent_status_print(stdout, buf);
    return 0;
}
