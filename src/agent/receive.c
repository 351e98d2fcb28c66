/* The receiving side: the unix datagram socket, optionally UDP on a
 * loopback address, and the status socket; one loop that reads datagrams
 * (many per system call), validates every line, stamps the lines that
 * carry no timestamp with the time of arrival, queues the good ones and
 * counts the bad ones; it also emits the agent's own points and answers
 * status requests. */
#include "agent/agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/validate.h"
#include "common/agent.h"
#include "common/lp.h"

#define DGRAM_MAX 65536
#define VLEN 32
#define REJECT_LOG_FIRST 20

struct agent_rx {
    const agent_config *cfg;
    agent_queue *q;
    int unix_fd, udp_fd, status_fd;
    char *bufs;   /* VLEN datagrams of DGRAM_MAX + 1 */
    char *stage;  /* the good lines of one datagram, stamped */
    size_t stage_cap;
    uint64_t precision_ns;
    uint64_t next_stats_ms;
    uint64_t start_ms;
    uint64_t rejected_logged;
    char output_name[PATH_MAX + 64];
};

static int mkdir_parent(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    if (slash == NULL || slash == tmp)
        return 0;
    *slash = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Bind a unix socket at path, replacing a stale one (nobody listening)
 * but never a live agent's. */
static int bind_unix(const char *path, int type, unsigned mode, char *err,
                     size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    size_t n = strlen(path);
    int fd;

    if (n == 0 || n >= sizeof sa.sun_path) {
        snprintf(err, errlen, "socket path too long: '%s'", path);
        return -1;
    }
    if (mkdir_parent(path) < 0) {
        snprintf(err, errlen, "cannot create the folder of '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "'%s' exists and is not a socket", path);
            return -1;
        }
        int probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, n + 1);
        if (probe >= 0 &&
            connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(probe);
            snprintf(err, errlen, "another agent is running at '%s'", path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n + 1);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        chmod(path, mode) < 0 ||
        (type == SOCK_STREAM && listen(fd, 16) < 0)) {
        snprintf(err, errlen, "cannot listen at '%s': %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

int rx_udp_resolve(const char *spec, struct sockaddr_storage *addr,
                   unsigned *addrlen, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints, *res = NULL;

    if (colon == NULL || colon == spec ||
        (size_t)(colon - spec) >= sizeof host) {
        snprintf(err, errlen, "bad --udp '%s': expected HOST:PORT", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if (strcmp(host, "localhost") != 0)
        hints.ai_flags |= AI_NUMERICHOST;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL) {
        snprintf(err, errlen, "bad --udp '%s': expected a loopback address "
                 "and a port, like 127.0.0.1:8089", spec);
        return -1;
    }
    if (!is_loopback(res->ai_addr) || res->ai_addrlen > sizeof *addr) {
        snprintf(err, errlen, "--udp '%s' is not a loopback address: loongd "
                 "listens on loopback only (127.0.0.0/8, ::1)", spec);
        freeaddrinfo(res);
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int bind_udp(const char *spec, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    unsigned addrlen;
    int fd;

    if (rx_udp_resolve(spec, &addr, &addrlen, err, errlen) < 0)
        return -1;
    fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, addrlen) < 0) {
        snprintf(err, errlen, "cannot listen on udp %s: %s", spec,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    return fd;
}

static void big_rcvbuf(int fd)
{
    int size = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

agent_rx *rx_open(const agent_config *cfg, agent_queue *q,
                  const char *output_name, char *err, size_t errlen)
{
    agent_rx *rx = calloc(1, sizeof *rx);

    if (rx == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rx->cfg = cfg;
    rx->q = q;
    rx->unix_fd = rx->udp_fd = rx->status_fd = -1;
    rx->precision_ns = config_precision_ns(cfg->precision);
    rx->start_ms = now_ms();
    rx->next_stats_ms = rx->start_ms + cfg->stats_ms;
    snprintf(rx->output_name, sizeof rx->output_name, "%s", output_name);
    /* a line of 1 byte and '\n' can grow by a timestamp (' ' + 20) */
    rx->stage_cap = (DGRAM_MAX + 1) * 12;
    rx->bufs = malloc((size_t)VLEN * (DGRAM_MAX + 1));
    rx->stage = malloc(rx->stage_cap);
    if (rx->bufs == NULL || rx->stage == NULL) {
        snprintf(err, errlen, "out of memory");
        rx_close(rx);
        return NULL;
    }
    if (cfg->socket_path[0]) {
        rx->unix_fd = bind_unix(cfg->socket_path, SOCK_DGRAM, cfg->socket_mode,
                                err, errlen);
        if (rx->unix_fd < 0)
            goto fail;
        big_rcvbuf(rx->unix_fd);
    }
    if (cfg->udp[0]) {
        rx->udp_fd = bind_udp(cfg->udp, err, errlen);
        if (rx->udp_fd < 0)
            goto fail;
        big_rcvbuf(rx->udp_fd);
    }
    rx->status_fd = bind_unix(cfg->status_path, SOCK_STREAM, cfg->socket_mode,
                              err, errlen);
    if (rx->status_fd < 0)
        goto fail;
    return rx;
fail:
    rx_close(rx);
    return NULL;
}

void rx_close(agent_rx *rx)
{
    if (rx == NULL)
        return;
    if (rx->unix_fd >= 0) {
        close(rx->unix_fd);
        unlink(rx->cfg->socket_path);
    }
    if (rx->udp_fd >= 0)
        close(rx->udp_fd);
    if (rx->status_fd >= 0) {
        close(rx->status_fd);
        unlink(rx->cfg->status_path);
    }
    free(rx->bufs);
    free(rx->stage);
    free(rx);
}

static int64_t wall_units(const agent_rx *rx)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return ns / (int64_t)rx->precision_ns;
}

static void log_rejected(agent_rx *rx, const char *line, size_t len,
                         const char *why)
{
    char shown[121];
    size_t k = 0;

    rx->rejected_logged++;
    if (rx->rejected_logged > REJECT_LOG_FIRST &&
        rx->rejected_logged % 10000 != 0)
        return;
    for (size_t i = 0; i < len && k < sizeof shown - 1; i++) {
        unsigned char c = (unsigned char)line[i];
        shown[k++] = c < 0x20 || c >= 0x7F ? '?' : (char)c;
    }
    shown[k] = '\0';
    agent_log("rejected line (%s; %llu rejected so far): %s%s", why,
              (unsigned long long)rx->rejected_logged, shown,
              len > k ? "..." : "");
}

/* One datagram: buf[n] is writable (set to '\0'). */
static void take_datagram(agent_rx *rx, char *buf, size_t n)
{
    size_t pos = 0, out = 0;
    uint64_t good = 0, bad = 0;
    int64_t stamp = 0;

    buf[n] = '\0';
    while (pos < n) {
        char *nl = memchr(buf + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - buf) : n;
        size_t len = end - pos;
        const char *line = buf + pos;
        int has_ts;
        const char *why;

        pos = end + 1;
        if (len == 0)
            continue;
        if (len > 0 && line[len - 1] == '\r') {
            bad++;
            log_rejected(rx, line, len, "carriage return");
            continue;
        }
        if (!lpv_check(line, len, &has_ts, &why)) {
            bad++;
            log_rejected(rx, line, len, why);
            continue;
        }
        memcpy(rx->stage + out, line, len);
        out += len;
        if (!has_ts) {
            if (stamp == 0)
                stamp = wall_units(rx);
            out += (size_t)sprintf(rx->stage + out, " %" PRId64, stamp);
        }
        rx->stage[out++] = '\n';
        good++;
    }
    q_count_rejected(rx->q, bad, 1);
    q_append(rx->q, rx->stage, out, good, 0);
}

static void drain(agent_rx *rx, int fd)
{
    struct mmsghdr msgs[VLEN];
    struct iovec iov[VLEN];

    for (int round = 0; round < 64; round++) {
        memset(msgs, 0, sizeof msgs);
        for (int i = 0; i < VLEN; i++) {
            iov[i].iov_base = rx->bufs + (size_t)i * (DGRAM_MAX + 1);
            iov[i].iov_len = DGRAM_MAX;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = recvmmsg(fd, msgs, VLEN, MSG_DONTWAIT, NULL);
        if (got <= 0)
            return;
        for (int i = 0; i < got; i++) {
            size_t len = msgs[i].msg_len;
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                /* longer than any valid line could make it: all rejected */
                q_count_rejected(rx->q, 1, 1);
                log_rejected(rx, iov[i].iov_base, 80, "datagram too long");
                continue;
            }
            take_datagram(rx, iov[i].iov_base, len);
        }
        if (got < VLEN)
            return;
    }
}

static void answer_status(agent_rx *rx)
{
    for (;;) {
        int fd = accept4(rx->status_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        agent_stats st;
        char out[2048];
        q_snapshot(rx->q, &st);
        size_t n = status_json(out, sizeof out, &st, rx->output_name,
                               (long)getpid(), rx->start_ms);
        ssize_t w = send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        close(fd);
    }
}

/* The agent's own point: measurement loongd, tag host. */
static void own_point(agent_rx *rx)
{
    agent_stats st;
    char line[2048];

    q_snapshot(rx->q, &st);
    uint64_t dropped = st.dropped_full + st.dropped_refused + st.dropped_exit;
    uint64_t buffered = st.mem_lines + st.spool_lines + st.inflight_lines;
    loong_tag tags[] = {{"host", rx->cfg->host}};
    loong_field f[] = {
        {"received", LOONG_FIELD_UINT, {.u = st.received}},
        {"rejected", LOONG_FIELD_UINT, {.u = st.rejected}},
        {"written", LOONG_FIELD_UINT, {.u = st.written}},
        {"dropped", LOONG_FIELD_UINT, {.u = dropped}},
        {"dropped_full", LOONG_FIELD_UINT, {.u = st.dropped_full}},
        {"dropped_refused", LOONG_FIELD_UINT, {.u = st.dropped_refused}},
        {"buffered", LOONG_FIELD_UINT, {.u = buffered}},
        {"buffered_bytes", LOONG_FIELD_UINT,
         {.u = st.mem_bytes + st.spool_bytes}},
        {"spooled", LOONG_FIELD_UINT, {.u = st.spool_lines}},
        {"retries", LOONG_FIELD_UINT, {.u = st.retries}},
        {"self", LOONG_FIELD_UINT, {.u = st.self}},
    };
    loong_point pt = {"loongd", tags, 1, f, sizeof f / sizeof f[0], 0};
    ssize_t n = lp_encode(line, sizeof line, &pt, NULL, 0, wall_units(rx));
    if (n > 0)
        q_append(rx->q, line, (size_t)n, 1, 1);
}

void rx_run(agent_rx *rx, int stop_fd)
{
    struct pollfd p[4];
    int np = 0, iu = -1, id = -1, is;

    p[np++] = (struct pollfd){stop_fd, POLLIN, 0};
    if (rx->unix_fd >= 0) {
        iu = np;
        p[np++] = (struct pollfd){rx->unix_fd, POLLIN, 0};
    }
    if (rx->udp_fd >= 0) {
        id = np;
        p[np++] = (struct pollfd){rx->udp_fd, POLLIN, 0};
    }
    is = np;
    p[np++] = (struct pollfd){rx->status_fd, POLLIN, 0};
    for (;;) {
        int timeout = 1000;
        if (rx->cfg->stats_ms) {
            uint64_t now = now_ms();
            if (now >= rx->next_stats_ms) {
                own_point(rx);
                rx->next_stats_ms = now + rx->cfg->stats_ms;
            }
            timeout = (int)(rx->next_stats_ms - now_ms());
            if (timeout < 0)
                timeout = 0;
            if (timeout > 1000)
                timeout = 1000;
        }
        int rc = poll(p, (nfds_t)np, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc <= 0)
            continue;
        if (p[0].revents)
            break;
        if (iu >= 0 && p[iu].revents)
            drain(rx, rx->unix_fd);
        if (id >= 0 && p[id].revents)
            drain(rx, rx->udp_fd);
        if (p[is].revents)
            answer_status(rx);
    }
    /* what was sent before the stop is taken, then the sockets close */
    if (rx->unix_fd >= 0)
        drain(rx, rx->unix_fd);
    if (rx->udp_fd >= 0)
        drain(rx, rx->udp_fd);
    if (rx->cfg->stats_ms)
        own_point(rx);
}
