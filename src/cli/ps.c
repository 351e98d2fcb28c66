/* `loong ps [--json]`: the Python processes this user may attach to (every
 * one as root), with the Python version as `loong attach` detects it, the
 * command line, and whether loong is in them: its runtime mapped, its
 * control socket there and answering, and then which toolkits run. Only
 * /proc and the control sockets are read: no process is stopped. */
#include "cli/attach.h"
#include "cli/cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sb.h"

#define PS_ANSWER_MS 1000
#define PS_CMD_WIDTH 60

typedef struct ps_row {
    pid_t pid;
    uid_t uid;
    pid_t tracer;
    int minor;
    char *cmdline;   /* argv joined by spaces */
    char **argv;
    int argc;
    int mapped;      /* the runtime's shared object is in its memory */
    int sock;        /* its control socket exists */
    int answered;    /* ... and answered hello */
    int started;
    char version[32], python[32];
    char output[4096];
    char toolkits[1024]; /* "name version,..." */
    char tknames[512];   /* "name,name" */
} ps_row;

void usage_ps(FILE *out)
{
    fputs("Usage: loong ps [--json]\n"
          "\n"
          "List the Python processes you may attach to (all of them as "
          "root): process\n"
          "id, CPython version (as 'loong attach' detects it), command line, "
          "and whether\n"
          "loong is in them:\n"
          "\n"
          "  -           loong is not in the process (\"none\" in JSON)\n"
          "  started     loong runs (attached, or under 'loong run'); "
          "TOOLKITS lists\n"
          "              the toolkits loaded\n"
          "  idle        its control socket answers, loong is not started "
          "(an attach\n"
          "              that was interrupted: 'loong attach' or 'loong "
          "detach')\n"
          "  detached    the runtime's code is mapped, unused (after "
          "'loong detach')\n"
          "  no-answer   its control socket did not answer within 1 s\n"
          "\n"
          "  --json      one JSON array, one object per process\n"
          "\n"
          "No process is stopped or traced: only /proc and the control "
          "sockets are read.\n"
          "Exit status: 0, 2 usage.\n",
          out);
}

/* /proc/PID/cmdline: argv (heap) and a printable joined copy. */
static void read_cmdline(ps_row *r)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)r->pid);
    FILE *f = fopen(path, "re");
    size_t len = 0, cap = 0;
    char *buf = NULL;
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 &&
               len < 256 * 1024) {
            if (len + n + 1 > cap) {
                size_t nc = (len + n + 1) * 2;
                char *g = realloc(buf, nc);
                if (!g)
                    break;
                buf = g;
                cap = nc;
            }
            memcpy(buf + len, chunk, n);
            len += n;
        }
        fclose(f);
    }
    if (!buf || !len) {
        free(buf);
        r->cmdline = strdup("");
        r->argv = NULL;
        r->argc = 0;
        return;
    }
    if (buf[len - 1] != '\0')
        buf[len++] = '\0';
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\0';
    r->argv = calloc((size_t)n + 1, sizeof *r->argv);
    r->cmdline = malloc(len);
    if (!r->argv || !r->cmdline) {
        free(r->argv);
        free(r->cmdline);
        free(buf);
        r->argv = NULL;
        r->argc = 0;
        r->cmdline = strdup("");
        return;
    }
    char *p = buf;
    for (int i = 0; i < n; i++) {
        r->argv[i] = p;
        p += strlen(p) + 1;
    }
    r->argc = n;
    memcpy(r->cmdline, buf, len);
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned char c = (unsigned char)r->cmdline[i];
        if (c == '\0')
            r->cmdline[i] = ' ';
        else if (c < 0x20 || c == 0x7f)
            r->cmdline[i] = '?';
    }
    /* argv points into buf, kept as long as the row: argv[0] is buf */
}

static void row_free(ps_row *r)
{
    if (r->argv)
        free(r->argv[0]);
    free(r->argv);
    free(r->cmdline);
}

/* The runtime: LIBDIR/python/loong/_runtime.cpython-3X-....so */
static int runtime_mapped(const proc_maps *pm)
{
    for (size_t i = 0; i < pm->n; i++) {
        const char *p = pm->m[i].path;
        const char *base = strrchr(p, '/');
        if (base && !strncmp(base + 1, "_runtime.cpython-3", 18) &&
            base - p >= 6 && !strncmp(base - 6, "/loong", 6))
            return 1;
    }
    return 0;
}

/* Ask the control socket, if there is one. */
static void ask_loong(ps_row *r, pid_t nspid)
{
    char sock[256], err[512], *reply = NULL;
    struct stat st;
    int sys_err;
    ctl_socket_path(r->pid, nspid, r->uid, sock, sizeof sock);
    if (lstat(sock, &st) < 0 || !S_ISSOCK(st.st_mode))
        return;
    r->sock = 1;
    static const char *const hello[] = {"loong/1", "hello"};
    if (ctl_request_to(r->pid, r->uid, sock, hello, 2, &reply, PS_ANSWER_MS,
                       &sys_err, err, sizeof err) < 0) {
        if (sys_err == ECONNREFUSED || sys_err == ENOENT)
            r->sock = 0; /* left by a process that died with this pid */
        return;
    }
    if (strncmp(reply, "ok {", 4) != 0) {
        free(reply);
        return;
    }
    const char *p = reply + 3;
    r->answered = 1;
    r->started = strstr(p, "\"started\": true") != NULL;
    ctl_json_str(p, "version", r->version, sizeof r->version);
    ctl_json_str(p, "python", r->python, sizeof r->python);
    if (r->started)
        ctl_json_str(p, "output", r->output, sizeof r->output);
    const char *tk = strstr(p, "\"toolkits\": [");
    size_t a = 0, b = 0;
    for (const char *q = tk ? strstr(tk, "{\"name\": ") : NULL; q;
         q = strstr(q + 1, "{\"name\": ")) {
        char name[128] = "", ver[64] = "";
        ctl_json_str(q, "name", name, sizeof name);
        ctl_json_str(q, "version", ver, sizeof ver);
        int w = snprintf(r->toolkits + a, sizeof r->toolkits - a, "%s%s %s",
                         a ? "," : "", name, ver);
        if (w > 0 && (size_t)w < sizeof r->toolkits - a)
            a += (size_t)w;
        w = snprintf(r->tknames + b, sizeof r->tknames - b, "%s%s",
                     b ? "," : "", name);
        if (w > 0 && (size_t)w < sizeof r->tknames - b)
            b += (size_t)w;
    }
    free(reply);
}

static const char *state_of(const ps_row *r)
{
    if (r->answered)
        return r->started ? "started" : "idle";
    if (r->sock && r->mapped)
        return "no-answer";
    if (r->mapped)
        return "detached";
    return "-";
}

/* One process: 1 listed (row filled), 0 not a Python 3 one we may attach
 * to. */
static int probe(pid_t pid, ps_row *r)
{
    proc_status st;
    memset(r, 0, sizeof *r);
    r->pid = pid;
    if (proc_status_read(pid, &st) < 0 || st.state == 'Z' ||
        st.state == 'X')
        return 0;
    if (geteuid() != 0 && st.uid != geteuid())
        return 0;
    r->uid = st.uid;
    r->tracer = st.tracer;
    proc_maps pm;
    if (proc_maps_read(pid, &pm) < 0)
        return 0; /* a kernel thread, gone, or not ours to read */
    char err[512];
    r->minor = proc_python_minor(pid, &pm, err, sizeof err);
    r->mapped = r->minor ? runtime_mapped(&pm) : 0;
    proc_maps_free(&pm);
    if (!r->minor)
        return 0;
    read_cmdline(r);
    ask_loong(r, st.nspid);
    return 1;
}

static int by_pid(const void *a, const void *b)
{
    pid_t x = ((const ps_row *)a)->pid, y = ((const ps_row *)b)->pid;
    return (x > y) - (x < y);
}

static void print_json(const ps_row *rows, size_t n)
{
    sb s;
    sb_init(&s);
    sb_putc(&s, '[');
    for (size_t i = 0; i < n; i++) {
        const ps_row *r = &rows[i];
        sb_printf(&s, "%s\n  {\"pid\": %d, \"uid\": %u, \"python\": \"3.%d\", "
                      "\"argv\": [",
                  i ? "," : "", (int)r->pid, (unsigned)r->uid, r->minor);
        for (int k = 0; k < r->argc; k++) {
            sb_puts(&s, k ? ", " : "");
            sb_json_str(&s, r->argv[k]);
        }
        sb_printf(&s, "], \"traced_by\": %d, \"loong\": {\"state\": ",
                  (int)r->tracer);
        sb_json_str(&s, r->mapped || r->sock ? state_of(r) : "none");
        sb_printf(&s, ", \"runtime_mapped\": %s, \"socket\": %s",
                  r->mapped ? "true" : "false", r->sock ? "true" : "false");
        if (r->answered) {
            sb_printf(&s, ", \"started\": %s, \"version\": ",
                      r->started ? "true" : "false");
            sb_json_str(&s, r->version);
            sb_puts(&s, ", \"python\": ");
            sb_json_str(&s, r->python);
            if (r->started) {
                sb_puts(&s, ", \"output\": ");
                sb_json_str(&s, r->output);
            }
            sb_puts(&s, ", \"toolkits\": [");
            char names[sizeof r->tknames];
            snprintf(names, sizeof names, "%s", r->tknames);
            char *save = NULL;
            int first = 1;
            for (char *t = strtok_r(names, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                sb_puts(&s, first ? "" : ", ");
                first = 0;
                sb_json_str(&s, t);
            }
            sb_putc(&s, ']');
        }
        sb_puts(&s, "}}");
    }
    sb_puts(&s, n ? "\n]\n" : "]\n");
    if (s.oom)
        cli_error("ps: out of memory");
    else
        fwrite(s.p, 1, s.len, stdout);
    sb_free(&s);
}

static void print_table(const ps_row *rows, size_t n)
{
    printf("%-8s %-7s %-10s %-20s %s\n", "PID", "PYTHON", "LOONG",
           "TOOLKITS", "COMMAND");
    for (size_t i = 0; i < n; i++) {
        const ps_row *r = &rows[i];
        char py[16], cmd[PS_CMD_WIDTH + 1];
        snprintf(py, sizeof py, "3.%d", r->minor);
        /* the program's base name, then its arguments */
        const char *c = r->cmdline;
        if (r->argc > 0) {
            const char *slash = strrchr(r->argv[0], '/');
            if (slash && slash[1])
                c += slash + 1 - r->argv[0];
        }
        size_t len = strlen(c);
        if (len > PS_CMD_WIDTH)
            snprintf(cmd, sizeof cmd, "%.*s...", PS_CMD_WIDTH - 3, c);
        else
            snprintf(cmd, sizeof cmd, "%s", c);
        printf("%-8d %-7s %-10s %-20s %s\n", (int)r->pid, py, state_of(r),
               r->tknames[0] ? r->tknames : "-", cmd);
    }
}

int cmd_ps(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_flag(argv[i], 'h', "help")) {
            usage_ps(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            cli_error("ps: unexpected argument '%s' (usage: loong ps "
                      "[--json])", argv[i]);
            return CLI_USAGE;
        }
    }
    DIR *d = opendir("/proc");
    if (!d) {
        cli_error("ps: cannot read /proc: %s", strerror(errno));
        return CLI_FAILED;
    }
    ps_row *rows = NULL;
    size_t n = 0, cap = 0;
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || v <= 0 || (pid_t)v == self)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            ps_row *g = realloc(rows, nc * sizeof *g);
            if (!g)
                break;
            rows = g;
            cap = nc;
        }
        if (probe((pid_t)v, &rows[n]))
            n++;
    }
    closedir(d);
    qsort(rows, n, sizeof *rows, by_pid);
    if (json)
        print_json(rows, n);
    else
        print_table(rows, n);
    for (size_t i = 0; i < n; i++)
        row_free(&rows[i]);
    free(rows);
    return CLI_OK;
}
