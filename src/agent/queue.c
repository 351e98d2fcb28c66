/* The bounded queue of batches: see agent.h for the accounting.
 *
 * Memory holds batches oldest first; the newest (tail) is open and takes
 * appended lines until it reaches batch_lines or batch_bytes. When the
 * lines in memory would pass the cap, the oldest batch goes to the spool
 * (if there is one) or is dropped, whole, its lines counted. Everything in
 * the spool is older than everything in memory, so the writer delivers
 * the spool first and order is kept.
 */
#include "agent/agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK_START 65536

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void chunk_free(chunk *c)
{
    if (c) {
        free(c->data);
        free(c);
    }
}

static chunk *chunk_new(size_t need)
{
    chunk *c = calloc(1, sizeof *c);
    size_t cap = need > CHUNK_START ? need : CHUNK_START;

    if (c == NULL)
        return NULL;
    c->data = malloc(cap);
    if (c->data == NULL) {
        free(c);
        return NULL;
    }
    c->cap = cap;
    c->born_ms = now_ms();
    return c;
}

void q_init(agent_queue *q, const agent_config *cfg, spool *sp)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    q->cap_bytes = cfg->buffer_bytes;
    q->batch_lines = cfg->batch_lines;
    q->batch_bytes = cfg->batch_bytes;
    q->flush_ms = cfg->flush_ms;
    q->sp = sp;
    if (sp) {
        q->st.recovered = sp->lines;
        q->st.spool_lines = sp->lines;
        q->st.spool_bytes = sp->bytes;
    }
}

static void sync_spool(agent_queue *q)
{
    if (q->sp) {
        q->st.spool_lines = q->sp->lines;
        q->st.spool_bytes = q->sp->bytes;
    }
}

/* Take the oldest memory batch out (to spool or drop). Lock held. */
static void evict_oldest(agent_queue *q)
{
    chunk *c = q->head;

    if (c == NULL)
        return;
    q->head = c->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->st.mem_lines -= c->lines;
    q->st.mem_bytes -= c->len;
    if (q->sp) {
        uint64_t dropped = 0;
        if (spool_put(q->sp, c->data, c->len, c->lines, &dropped) == 0) {
            q->st.dropped_full += dropped;
            sync_spool(q);
            chunk_free(c);
            return;
        }
        q->st.dropped_full += dropped;
        sync_spool(q);
    }
    q->st.dropped_full += c->lines;
    chunk_free(c);
}

static void append_locked(agent_queue *q, const char *data, size_t len,
                          uint64_t lines);

/* Bytes of the first n lines of data. */
static size_t lines_len(const char *data, size_t len, uint64_t n)
{
    size_t pos = 0;
    for (uint64_t k = 0; k < n && pos < len; k++) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        pos = nl ? (size_t)(nl - data) + 1 : len;
    }
    return pos;
}

void q_append(agent_queue *q, const char *data, size_t len, uint64_t lines,
              int self)
{
    if (len == 0 || lines == 0)
        return;
    pthread_mutex_lock(&q->mu);
    if (self)
        q->st.self += lines;
    else
        q->st.received += lines;
    /* a batch holds at most batch_lines: cut the run where the open
     * batch is full */
    while (lines > 0) {
        uint64_t room = q->tail ? q->batch_lines - q->tail->lines
                                : q->batch_lines;
        if (room == 0)
            room = q->batch_lines; /* a new batch is opened */
        uint64_t take = lines < room ? lines : room;
        size_t n = take == lines ? len : lines_len(data, len, take);
        append_locked(q, data, n, take);
        data += n;
        len -= n;
        lines -= take;
    }
    pthread_mutex_unlock(&q->mu);
}

static void append_locked(agent_queue *q, const char *data, size_t len,
                          uint64_t lines)
{
    while (q->head != NULL && q->st.mem_bytes + len > q->cap_bytes)
        evict_oldest(q);
    chunk *t = q->tail;
    if (t == NULL || t->lines + lines > q->batch_lines ||
        (t->len > 0 && t->len + len > q->batch_bytes)) {
        chunk *c = chunk_new(len);
        if (c == NULL) {
            q->st.dropped_full += lines;
            return;
        }
        if (t)
            t->next = c;
        else
            q->head = c;
        q->tail = t = c;
        pthread_cond_signal(&q->cond); /* a batch is complete */
    }
    if (t->len + len > t->cap) {
        size_t cap = t->cap;
        while (cap < t->len + len)
            cap *= 2;
        char *d = realloc(t->data, cap);
        if (d == NULL) {
            q->st.dropped_full += lines;
            return;
        }
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, data, len);
    t->len += len;
    t->lines += lines;
    q->st.mem_lines += lines;
    q->st.mem_bytes += len;
}

void q_count_rejected(agent_queue *q, uint64_t lines, uint64_t datagrams)
{
    pthread_mutex_lock(&q->mu);
    q->st.rejected += lines;
    q->st.datagrams += datagrams;
    pthread_mutex_unlock(&q->mu);
}

static chunk *pop_head(agent_queue *q)
{
    chunk *c = q->head;

    q->head = c->next;
    if (q->head == NULL)
        q->tail = NULL;
    c->next = NULL;
    q->st.mem_lines -= c->lines;
    q->st.mem_bytes -= c->len;
    q->st.inflight_lines = c->lines;
    return c;
}

/* A batch ready now, or NULL. Lock held. */
static chunk *ready(agent_queue *q)
{
    if (q->sp && q->sp->n > 0 && q->sp->inflight == 0) {
        char *data;
        size_t len;
        uint64_t lines, seq, dropped = 0;
        int rc = spool_take(q->sp, &data, &len, &lines, &seq, &dropped);
        q->st.dropped_full += dropped;
        sync_spool(q);
        if (rc == 0) {
            chunk *c = calloc(1, sizeof *c);
            if (c == NULL) {
                free(data);
                q->sp->inflight = 0;
                return NULL;
            }
            c->data = data;
            c->len = c->cap = len;
            c->lines = lines;
            c->spool_seq = seq;
            return c;
        }
    }
    if (q->head == NULL || q->head->lines == 0)
        return NULL;
    if (q->head != q->tail || q->stopping ||
        now_ms() - q->head->born_ms >= q->flush_ms)
        return pop_head(q);
    return NULL;
}

chunk *q_take(agent_queue *q, uint64_t wait_ms)
{
    struct timespec until;
    chunk *c;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(wait_ms / 1000);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    for (;;) {
        c = ready(q);
        if (c != NULL || q->stopping)
            break;
        /* wake for the age of the open batch, or a signal */
        struct timespec t = until;
        if (q->head != NULL && q->head->lines > 0) {
            uint64_t due = q->head->born_ms + q->flush_ms;
            struct timespec d = {(time_t)(due / 1000),
                                 (long)(due % 1000) * 1000000L};
            if (d.tv_sec < t.tv_sec ||
                (d.tv_sec == t.tv_sec && d.tv_nsec < t.tv_nsec))
                t = d;
        }
        if (pthread_cond_timedwait(&q->cond, &q->mu, &t) != 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > until.tv_sec ||
                (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec)) {
                c = ready(q);
                break;
            }
        }
    }
    pthread_mutex_unlock(&q->mu);
    return c;
}

void q_done(agent_queue *q, chunk *c, uint64_t refused, const char *error)
{
    pthread_mutex_lock(&q->mu);
    if (refused > c->lines)
        refused = c->lines;
    q->st.written += c->lines - refused;
    q->st.dropped_refused += refused;
    q->st.batches++;
    q->st.retrying = 0;
    if (error && *error)
        snprintf(q->st.last_error, sizeof q->st.last_error, "%s", error);
    if (c->spool_seq != 0) {
        spool_remove(q->sp, c->spool_seq);
        sync_spool(q);
    } else {
        q->st.inflight_lines = 0;
    }
    pthread_mutex_unlock(&q->mu);
    chunk_free(c);
}

void q_failed(agent_queue *q, const char *error)
{
    pthread_mutex_lock(&q->mu);
    q->st.retries++;
    q->st.retrying = 1;
    snprintf(q->st.last_error, sizeof q->st.last_error, "%s", error);
    pthread_mutex_unlock(&q->mu);
}

void q_putback(agent_queue *q, chunk *c)
{
    pthread_mutex_lock(&q->mu);
    if (c->spool_seq != 0) {
        /* still in the spool: it stays there for the next run */
        q->sp->inflight = 0;
        chunk_free(c);
    } else {
        q->st.inflight_lines = 0;
        c->next = q->head;
        q->head = c;
        if (q->tail == NULL)
            q->tail = c;
        q->st.mem_lines += c->lines;
        q->st.mem_bytes += c->len;
    }
    pthread_mutex_unlock(&q->mu);
}

void q_finish(agent_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->head != NULL) {
        chunk *c = q->head;
        if (c->lines == 0) {
            q->head = c->next;
            chunk_free(c);
            continue;
        }
        if (q->sp == NULL) {
            q->head = c->next;
            q->st.mem_lines -= c->lines;
            q->st.mem_bytes -= c->len;
            q->st.dropped_exit += c->lines;
            chunk_free(c);
            continue;
        }
        evict_oldest(q);
    }
    q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
}

void q_stop(agent_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

static int empty_locked(agent_queue *q)
{
    return (q->head == NULL || q->head->lines == 0) &&
           (q->sp == NULL || q->sp->n == 0);
}

int q_empty(agent_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int empty = empty_locked(q);
    pthread_mutex_unlock(&q->mu);
    return empty;
}

int q_drained(agent_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int done = q->stopping && empty_locked(q);
    pthread_mutex_unlock(&q->mu);
    return done;
}

void q_snapshot(agent_queue *q, agent_stats *out)
{
    pthread_mutex_lock(&q->mu);
    *out = q->st;
    pthread_mutex_unlock(&q->mu);
}
