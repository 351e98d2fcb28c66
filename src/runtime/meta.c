/* The process's output folder: its name, meta.json, and loong.log. */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/sb.h"

extern atomic_int rt_suspended;

/* /proc/self/cmdline as an argv array (heap; NULL-terminated). */
static char **read_cmdline(int *argc)
{
    *argc = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)n;
        if (len == cap) {
            char *nb = cap < (1u << 20) ? realloc(buf, cap * 2 + 1) : NULL;
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    int count = 0;
    for (size_t i = 0; i < len; i++)
        count += buf[i] == '\0';
    if (len && buf[len - 1] != '\0')
        count++;
    char **argv = calloc((size_t)count + 2, sizeof *argv);
    if (!argv) {
        free(buf);
        return NULL;
    }
    argv[0] = buf; /* argv[0] owns the block */
    int k = 0;
    for (size_t i = 0; i < len && k < count; k++) {
        argv[k] = buf + i;
        i += strlen(buf + i) + 1;
    }
    *argc = k;
    return argv;
}

static void free_cmdline(char **argv)
{
    if (argv) {
        free(argv[0]);
        free(argv);
    }
}

/* The program a person would name: the script, the -m module, or
 * python-c. Options that take a value are skipped with their value. */
static void program_name(char *out, size_t cap)
{
    int argc;
    char **argv = read_cmdline(&argc);
    const char *name = NULL;
    char tmp[256];
    for (int i = 1; argv && i < argc && !name; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") && i + 1 < argc)
            name = argv[i + 1];
        else if (!strncmp(a, "-m", 2) && a[2] && a[1] == 'm')
            name = a + 2;
        else if (!strcmp(a, "-") )
            name = "python-stdin";
        else if (!strcmp(a, "--") && i + 1 < argc)
            name = argv[i + 1];
        else if (a[0] == '-' && a[1] != '-' && strchr(a + 1, 'c'))
            name = "python-c";
        else if (!strcmp(a, "-W") || !strcmp(a, "-X"))
            i++;
        else if (a[0] != '-')
            name = a;
    }
    if (!name)
        name = argv && argc ? argv[0] : "python";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    snprintf(tmp, sizeof tmp, "%s", base);
    size_t tl = strlen(tmp);
    if (tl > 3 && !strcmp(tmp + tl - 3, ".py"))
        tmp[tl - 3] = '\0';
    size_t j = 0;
    for (size_t i = 0; tmp[i] && j + 1 < cap && j < 64; i++) {
        char c = tmp[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        out[j++] = ok ? c : '_';
    }
    if (j == 0 || out[0] == '.')
        j = (size_t)snprintf(out, cap, "python");
    out[j] = '\0';
    free_cmdline(argv);
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* OUT/PROGRAM-PID, made new: a reused pid gets a suffix. */
int rt_process_dir_init(void)
{
    program_name(rt.program, sizeof rt.program);
    snprintf(rt.pid_str, sizeof rt.pid_str, "%d", (int)rt.pid);
    if (mkdir_p(rt.out_root) < 0)
        return LOONG_EIO;
    for (int k = 0; k < 100; k++) {
        int n = k ? snprintf(rt.proc_dir, sizeof rt.proc_dir, "%s/%s-%d.%d",
                             rt.out_root, rt.program, (int)rt.pid, k)
                  : snprintf(rt.proc_dir, sizeof rt.proc_dir, "%s/%s-%d",
                             rt.out_root, rt.program, (int)rt.pid);
        if (n >= (int)sizeof rt.proc_dir)
            return LOONG_EINVAL;
        if (mkdir(rt.proc_dir, 0755) == 0)
            return 0;
        if (errno != EEXIST)
            return LOONG_EIO;
    }
    return LOONG_EEXIST;
}

static void iso_time(sb *s, uint64_t wall_ns)
{
    time_t t = (time_t)(wall_ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    sb_printf(s, "\"%s.%06lluZ\"", buf,
              (unsigned long long)(wall_ns % 1000000000ull / 1000));
}

/* Toolkits unloaded during the run, as JSON objects, so meta.json at the
 * end still says what ran. */
static sb history;

static void toolkit_json(sb *s, const loong_toolkit *tk, uint64_t unloaded)
{
    sb_puts(s, "{\"name\": ");
    sb_json_str(s, tk->def->name);
    sb_puts(s, ", \"version\": ");
    sb_json_str(s, tk->def->version);
    sb_puts(s, ", \"path\": ");
    sb_json_str(s, tk->path);
    sb_puts(s, ", \"options\": {");
    for (size_t k = 0; k < tk->spec.nopts; k++) {
        sb_puts(s, k ? ", " : "");
        sb_json_str(s, tk->spec.opts[k].key);
        sb_puts(s, ": ");
        sb_json_str(s, tk->spec.opts[k].value);
    }
    sb_puts(s, "}, \"loaded\": ");
    iso_time(s, tk->loaded_wall_ns);
    sb_puts(s, ", \"unloaded\": ");
    if (unloaded)
        iso_time(s, unloaded);
    else
        sb_puts(s, "null");
    sb_puts(s, "}");
}

void rt_meta_note_unloaded(const loong_toolkit *tk)
{
    if (history.p == NULL)
        sb_init(&history);
    sb_puts(&history, history.len ? ",\n    " : "\n    ");
    toolkit_json(&history, tk, rt_wall_ns());
}

void rt_meta_after_fork_child(void)
{
    sb_free(&history);
    sb_init(&history);
}

/* "3.11.2" from Py_GetVersion() (a static string: no lock needed). */
static void running_version(char *out, size_t cap)
{
    const char *v = Py_GetVersion();
    size_t n = strcspn(v, " ");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

int rt_meta_write(const char *exit_reason)
{
    sb s;
    sb_init(&s);
    sb_puts(&s, "{\n  \"loong_version\": ");
    sb_json_str(&s, LOONG_VERSION_STRING);
    sb_printf(&s, ",\n  \"pid\": %d,\n  \"ppid\": %d,\n  \"host\": ",
              (int)rt.pid, (int)getppid());
    sb_json_str(&s, rt.host);
    sb_puts(&s, ",\n  \"program\": ");
    sb_json_str(&s, rt.program);
    sb_puts(&s, ",\n  \"argv\": [");
    int argc;
    char **argv = read_cmdline(&argc);
    for (int i = 0; i < argc; i++) {
        sb_puts(&s, i ? ", " : "");
        sb_json_str(&s, argv[i]);
    }
    free_cmdline(argv);
    /* The running interpreter's version, not the headers' we were built
     * with: one build serves every micro release of its minor. */
    char ver[32];
    running_version(ver, sizeof ver);
    sb_printf(&s, "],\n  \"python\": {\"version\": \"%s\", "
                  "\"implementation\": \"cpython\", \"built_for\": "
                  "\"%d.%d.%d\"},\n",
              ver, PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MICRO_VERSION);
    sb_puts(&s, "  \"start\": ");
    iso_time(&s, rt.start_wall_ns);
    sb_puts(&s, ",\n  \"end\": ");
    if (exit_reason)
        iso_time(&s, rt_wall_ns());
    else
        sb_puts(&s, "null");
    sb_puts(&s, ",\n  \"exit\": ");
    sb_json_str(&s, exit_reason);
    sb_printf(&s, ",\n  \"interval_ms\": %d,\n  \"sink\": ", rt.interval_ms);
    sb_json_str(&s, rt.sink_str);
    sb_puts(&s, ",\n  \"toolkits\": [");
    int first = 1;
    for (int i = 0; i < RT_MAX_TOOLKITS; i++) {
        loong_toolkit *tk = rt.tk[i];
        if (!tk || !tk->active)
            continue;
        sb_puts(&s, first ? "\n    " : ",\n    ");
        first = 0;
        toolkit_json(&s, tk, 0);
    }
    if (history.len) {
        sb_puts(&s, first ? "" : ",");
        sb_putn(&s, history.p, history.len);
        first = 0;
    }
    uint64_t records = rt.buf ? lbuf_records(rt.buf) : 0;
    uint64_t dbuf = rt.buf ? lbuf_dropped(rt.buf) : 0;
    uint64_t dsink = atomic_load(&rt.sink_dropped);
    uint64_t lock_max_us, lock_us = rt_sampler_locked_us(&lock_max_us);
    sb_printf(&s, "%s],\n  \"records\": %llu,\n  \"dropped\": %llu,\n"
                  "  \"dropped_buffer_full\": %llu,\n"
                  "  \"dropped_sink\": %llu,\n"
                  "  \"sample_unnamed\": %llu,\n"
                  "  \"sample_locked\": %llu,\n"
                  "  \"sample_locked_us\": %llu,\n"
                  "  \"sample_locked_max_us\": %llu\n}\n",
              first ? "" : "\n  ", (unsigned long long)records,
              (unsigned long long)(dbuf + dsink), (unsigned long long)dbuf,
              (unsigned long long)dsink,
              (unsigned long long)rt_sampler_unnamed(),
              (unsigned long long)rt_sampler_locked(),
              (unsigned long long)lock_us, (unsigned long long)lock_max_us);
    int rc = s.oom ? LOONG_ENOMEM : rt_write_file_raw("meta.json", s.p, s.len);
    sb_free(&s);
    return rc;
}

void rt_log(loong_toolkit *tk, int level, const char *fmt, ...)
{
    if (!rt.proc_dir[0])
        return;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/loong.log", rt.proc_dir) >=
        (int)sizeof path)
        return;
    char line[2048];
    const char *lv = level >= LOONG_LOG_ERROR     ? "error"
                     : level >= LOONG_LOG_WARNING ? "warning"
                     : level >= LOONG_LOG_INFO    ? "info"
                                                  : "debug";
    uint64_t w = rt_wall_ns();
    int n = snprintf(line, sizeof line, "%llu.%06llu %s %s: ",
                     (unsigned long long)(w / 1000000000ull),
                     (unsigned long long)(w % 1000000000ull / 1000), lv,
                     tk ? tk->def->name : "runtime");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && n < (int)sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n >= (int)sizeof line - 1)
        n = (int)sizeof line - 2;
    for (int i = 0; i < n; i++) /* one record per line */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
    close(fd);
}
