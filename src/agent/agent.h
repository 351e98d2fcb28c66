/* loongd, the host agent: what its files share.
 *
 *   main.c      start, signals, shutdown
 *   config.c    defaults, flags and the config file
 *   validate.c  the strict line protocol validator (validate.h)
 *   receive.c   the sockets (unix datagrams, UDP on loopback, status) and
 *               the receiving loop: validate, stamp, queue, own points
 *   queue.c     the bounded queue of batches, oldest first; drop-oldest
 *   spool.c     the disk spool under the queue (size-capped, in order)
 *   writer.c    the writer thread: take a batch, deliver, back off, retry
 *   influx.c    the InfluxDB /write output (libcurl, gzip)
 *   fileout.c   the file output
 *   status.c    the figures as JSON and text; `loongd --status`
 *
 * The accounting, exact at every moment (under the queue's lock):
 *   received + self + recovered = written + dropped + buffered
 * where received counts valid lines from senders (rejected ones are
 * counted apart and never queued), self the agent's own points, recovered
 * the lines found in the spool at start, and dropped = dropped_full (the
 * buffer was full: oldest dropped) + dropped_refused (InfluxDB refused
 * them: 4xx) + dropped_exit (not delivered nor spooled at exit).
 */
#ifndef LOONG_AGENT_H
#define LOONG_AGENT_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#define AGENT_SUN_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

/* ---- config.c --------------------------------------------------------- */

enum { OUT_INFLUX = 1, OUT_FILE = 2 };

typedef struct agent_config {
    char socket_path[AGENT_SUN_MAX]; /* "" = no unix socket */
    unsigned socket_mode;
    char status_path[AGENT_SUN_MAX];
    char udp[128]; /* "" = off; HOST:PORT, a loopback address */
    int output;    /* OUT_INFLUX or OUT_FILE */
    char influx_url[1024];
    char db[256], rp[256], precision[4];
    char username[256], password[256];
    int gzip, create_db;
    uint64_t timeout_ms;
    char file[PATH_MAX];
    uint64_t batch_lines, batch_bytes;
    uint64_t flush_ms;
    uint64_t buffer_bytes;
    char spool_dir[PATH_MAX]; /* "" = no spool */
    uint64_t spool_bytes;
    uint64_t retry_min_ms, retry_max_ms;
    uint64_t stats_ms; /* 0 = no own points */
    uint64_t shutdown_ms;
    char host[256];
    int status_only, status_json; /* --status [--json] */
    int quiet;
} agent_config;

/* Fill cfg from the defaults, then the config file (--config), then the
 * flags. 0; 1 after --help/--version (printed); 2 after an error (printed
 * on stderr as one line). */
int config_load(agent_config *cfg, int argc, char **argv);
/* The precision's nanoseconds per unit (ns 1, us 1000, ms, s, m, h). */
uint64_t config_precision_ns(const char *precision);

/* ---- spool.c ---------------------------------------------------------- */

typedef struct spool_entry {
    uint64_t seq, bytes, lines;
} spool_entry;

typedef struct spool {
    char dir[PATH_MAX];
    uint64_t cap;
    uint64_t bytes, lines;
    spool_entry *e; /* oldest first */
    size_t n, size;
    uint64_t next_seq;
    uint64_t inflight; /* seq being delivered, 0 = none */
} spool;

/* Create the folder, take the files a previous run left (oldest first).
 * 0 or -1 with err. */
int spool_open(spool *sp, const char *dir, uint64_t cap, char *err,
               size_t errlen);
/* Add a batch as the newest file; then, while over the cap, remove the
 * oldest files (not the one being delivered) and add their lines to
 * *dropped. 0, or -1 if it could not be written (nothing kept). */
int spool_put(spool *sp, const char *data, size_t len, uint64_t lines,
              uint64_t *dropped);
/* Read the oldest file (marked in flight). 0; 1 none; -1 error (the file
 * is removed and its lines added to *dropped). */
int spool_take(spool *sp, char **data, size_t *len, uint64_t *lines,
               uint64_t *seq, uint64_t *dropped);
void spool_remove(spool *sp, uint64_t seq);
void spool_close(spool *sp);

/* ---- queue.c ---------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    char *data;
    size_t len, cap;
    uint64_t lines;
    uint64_t born_ms;
    uint64_t spool_seq; /* 0: from memory */
} chunk;

typedef struct agent_stats {
    uint64_t received, rejected, self, recovered;
    uint64_t written, dropped_full, dropped_refused, dropped_exit;
    uint64_t mem_lines, mem_bytes, spool_lines, spool_bytes;
    uint64_t inflight_lines;
    uint64_t batches, retries, datagrams;
    int retrying;
    char last_error[256];
} agent_stats;

typedef struct agent_queue {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    chunk *head, *tail; /* memory batches, oldest first; tail is open */
    uint64_t cap_bytes, batch_lines, batch_bytes, flush_ms;
    spool *sp;          /* NULL: memory only */
    int stopping;
    agent_stats st;
} agent_queue;

uint64_t now_ms(void);
void q_init(agent_queue *q, const agent_config *cfg, spool *sp);
/* Queue a run of whole valid lines; counted as received (self = 0) or as
 * the agent's own (self = 1). Drops or spools the oldest batches to stay
 * under the cap. */
void q_append(agent_queue *q, const char *data, size_t len, uint64_t lines,
              int self);
void q_count_rejected(agent_queue *q, uint64_t lines, uint64_t datagrams);
/* The oldest ready batch (spool first, then memory), waiting up to
 * wait_ms. NULL if none. The batch stays counted as buffered. */
chunk *q_take(agent_queue *q, uint64_t wait_ms);
/* A batch taken was delivered: written lines written, the rest refused. */
void q_done(agent_queue *q, chunk *c, uint64_t refused, const char *error);
/* A delivery failed and will be retried. */
void q_failed(agent_queue *q, const char *error);
/* At exit, a batch the writer could not deliver goes back to the front. */
void q_putback(agent_queue *q, chunk *c);
/* At exit: spool what memory holds (or count it as dropped_exit). */
void q_finish(agent_queue *q);
void q_stop(agent_queue *q);
int q_empty(agent_queue *q);
/* Stopping, and nothing left to deliver. */
int q_drained(agent_queue *q);
void q_snapshot(agent_queue *q, agent_stats *out);
void chunk_free(chunk *c);

/* ---- writer.c, influx.c, fileout.c ------------------------------------ */

/* Deliver one batch: 0 delivered (*refused lines InfluxDB refused in a
 * partial write); 1 retry later (err says why); 2 refused whole. */
typedef struct output output;
output *output_open(const agent_config *cfg, char *err, size_t errlen);
int output_write(output *o, const char *data, size_t len, uint64_t lines,
                 uint64_t *refused, char *err, size_t errlen);
void output_close(output *o);
const char *output_name(const output *o);

typedef struct influx influx;
influx *influx_open(const agent_config *cfg, char *err, size_t errlen);
int influx_write(influx *o, const char *data, size_t len, uint64_t lines,
                 uint64_t *refused, char *err, size_t errlen);
void influx_close(influx *o);
typedef struct fileout fileout;
fileout *fileout_open(const agent_config *cfg, char *err, size_t errlen);
int fileout_write(fileout *o, const char *data, size_t len, char *err,
                  size_t errlen);
void fileout_close(fileout *o);

typedef struct agent_writer {
    pthread_t thread;
    agent_queue *q;
    output *out;
    const agent_config *cfg;
    uint64_t deadline_ms; /* set at stop: give up retrying after it */
} agent_writer;

int writer_start(agent_writer *w, agent_queue *q, output *out,
                 const agent_config *cfg);
/* Stop taking new work once the queue is empty or deadline passed. */
void writer_join(agent_writer *w, uint64_t deadline_ms);

/* ---- receive.c -------------------------------------------------------- */

typedef struct agent_rx agent_rx;
/* --udp HOST:PORT to an address, refused unless loopback. 0 or -1. */
struct sockaddr_storage;
int rx_udp_resolve(const char *spec, struct sockaddr_storage *addr,
                   unsigned *addrlen, char *err, size_t errlen);
agent_rx *rx_open(const agent_config *cfg, agent_queue *q,
                  const char *output_name, char *err, size_t errlen);
/* Receive until stop_fd is readable. */
void rx_run(agent_rx *rx, int stop_fd);
void rx_close(agent_rx *rx);

/* ---- status.c --------------------------------------------------------- */

/* The figures as one line of JSON ending in '\n'. */
size_t status_json(char *out, size_t cap, const agent_stats *st,
                   const char *output_name, long pid, uint64_t start_ms);
/* loongd --status: ask the agent at path, print; exit status. */
int status_query(const char *path, int json);

/* ---- messages --------------------------------------------------------- */

void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int agent_quiet;

#endif
