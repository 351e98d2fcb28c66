/* loongd's queue and spool: batches by lines and bytes, oldest first;
 * drop-oldest counted exactly; the spool keeps order, respects its cap,
 * and is found again by the next run. The accounting identity
 * received + self + recovered = written + dropped + buffered is checked
 * after every step. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "check.h"

static uint64_t buffered(const agent_stats *s)
{
    return s->mem_lines + s->spool_lines + s->inflight_lines;
}

static void identity(agent_queue *q)
{
    agent_stats s;
    q_snapshot(q, &s);
    CHECK_EQ_U64(s.received + s.self + s.recovered,
                 s.written + s.dropped_full + s.dropped_refused +
                     s.dropped_exit + buffered(&s));
}

static void config(agent_config *c, uint64_t buffer)
{
    memset(c, 0, sizeof *c);
    c->batch_lines = 10;
    c->batch_bytes = 4096;
    c->flush_ms = 1;
    c->buffer_bytes = buffer;
}

/* line i: "m v=Ii" padded to 100 bytes with a string field */
static void put(agent_queue *q, int i)
{
    char line[128];
    int n = snprintf(line, sizeof line, "m v=%di,s=\"%0*d\"\n", i, 80, 0);
    q_append(q, line, (size_t)n, 1, 0);
}

/* The number in the first line of a batch, and checks the rest follow. */
static int take_all(agent_queue *q, int *next_expected, int dropped_ok)
{
    int batches = 0;
    chunk *c;

    while ((c = q_take(q, 10)) != NULL) {
        const char *p = c->data;
        for (uint64_t k = 0; k < c->lines; k++) {
            int v = atoi(p + 4);
            if (dropped_ok && v > *next_expected)
                *next_expected = v; /* a gap: dropped, oldest first */
            CHECK_EQ_INT(v, *next_expected);
            (*next_expected)++;
            p = strchr(p, '\n') + 1;
        }
        CHECK(p == c->data + c->len);
        q_done(q, c, 0, NULL);
        identity(q);
        batches++;
    }
    return batches;
}

static void memory_only(void)
{
    agent_config cfg;
    agent_queue q;
    agent_stats s;
    int next = 0;

    config(&cfg, 1 << 20);
    q_init(&q, &cfg, NULL);
    for (int i = 0; i < 95; i++)
        put(&q, i);
    identity(&q);
    usleep(2000);
    CHECK_EQ_INT(take_all(&q, &next, 0), 10); /* 9 of 10 and one of 5 */
    q_snapshot(&q, &s);
    CHECK_EQ_U64(s.written, 95);
    CHECK_EQ_U64(buffered(&s), 0);

    /* full: 2000 lines of 100 bytes in 20 KB: oldest dropped, exactly */
    config(&cfg, 20000);
    q_init(&q, &cfg, NULL);
    for (int i = 0; i < 2000; i++)
        put(&q, i);
    identity(&q);
    q_snapshot(&q, &s);
    CHECK(s.dropped_full > 0);
    CHECK(s.mem_bytes <= 20000);
    next = 0;
    usleep(2000);
    take_all(&q, &next, 1);
    CHECK_EQ_INT(next, 2000); /* the newest are kept */
    q_snapshot(&q, &s);
    CHECK_EQ_U64(s.written + s.dropped_full, 2000);

    /* a batch in flight is counted as buffered until done; put back at
     * exit it is dropped_exit without a spool */
    q_init(&q, &cfg, NULL);
    for (int i = 0; i < 15; i++)
        put(&q, i);
    chunk *c = q_take(&q, 10);
    CHECK(c != NULL && c->lines == 10);
    identity(&q);
    q_putback(&q, c);
    identity(&q);
    q_finish(&q);
    q_snapshot(&q, &s);
    CHECK_EQ_U64(s.dropped_exit, 15);
    identity(&q);
}

static void with_spool(void)
{
    char dir[] = "/tmp/loong-test-spool-XXXXXX", err[256];
    agent_config cfg;
    agent_queue q;
    agent_stats s;
    spool sp;
    int next = 0;

    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    config(&cfg, 4096); /* about 4 batches of memory */
    CHECK_EQ_INT(spool_open(&sp, dir, 16384, err, sizeof err), 0);
    q_init(&q, &cfg, &sp);
    /* 300 lines (30 KB): memory 4 KB, spool 16 KB, the rest dropped */
    for (int i = 0; i < 300; i++) {
        put(&q, i);
        identity(&q);
    }
    q_snapshot(&q, &s);
    CHECK(s.spool_lines > 0 && s.spool_bytes <= 16384);
    CHECK(s.dropped_full > 0);
    CHECK_EQ_U64(s.dropped_full + buffered(&s), 300);

    /* exit: what memory holds goes to the spool (room made by dropping the
     * oldest); the next run finds it, in order */
    q_finish(&q);
    identity(&q);
    q_snapshot(&q, &s);
    uint64_t kept = s.spool_lines;
    CHECK(kept > 0 && s.mem_lines == 0);
    spool_close(&sp);

    CHECK_EQ_INT(spool_open(&sp, dir, 16384, err, sizeof err), 0);
    CHECK_EQ_U64(sp.lines, kept);
    q_init(&q, &cfg, &sp);
    identity(&q);
    for (int i = 300; i < 310; i++)
        put(&q, i); /* newer than everything spooled */
    next = 0;
    usleep(2000);
    take_all(&q, &next, 1);
    CHECK_EQ_INT(next, 310);
    q_snapshot(&q, &s);
    CHECK_EQ_U64(s.written, kept + 10);
    CHECK_EQ_U64(s.recovered, kept);
    CHECK_EQ_U64(sp.n, 0);
    spool_close(&sp);
    rmdir(dir);
}

int main(void)
{
    memory_only();
    with_spool();
    return CHECK_DONE("test_agent_queue");
}
