/* loongd: start, run until SIGTERM or SIGINT, stop in order: stop
 * receiving (the sockets are removed, senders drop and count), deliver
 * what is queued until --shutdown-timeout, spool the rest (or count it as
 * dropped_exit), print the final figures. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int agent_quiet;
static int stop_pipe[2] = {-1, -1};

void agent_log(const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    if (agent_quiet)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    fprintf(stderr, "loongd: %s\n", msg);
}

static void on_signal(int sig)
{
    int e = errno;
    ssize_t r = write(stop_pipe[1], "x", 1);
    (void)r;
    (void)sig;
    errno = e;
}

static void final_figures(agent_queue *q)
{
    agent_stats st;
    q_snapshot(q, &st);
    agent_log("stopped: received %llu, rejected %llu, written %llu, "
              "dropped %llu (full %llu, refused %llu, at exit %llu), "
              "spooled %llu",
              (unsigned long long)st.received,
              (unsigned long long)st.rejected,
              (unsigned long long)st.written,
              (unsigned long long)(st.dropped_full + st.dropped_refused +
                                   st.dropped_exit),
              (unsigned long long)st.dropped_full,
              (unsigned long long)st.dropped_refused,
              (unsigned long long)st.dropped_exit,
              (unsigned long long)st.spool_lines);
}

int main(int argc, char **argv)
{
    static agent_config cfg;
    static agent_queue q;
    static spool sp;
    agent_writer w;
    char err[1024];
    struct sigaction sa;

    int rc = config_load(&cfg, argc, argv);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    if (cfg.status_only)
        return status_query(cfg.status_path, cfg.status_json);
    agent_quiet = cfg.quiet;
    signal(SIGPIPE, SIG_IGN);

    if (cfg.spool_dir[0] &&
        spool_open(&sp, cfg.spool_dir, cfg.spool_bytes, err, sizeof err) < 0) {
        fprintf(stderr, "loongd: %s\n", err);
        return 1;
    }
    output *out = output_open(&cfg, err, sizeof err);
    if (out == NULL) {
        fprintf(stderr, "loongd: %s\n", err);
        return 1;
    }
    q_init(&q, &cfg, cfg.spool_dir[0] ? &sp : NULL);
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "loongd: pipe: %s\n", strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    agent_rx *rx = rx_open(&cfg, &q, output_name(out), err, sizeof err);
    if (rx == NULL) {
        fprintf(stderr, "loongd: %s\n", err);
        output_close(out);
        return 1;
    }
    if (writer_start(&w, &q, out, &cfg) != 0) {
        fprintf(stderr, "loongd: cannot start the writer thread\n");
        rx_close(rx);
        return 1;
    }
    agent_log("listening on %s%s%s (status %s), writing to %s%s%s",
              cfg.socket_path[0] ? cfg.socket_path : "-",
              cfg.udp[0] ? " and udp " : "", cfg.udp, cfg.status_path,
              output_name(out), sp.n ? ", resuming from the spool" : "",
              "");
    rx_run(rx, stop_pipe[0]);
    rx_close(rx);
    writer_join(&w, now_ms() + cfg.shutdown_ms);
    q_finish(&q);
    final_figures(&q);
    output_close(out);
    if (cfg.spool_dir[0])
        spool_close(&sp);
    return 0;
}
