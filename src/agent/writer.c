/* The writer thread: take the oldest ready batch, deliver it to the
 * output; on failure keep it and retry after a delay that doubles from
 * retry_min to retry_max (so a batch is never overtaken by a newer one).
 * At stop it delivers what is queued until the deadline, then hands the
 * batch it holds back to the queue. */
#include "agent/agent.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct output {
    int kind;
    influx *influx;
    fileout *file;
    char name[PATH_MAX + 16];
};

output *output_open(const agent_config *cfg, char *err, size_t errlen)
{
    output *o = calloc(1, sizeof *o);

    if (o == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->kind = cfg->output;
    if (o->kind == OUT_FILE) {
        o->file = fileout_open(cfg, err, errlen);
        snprintf(o->name, sizeof o->name, "file:%s", cfg->file);
    } else {
        o->influx = influx_open(cfg, err, errlen);
        snprintf(o->name, sizeof o->name, "%s db=%s", cfg->influx_url,
                 cfg->db);
    }
    if (o->file == NULL && o->influx == NULL) {
        free(o);
        return NULL;
    }
    return o;
}

int output_write(output *o, const char *data, size_t len, uint64_t lines,
                 uint64_t *refused, char *err, size_t errlen)
{
    *refused = 0;
    if (o->kind == OUT_FILE)
        return fileout_write(o->file, data, len, err, errlen);
    return influx_write(o->influx, data, len, lines, refused, err, errlen);
}

const char *output_name(const output *o)
{
    return o->name;
}

void output_close(output *o)
{
    if (o == NULL)
        return;
    fileout_close(o->file);
    influx_close(o->influx);
    free(o);
}

static int stop_now(agent_writer *w)
{
    int stopping;
    pthread_mutex_lock(&w->q->mu);
    stopping = w->q->stopping;
    pthread_mutex_unlock(&w->q->mu);
    return stopping && now_ms() >= __atomic_load_n(&w->deadline_ms,
                                                   __ATOMIC_ACQUIRE);
}

/* Sleep ms, waking early at stop. */
static void pause_ms(agent_writer *w, uint64_t ms)
{
    uint64_t until = now_ms() + ms;

    while (!stop_now(w)) {
        uint64_t now = now_ms();
        if (now >= until)
            break;
        uint64_t step = until - now < 50 ? until - now : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *writer_main(void *arg)
{
    agent_writer *w = arg;
    char err[512];

    for (;;) {
        chunk *c = q_take(w->q, 200);
        if (c == NULL) {
            if (stop_now(w) || q_drained(w->q))
                break;
            continue;
        }
        uint64_t delay = w->cfg->retry_min_ms;
        for (;;) {
            uint64_t refused = 0;
            err[0] = '\0';
            int rc = output_write(w->out, c->data, c->len, c->lines,
                                  &refused, err, sizeof err);
            if (rc == 0 || rc == 2) {
                if (rc == 2 || refused > 0)
                    agent_log("%s: %llu of %llu lines refused", err,
                              (unsigned long long)refused,
                              (unsigned long long)c->lines);
                q_done(w->q, c, refused, rc == 2 || refused ? err : NULL);
                c = NULL;
                break;
            }
            q_failed(w->q, err);
            if (stop_now(w))
                break;
            pause_ms(w, delay);
            if (stop_now(w))
                break;
            delay = delay * 2 > w->cfg->retry_max_ms ? w->cfg->retry_max_ms
                                                     : delay * 2;
        }
        if (c != NULL) {
            q_putback(w->q, c);
            break;
        }
    }
    return NULL;
}

int writer_start(agent_writer *w, agent_queue *q, output *out,
                 const agent_config *cfg)
{
    sigset_t all, old;

    w->q = q;
    w->out = out;
    w->cfg = cfg;
    w->deadline_ms = UINT64_MAX;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

void writer_join(agent_writer *w, uint64_t deadline_ms)
{
    __atomic_store_n(&w->deadline_ms, deadline_ms, __ATOMIC_RELEASE);
    q_stop(w->q);
    pthread_join(w->thread, NULL);
}
