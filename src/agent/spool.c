/* The disk spool: one file per batch, SEQ.lp (20 digits), oldest first.
 * A file is written as SEQ.tmp and renamed, so a crash never leaves half
 * a batch under a final name; .tmp files found at start are removed. The
 * lines of the files found at start are counted (recovered). Files are not
 * fsync'ed: the spool rides out an InfluxDB outage and a restart of loongd,
 * not a power cut. */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void file_path(const spool *sp, uint64_t seq, const char *ext,
                      char *out, size_t cap)
{
    snprintf(out, cap, "%s/%020" PRIu64 ".%s", sp->dir, seq, ext);
}

static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += p[i] == '\n';
    if (n > 0 && p[n - 1] != '\n')
        lines++;
    return lines;
}

static int read_file(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t done = 0;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return -1;
    }
    while (done < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = done;
    return 0;
}

static int push(spool *sp, uint64_t seq, uint64_t bytes, uint64_t lines)
{
    if (sp->n == sp->size) {
        size_t size = sp->size ? sp->size * 2 : 64;
        spool_entry *e = realloc(sp->e, size * sizeof *e);
        if (e == NULL)
            return -1;
        sp->e = e;
        sp->size = size;
    }
    sp->e[sp->n++] = (spool_entry){seq, bytes, lines};
    sp->bytes += bytes;
    sp->lines += lines;
    return 0;
}

static int by_seq(const void *a, const void *b)
{
    const spool_entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int spool_open(spool *sp, const char *dir, uint64_t cap, char *err,
               size_t errlen)
{
    DIR *d;
    struct dirent *de;

    memset(sp, 0, sizeof *sp);
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    sp->cap = cap;
    sp->next_seq = 1;
    if (mkdir_p(dir) < 0 || (d = opendir(dir)) == NULL) {
        snprintf(err, errlen, "spool folder '%s': %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX + 64], *data;
        size_t n = strlen(de->d_name), len;
        uint64_t seq = 0;
        int digits = 0;
        for (size_t i = 0; i < n && de->d_name[i] >= '0' &&
                           de->d_name[i] <= '9'; i++, digits++)
            seq = seq * 10 + (uint64_t)(de->d_name[i] - '0');
        if (digits != 20 || seq == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (strcmp(de->d_name + 20, ".tmp") == 0) {
            unlink(path);
            continue;
        }
        if (strcmp(de->d_name + 20, ".lp") != 0)
            continue;
        if (read_file(path, &data, &len) < 0)
            continue;
        if (len == 0) {
            unlink(path);
        } else if (push(sp, seq, len, count_lines(data, len)) < 0) {
            free(data);
            closedir(d);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(data);
        if (seq >= sp->next_seq)
            sp->next_seq = seq + 1;
    }
    closedir(d);
    if (sp->n > 1)
        qsort(sp->e, sp->n, sizeof *sp->e, by_seq);
    return 0;
}

static void remove_at(spool *sp, size_t i)
{
    char path[PATH_MAX + 64];

    file_path(sp, sp->e[i].seq, "lp", path, sizeof path);
    unlink(path);
    sp->bytes -= sp->e[i].bytes;
    sp->lines -= sp->e[i].lines;
    memmove(&sp->e[i], &sp->e[i + 1], (sp->n - i - 1) * sizeof *sp->e);
    sp->n--;
}

int spool_put(spool *sp, const char *data, size_t len, uint64_t lines,
              uint64_t *dropped)
{
    char tmp[PATH_MAX + 64], path[PATH_MAX + 64];
    uint64_t seq = sp->next_seq++;
    size_t done = 0;
    int fd;

    if (len > sp->cap)
        return -1;
    /* make room first, oldest first, never the one in flight */
    for (size_t i = 0; sp->bytes + len > sp->cap && i < sp->n;) {
        if (sp->e[i].seq == sp->inflight) {
            i++;
            continue;
        }
        *dropped += sp->e[i].lines;
        remove_at(sp, i);
    }
    if (sp->bytes + len > sp->cap)
        return -1;
    file_path(sp, seq, "tmp", tmp, sizeof tmp);
    file_path(sp, seq, "lp", path, sizeof path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (done < len) {
        ssize_t r = write(fd, data + done, len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    if (close(fd) < 0 || done != len || rename(tmp, path) < 0 ||
        push(sp, seq, len, lines) < 0) {
        unlink(tmp);
        unlink(path);
        return -1;
    }
    return 0;
}

int spool_take(spool *sp, char **data, size_t *len, uint64_t *lines,
               uint64_t *seq, uint64_t *dropped)
{
    char path[PATH_MAX + 64];

    *data = NULL;
    *len = 0;
    if (sp->n == 0)
        return 1;
    file_path(sp, sp->e[0].seq, "lp", path, sizeof path);
    if (read_file(path, data, len) < 0 || *len != sp->e[0].bytes) {
        free(*data);
        *data = NULL;
        *dropped += sp->e[0].lines;
        remove_at(sp, 0);
        return -1;
    }
    *lines = sp->e[0].lines;
    *seq = sp->e[0].seq;
    sp->inflight = *seq;
    return 0;
}

void spool_remove(spool *sp, uint64_t seq)
{
    for (size_t i = 0; i < sp->n; i++) {
        if (sp->e[i].seq == seq) {
            remove_at(sp, i);
            break;
        }
    }
    if (sp->inflight == seq)
        sp->inflight = 0;
}

void spool_close(spool *sp)
{
    free(sp->e);
    sp->e = NULL;
    sp->n = sp->size = 0;
}
