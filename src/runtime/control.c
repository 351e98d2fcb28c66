/* The control socket: how `loong` talks to a running process.
 *
 * One unix stream socket per process, TMPDIR-independent:
 * /tmp/loong-UID/PID.sock. The folder is ours (owned by our uid, mode
 * 0700, not a symlink: checked, never trusted); the socket is 0600, bound
 * under a temporary name and renamed into place, so the name never points
 * at a half-made socket. Every connection is checked with SO_PEERCRED: our
 * uid or root, nobody else.
 *
 * Protocol (version 1): one request per connection, one line of at most
 * CTL_MAX bytes, fields separated by TAB, the first one "loong/1":
 *
 *   loong/1 TAB hello                      -> ok {"protocol":1,...}
 *   loong/1 TAB start [TAB key=value]...   -> ok | ok already
 *            keys: out, sink, interval_ms, toolkit_path
 *   loong/1 TAB load TAB SPEC              -> ok
 *   loong/1 TAB unload TAB NAME            -> ok
 *   loong/1 TAB status                     -> ok {json}
 *   loong/1 TAB detach                     -> ok
 *
 * The answer is one line: "ok[ PAYLOAD]" or "error MESSAGE". A malformed,
 * unknown or oversized request gets an error and changes nothing.
 *
 * The server is one native thread with every signal blocked. It takes the
 * interpreter lock (PyGILState_Ensure: at a point where the interpreter
 * lets go of it) only to run start, load, unload and detach, through the
 * same code as loong.load() and loong.unload(). `loong attach` starts it in
 * a process that never heard of loong through loong_attach_main(). */
#include "rt.h"
#include "pycompat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/sb.h"

#define CTL_MAX (64 * 1024)     /* a request line, newline included */
#define CTL_TIMEOUT_MS 2000     /* for a client to send its request */
#define CTL_PROTO "loong/1"

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t ctl_thread;
static int ctl_running;       /* a thread is serving (under ctl_lock) */
static int ctl_paused;        /* stopped for a fork, to be resumed */
static int ctl_listen = -1;
static int ctl_wake[2] = {-1, -1};
static atomic_int ctl_stop;
static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t ctl_pid;         /* the process that made ctl_path */
static int ctl_atexit_done;

/* ---- the folder and the socket --------------------------------------- */

/* /tmp/loong-UID, made if missing, refused unless it is a real folder of
 * ours with mode 0700. */
static int private_dir(char *out, size_t cap)
{
    uid_t uid = geteuid();
    if (snprintf(out, cap, "/tmp/loong-%u", (unsigned)uid) >= (int)cap)
        return -ENAMETOOLONG;
    if (mkdir(out, 0700) < 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (lstat(out, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
        (st.st_mode & 07777) != 0700)
        return -EPERM;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Remove our socket, only if it is still ours (a later process with our
 * pid, after a fork, must keep its own). */
static void remove_socket(void)
{
    if (ctl_path[0] && ctl_pid == getpid())
        unlink(ctl_path);
    ctl_path[0] = '\0';
}

static int open_socket(void)
{
    char dir[64], tmp[sizeof ctl_path];
    int rc = private_dir(dir, sizeof dir);
    if (rc < 0)
        return rc;
    pid_t pid = getpid();
    if (snprintf(ctl_path, sizeof ctl_path, "%s/%d.sock", dir, (int)pid) >=
            (int)sizeof ctl_path ||
        snprintf(tmp, sizeof tmp, "%s/.%d.%lx.tmp", dir, (int)pid,
                 (unsigned long)rt_now_ns()) >= (int)sizeof tmp) {
        ctl_path[0] = '\0';
        return -ENAMETOOLONG;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
    unlink(tmp);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        chmod(tmp, 0600) < 0 || listen(fd, 8) < 0 ||
        rename(tmp, ctl_path) < 0) {
        rc = -errno;
        unlink(tmp);
        close(fd);
        ctl_path[0] = '\0';
        return rc;
    }
    ctl_pid = pid;
    ctl_listen = fd;
    return 0;
}

/* ---- requests -------------------------------------------------------- */

typedef struct ctl_req {
    char *field[64];
    int n;
} ctl_req;

static void reply_error(sb *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reply_error(sb *out, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    out->len = 0;
    sb_printf(out, "error %s", msg);
}

/* The interpreter lock, unless the process is on its way out. */
static int gil_take(PyGILState_STATE *g, sb *out)
{
    if (!Py_IsInitialized() || rt_py_finalizing()) {
        reply_error(out, "the process is exiting");
        return -1;
    }
    *g = PyGILState_Ensure();
    return 0;
}

static void status_json(sb *s)
{
    char ver[32];
    const char *v = Py_GetVersion();
    size_t n = strcspn(v, " ");
    snprintf(ver, sizeof ver, "%.*s", (int)(n < 31 ? n : 31), v);
    pthread_mutex_lock(&rt.tk_lock);
    sb_printf(s, "{\"protocol\": 1, \"version\": ");
    sb_json_str(s, LOONG_VERSION_STRING);
    sb_printf(s, ", \"pid\": %d, \"python\": ", (int)getpid());
    sb_json_str(s, ver);
    sb_printf(s, ", \"started\": %s", rt.started ? "true" : "false");
    if (rt.started) {
        uint64_t dropped = rt.buf ? lbuf_dropped(rt.buf) +
                                        atomic_load(&rt.sink_dropped)
                                  : 0;
        sb_puts(s, ", \"output\": ");
        sb_json_str(s, rt.proc_dir);
        sb_puts(s, ", \"sink\": ");
        sb_json_str(s, rt.sink_str);
        sb_printf(s, ", \"interval_ms\": %d, \"hooks\": %u, "
                     "\"records\": %llu, \"dropped\": %llu",
                  rt.interval_ms, (unsigned)rt.caps_on,
                  (unsigned long long)(rt.buf ? lbuf_records(rt.buf) : 0),
                  (unsigned long long)dropped);
    }
    sb_puts(s, ", \"toolkits\": [");
    int first = 1;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (!tk || !tk->active)
            continue;
        sb_puts(s, first ? "{\"name\": " : ", {\"name\": ");
        first = 0;
        sb_json_str(s, tk->def->name);
        sb_puts(s, ", \"version\": ");
        sb_json_str(s, tk->def->version);
        sb_puts(s, ", \"path\": ");
        sb_json_str(s, tk->path);
        sb_printf(s, ", \"capabilities\": %u, \"options\": {",
                  (unsigned)tk->caps);
        for (size_t k = 0; k < tk->spec.nopts; k++) {
            sb_puts(s, k ? ", " : "");
            sb_json_str(s, tk->spec.opts[k].key);
            sb_puts(s, ": ");
            sb_json_str(s, tk->spec.opts[k].value);
        }
        sb_puts(s, "}}");
    }
    sb_puts(s, "]}");
    pthread_mutex_unlock(&rt.tk_lock);
}

/* Below 3.13, `threading` imported first by a thread other than the main
 * one takes that thread for the main thread (and 3.8 then fails an
 * assertion at exit). Starting may import it from this thread: import it
 * first, then give its main-thread object back to the main thread. */
static void threading_for_main(void)
{
#if PY_VERSION_HEX < 0x030D0000
    PyObject *mods = PySys_GetObject("modules"); /* borrowed */
    if (!mods || PyDict_GetItemString(mods, "threading"))
        return;
    PyThreadState *main = NULL;
    for (PyThreadState *ts =
             PyInterpreterState_ThreadHead(PyThreadState_Get()->interp);
         ts; ts = PyThreadState_Next(ts))
        main = ts; /* the oldest: the main thread's */
    if (!main || main == PyThreadState_Get())
        return;
    static const char fix[] =
        "import _thread, threading as t\n"
        "m = t._main_thread\n"
        "if m._ident != IDENT:\n"
        "    with t._active_limbo_lock:\n"
        "        t._active.pop(m._ident, None)\n"
        "        m._ident = IDENT\n"
        "        if hasattr(m, '_native_id'):\n"
        "            m._native_id = NATIVE\n"
        "        lock = _thread.allocate_lock()\n"
        "        lock.acquire()\n"
        "        m._tstate_lock = lock\n"
        "        t._active[IDENT] = m\n";
    PyObject *g = Py_BuildValue("{sksisO}", "IDENT", main->thread_id,
                                "NATIVE", (int)getpid(), "__builtins__",
                                PyEval_GetBuiltins());
    PyObject *r = g ? PyRun_String(fix, Py_file_input, g, g) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(g);
    PyErr_Clear();
#endif
}

static void do_start(ctl_req *rq, sb *out)
{
    rt_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.interval_ms = 1000;
    for (int i = 2; i < rq->n; i++) {
        char *f = rq->field[i];
        char *eq = strchr(f, '=');
        if (!eq) {
            reply_error(out, "start: '%.100s' is not key=value", f);
            return;
        }
        *eq = '\0';
        const char *val = eq + 1;
        if (!strcmp(f, "out"))
            cfg.out = val;
        else if (!strcmp(f, "sink"))
            cfg.sink = val;
        else if (!strcmp(f, "toolkit_path"))
            cfg.toolkit_path = val;
        else if (!strcmp(f, "interval_ms")) {
            char *end;
            long ms = strtol(val, &end, 10);
            if (*val == '\0' || *end || ms < 1 || ms > 86400000) {
                reply_error(out, "start: bad interval_ms '%.40s'", val);
                return;
            }
            cfg.interval_ms = (int)ms;
        } else {
            reply_error(out, "start: unknown key '%.100s'", f);
            return;
        }
    }
    if (!cfg.out || cfg.out[0] != '/') {
        reply_error(out, "start: out=ABSOLUTE_FOLDER is required");
        return;
    }
    if (cfg.sink) {
        lsink_spec spec;
        char err[256];
        if (lsink_parse(cfg.sink, &spec, err, sizeof err) < 0) {
            reply_error(out, "start: bad sink: %s", err);
            return;
        }
    }
    PyGILState_STATE g;
    if (gil_take(&g, out) < 0)
        return;
    if (rt.started) {
        sb_puts(out, "ok already");
    } else {
        threading_for_main();
        int rc = rt_start_with(&cfg);
        if (rc < 0)
            reply_error(out, "cannot start in %s: %s", cfg.out,
                        loong_strerror(rc));
        else
            sb_puts(out, "ok");
    }
    PyErr_Clear();
    PyGILState_Release(g);
}

static void do_load_unload(ctl_req *rq, sb *out, int load)
{
    if (rq->n != 3 || !rq->field[2][0]) {
        reply_error(out, "%s takes one argument", load ? "load" : "unload");
        return;
    }
    PyGILState_STATE g;
    if (gil_take(&g, out) < 0)
        return;
    char err[512];
    if (load && rt.started)
        threading_for_main(); /* a toolkit's hooks may import it */
    if (!rt.started) {
        reply_error(out, "loong is not started in this process");
    } else if ((load ? rt_toolkit_load(rq->field[2], err, sizeof err)
                     : rt_toolkit_unload(rq->field[2], err, sizeof err)) <
               0) {
        reply_error(out, "%s", err);
    } else {
        if (load)
            rt_pipeline_tick_soon();
        sb_puts(out, "ok");
    }
    PyErr_Clear();
    PyGILState_Release(g);
}

static int do_detach(sb *out)
{
    PyGILState_STATE g;
    if (gil_take(&g, out) < 0)
        return 0;
    rt_detach();
    PyErr_Clear();
    PyGILState_Release(g);
    sb_puts(out, "ok");
    return 1;
}

/* Answer one request line (NUL-terminated, newline removed). 1: detach. */
static int handle(char *line, sb *out)
{
    ctl_req rq = {.n = 0};
    /* empty fields are kept: split by hand */
    for (char *p = line; p && rq.n < 64;) {
        rq.field[rq.n++] = p;
        p = strchr(p, '\t');
        if (p)
            *p++ = '\0';
    }
    if (rq.n < 2 || strcmp(rq.field[0], CTL_PROTO) != 0) {
        reply_error(out, "bad request: expected '%s<TAB>COMMAND'",
                    CTL_PROTO);
        return 0;
    }
    const char *verb = rq.field[1];
    if (!strcmp(verb, "hello") || !strcmp(verb, "status")) {
        if (rq.n != 2) {
            reply_error(out, "%s takes no argument", verb);
            return 0;
        }
        sb_puts(out, "ok ");
        status_json(out);
    } else if (!strcmp(verb, "start")) {
        do_start(&rq, out);
    } else if (!strcmp(verb, "load")) {
        do_load_unload(&rq, out, 1);
    } else if (!strcmp(verb, "unload")) {
        do_load_unload(&rq, out, 0);
    } else if (!strcmp(verb, "detach")) {
        if (rq.n != 2) {
            reply_error(out, "detach takes no argument");
            return 0;
        }
        return do_detach(out);
    } else {
        reply_error(out, "unknown command '%.60s'", verb);
    }
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void send_all(int fd, const char *p, size_t n)
{
    uint64_t deadline = mono_ms() + CTL_TIMEOUT_MS;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            uint64_t now = mono_ms();
            struct pollfd pfd = {fd, POLLOUT, 0};
            if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
                return;
            continue;
        }
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* After detach, before answering it: the socket goes, and this thread
 * ends by itself. Nobody joins it, unless a stop already claimed it (then
 * the stopper cleans up). */
static void detached_self(void)
{
    pthread_mutex_lock(&ctl_lock);
    if (ctl_running && pthread_equal(ctl_thread, pthread_self())) {
        ctl_running = 0;
        pthread_detach(pthread_self());
        close_fd(&ctl_listen);
        close_fd(&ctl_wake[0]);
        close_fd(&ctl_wake[1]);
        remove_socket();
    }
    pthread_mutex_unlock(&ctl_lock);
}

/* One connection: check the peer, read one line, answer. 1: detach. */
static int serve_one(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    sb out;
    sb_init(&out);
    int detach = 0;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        sb_puts(&out, "error permission denied: not the process's user "
                      "nor root");
        goto reply;
    }
    char *buf = malloc(CTL_MAX + 1);
    if (!buf) {
        sb_puts(&out, "error out of memory");
        goto reply;
    }
    size_t got = 0;
    char *nl = NULL;
    uint64_t deadline = mono_ms() + CTL_TIMEOUT_MS;
    while (!nl && got < CTL_MAX) {
        uint64_t now = mono_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
            break;
        ssize_t r = recv(fd, buf + got, CTL_MAX - got, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            break;
        nl = memchr(buf + got, '\n', (size_t)r);
        got += (size_t)r;
    }
    if (!nl) {
        if (got >= CTL_MAX)
            reply_error(&out, "request too long (at most %d bytes)",
                        CTL_MAX);
        else
            reply_error(&out, "incomplete request: one line ending in a "
                              "newline expected");
    } else if ((size_t)(nl - buf) + 1 != got) {
        reply_error(&out, "one request per connection");
    } else if (memchr(buf, '\0', (size_t)(nl - buf))) {
        reply_error(&out, "bad request: NUL byte");
    } else {
        *nl = '\0';
        detach = handle(buf, &out);
        if (detach)
            detached_self();
    }
    free(buf);
reply:
    sb_putc(&out, '\n');
    if (!out.oom)
        send_all(fd, out.p, out.len);
    sb_free(&out);
    /* Unread input would turn our close into a reset that loses the
     * answer: read what the client still sends, for a short while. */
    shutdown(fd, SHUT_WR);
    uint64_t until = mono_ms() + 200;
    char sink[4096];
    for (size_t total = 0; total < 4 * CTL_MAX;) {
        uint64_t now = mono_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (now >= until || poll(&pfd, 1, (int)(until - now)) <= 0)
            break;
        ssize_t r = recv(fd, sink, sizeof sink, 0);
        if (r <= 0)
            break;
        total += (size_t)r;
    }
    return detach;
}

static void *ctl_main(void *arg)
{
    int detached = 0;
    for (;;) {
        struct pollfd pfd[2] = {{ctl_listen, POLLIN, 0},
                                {ctl_wake[0], POLLIN, 0}};
        int n = poll(pfd, 2, -1);
        if (atomic_load(&ctl_stop))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (pfd[1].revents & POLLIN) {
            char c[16];
            while (read(ctl_wake[0], c, sizeof c) > 0)
                ;
        }
        if (!(pfd[0].revents & POLLIN))
            continue;
        int fd = accept4(ctl_listen, NULL, NULL,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;
        detached = serve_one(fd);
        close(fd);
        if (detached)
            break;
    }
    (void)detached;
    return NULL;
}

/* ---- start and stop -------------------------------------------------- */

static void ctl_c_atexit(void)
{
    /* Any normal exit: no socket left behind, whatever state we are in.
     * (os._exit and SIGKILL leave it; a later server replaces it.) */
    remove_socket();
}

/* Start serving; idempotent. 0, 1 if already serving, or -errno. No
 * interpreter lock needed or taken. */
int rt_control_start(void)
{
    pthread_mutex_lock(&ctl_lock);
    int rc = 0;
    if (ctl_running) {
        rc = 1;
        goto out;
    }
    if (ctl_listen < 0 && (rc = open_socket()) < 0)
        goto out;
    if (ctl_wake[0] < 0) {
        if (pipe2(ctl_wake, O_CLOEXEC | O_NONBLOCK) < 0) {
            rc = -errno;
            goto out;
        }
    }
    atomic_store(&ctl_stop, 0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the new thread inherits it */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int e = rt_own_thread_create(&ctl_thread, &attr, ctl_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        rc = -e;
        goto out;
    }
    ctl_running = 1;
    if (!ctl_atexit_done && atexit(ctl_c_atexit) == 0)
        ctl_atexit_done = 1;
out:
    if (rc < 0) {
        close_fd(&ctl_listen);
        close_fd(&ctl_wake[0]);
        close_fd(&ctl_wake[1]);
        remove_socket();
    }
    pthread_mutex_unlock(&ctl_lock);
    return rc;
}

/* Join the serving thread. With the interpreter lock or without: it is
 * let go while waiting for the thread, which may be waiting for it. 0 if
 * no thread was serving. ctl_lock held on entry, not on return. */
static int join_thread(void)
{
    if (!ctl_running) {
        pthread_mutex_unlock(&ctl_lock);
        return 0;
    }
    ctl_running = 0;
    pthread_t th = ctl_thread;
    atomic_store(&ctl_stop, 1);
    if (write(ctl_wake[1], "x", 1) < 0) {
        /* full pipe: it is awake anyway */
    }
    pthread_mutex_unlock(&ctl_lock);
    if (!pthread_equal(th, pthread_self())) {
        if (Py_IsInitialized() && PyGILState_Check()) {
            Py_BEGIN_ALLOW_THREADS
            pthread_join(th, NULL);
            Py_END_ALLOW_THREADS
        } else {
            pthread_join(th, NULL);
        }
    }
    return 1;
}

/* Stop serving and remove the socket. */
void rt_control_stop(void)
{
    pthread_mutex_lock(&ctl_lock);
    ctl_paused = 0;
    if (!join_thread() && ctl_listen < 0)
        return;
    pthread_mutex_lock(&ctl_lock);
    close_fd(&ctl_listen);
    close_fd(&ctl_wake[0]);
    close_fd(&ctl_wake[1]);
    remove_socket();
    pthread_mutex_unlock(&ctl_lock);
}

/* Around fork: no thread of ours may run (3.12+ warns about forking a
 * multi-threaded process); the socket stays, connections wait. */
void rt_control_pause(void)
{
    pthread_mutex_lock(&ctl_lock);
    if (ctl_running)
        ctl_paused = 1; /* 3.13: the os.fork wrapper, then the hook */
    join_thread();
}

void rt_control_resume(void)
{
    pthread_mutex_lock(&ctl_lock);
    int was = ctl_paused;
    ctl_paused = 0;
    pthread_mutex_unlock(&ctl_lock);
    if (was)
        rt_control_start();
}

/* In a fork child: the thread is gone; the socket is the parent's. */
void rt_control_after_fork_child(void)
{
    ctl_running = 0;
    ctl_paused = 0;
    pthread_mutex_init(&ctl_lock, NULL);
    close_fd(&ctl_listen);
    close_fd(&ctl_wake[0]);
    close_fd(&ctl_wake[1]);
    ctl_path[0] = '\0';
}

/* The entry `loong attach` calls, through ptrace, on the main thread of a
 * process that never heard of loong, at a point where it holds no lock of
 * the C library. It only opens the socket and starts the server thread:
 * no Python, no waiting. 0, 1 if already serving, or -errno. */
__attribute__((visibility("default"))) int loong_attach_main(const char *arg)
{
    (void)arg;
    int saved = errno;
    int rc = rt_control_start();
    errno = saved;
    return rc;
}
