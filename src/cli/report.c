/* `loong report DIR [-o FILE]`: one self-contained HTML page from the
 * output folder of one profiled process.
 *
 * The page is the template of report/ (embedded at build time) with the
 * folder's data as JSON: meta.json, then one entry per section whose file
 * exists (and, for metrics.lp, holds loong_mem points). A section is one
 * line of `sections` below (its id, its file and the loader that turns the
 * file into JSON, in report_data.c, or report_mem.c for metrics.lp, which
 * is read line by line) and one renderer in report/report.js under the
 * same id (mem.alloc.collapsed and mem.live.collapsed are drawn inside the
 * flame graph and memory sections). */
#include "cli/cli.h"
#include "cli/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loong/version.h"

typedef struct section {
    const char *id;   /* its key in the page's data, and its renderer */
    const char *file; /* in the process folder; absent: no section */
    report_loader load; /* the whole file's text to JSON, or ... */
    int stream;         /* ... 1: metrics.lp, read line by line */
    const char *what;   /* in "nothing to report": what was looked for */
} section;

static const section sections[] = {
    {"flame", "function.collapsed", rd_collapsed, 0, NULL},
    {"functions", "function.tsv", rd_tsv, 0, NULL},
    {"slow", "function.slow.jsonl", rd_jsonl, 0, NULL},
    {"exceptions", "exceptions.jsonl", rd_jsonl, 0, NULL},
    {"mem_alloc", "mem.alloc.collapsed", rd_collapsed, 0, NULL},
    {"mem_live", "mem.live.collapsed", rd_collapsed, 0, NULL},
    {"memory", "metrics.lp", NULL, 1, "loong_mem points in metrics.lp"},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

/* ---- files ------------------------------------------------------------- */

#define NOT_REGULAR (-1) /* read_all: not a regular file */

/* path opened for reading, checked to be a regular file. 0 (*fd, *st),
 * an errno, or NOT_REGULAR (a FIFO or a device is not waited on). */
static int open_regular(const char *path, int *fdp, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
        return errno;
    int err = 0;
    if (fstat(fd, st) != 0)
        err = errno;
    else if (S_ISDIR(st->st_mode))
        err = EISDIR;
    else if (!S_ISREG(st->st_mode))
        err = NOT_REGULAR;
    if (err) {
        close(fd);
        return err;
    }
    *fdp = fd;
    return 0;
}

/* The whole of path into a heap buffer (NUL-terminated). 0, an errno, or
 * NOT_REGULAR. */
static int read_all(const char *path, char **text, size_t *len)
{
    struct stat st;
    size_t cap, n = 0;
    char *buf;
    int fd, err = open_regular(path, &fd, &st);

    if (err)
        return err;
    /* room for the file, the NUL and one byte more, so the read that
     * finds the end needs no bigger buffer */
    cap = st.st_size > 0 ? (size_t)st.st_size + 2 : 4096;
    buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return ENOMEM;
        }
        if (n + 1 >= cap) {
            char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
            continue;
        }
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = errno;
            free(buf);
            close(fd);
            return err;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir,
                 dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The process folder: dir itself when it holds meta.json, else its only
 * subfolder that does. Heap string, or NULL after printing the error
 * (*status set). */
static char *find_process_folder(const char *dir, int *status)
{
    struct stat st;
    char *meta = NULL, **found = NULL;
    size_t nfound = 0, cap = 0;
    DIR *d;
    struct dirent *ent;

    *status = CLI_USAGE;
    if (stat(dir, &st) != 0) {
        cli_error("report: cannot open folder '%s': %s", dir,
                  strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        cli_error("report: '%s' is not a folder", dir);
        return NULL;
    }
    meta = join(dir, "meta.json");
    if (meta && is_file(meta)) {
        free(meta);
        return strdup(dir);
    }
    free(meta);
    if ((d = opendir(dir)) == NULL) {
        *status = CLI_FAILED;
        cli_error("report: cannot read folder '%s': %s", dir, strerror(errno));
        return NULL;
    }
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char *sub = join(dir, ent->d_name);
        char *m = sub ? join(sub, "meta.json") : NULL;
        if (m && is_file(m) && nfound == cap) {
            size_t c = cap ? cap * 2 : 8;
            char **nf = realloc(found, c * sizeof *nf);
            if (nf) {
                found = nf;
                cap = c;
            }
        }
        if (m && is_file(m) && nfound < cap)
            found[nfound++] = sub;
        else
            free(sub);
        free(m);
    }
    closedir(d);
    char *result = NULL;
    if (nfound == 0) {
        cli_error("report: '%s' is not a loong output folder: no meta.json "
                  "in it or in its folders",
                  dir);
    } else if (nfound == 1) {
        result = found[0];
        found[0] = NULL;
    } else {
        char list[2048];
        size_t used = 0;
        qsort(found, nfound, sizeof *found, by_string);
        list[0] = '\0';
        for (size_t i = 0; i < nfound; i++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s",
                             i ? ", " : "", found[i]);
            if (w < 0 || (size_t)w >= sizeof list - used) {
                snprintf(list + used, sizeof list - used, ", ...");
                break;
            }
            used += (size_t)w;
        }
        cli_error("report: '%s' holds %zu process folders, name one: %s",
                  dir, nfound, list);
    }
    for (size_t i = 0; i < nfound; i++)
        free(found[i]);
    free(found);
    return result;
}

/* data to path through a temporary file in the same folder, renamed over
 * it; "-" is stdout. 0, or -1 after printing the error. */
static int write_atomic(const char *path, const char *data, size_t len)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            cli_error("report: cannot write to stdout: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t tlen = strlen(path) + 16;
    char *tmp = malloc(tlen);
    if (!tmp) {
        cli_error("report: out of memory");
        return -1;
    }
    /* DIR/.NAME.XXXXXX: hidden, and on the same file system */
    snprintf(tmp, tlen, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("report: cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    int err = 0;
    for (size_t off = 0; off < len && !err;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno != EINTR)
            err = errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (!err && fchmod(fd, 0666 & ~mask) != 0)
        err = errno;
    if (!err && fsync(fd) != 0 && errno != EINVAL)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        cli_error("report: cannot write '%s': %s", path, strerror(err));
    }
    free(tmp);
    return err ? -1 : 0;
}

/* ---- the data -------------------------------------------------------- */

/* The pid of meta.json, the value metrics.lp's pid tags should have
 * ("" when meta.json has none that is an integer). */
static char meta_pid[32];

/* Load file (in folder) with its section's loader, appending `"KEY":JSON`.
 * 1 when the file does not exist or holds nothing for the section
 * (nothing appended), 0, or -1 after the error. */
static int add_file(sb *data, const char *folder, const char *file,
                    const section *sec, const char *key)
{
    char *path = join(folder, file), *text = NULL;
    size_t len = 0, before = data->len;
    report_error e = {0, ""};
    FILE *f = NULL;
    int err, rc;

    if (!path) {
        cli_error("report: out of memory");
        return -1;
    }
    if (sec->stream) {
        struct stat st;
        int fd;
        err = open_regular(path, &fd, &st);
        if (!err && (f = fdopen(fd, "r")) == NULL) {
            err = errno;
            close(fd);
        }
    } else {
        err = read_all(path, &text, &len);
    }
    if (err) {
        if (err == ENOENT) {
            free(path);
            return 1;
        }
        cli_error("report: cannot read '%s': %s", path,
                  err == NOT_REGULAR ? "not a regular file" : strerror(err));
        free(path);
        return -1;
    }
    sb_printf(data, "\"%s\":", key);
    if (f) {
        rc = rd_mem_timeline(data, f, meta_pid[0] ? meta_pid : NULL, &e);
        fclose(f);
    } else {
        rc = sec->load(data, text, len, &e);
    }
    if (rc > 0 && data->p != NULL) { /* nothing for it: take the key back */
        data->len = before;
        data->p[before] = '\0';
    }
    if (rc < 0 && e.line)
        cli_error("report: %s:%zu: %s", path, e.line, e.msg);
    else if (rc < 0)
        cli_error("report: %s: %s", path, e.msg);
    free(text);
    free(path);
    return rc;
}

/* meta_pid from the meta.json just appended to data at data->p[from..]. */
static void find_meta_pid(const sb *data, size_t from)
{
    const char *v;
    size_t vn;

    meta_pid[0] = '\0';
    if (data->p == NULL || from > data->len ||
        !rj_find_key(data->p + from, data->len - from, "pid", &v, &vn) ||
        vn == 0 || vn >= sizeof meta_pid || strspn(v, "0123456789") < vn)
        return;
    memcpy(meta_pid, v, vn);
    meta_pid[vn] = '\0';
}

/* {"report": {...}, "meta": META, "sections": {ID: DATA, ...}} */
static int build_data(sb *data, const char *folder, int *status)
{
    char abs[PATH_MAX], when[32];
    time_t now = time(NULL);
    struct tm tm;
    int n = 0;

    *status = CLI_FAILED;
    if (realpath(folder, abs) == NULL)
        snprintf(abs, sizeof abs, "%s", folder);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    sb_printf(data, "{\"report\":{\"loong_version\":\"%s\",\"generated\":"
                    "\"%s\",\"folder\":",
              LOONG_VERSION_STRING, when);
    rj_str(data, abs, strlen(abs));
    sb_puts(data, "},\n");
    static const section meta = {"meta", "meta.json", rd_json_object, 0,
                                  NULL};
    size_t meta_at = data->len + strlen("\"meta\":");
    int rc = add_file(data, folder, "meta.json", &meta, "meta");
    if (rc == 0)
        find_meta_pid(data, meta_at);
    if (rc > 0)
        cli_error("report: cannot read '%s/meta.json': %s", folder,
                  strerror(ENOENT));
    if (rc != 0)
        return -1;
    sb_puts(data, ",\n\"sections\":{");
    for (size_t i = 0; i < NSECTIONS; i++) {
        size_t before = data->len;
        if (n)
            sb_puts(data, ",\n");
        rc = add_file(data, folder, sections[i].file, &sections[i],
                      sections[i].id);
        if (rc < 0)
            return -1;
        if (rc > 0) { /* absent or empty: take the comma back */
            data->len = before;
            data->p[before] = '\0';
            continue;
        }
        n++;
    }
    sb_puts(data, "}}");
    if (n == 0) {
        char names[512] = "";
        for (size_t i = 0; i < NSECTIONS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names),
                     "%s%s", i ? (i + 1 == NSECTIONS ? " or " : ", ") : "",
                     sections[i].what ? sections[i].what : sections[i].file);
        cli_error("report: nothing to report in '%s': no %s", folder, names);
        return -1;
    }
    if (data->oom) {
        cli_error("report: out of memory");
        return -1;
    }
    return 0;
}

/* ---- the command ------------------------------------------------------- */

int cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *output = NULL;
    int options = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (options && cli_is_flag(a, 'h', "help")) {
            usage_report(stdout);
            return CLI_OK;
        }
        int rc = options ? cli_opt_value(argc, argv, &i, 'o', "output",
                                         "report", &val)
                         : 0;
        if (rc < 0)
            return CLI_USAGE;
        if (rc > 0) {
            if (output) {
                cli_error("report: -o given twice (see 'loong report "
                          "--help')");
                return CLI_USAGE;
            }
            output = val;
        } else if (options && strcmp(a, "--") == 0) {
            options = 0;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            cli_error("report: unknown option '%s' (see 'loong report "
                      "--help')",
                      a);
            return CLI_USAGE;
        } else if (dir) {
            cli_error("report: unexpected argument '%s' (see 'loong report "
                      "--help')",
                      a);
            return CLI_USAGE;
        } else {
            dir = a;
        }
    }
    if (!dir) {
        cli_error("report: missing DIR (usage: loong report DIR [-o FILE])");
        return CLI_USAGE;
    }
    if (output && output[0] == '\0') {
        cli_error("report: empty -o (see 'loong report --help')");
        return CLI_USAGE;
    }

    int status;
    char *folder = find_process_folder(dir, &status);
    if (!folder)
        return status;

    sb data, page;
    char *outpath = NULL;
    sb_init(&data);
    sb_init(&page);
    if (build_data(&data, folder, &status) < 0)
        goto done;
    /* the title: the folder's name, PROGRAM-PID */
    size_t end = strlen(folder);
    while (end > 1 && folder[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && folder[start - 1] != '/')
        start--;
    report_fill(&page, folder + start, end - start, data.p, data.len);
    if (page.oom) {
        cli_error("report: out of memory");
        goto done;
    }
    outpath = output ? strdup(output) : join(folder, "report.html");
    if (!outpath) {
        cli_error("report: out of memory");
        goto done;
    }
    if (write_atomic(outpath, page.p, page.len) < 0)
        goto done;
    if (strcmp(outpath, "-") != 0)
        printf("%s\n", outpath);
    status = CLI_OK;
done:
    free(outpath);
    free(folder);
    sb_free(&data);
    sb_free(&page);
    return status;
}
