/* Line protocol sinks: see sink.h.
 *
 * Only the flusher thread writes, so a sink needs no lock. Datagram
 * sockets are non-blocking and every send also says MSG_DONTWAIT: a slow or
 * absent receiver costs dropped lines, never a stalled flusher.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/agent.h"
#include "loong/errors.h"

#define LSINK_DGRAM_MAX 8192
#define LSINK_HOST_MAX 256
#define LSINK_USAGE \
    "expected dir, dir:PATH, udp://HOST:PORT, unix:PATH or agent"

struct lsink {
    int kind;
    int fd;
    int need_newline;         /* dir: a cut line could not be removed */
    struct sockaddr_un unix_addr;
    socklen_t unix_len;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return LOONG_EINVAL;
}

/* ---- parsing ---------------------------------------------------------- */

static int parse_path(const char *sink, const char *path, size_t max,
                      char *dst, char *err, size_t errlen)
{
    size_t n = strlen(path);

    if (n == 0)
        return fail(err, errlen, "sink \"%s\": empty path", sink);
    if (n >= max) {
        return fail(err, errlen, "sink \"%.40s...\": path too long (%zu "
                    "bytes, at most %zu)", sink, n, max - 1);
    }
    memcpy(dst, path, n + 1);
    return 0;
}

/* 1-65535, decimal digits only. */
static int parse_port(const char *s)
{
    long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* Split "HOST:PORT" or "[V6]:PORT" into host and port. */
static int split_host_port(const char *sink, const char *hp, char *host,
                           const char **port, int *bracketed, char *err,
                           size_t errlen)
{
    const char *colon, *end;

    *bracketed = hp[0] == '[';
    if (*bracketed) {
        end = strchr(hp, ']');
        if (end == NULL)
            return fail(err, errlen, "sink \"%s\": missing ']'", sink);
        hp++;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != ':' && end[1] != '\0') {
            return fail(err, errlen, "sink \"%s\": expected ':PORT' after "
                        "']'", sink);
        }
    } else {
        colon = strchr(hp, ':');
        end = colon ? colon : hp + strlen(hp);
        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            return fail(err, errlen, "sink \"%s\": write an IPv6 address in "
                        "brackets, like udp://[::1]:8094", sink);
        }
    }
    if (end == hp)
        return fail(err, errlen, "sink \"%s\": no host", sink);
    if ((size_t)(end - hp) >= LSINK_HOST_MAX)
        return fail(err, errlen, "sink \"%.60s...\": host too long", sink);
    if (colon == NULL) {
        return fail(err, errlen, "sink \"%s\": missing port (udp://HOST:PORT)",
                    sink);
    }
    memcpy(host, hp, (size_t)(end - hp));
    host[end - hp] = '\0';
    *port = colon + 1;
    return 0;
}

/* Numeric addresses only (no DNS from inside a profiled program); the one
 * name allowed, localhost, means 127.0.0.1. */
static int resolve(const char *sink, const char *host, const char *port,
                   int bracketed, lsink_spec *out, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    int local = !bracketed && strcasecmp(host, "localhost") == 0;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV | (local ? 0 : AI_NUMERICHOST);
    hints.ai_family = local || !bracketed ? AF_INET : AF_INET6;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        if (local) {
            return fail(err, errlen, "sink \"%s\": cannot resolve localhost: "
                        "%s", sink, gai_strerror(rc));
        }
        return fail(err, errlen, "sink \"%s\": \"%s\" is not an %s", sink,
                    host, bracketed ? "IPv6 address"
                                    : "IPv4 address, [IPv6] or localhost");
    }
    if (res->ai_addrlen > sizeof out->addr) {
        freeaddrinfo(res);
        return fail(err, errlen, "sink \"%s\": address too long", sink);
    }
    memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
    out->addrlen = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int parse_udp(const char *sink, lsink_spec *out, char *err,
                     size_t errlen)
{
    char host[LSINK_HOST_MAX];
    const char *port = "";
    int bracketed;

    if (split_host_port(sink, sink + 6, host, &port, &bracketed, err,
                        errlen) < 0)
        return LOONG_EINVAL;
    if (parse_port(port) < 0) {
        return fail(err, errlen, "sink \"%s\": bad port \"%s\" (expected "
                    "1-65535)", sink, port);
    }
    out->kind = LSINK_UDP;
    return resolve(sink, host, port, bracketed, out, err, errlen);
}

int lsink_parse(const char *s, lsink_spec *out, char *err, size_t errlen)
{
    const char *colon;

    memset(out, 0, sizeof *out);
    if (s == NULL || *s == '\0')
        return fail(err, errlen, "empty sink: " LSINK_USAGE);
    if (strcmp(s, "dir") == 0) {
        out->kind = LSINK_DIR;
        return 0;
    }
    if (strncmp(s, "dir:", 4) == 0) {
        out->kind = LSINK_DIR;
        return parse_path(s, s + 4, sizeof out->path, out->path, err,
                          errlen);
    }
    if (strcmp(s, "agent") == 0) {
        /* loongd's socket: a unix datagram sink */
        out->kind = LSINK_UNIX;
        if (agent_socket_path(0, out->path, sizeof out->path) != 0)
            return fail(err, errlen, "sink \"agent\": the agent's socket "
                        "path is too long ($LOONG_AGENT_SOCKET)");
        return 0;
    }
    if (strncmp(s, "unix:", 5) == 0) {
        out->kind = LSINK_UNIX;
        return parse_path(s, s + 5, sizeof(((struct sockaddr_un *)0)->sun_path),
                          out->path, err, errlen);
    }
    if (strncmp(s, "udp://", 6) == 0)
        return parse_udp(s, out, err, errlen);
    if (strncmp(s, "udp:", 4) == 0)
        return fail(err, errlen, "sink \"%s\": write udp://HOST:PORT", s);
    colon = strchr(s, ':');
    return fail(err, errlen, "unknown sink \"%.*s\": " LSINK_USAGE,
                colon ? (int)(colon - s) : (int)strlen(s), s);
}

/* ---- opening ---------------------------------------------------------- */

static int open_dir(lsink *k, const char *metrics_path, char *err,
                    size_t errlen)
{
    if (metrics_path == NULL || *metrics_path == '\0') {
        fail(err, errlen, "dir sink: no metrics file given");
        return -1;
    }
    k->fd = open(metrics_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                 0644);
    if (k->fd < 0) {
        fail(err, errlen, "cannot open %s: %s", metrics_path,
             strerror(errno));
        return -1;
    }
    return 0;
}

/* UDP is connected: the kernel then reports ECONNREFUSED from a closed
 * port, which counts the drops. */
static int open_udp(lsink *k, const lsink_spec *spec, char *err,
                    size_t errlen)
{
    int rc;

    k->fd = socket(spec->addr.ss_family,
                   SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (k->fd < 0) {
        fail(err, errlen, "udp sink: socket: %s", strerror(errno));
        return -1;
    }
    do {
        rc = connect(k->fd, (const struct sockaddr *)&spec->addr,
                     spec->addrlen);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        fail(err, errlen, "udp sink: connect: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* A unix socket is not connected: the agent may start later or restart,
 * and each sendto finds the current one. */
static int open_unix(lsink *k, const lsink_spec *spec, char *err,
                     size_t errlen)
{
    size_t n = strnlen(spec->path, sizeof spec->path);

    if (n == 0 || n >= sizeof k->unix_addr.sun_path) {
        fail(err, errlen, "unix sink: bad socket path");
        return -1;
    }
    k->unix_addr.sun_family = AF_UNIX;
    memcpy(k->unix_addr.sun_path, spec->path, n + 1);
    k->unix_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    k->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (k->fd < 0) {
        fail(err, errlen, "unix sink: socket: %s", strerror(errno));
        return -1;
    }
    return 0;
}

lsink *lsink_open(const lsink_spec *spec, const char *metrics_path,
                  char *err, size_t errlen)
{
    lsink *k;
    int rc;

    if (spec == NULL) {
        fail(err, errlen, "no sink");
        return NULL;
    }
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    k->kind = spec->kind;
    k->fd = -1;
    switch (spec->kind) {
    case LSINK_DIR:
        rc = open_dir(k, metrics_path, err, errlen);
        break;
    case LSINK_UDP:
        rc = open_udp(k, spec, err, errlen);
        break;
    case LSINK_UNIX:
        rc = open_unix(k, spec, err, errlen);
        break;
    default:
        rc = fail(err, errlen, "unknown sink kind %d", spec->kind);
        break;
    }
    if (rc < 0) {
        lsink_close(k);
        return NULL;
    }
    return k;
}

void lsink_close(lsink *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

/* ---- writing ---------------------------------------------------------- */

/* A trailing fragment without '\n' counts as a line. */
static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t lines = 0;
    const char *end = p + n, *nl;

    while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p = nl + 1;
    }
    return lines + (p < end);
}

/* write() all of p, retrying on EINTR and short writes. Bytes written. */
static size_t write_all(int fd, const char *p, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = write(fd, p + done, n - done);
        if (r > 0)
            done += (size_t)r;
        else if (r < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    return done;
}

/* Take back the start of a line a failed write left in the file, so the
 * next write cannot glue a line onto it; if that fails, end it with a
 * newline first next time (one bad line rather than a merged one). */
static void cut_partial_line(lsink *s, size_t partial)
{
    off_t end = lseek(s->fd, 0, SEEK_CUR);

    if (end < (off_t)partial || ftruncate(s->fd, end - (off_t)partial) < 0)
        s->need_newline = 1;
}

static uint64_t write_file(lsink *s, const char *data, size_t len)
{
    size_t done, start;

    if (s->need_newline) {
        if (write_all(s->fd, "\n", 1) != 1)
            return count_lines(data, len);
        s->need_newline = 0;
    }
    done = write_all(s->fd, data, len);
    if (done == len) {
        if (data[len - 1] != '\n' && write_all(s->fd, "\n", 1) != 1)
            s->need_newline = 1;
        return 0;
    }
    start = done;
    while (start > 0 && data[start - 1] != '\n')
        start--;
    if (done > start)
        cut_partial_line(s, done - start);
    return count_lines(data + start, len - start);
}

/* One datagram; any error drops it (EAGAIN/ENOBUFS: full, ECONNREFUSED/
 * ENOENT: nobody listening, EMSGSIZE: too long for the socket). */
static int send_dgram(lsink *s, const char *p, size_t n)
{
    const struct sockaddr *to = NULL;
    socklen_t tolen = 0;
    ssize_t r;

    if (s->kind == LSINK_UNIX) {
        to = (const struct sockaddr *)&s->unix_addr;
        tolen = s->unix_len;
    }
    do {
        r = sendto(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL, to, tolen);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

/* Whole lines per datagram, up to LSINK_DGRAM_MAX bytes; a longer line
 * travels alone. */
static uint64_t write_dgrams(lsink *s, const char *data, size_t len)
{
    uint64_t dropped = 0;
    size_t pos = 0;

    while (pos < len) {
        size_t end = pos;
        uint64_t lines = 0;

        while (end < len) {
            const char *nl = memchr(data + end, '\n', len - end);
            size_t next = nl ? (size_t)(nl - data) + 1 : len;
            if (lines > 0 && next - pos > LSINK_DGRAM_MAX)
                break;
            end = next;
            lines++;
        }
        if (send_dgram(s, data + pos, end - pos) < 0)
            dropped += lines;
        pos = end;
    }
    return dropped;
}

uint64_t lsink_write(lsink *s, const char *data, size_t len)
{
    if (data == NULL || len == 0)
        return 0;
    if (s == NULL || s->fd < 0)
        return count_lines(data, len);
    if (s->kind == LSINK_DIR)
        return write_file(s, data, len);
    return write_dgrams(s, data, len);
}
