/* The record pipeline: points are encoded into a bounded buffer by the
 * thread that emits them; a native flusher thread (not a Python thread)
 * ticks the toolkits and moves the buffer to the sink every interval, and
 * once more at exit. On SIGTERM with the default disposition, the flusher
 * does that last flush and then lets the signal kill the process as it
 * would have. */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/lp.h"

extern int rt_no_gil;

static void set_cloexec_nonblock(int fd)
{
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- emitting -------------------------------------------------------- */

int rt_emit(loong_toolkit *tk, const loong_point *p)
{
    if (!p || !rt.buf)
        return LOONG_EINVAL;
    loong_tag extra[3] = {{"host", rt.host},
                          {"program", rt.program},
                          {"pid", rt.pid_str}};
    char stack[2048];
    size_t need = lp_encoded_max(p, extra, 3);
    char *out = need <= sizeof stack ? stack : malloc(need);
    if (!out)
        return LOONG_ENOMEM;
    uint64_t ts = p->wall_ns ? p->wall_ns : rt_wall_ns();
    ssize_t n = lp_encode(out, need, p, extra, 3, (int64_t)ts);
    int rc = n < 0 ? (int)n : lbuf_append(rt.buf, out, (size_t)n);
    if (out != stack)
        free(out);
    return rc;
}

static void emit_self(void)
{
    uint64_t dropped = lbuf_dropped(rt.buf) + atomic_load(&rt.sink_dropped);
    int ntk = 0;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++)
        ntk += rt.tk[i] && rt.tk[i]->active;
    loong_field f[3] = {
        {.key = "records", .type = LOONG_FIELD_UINT,
         .v.u = lbuf_records(rt.buf)},
        {.key = "dropped", .type = LOONG_FIELD_UINT, .v.u = dropped},
        {.key = "toolkits", .type = LOONG_FIELD_INT, .v.i = ntk},
    };
    loong_point p = {"loong_runtime", NULL, 0, f, 3, 0};
    rt_emit(NULL, &p);
}

/* ---- ticking and flushing -------------------------------------------- */

/* A toolkit loaded into a running process (loong load, loong.load()) has
 * its first point this soon, not a whole interval later: the one tick
 * that follows is early for every toolkit (points carry their time). */
#define EARLY_TICK_NS (200ull * 1000000ull)

static void tick_all(unsigned flags)
{
    pthread_mutex_lock(&rt.tk_lock);
    loong_tick_event ev = {rt_now_ns(), rt_wall_ns(), flags};
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (tk && tk->active && (tk->caps & LOONG_CAP_TICK) && tk->cb.tick)
            tk->cb.tick(tk->state, &ev);
    }
    emit_self();
    pthread_mutex_unlock(&rt.tk_lock);
}

static void flush_buffer(void)
{
    const char *data;
    size_t n = lbuf_swap(rt.buf, &data);
    if (n && rt.sink)
        atomic_fetch_add(&rt.sink_dropped, lsink_write(rt.sink, data, n));
}

static void *flusher_main(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the program's */
    uint64_t next = rt_now_ns() + (uint64_t)rt.interval_ms * 1000000ull;
    int sigterm = 0;
    rt_clock_calibrate();
    while (!sigterm && !atomic_load(&rt.stop_flusher)) {
        uint64_t now = rt_now_ns();
        int wait_ms = now >= next ? 0 : (int)((next - now) / 1000000ull) + 1;
        if (!rt_clock_is_tsc() && wait_ms > 25)
            wait_ms = 25; /* wake early to calibrate the clock */
        struct pollfd pfd = {rt.wake_fd[0], POLLIN, 0};
        if (poll(&pfd, 1, wait_ms) > 0) {
            char c[16];
            ssize_t n = read(rt.wake_fd[0], c, sizeof c);
            for (ssize_t i = 0; i < n; i++) {
                sigterm |= c[i] == 'T';
                if (c[i] == 'E') {
                    uint64_t soon = rt_now_ns() + EARLY_TICK_NS;
                    if (soon < next)
                        next = soon;
                }
            }
        }
        if (sigterm || atomic_load(&rt.stop_flusher))
            break;
        rt_clock_calibrate();
        if (rt_now_ns() >= next) {
            rt_hooks_periodic();
            tick_all(0);
            flush_buffer();
            next += (uint64_t)rt.interval_ms * 1000000ull;
            if (next < rt_now_ns()) /* we fell behind: don't burst */
                next = rt_now_ns() + (uint64_t)rt.interval_ms * 1000000ull;
        }
    }
    if (sigterm) {
        /* The application keeps running until the signal is raised again:
         * never wait for the interpreter lock on this path. */
        rt_no_gil = 1;
        tick_all(LOONG_TICK_FINAL);
        flush_buffer();
        rt_meta_write("SIGTERM");
        signal(SIGTERM, SIG_DFL);
        kill(getpid(), SIGTERM);
        /* delivered to a thread that does not block it; we are done */
    }
    return NULL;
}

/* ---- SIGTERM --------------------------------------------------------- */

static void on_sigterm(int sig)
{
    int saved = errno;
    if (getpid() != rt.pid || !rt.flusher_running) {
        /* a fork child before exec, or no flusher: behave as default */
        signal(sig, SIG_DFL);
        raise(sig);
    } else if (write(rt.wake_fd[1], "T", 1) < 0) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    errno = saved;
}

/* Only when nobody handles SIGTERM: a handler of the program's wins. */
static void sigterm_install(void)
{
    struct sigaction cur;
    if (rt.sigterm_installed || sigaction(SIGTERM, NULL, &cur) < 0 ||
        cur.sa_handler != SIG_DFL || (cur.sa_flags & SA_SIGINFO))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) == 0)
        rt.sigterm_installed = 1;
}

static void sigterm_remove(void)
{
    struct sigaction cur;
    if (rt.sigterm_installed && sigaction(SIGTERM, NULL, &cur) == 0 &&
        cur.sa_handler == on_sigterm)
        signal(SIGTERM, SIG_DFL);
    rt.sigterm_installed = 0;
}

/* ---- start and stop -------------------------------------------------- */

static int flusher_start(void)
{
    atomic_store(&rt.stop_flusher, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = rt_own_thread_create(&rt.flusher, &attr, flusher_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return LOONG_EIO;
    rt.flusher_running = 1;
    return 0;
}

/* Joins the flusher; the caller must not hold the interpreter lock, which
 * a toolkit's tick may be waiting for. */
static void flusher_join(void)
{
    if (!rt.flusher_running)
        return;
    atomic_store(&rt.stop_flusher, 1);
    if (write(rt.wake_fd[1], "S", 1) < 0) {
        /* the pipe is full of wake-ups already: it will see the flag */
    }
    pthread_join(rt.flusher, NULL);
    rt.flusher_running = 0;
}

int rt_pipeline_start(void)
{
    if (!rt.buf) {
        const char *kb = getenv("LOONG_BUFFER_KB");
        long k = kb ? strtol(kb, NULL, 10) : 1024;
        if (k < 16 || k > 1024 * 1024)
            k = 1024;
        rt.buf = lbuf_new((size_t)k * 1024);
        if (!rt.buf)
            return LOONG_ENOMEM;
    }
    if (rt.wake_fd[0] <= 0) {
        if (pipe(rt.wake_fd) < 0)
            return LOONG_EIO;
        set_cloexec_nonblock(rt.wake_fd[0]);
        set_cloexec_nonblock(rt.wake_fd[1]);
    }
    int rc = flusher_start();
    if (rc == 0)
        sigterm_install();
    return rc;
}

/* Stop the flusher. final: last tick for the toolkits and a last flush. */
void rt_pipeline_stop(int final)
{
    Py_BEGIN_ALLOW_THREADS
    flusher_join();
    Py_END_ALLOW_THREADS
    if (final) {
        tick_all(LOONG_TICK_FINAL);
        flush_buffer();
        sigterm_remove();
    }
}

/* Before os.fork: no thread of ours may be running (3.12+ warns about
 * forking a multi-threaded process, and a child must not inherit a lock
 * held mid-tick). */
void rt_pipeline_pause(void)
{
    Py_BEGIN_ALLOW_THREADS
    flusher_join();
    Py_END_ALLOW_THREADS
    rt_control_pause(); /* the control socket's thread too */
}

void rt_pipeline_resume(void)
{
    if (!rt.flusher_running)
        flusher_start();
    rt_control_resume();
}

void rt_pipeline_tick_soon(void)
{
    if (rt.flusher_running && rt.wake_fd[1] > 0 &&
        write(rt.wake_fd[1], "E", 1) < 0) {
        /* the pipe is full of wake-ups already: the tick comes anyway */
    }
}

void rt_pipeline_flush_now(void)
{
    flush_buffer();
}

void rt_pipeline_after_fork_child(void)
{
    rt_control_after_fork_child();
    rt.flusher_running = 0;
    atomic_store(&rt.sink_dropped, 0);
    lbuf_after_fork_child(rt.buf);
    pthread_mutex_init(&rt.tk_lock, NULL);
}

/* Detach: after rt_pipeline_stop, nothing of the pipeline stays open. */
void rt_pipeline_release(void)
{
    for (int i = 0; i < 2; i++) {
        if (rt.wake_fd[i] > 0)
            close(rt.wake_fd[i]);
        rt.wake_fd[i] = -1;
    }
    lbuf_free(rt.buf);
    rt.buf = NULL;
}

void rt_pipeline_close_sink(void)
{
    if (rt.sink)
        lsink_close(rt.sink);
    rt.sink = NULL;
}

/* A file in the process folder, written whole then renamed into place. */
int rt_write_file_raw(const char *name, const void *data, size_t len)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    if (snprintf(dst, sizeof dst, "%s/%s", rt.proc_dir, name) >=
            (int)sizeof dst ||
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", rt.proc_dir, name) >=
            (int)sizeof tmp)
        return LOONG_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return LOONG_EIO;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return LOONG_EIO;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, dst) < 0) {
        unlink(tmp);
        return LOONG_EIO;
    }
    return 0;
}

/* For toolkits: a plain name, never one of the runtime's own files. */
int rt_write_file(const char *name, const void *data, size_t len)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 200 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._-") != strlen(name) ||
        !strcmp(name, "meta.json") || !strcmp(name, "metrics.lp") ||
        !strcmp(name, "loong.log"))
        return LOONG_EINVAL;
    if (!data && len)
        return LOONG_EINVAL;
    return rt_write_file_raw(name, data, len);
}
