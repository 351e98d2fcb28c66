/* Sinks: spec parsing and its messages, then real sockets on loopback only
 * (127.0.0.1 and ::1 on an ephemeral port, unix datagram sockets in a
 * mkdtemp folder) and the metrics file. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "common/sink.h"
#include "loong/errors.h"

#define DGRAM_MAX 8192

static char tmpdir[64];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- parsing ---------------------------------------------------------- */

static void parse_ok(const char *s, int kind)
{
    lsink_spec spec;
    char err[256] = "";

    CHECK_CONTEXT("sink \"%s\"", s);
    if (!CHECK_EQ_INT(lsink_parse(s, &spec, err, sizeof err), 0))
        fprintf(stderr, "    %s\n", err);
    CHECK_EQ_INT(spec.kind, kind);
    CHECK_CONTEXT("%s", "");
}

/* Refused, with a message that says what is wrong. */
static void parse_bad(const char *s, const char *says)
{
    lsink_spec spec;
    char err[256] = "";

    CHECK_CONTEXT("sink \"%s\"", s ? s : "(NULL)");
    CHECK_EQ_INT(lsink_parse(s, &spec, err, sizeof err), LOONG_EINVAL);
    if (!CHECK(strstr(err, says) != NULL))
        fprintf(stderr, "    message \"%s\" lacks \"%s\"\n", err, says);
    CHECK(strchr(err, '\n') == NULL);
    CHECK_CONTEXT("%s", "");
}

static void check_udp_addr(const char *s, int family, const char *ip,
                           int port)
{
    lsink_spec spec;
    char text[INET6_ADDRSTRLEN] = "";

    CHECK_CONTEXT("sink \"%s\"", s);
    if (CHECK_EQ_INT(lsink_parse(s, &spec, NULL, 0), 0) &&
        CHECK_EQ_INT(spec.addr.ss_family, family)) {
        if (family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&spec.addr;
            inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
            CHECK_EQ_INT(ntohs(a->sin_port), port);
            CHECK_EQ_U64(spec.addrlen, sizeof *a);
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&spec.addr;
            inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
            CHECK_EQ_INT(ntohs(a->sin6_port), port);
            CHECK_EQ_U64(spec.addrlen, sizeof *a);
        }
        CHECK_EQ_STR(text, ip);
    }
    CHECK_CONTEXT("%s", "");
}

static void test_parse(void)
{
    lsink_spec spec;
    char longpath[PATH_MAX + 16], err[16];

    parse_ok("dir", LSINK_DIR);
    CHECK_EQ_INT(lsink_parse("dir", &spec, NULL, 0), 0);
    CHECK_EQ_STR(spec.path, "");
    CHECK_EQ_INT(lsink_parse("dir:/var/tmp/out", &spec, NULL, 0), 0);
    CHECK_EQ_INT(spec.kind, LSINK_DIR);
    CHECK_EQ_STR(spec.path, "/var/tmp/out");
    CHECK_EQ_INT(lsink_parse("unix:/run/agent.sock", &spec, NULL, 0), 0);
    CHECK_EQ_INT(spec.kind, LSINK_UNIX);
    CHECK_EQ_STR(spec.path, "/run/agent.sock");
    parse_ok("udp://127.0.0.1:8089", LSINK_UDP);

    check_udp_addr("udp://127.0.0.1:8089", AF_INET, "127.0.0.1", 8089);
    check_udp_addr("udp://[::1]:65535", AF_INET6, "::1", 65535);
    check_udp_addr("udp://localhost:1", AF_INET, "127.0.0.1", 1);
    check_udp_addr("udp://LocalHost:8094", AF_INET, "127.0.0.1", 8094);
    /* any address parses; only these tests keep to loopback */
    check_udp_addr("udp://10.1.2.3:8089", AF_INET, "10.1.2.3", 8089);
    check_udp_addr("udp://[2001:db8::7]:53", AF_INET6, "2001:db8::7", 53);

    parse_bad(NULL, "empty sink");
    parse_bad("", "empty sink");
    parse_bad("dir:", "empty path");
    parse_bad("unix:", "empty path");
    parse_bad("tcp://127.0.0.1:1", "unknown sink \"tcp\"");
    parse_bad("directory", "unknown sink \"directory\"");
    parse_bad("file:/x", "unknown sink \"file\"");
    parse_bad("udp:127.0.0.1:8089", "udp://HOST:PORT");
    parse_bad("udp://127.0.0.1:0", "bad port \"0\"");
    parse_bad("udp://127.0.0.1:65536", "bad port \"65536\"");
    parse_bad("udp://127.0.0.1:80a", "bad port \"80a\"");
    parse_bad("udp://127.0.0.1:-1", "bad port \"-1\"");
    parse_bad("udp://127.0.0.1:+80", "bad port \"+80\"");
    parse_bad("udp://127.0.0.1:", "bad port \"\"");
    parse_bad("udp://127.0.0.1:8089/", "bad port \"8089/\"");
    parse_bad("udp://127.0.0.1:0000080", "bad port");
    parse_bad("udp://127.0.0.1", "missing port");
    parse_bad("udp://[::1]", "missing port");
    parse_bad("udp://:8089", "no host");
    parse_bad("udp://", "no host");
    parse_bad("udp://[]:8089", "no host");
    parse_bad("udp://[::1:8089", "missing ']'");
    parse_bad("udp://[::1]8089", "after ']'");
    parse_bad("udp://::1:8089", "brackets");
    parse_bad("udp://example.com:8089", "not an IPv4 address");
    parse_bad("udp://[127.0.0.1]:8089", "not an IPv6 address");
    parse_bad("udp://[localhost]:8089", "not an IPv6 address");
    parse_bad("udp://1.2.3.4.5:8089", "not an IPv4 address");

    memset(longpath, 0, sizeof longpath);
    memcpy(longpath, "unix:/", 6);
    memset(longpath + 6, 'u', 120);
    parse_bad(longpath, "path too long");
    memcpy(longpath, "dir:/", 5);
    memset(longpath + 5, 'd', PATH_MAX + 5);
    parse_bad(longpath, "path too long");

    /* a small message buffer is cut, never overrun */
    memset(err, 'X', sizeof err);
    CHECK_EQ_INT(lsink_parse("udp://1:2:3", &spec, err, 8), LOONG_EINVAL);
    CHECK(strlen(err) == 7 && err[8] == 'X');
}

/* ---- helpers for sockets ---------------------------------------------- */

/* A receiving datagram socket bound to loopback on an ephemeral port; the
 * sink spec that reaches it goes into spec. -1 if the family is missing. */
static int udp_receiver(int family, char *spec, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int big = 1 << 20;

    if (fd < 0)
        return -1;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
        len = sizeof(struct sockaddr_in6);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        close(fd);
        return -1;
    }
    if (family == AF_INET)
        snprintf(spec, n, "udp://127.0.0.1:%d",
                 ntohs(((struct sockaddr_in *)&ss)->sin_port));
    else
        snprintf(spec, n, "udp://[::1]:%d",
                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    return fd;
}

static int unix_receiver(const char *path)
{
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("unix_receiver");
        return -1;
    }
    return fd;
}

static lsink *open_spec(const char *s)
{
    lsink_spec spec;
    char err[256] = "";
    lsink *k = NULL;

    if (CHECK_EQ_INT(lsink_parse(s, &spec, err, sizeof err), 0))
        k = lsink_open(&spec, NULL, err, sizeof err);
    if (!CHECK(k != NULL))
        fprintf(stderr, "    %s: %s\n", s, err);
    return k;
}

/* Read datagrams until `want` bytes came or nothing arrives for 2 s.
 * Lengths of the datagrams go to lens (up to maxd). */
static size_t receive(int fd, char *buf, size_t want, size_t *lens,
                      size_t maxd, size_t *nd)
{
    size_t got = 0;

    *nd = 0;
    while (got < want) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&p, 1, 2000) <= 0)
            break;
        r = recv(fd, buf + got, want - got + 1, 0);
        if (r <= 0)
            break;
        if (*nd < maxd)
            lens[*nd] = (size_t)r;
        (*nd)++;
        got += (size_t)r;
    }
    return got;
}

/* Lines of assorted lengths, with a line longer than a datagram, one of
 * exactly 8 KiB, and pairs that fill a datagram exactly. */
static size_t make_lines(char *buf, size_t *nlines)
{
    static const size_t special[][2] = {
        {5, 10000}, {40, DGRAM_MAX}, {70, 4096}, {71, 4096}, {100, 8191},
        {101, 1}, {130, DGRAM_MAX + 1}, {160, DGRAM_MAX}, {161, 1}};
    size_t len = 0, n = 0, s = 0;

    for (size_t i = 0; i < 220; i++) {
        size_t l = 20 + (i * 131) % 700;
        if (s < sizeof special / sizeof special[0] && special[s][0] == i)
            l = special[s++][1];
        for (size_t k = 0; k + 1 < l; k++)
            buf[len + k] = (char)('a' + (i + k) % 26);
        buf[len + l - 1] = '\n';
        len += l;
        n++;
    }
    *nlines = n;
    return len;
}

/* The datagrams lsink_write must make: greedy, whole lines, <= 8 KiB. */
static size_t expected_dgrams(const char *data, size_t len, size_t *lens)
{
    size_t pos = 0, nd = 0;

    while (pos < len) {
        size_t end = pos, lines = 0;
        while (end < len) {
            size_t next = (size_t)((char *)memchr(data + end, '\n',
                                                  len - end) - data) + 1;
            if (lines > 0 && next - pos > DGRAM_MAX)
                break;
            end = next;
            lines++;
        }
        lens[nd++] = end - pos;
        pos = end;
    }
    return nd;
}

/* The receiver reads in its own thread while lsink_write sends: a unix
 * socket queues only net.unix.max_dgram_qlen datagrams (often 10). */
typedef struct rx {
    int fd;
    char *buf;
    size_t want, got, *lens, maxd, nd;
} rx;

static void *rx_loop(void *arg)
{
    rx *r = arg;

    r->got = receive(r->fd, r->buf, r->want, r->lens, r->maxd, &r->nd);
    return NULL;
}

static void check_datagrams(int rfd, lsink *k)
{
    static char data[400000], got[400000];
    static size_t lens[1000], want_lens[1000];
    size_t nlines, len = make_lines(data, &nlines), wnd = 0;
    size_t off = 0, longer = 0, full = 0;
    rx r = {rfd, got, len, 0, lens, 1000, 0};
    pthread_t t;

    pthread_create(&t, NULL, rx_loop, &r);
    /* the socket never blocks, so give the reader time to keep up */
    for (size_t pos = 0; pos < len;) {
        size_t end = pos + 20000 < len ? pos + 20000 : len;
        while (end < len && data[end - 1] != '\n')
            end++;
        CHECK_EQ_U64(lsink_write(k, data + pos, end - pos), 0);
        wnd += expected_dgrams(data + pos, end - pos, want_lens + wnd);
        pos = end;
        usleep(20000);
    }
    pthread_join(t, NULL);
    CHECK_EQ_MEM(got, r.got, data, len);
    CHECK_EQ_U64(r.nd, wnd);
    for (size_t i = 0; i < r.nd && i < wnd; i++) {
        const char *d = got + off;
        const char *nl = memchr(d, '\n', lens[i]);
        CHECK_EQ_U64(lens[i], want_lens[i]);
        CHECK(d[lens[i] - 1] == '\n'); /* whole lines only */
        /* over 8 KiB only as a single line */
        CHECK(lens[i] <= DGRAM_MAX || nl == d + lens[i] - 1);
        longer += lens[i] > DGRAM_MAX;
        full += lens[i] == DGRAM_MAX;
        off += lens[i];
    }
    CHECK(wnd > 10);
    CHECK(longer >= 2 && full >= 1); /* the special lines were exercised */
}

/* ---- UDP -------------------------------------------------------------- */

static void test_udp(int family)
{
    char spec[64];
    int rfd = udp_receiver(family, spec, sizeof spec);
    lsink *k;

    if (rfd < 0) {
        printf("test_sink: no %s loopback here; skipped\n",
               family == AF_INET ? "IPv4" : "IPv6");
        return;
    }
    k = open_spec(spec);
    if (k != NULL) {
        check_datagrams(rfd, k);
        /* a data run without a final '\n' still goes, as a line */
        CHECK_EQ_U64(lsink_write(k, "x y=1i", 6), 0);
        CHECK_EQ_U64(lsink_write(k, "", 0), 0);
    }
    lsink_close(k);
    close(rfd);
}

/* Nobody on the port: the kernel says ECONNREFUSED, lines are counted. */
static void test_udp_refused(void)
{
    char spec[64];
    int rfd = udp_receiver(AF_INET, spec, sizeof spec);
    uint64_t dropped = 0;
    double t0 = now_s();
    lsink *k;

    close(rfd); /* the port is now closed */
    k = open_spec(spec);
    for (int i = 0; i < 200 && dropped == 0 && k; i++) {
        dropped += lsink_write(k, "m v=1i\nm v=2i\n", 14);
        usleep(1000);
    }
    CHECK_EQ_U64(dropped, 2);
    CHECK(now_s() - t0 < 2.0);
    lsink_close(k);
}

/* ---- unix ------------------------------------------------------------- */

static void test_unix(void)
{
    char path[128], spec[160];
    int rfd;
    lsink *k;

    snprintf(path, sizeof path, "%s/agent.sock", tmpdir);
    snprintf(spec, sizeof spec, "unix:%s", path);
    rfd = unix_receiver(path);
    k = open_spec(spec);
    if (rfd >= 0 && k != NULL)
        check_datagrams(rfd, k);
    lsink_close(k);
    close(rfd);
}

/* The receiver reads nothing: sends fail with EAGAIN, lines are dropped
 * and counted, and no call waits. Afterwards every line is accounted for:
 * received + dropped == sent. */
static void test_unix_full(void)
{
    static char line[3000], got[DGRAM_MAX + 1];
    char path[128], spec[160];
    uint64_t sent = 0, dropped = 0, received = 0;
    double t0, slowest = 0;
    int rfd;
    lsink *k;

    snprintf(path, sizeof path, "%s/full.sock", tmpdir);
    snprintf(spec, sizeof spec, "unix:%s", path);
    rfd = unix_receiver(path);
    k = open_spec(spec);
    if (rfd < 0 || k == NULL)
        return;
    memset(line, 'f', sizeof line);
    line[sizeof line - 1] = '\n';
    t0 = now_s();
    /* bounded: far more than any socket buffer holds */
    for (int i = 0; i < 5000 && dropped < 50; i++) {
        double t = now_s();
        dropped += lsink_write(k, line, sizeof line);
        sent++;
        if (now_s() - t > slowest)
            slowest = now_s() - t;
    }
    CHECK(dropped >= 50);
    CHECK(now_s() - t0 < 2.0);
    CHECK(slowest < 0.5);
    for (;;) {
        ssize_t r = recv(rfd, got, sizeof got, MSG_DONTWAIT);
        if (r <= 0)
            break;
        CHECK_EQ_INT(r, sizeof line);
        received++;
    }
    CHECK_EQ_U64(received + dropped, sent);
    CHECK(received > 0);
    printf("test_sink: full unix socket: %llu lines sent, %llu received, "
           "%llu dropped\n", (unsigned long long)sent,
           (unsigned long long)received, (unsigned long long)dropped);
    lsink_close(k);
    close(rfd);
}

/* No socket file (ENOENT), or a dead one (ECONNREFUSED): all dropped. */
static void test_unix_absent(void)
{
    char path[128], spec[160];
    lsink *k;
    int fd;

    snprintf(path, sizeof path, "%s/nobody.sock", tmpdir);
    snprintf(spec, sizeof spec, "unix:%s", path);
    k = open_spec(spec);
    CHECK_EQ_U64(lsink_write(k, "a b=1\nc d=2\ne f=3\n", 18), 3);
    /* the agent appears later: the same sink reaches it */
    fd = unix_receiver(path);
    CHECK_EQ_U64(lsink_write(k, "a b=1\n", 6), 0);
    close(fd); /* the file stays, nobody behind it */
    CHECK_EQ_U64(lsink_write(k, "a b=1\nc d=2\n", 12), 2);
    lsink_close(k);
}

/* ---- dir -------------------------------------------------------------- */

static size_t read_file(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    ssize_t r = fd >= 0 ? read(fd, buf, n) : -1;

    if (fd >= 0)
        close(fd);
    return r > 0 ? (size_t)r : 0;
}

static void test_dir(void)
{
    char file[128], buf[256], err[256] = "";
    lsink_spec spec;
    lsink *k;
    size_t n;

    snprintf(file, sizeof file, "%s/metrics.lp", tmpdir);
    CHECK_EQ_INT(lsink_parse("dir", &spec, NULL, 0), 0);
    k = lsink_open(&spec, file, err, sizeof err);
    CHECK(k != NULL);
    CHECK_EQ_U64(lsink_write(k, "a v=1i\nb v=2i\n", 14), 0);
    CHECK_EQ_U64(lsink_write(k, "c v=3i", 6), 0); /* gets its '\n' */
    lsink_close(k);
    /* a second open appends, it does not truncate */
    k = lsink_open(&spec, file, err, sizeof err);
    CHECK_EQ_U64(lsink_write(k, "d v=4i\n", 7), 0);
    lsink_close(k);
    n = read_file(file, buf, sizeof buf);
    CHECK_EQ_MEM(buf, n, "a v=1i\nb v=2i\nc v=3i\nd v=4i\n", 28);

    /* the file cannot be made: NULL and a message naming it */
    snprintf(file, sizeof file, "%s/no/such/dir/metrics.lp", tmpdir);
    k = lsink_open(&spec, file, err, sizeof err);
    CHECK(k == NULL);
    CHECK(strstr(err, "no/such/dir") != NULL);
    CHECK(lsink_open(&spec, NULL, err, sizeof err) == NULL);

    /* no sink at all: everything counts as dropped */
    CHECK_EQ_U64(lsink_write(NULL, "a\nb\nc", 5), 3);
    lsink_close(NULL);
}

int main(void)
{
    char dir[] = "/tmp/loong-test-sink-XXXXXX";
    char cmd[128];

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s", dir);
    test_parse();
    test_udp(AF_INET);
    test_udp(AF_INET6);
    test_udp_refused();
    test_unix();
    test_unix_full();
    test_unix_absent();
    test_dir();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_sink: could not remove %s\n", tmpdir);
    return CHECK_DONE("test_sink");
}
