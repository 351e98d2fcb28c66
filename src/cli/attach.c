/* `loong attach|load|unload|status|detach PID ...`: bring the runtime into
 * a running process (inject.c) and talk to it over its control socket
 * (ctlclient.c). docs/attach.md says how it works and what it needs. */
#include "cli/attach.h"
#include "cli/cli.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/agent.h"
#include "common/sink.h"
#include "common/spec.h"
#include "common/tkfind.h"

#define ANSWER_MS 15000

/* The multiarch tuple in the runtime's name (CPython's EXT_SUFFIX, as the
 * Makefile builds it): the target runs the same architecture as loong. */
#if defined(__aarch64__)
#define RUNTIME_TUPLE "aarch64-linux-gnu"
#else
#define RUNTIME_TUPLE "x86_64-linux-gnu"
#endif

typedef struct target {
    pid_t pid;
    proc_status st;
    char sock[256];
} target;

typedef struct start_opts {
    const char *out, *interval, *sink;
} start_opts;

/* ---- small helpers --------------------------------------------------- */

static int parse_pid(const char *cmd, const char *s, pid_t *pid)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end || errno || v <= 0 ||
        v > INT_MAX) {
        cli_error("%s: '%s' is not a process id (see 'loong %s --help')",
                  cmd, s, cmd);
        return -1;
    }
    *pid = (pid_t)v;
    return 0;
}

static int target_open(const char *cmd, pid_t pid, target *t)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    if (proc_status_read(pid, &t->st) < 0) {
        cli_error("%s: no such process: %d", cmd, (int)pid);
        return -1;
    }
    if (t->st.state == 'Z' || t->st.state == 'X') {
        cli_error("%s: process %d is exiting (%s)", cmd, (int)pid,
                  t->st.state == 'Z' ? "a zombie" : "dead");
        return -1;
    }
    ctl_socket_path(pid, t->st.nspid, t->st.uid, t->sock, sizeof t->sock);
    return 0;
}

/* One request. 0: "ok", payload (heap, may be "") in *payload if asked;
 * 1: the process answered an error (printed); -1: no answer (*sys_err,
 * message in err). */
static int ask(target *t, const char *const *f, size_t n, char **payload,
               int *sys_err, char *err, size_t errlen)
{
    char *reply;
    if (payload)
        *payload = NULL;
    if (ctl_request_to(t->pid, t->st.uid, t->sock, f, n, &reply, ANSWER_MS,
                       sys_err, err, errlen) < 0)
        return -1;
    if (!strncmp(reply, "ok", 2) && (reply[2] == '\0' || reply[2] == ' ')) {
        if (payload)
            *payload = strdup(reply[2] ? reply + 3 : "");
        free(reply);
        return 0;
    }
    snprintf(err, errlen, "%s", !strncmp(reply, "error ", 6) ? reply + 6
                                                              : reply);
    free(reply);
    return 1;
}

static const char *const HELLO[] = {"loong/1", "hello"};

/* ---- attaching ------------------------------------------------------- */

/* The runtime built for this process's Python. 0 or -1 (printed). */
static int runtime_for(const char *cmd, target *t, char *so, size_t cap)
{
    proc_maps pm;
    char err[1024];
    int rc = proc_maps_read(t->pid, &pm);
    if (rc < 0) {
        char why[1024];
        proc_ptrace_advice(t->pid, -rc, why, sizeof why);
        cli_error("%s: cannot read the memory map of process %d: %s", cmd,
                  (int)t->pid, why);
        return -1;
    }
    err[0] = '\0';
    int minor = proc_python_minor(t->pid, &pm, err, sizeof err);
    int has_asan = proc_maps_lib(&pm, "libasan.") != NULL;
    proc_maps_free(&pm);
    if (!minor) {
        cli_error("%s: process %d (%s): %s", cmd, (int)t->pid, t->st.name,
                  err);
        return -1;
    }
    if (minor < 8 || minor > 13) {
        cli_error("%s: process %d runs Python 3.%d: loong attaches to "
                  "CPython 3.8 to 3.13",
                  cmd, (int)t->pid, minor);
        return -1;
    }
    char libdir[PATH_MAX];
    if (cli_libdir(libdir, sizeof libdir, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path,
             "%s/python/loong/_runtime.cpython-3%d-" RUNTIME_TUPLE ".so",
             libdir, minor);
    if (!realpath(path, so) || strlen(so) >= cap) {
        cli_error("%s: process %d runs Python 3.%d, and there is no loong "
                  "runtime for it: no %s (build loong with that Python)",
                  cmd, (int)t->pid, minor, path);
        return -1;
    }
    /* A runtime built with AddressSanitizer (make SANITIZE=1) kills a
     * process that did not start with ASan loaded first: refuse. */
    elf_file ef;
    int asan = elf_open(so, &ef) == 0 ? elf_needs(&ef, "libasan.") : 0;
    if (ef.data)
        elf_close(&ef);
    if (asan && !has_asan) {
        cli_error("%s: this loong is built with AddressSanitizer (make "
                  "SANITIZE=1): its runtime can only be loaded into a "
                  "process started with libasan first (LD_PRELOAD=$(gcc "
                  "-print-file-name=libasan.so)); process %d was not: use "
                  "a loong built without SANITIZE",
                  cmd, (int)t->pid);
        return -1;
    }
    return 0;
}

/* Folders and sink for the start request, as `loong run` checks them. */
static int start_fields(const char *cmd, const start_opts *o, char **f,
                        size_t *n, char *buf, size_t cap)
{
    char abs[PATH_MAX], err[1024], libdir[PATH_MAX];
    uint64_t ms = 1000;
    if (o->interval && duration_parse_ms(o->interval, &ms) != 0) {
        cli_error("%s: bad --interval '%s': a number and a unit (ms, s, m "
                  "or h) from 1ms to 24h, such as 250ms or 1s",
                  cmd, o->interval);
        return 2;
    }
    const char *sink = o->sink ? o->sink : getenv("LOONG_SINK");
    char sinkbuf[PATH_MAX + 64];
    sinkbuf[0] = '\0';
    char agent[PATH_MAX];
    if ((!sink || !*sink) && agent_socket_path(0, agent, sizeof agent) == 0 &&
        agent_running(agent)) {
        /* as `loong run`: a running loongd gets the points */
        snprintf(sinkbuf, sizeof sinkbuf, "unix:%s", agent);
    } else if (sink && *sink) {
        static lsink_spec spec;
        if (lsink_parse(sink, &spec, err, sizeof err) != 0) {
            cli_error("%s: bad --sink '%s': %s", cmd, sink, err);
            return 2;
        }
        if (spec.kind == LSINK_DIR && spec.path[0]) {
            if (outdir_prepare(spec.path, "sink folder", abs, sizeof abs))
                return 2;
            snprintf(sinkbuf, sizeof sinkbuf, "dir:%s", abs);
        } else if (spec.kind == LSINK_UNIX && spec.path[0] != '/') {
            if (cli_absolute(spec.path, abs, sizeof abs) != 0) {
                cli_error("%s: sink path too long", cmd);
                return 2;
            }
            snprintf(sinkbuf, sizeof sinkbuf, "unix:%s", abs);
        } else {
            snprintf(sinkbuf, sizeof sinkbuf, "%s", sink);
        }
    }
    if (outdir_prepare(o->out ? o->out : "./loong-out", "output folder", abs,
                       sizeof abs) != 0)
        return 2;
    if (cli_libdir(libdir, sizeof libdir, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    char *sp = cli_search_path(libdir);
    if (!sp) {
        cli_error("out of memory");
        return 1;
    }
    int len = snprintf(buf, cap, "out=%s%cinterval_ms=%llu%ctoolkit_path=%s%c"
                       "sink=%s",
                       abs, 0, (unsigned long long)ms, 0, sp, 0,
                       sinkbuf[0] ? sinkbuf : "dir");
    free(sp);
    if (len < 0 || (size_t)len >= cap || strpbrk(abs, "\t\n") ||
        strpbrk(sinkbuf, "\t\n")) {
        cli_error("%s: output folder or sink too long or holding a tab or "
                  "newline", cmd);
        return 2;
    }
    f[(*n)++] = "loong/1";
    f[(*n)++] = "start";
    for (char *p = buf; p < buf + len; p += strlen(p) + 1)
        f[(*n)++] = p;
    return 0;
}

/* Make sure loong runs in the process, started. 0, or an exit status
 * (printed). *fresh: we injected it now. */
static int ensure_started(const char *cmd, target *t, const start_opts *o,
                          int *fresh)
{
    char err[2048], *payload = NULL;
    int sys_err;
    *fresh = 0;
    int rc = ask(t, HELLO, 2, &payload, &sys_err, err, sizeof err);
    if (rc > 0) {
        cli_error("%s: process %d: %s", cmd, (int)t->pid, err);
        return 1;
    }
    if (rc < 0 && sys_err != ENOENT && sys_err != ECONNREFUSED) {
        cli_error("%s: %s", cmd, err);
        return 1;
    }
    if (rc < 0) {
        /* not there: bring it in */
        char so[PATH_MAX];
        if (t->st.uid != geteuid() && geteuid() != 0) {
            char why[1024];
            proc_ptrace_advice(t->pid, EPERM, why, sizeof why);
            cli_error("%s: %s", cmd, why);
            return 1;
        }
        if (t->st.tracer) {
            char why[1024];
            proc_ptrace_advice(t->pid, EPERM, why, sizeof why);
            cli_error("%s: %s", cmd, why);
            return 1;
        }
        if (runtime_for(cmd, t, so, sizeof so) != 0)
            return 1;
#if defined(__aarch64__)
        /* Said each time: the operator should know what ran before. */
        cli_warn("%s: attach on aarch64 is untested on aarch64 hardware "
                 "(compiled, its loader stub run under emulation only; "
                 "docs/attach.md)",
                 cmd);
#endif
        inject_result res;
        if (inject_call(t->pid, so, "loong_attach_main", "", &res, err,
                        sizeof err) != 0) {
            cli_error("%s: %s", cmd, err);
            return 1;
        }
        if (res.rc < 0) {
            cli_error("%s: the runtime in process %d could not open its "
                      "control socket: %s",
                      cmd, (int)t->pid, strerror((int)-res.rc));
            return 1;
        }
        if (getenv("LOONG_ATTACH_DEBUG"))
            fprintf(stderr, "loong: attach: stopped %.3f ms in all, %d "
                    "interruption(s)\n", res.stopped_ms, res.attempts);
        *fresh = 1;
        rc = ask(t, HELLO, 2, &payload, &sys_err, err, sizeof err);
        if (rc != 0) {
            cli_error("%s: process %d does not answer after attach: %s",
                      cmd, (int)t->pid, err);
            return 1;
        }
    }
    int started = payload && strstr(payload, "\"started\": true") != NULL;
    free(payload);
    if (started)
        return 0;
    char *f[16], buf[3 * PATH_MAX + 256];
    size_t n = 0;
    int s = start_fields(cmd, o, f, &n, buf, sizeof buf);
    if (s != 0)
        return s;
    rc = ask(t, (const char *const *)f, n, NULL, &sys_err, err, sizeof err);
    if (rc != 0) {
        cli_error("%s: process %d: %s", cmd, (int)t->pid, err);
        return 1;
    }
    return 0;
}

/* Options of attach and load; the rest are positional. 0, -1: help shown,
 * or an exit status. */
static int parse_common(int argc, char **argv, int with_start, start_opts *o,
                        char **pos, int *npos, void (*usage)(FILE *))
{
    const char *cmd = argv[0];
    int only_pos = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        int r;
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            pos[(*npos)++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (cli_is_flag(a, 'h', "help")) {
            usage(stdout);
            return -1;
        }
        if (with_start &&
            (r = cli_opt_value(argc, argv, &i, 'o', "output", cmd, &val))) {
            if (r < 0)
                return CLI_USAGE;
            o->out = val;
        } else if (with_start && (r = cli_opt_value(argc, argv, &i, 0,
                                                    "interval", cmd, &val))) {
            if (r < 0)
                return CLI_USAGE;
            o->interval = val;
        } else if (with_start && (r = cli_opt_value(argc, argv, &i, 0, "sink",
                                                    cmd, &val))) {
            if (r < 0)
                return CLI_USAGE;
            o->sink = val;
        } else if (!with_start && !strcmp(cmd, "status") &&
                   !strcmp(a, "--json")) {
            o->out = "json";
        } else {
            cli_error("%s: unknown option '%s' (see 'loong %s --help')", cmd,
                      a, cmd);
            return CLI_USAGE;
        }
    }
    return 0;
}

static void print_started(target *t)
{
    char err[512], out[PATH_MAX], *payload = NULL;
    int sys_err;
    if (ask(t, HELLO, 2, &payload, &sys_err, err, sizeof err) == 0 &&
        ctl_json_str(payload, "output", out, sizeof out) == 0) {
        char ver[64] = "?";
        ctl_json_str(payload, "python", ver, sizeof ver);
        printf("loong is in process %d (Python %s): output in %s\n",
               (int)t->pid, ver, out);
    }
    free(payload);
}

int cmd_attach(int argc, char **argv)
{
    start_opts o = {0};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = parse_common(argc, argv, 1, &o, pos, &npos, usage_attach);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        cli_error("attach: expected one process id (usage: loong attach "
                  "[OPTIONS] PID)");
        return CLI_USAGE;
    }
    pid_t pid;
    target t;
    if (parse_pid("attach", pos[0], &pid) != 0)
        return CLI_USAGE;
    if (target_open("attach", pid, &t) != 0)
        return CLI_FAILED;
    int fresh;
    rc = ensure_started("attach", &t, &o, &fresh);
    if (rc)
        return rc;
    print_started(&t);
    return CLI_OK;
}

/* TOOLKIT [KEY=VALUE...] or TOOLKIT:KEY=VALUE,..., checked here as
 * `loong run -t` checks it; *spec gets "/abs/path.so:k=v,...". */
static int toolkit_spec(const char *cmd, char **pos, int npos, char **spec,
                        char *name, size_t namecap)
{
    char err[1024], libdir[PATH_MAX], path[PATH_MAX];
    size_t len = strlen(pos[0]) + 2;
    for (int i = 1; i < npos; i++) {
        if (!strchr(pos[i], '=') || strpbrk(pos[i], ",;\t\n")) {
            cli_error("%s: bad option '%s': expected KEY=VALUE, the value "
                      "without ',' or ';'", cmd, pos[i]);
            return CLI_USAGE;
        }
        len += strlen(pos[i]) + 1;
    }
    char *text = malloc(len);
    if (!text) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    strcpy(text, pos[0]);
    for (int i = 1; i < npos; i++) {
        strcat(text, i == 1 && !strchr(pos[0], ':') ? ":" : ",");
        strcat(text, pos[i]);
    }
    tk_spec sp;
    if (tk_spec_parse(text, &sp, err, sizeof err) != 0) {
        cli_error("%s: %s", cmd, err);
        free(text);
        return CLI_USAGE;
    }
    free(text);
    if (cli_libdir(libdir, sizeof libdir, err, sizeof err) != 0) {
        cli_error("%s", err);
        tk_spec_free(&sp);
        return CLI_FAILED;
    }
    char *search = cli_search_path(libdir);
    void *handle = NULL;
    const loong_toolkit_def *def = NULL;
    int status = CLI_USAGE;
    if (!search) {
        cli_error("out of memory");
        status = CLI_FAILED;
    } else if (tk_find(sp.name, search, path, sizeof path, err,
                       sizeof err) != 0) {
        cli_error("%s: unknown toolkit '%s': %s (see 'loong toolkits')", cmd,
                  sp.name, err);
    } else if (tk_open(path, &handle, &def, err, sizeof err) != 0) {
        cli_error("%s: cannot load toolkit '%s': %s", cmd, sp.name, err);
    } else if (tk_check_options(def, &sp, err, sizeof err) != 0) {
        cli_error("%s: %s", cmd, err);
    } else if (strpbrk(path, "\t\n;")) {
        cli_error("%s: toolkit path '%s' holds a tab, newline or ';'", cmd,
                  path);
    } else {
        snprintf(name, namecap, "%s", def->name);
        free(sp.name);
        sp.name = strdup(path);
        *spec = sp.name ? tk_spec_format(&sp) : NULL;
        status = *spec ? 0 : CLI_FAILED;
    }
    if (handle)
        dlclose(handle);
    free(search);
    tk_spec_free(&sp);
    return status;
}

int cmd_load(int argc, char **argv)
{
    start_opts o = {0};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = parse_common(argc, argv, 1, &o, pos, &npos, usage_load);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (npos < 2) {
        cli_error("load: expected a process id and a toolkit (usage: loong "
                  "load [OPTIONS] PID TOOLKIT [KEY=VALUE...])");
        return CLI_USAGE;
    }
    pid_t pid;
    target t;
    char *spec = NULL, name[128], err[2048];
    if (parse_pid("load", pos[0], &pid) != 0)
        return CLI_USAGE;
    rc = toolkit_spec("load", pos + 1, npos - 1, &spec, name, sizeof name);
    if (rc)
        return rc;
    if (target_open("load", pid, &t) != 0) {
        free(spec);
        return CLI_FAILED;
    }
    int fresh, sys_err;
    rc = ensure_started("load", &t, &o, &fresh);
    if (rc) {
        free(spec);
        return rc;
    }
    const char *f[] = {"loong/1", "load", spec};
    rc = ask(&t, f, 3, NULL, &sys_err, err, sizeof err);
    free(spec);
    if (rc != 0) {
        cli_error("load: process %d: %s", (int)pid, err);
        return CLI_FAILED;
    }
    printf("loaded %s into process %d\n", name, (int)pid);
    if (fresh)
        print_started(&t);
    return CLI_OK;
}

/* Commands that need loong already there: unload, status, detach. */
static int simple(int argc, char **argv, int want_args,
                  void (*usage)(FILE *), const char *const *req, size_t nreq,
                  char **payload, target *t)
{
    start_opts o = {0};
    char *pos[argc > 0 ? argc : 1], err[2048];
    int npos, sys_err;
    const char *cmd = argv[0];
    int rc = parse_common(argc, argv, 0, &o, pos, &npos, usage);
    if (rc)
        return rc < 0 ? -1 : rc;
    if (npos != 1 + want_args) {
        cli_error("%s: expected %s (see 'loong %s --help')", cmd,
                  want_args ? "a process id and a toolkit" : "a process id",
                  cmd);
        return CLI_USAGE;
    }
    pid_t pid;
    if (parse_pid(cmd, pos[0], &pid) != 0)
        return CLI_USAGE;
    if (target_open(cmd, pid, t) != 0)
        return CLI_FAILED;
    const char *f[4];
    for (size_t i = 0; i < nreq; i++)
        f[i] = req[i];
    if (want_args)
        f[nreq++] = pos[1];
    rc = ask(t, f, nreq, payload, &sys_err, err, sizeof err);
    if (rc < 0 && (sys_err == ENOENT || sys_err == ECONNREFUSED)) {
        cli_error("%s: loong is not attached to process %d (see 'loong "
                  "attach')", cmd, (int)pid);
        return CLI_FAILED;
    }
    if (rc != 0) {
        cli_error("%s: process %d: %s", cmd, (int)pid, err);
        return CLI_FAILED;
    }
    if (o.out) /* status --json */
        return 3;
    return 0;
}

int cmd_unload(int argc, char **argv)
{
    static const char *const req[] = {"loong/1", "unload"};
    target t;
    if (argc >= 3 && (strchr(argv[2], '/') ||
                      (strlen(argv[2]) > 3 &&
                       !strcmp(argv[2] + strlen(argv[2]) - 3, ".so")))) {
        /* a path: unload by the name it declares */
        void *h;
        const loong_toolkit_def *def;
        char err[1024];
        if (tk_open(argv[2], &h, &def, err, sizeof err) != 0) {
            cli_error("unload: %s", err);
            return CLI_USAGE;
        }
        static char name[128];
        snprintf(name, sizeof name, "%s", def->name);
        dlclose(h);
        argv[2] = name;
    }
    int rc = simple(argc, argv, 1, usage_unload, req, 2, NULL, &t);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    printf("unloaded %s from process %d\n", argv[argc - 1], (int)t.pid);
    return CLI_OK;
}

int cmd_detach(int argc, char **argv)
{
    static const char *const req[] = {"loong/1", "detach"};
    target t;
    int rc = simple(argc, argv, 0, usage_detach, req, 2, NULL, &t);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    printf("loong detached from process %d\n", (int)t.pid);
    return CLI_OK;
}

int cmd_status(int argc, char **argv)
{
    static const char *const req[] = {"loong/1", "status"};
    target t;
    char *p = NULL;
    int rc = simple(argc, argv, 0, usage_status, req, 2, &p, &t);
    if (rc == 3) {
        printf("%s\n", p);
        free(p);
        return CLI_OK;
    }
    if (rc) {
        free(p);
        return rc < 0 ? CLI_OK : rc;
    }
    char s[PATH_MAX + 64];
    ctl_json_str(p, "python", s, sizeof s);
    printf("process:   %d, Python %s\n", (int)t.pid, s);
    ctl_json_str(p, "version", s, sizeof s);
    int started = strstr(p, "\"started\": true") != NULL;
    printf("loong:     %s, %s\n", s, started ? "started" : "not started");
    if (started) {
        ctl_json_str(p, "output", s, sizeof s);
        printf("output:    %s\n", s);
        ctl_json_str(p, "sink", s, sizeof s);
        printf("sink:      %s, every %lld ms\n", s,
               ctl_json_num(p, "interval_ms"));
        printf("records:   %lld, dropped %lld\n", ctl_json_num(p, "records"),
               ctl_json_num(p, "dropped"));
        printf("hooks:     0x%llx\n", ctl_json_num(p, "hooks"));
    }
    const char *tk = strstr(p, "\"toolkits\": [");
    int any = 0;
    for (const char *q = tk ? strstr(tk, "{\"name\": ") : NULL; q;
         q = strstr(q + 1, "{\"name\": ")) {
        char name[128], ver[64];
        ctl_json_str(q, "name", name, sizeof name);
        ctl_json_str(q, "version", ver, sizeof ver);
        const char *opts = strstr(q, "\"options\": {");
        const char *end = opts ? strchr(opts, '}') : NULL;
        printf("%s %s %s", any ? "          " : "toolkits: ", name, ver);
        if (opts && end && end > opts + 12)
            printf(" (%.*s)", (int)(end - opts - 12), opts + 12);
        printf("\n");
        any = 1;
    }
    if (!any)
        printf("toolkits:  none\n");
    free(p);
    return CLI_OK;
}
