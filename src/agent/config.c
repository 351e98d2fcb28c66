/* loongd's configuration: defaults, then the config file (--config FILE),
 * then the other flags, which win. The file holds one `key = value` per
 * line, keys being the long flags without "--" ('_' or '-' alike), '#'
 * starting a comment line; flags that take no value take on/off there. */
#include "agent/agent.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/agent.h"
#include "common/spec.h"
#include "loong/version.h"

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("loongd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static void usage(FILE *out)
{
    char sock[256];
    if (agent_socket_path(1, sock, sizeof sock) != 0)
        snprintf(sock, sizeof sock, "%s", AGENT_SYSTEM_SOCKET);
    fprintf(out,
"Usage: loongd [OPTIONS]\n"
"       loongd --status [--json] [--socket PATH]\n"
"\n"
"The loong host agent: receives InfluxDB line protocol from profiled\n"
"programs on a unix datagram socket, validates every line, batches, and\n"
"writes to InfluxDB's /write (or to a file), keeping what it cannot\n"
"deliver yet in a bounded buffer. Reference: docs/agent.md, loongd(8).\n"
"\n"
"Input:\n"
"  --socket PATH          datagram socket (here: %s;\n"
"                         $LOONG_AGENT_SOCKET overrides the default)\n"
"  --socket-mode MODE     its permissions, octal (default 0666)\n"
"  --status-socket PATH   status socket (default: PATH's .sock ->\n"
"                         .status.sock)\n"
"  --udp HOST:PORT        also UDP on a loopback address (default: off)\n"
"Output (one of):\n"
"  --influx URL           InfluxDB (default http://127.0.0.1:8086)\n"
"    --db NAME            database (default loong)\n"
"    --rp NAME            retention policy (default: the database's)\n"
"    --precision P        ns, us, ms, s, m or h (default ns)\n"
"    --user NAME, --password SECRET, --password-file FILE\n"
"    --gzip on|off        gzip request bodies (default on)\n"
"    --create-db on|off   CREATE DATABASE when it is missing (default on)\n"
"    --timeout DURATION   per request (default 10s)\n"
"  --file PATH            append the lines to PATH instead\n"
"Buffering:\n"
"  --batch-lines N        lines per write, at most (default 5000)\n"
"  --batch-size SIZE      bytes per write, about (default 1M)\n"
"  --flush-interval D     longest a line waits for a batch (default 1s)\n"
"  --buffer-size SIZE     memory for lines not yet written (default 64M)\n"
"  --spool-dir DIR        spool the oldest to disk when memory is full\n"
"  --spool-size SIZE      spool cap (default 1G); past it the oldest go\n"
"  --retry-min D, --retry-max D   backoff between tries (100ms, 10s)\n"
"Own figures:\n"
"  --stats-interval D     own points (measurement loongd) every D, 0: none\n"
"                         (default 10s)\n"
"  --host NAME            their host tag (default: the host name)\n"
"  --status [--json]      print a running agent's figures and exit\n"
"Other:\n"
"  --config FILE          read options from FILE first\n"
"  --shutdown-timeout D   at SIGTERM, time to deliver what is queued (5s)\n"
"  --quiet                no log lines on stderr\n"
"  -h, --help, --version\n"
"SIZE: bytes, or a number with K, M or G. D: 250ms, 1s, 2m, ...\n",
            sock);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul = 1;

    if (errno || end == s || *s == '-')
        return -1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") ||
        !strcmp(s, "1"))
        *out = 1;
    else if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") ||
             !strcmp(s, "0"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int copy(char *dst, size_t cap, const char *key, const char *v)
{
    if (strlen(v) >= cap)
        return fail("--%s: too long (at most %zu bytes)", key, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int read_secret(const char *path, char *dst, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return fail("--password-file '%s': %s", path, strerror(errno));
    if (fgets(dst, (int)cap, f) == NULL)
        dst[0] = '\0';
    fclose(f);
    dst[strcspn(dst, "\r\n")] = '\0';
    return 0;
}

static int duration(const char *key, const char *v, uint64_t *ms, int zero)
{
    if (zero && strcmp(v, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (duration_parse_ms(v, ms) != 0)
        return fail("--%s '%s': expected a duration like 250ms, 1s or 2m",
                    key, v);
    return 0;
}

/* One option by its long name (with '_' read as '-'). 0, or 2 (printed). */
static int set(agent_config *c, const char *k, const char *v)
{
    int b;
    if (!strcmp(k, "socket"))
        return copy(c->socket_path, sizeof c->socket_path, k, v);
    if (!strcmp(k, "status-socket"))
        return copy(c->status_path, sizeof c->status_path, k, v);
    if (!strcmp(k, "socket-mode")) {
        char *end;
        unsigned long m = strtoul(v, &end, 8);
        if (*v == '\0' || *end || m > 0777)
            return fail("--socket-mode '%s': expected octal like 0660", v);
        c->socket_mode = (unsigned)m;
        return 0;
    }
    if (!strcmp(k, "udp"))
        return copy(c->udp, sizeof c->udp, k, v);
    if (!strcmp(k, "influx")) {
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return fail("--influx '%s': expected http://HOST:PORT or "
                        "https://...", v);
        c->output = OUT_INFLUX;
        return copy(c->influx_url, sizeof c->influx_url, k, v);
    }
    if (!strcmp(k, "db"))
        return *v ? copy(c->db, sizeof c->db, k, v) : fail("--db: empty");
    if (!strcmp(k, "rp"))
        return copy(c->rp, sizeof c->rp, k, v);
    if (!strcmp(k, "precision")) {
        if (config_precision_ns(v) == 0)
            return fail("--precision '%s': expected ns, us, ms, s, m or h",
                        v);
        return copy(c->precision, sizeof c->precision, k, v);
    }
    if (!strcmp(k, "user"))
        return copy(c->username, sizeof c->username, k, v);
    if (!strcmp(k, "password"))
        return copy(c->password, sizeof c->password, k, v);
    if (!strcmp(k, "password-file"))
        return read_secret(v, c->password, sizeof c->password);
    if (!strcmp(k, "gzip") || !strcmp(k, "create-db") ||
        !strcmp(k, "quiet")) {
        if (parse_bool(v, &b) != 0)
            return fail("--%s '%s': expected on or off", k, v);
        if (!strcmp(k, "gzip"))
            c->gzip = b;
        else if (!strcmp(k, "quiet"))
            c->quiet = b;
        else
            c->create_db = b;
        return 0;
    }
    if (!strcmp(k, "timeout"))
        return duration(k, v, &c->timeout_ms, 0);
    if (!strcmp(k, "file")) {
        c->output = OUT_FILE;
        return copy(c->file, sizeof c->file, k, v);
    }
    if (!strcmp(k, "batch-lines")) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (*v == '\0' || *end || n < 1 || n > 10000000)
            return fail("--batch-lines '%s': expected 1 to 10000000", v);
        c->batch_lines = n;
        return 0;
    }
    if (!strcmp(k, "batch-size") || !strcmp(k, "buffer-size") ||
        !strcmp(k, "spool-size")) {
        uint64_t n;
        if (parse_size(v, &n) != 0)
            return fail("--%s '%s': expected a size like 512K, 64M or 1G",
                        k, v);
        if (!strcmp(k, "batch-size"))
            c->batch_bytes = n;
        else if (!strcmp(k, "buffer-size"))
            c->buffer_bytes = n;
        else
            c->spool_bytes = n;
        return 0;
    }
    if (!strcmp(k, "flush-interval"))
        return duration(k, v, &c->flush_ms, 0);
    if (!strcmp(k, "spool-dir"))
        return copy(c->spool_dir, sizeof c->spool_dir, k, v);
    if (!strcmp(k, "retry-min"))
        return duration(k, v, &c->retry_min_ms, 0);
    if (!strcmp(k, "retry-max"))
        return duration(k, v, &c->retry_max_ms, 0);
    if (!strcmp(k, "stats-interval"))
        return duration(k, v, &c->stats_ms, 1);
    if (!strcmp(k, "shutdown-timeout"))
        return duration(k, v, &c->shutdown_ms, 1);
    if (!strcmp(k, "host"))
        return *v ? copy(c->host, sizeof c->host, k, v)
                  : fail("--host: empty");
    return fail("unknown option '--%s' (see 'loongd --help')", k);
}

static void norm_key(char *k)
{
    for (; *k; k++)
        if (*k == '_')
            *k = '-';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int load_file(agent_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0, rc = 0;

    if (f == NULL)
        return fail("cannot read config '%s': %s", path, strerror(errno));
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = fail("%s:%d: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        size_t vn = strlen(v);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v[vn - 1] = '\0';
            v++;
        }
        norm_key(k);
        if (!strcmp(k, "config") || !strcmp(k, "status") ||
            !strcmp(k, "json")) {
            rc = fail("%s:%d: '%s' cannot be set in a config file", path,
                      lineno, k);
            break;
        }
        if (set(c, k, v) != 0) {
            fprintf(stderr, "loongd: (in %s:%d)\n", path, lineno);
            rc = 2;
        }
    }
    fclose(f);
    return rc;
}

uint64_t config_precision_ns(const char *p)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {{"ns", 1},           {"n", 1},
                 {"us", 1000},        {"u", 1000},
                 {"ms", 1000000},     {"s", 1000000000},
                 {"m", 60000000000},  {"h", 3600000000000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(p, units[i].name))
            return units[i].ns;
    return 0;
}

static void defaults(agent_config *c)
{
    memset(c, 0, sizeof *c);
    if (agent_socket_path(1, c->socket_path, sizeof c->socket_path) != 0)
        snprintf(c->socket_path, sizeof c->socket_path, "%s",
                 AGENT_SYSTEM_SOCKET);
    c->socket_mode = 0666;
    c->output = OUT_INFLUX;
    snprintf(c->influx_url, sizeof c->influx_url, "http://127.0.0.1:8086");
    snprintf(c->db, sizeof c->db, "loong");
    snprintf(c->precision, sizeof c->precision, "ns");
    c->gzip = 1;
    c->create_db = 1;
    c->timeout_ms = 10000;
    c->batch_lines = 5000;
    c->batch_bytes = 1 << 20;
    c->flush_ms = 1000;
    c->buffer_bytes = 64 << 20;
    c->spool_bytes = 1ull << 30;
    c->retry_min_ms = 100;
    c->retry_max_ms = 10000;
    c->stats_ms = 10000;
    c->shutdown_ms = 5000;
    if (gethostname(c->host, sizeof c->host) != 0 || c->host[0] == '\0')
        snprintf(c->host, sizeof c->host, "localhost");
    c->host[sizeof c->host - 1] = '\0';
}

/* "--key=value" or "--key value"; *i moves past what was used. */
static int flag(int argc, char **argv, int *i, char *key, size_t cap,
                const char **val)
{
    const char *a = argv[*i] + 2, *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);

    if (n >= cap)
        return fail("unknown option '%s' (see 'loongd --help')", argv[*i]);
    memcpy(key, a, n);
    key[n] = '\0';
    norm_key(key);
    *val = NULL;
    if (eq) {
        *val = eq + 1;
    } else if (strcmp(key, "status") && strcmp(key, "json") &&
               strcmp(key, "quiet") && strcmp(key, "help") &&
               strcmp(key, "version")) {
        if (*i + 1 >= argc)
            return fail("option '--%s' needs a value", key);
        *val = argv[++*i];
    }
    return 0;
}

int config_load(agent_config *c, int argc, char **argv)
{
    char key[64];
    const char *val = NULL;
    int rc;

    defaults(c);
    /* the config file first, wherever --config is */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            if ((rc = load_file(c, argv[i + 1])) != 0)
                return rc;
            i++;
        } else if (!strncmp(argv[i], "--config=", 9)) {
            if ((rc = load_file(c, argv[i] + 9)) != 0)
                return rc;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("loongd %s\n", LOONG_VERSION_STRING);
            return 1;
        }
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0')
            return fail("unexpected argument '%s' (see 'loongd --help')",
                        argv[i]);
        if ((rc = flag(argc, argv, &i, key, sizeof key, &val)) != 0)
            return rc;
        if (!strcmp(key, "config"))
            continue;
        if (!strcmp(key, "status") || !strcmp(key, "json") ||
            !strcmp(key, "quiet")) {
            int b = 1;
            if (val && parse_bool(val, &b) != 0)
                return fail("--%s '%s': expected on or off", key, val);
            if (!strcmp(key, "status"))
                c->status_only = b;
            else if (!strcmp(key, "json"))
                c->status_json = b;
            else
                c->quiet = b;
            continue;
        }
        if ((rc = set(c, key, val)) != 0)
            return rc;
    }
    if (c->status_path[0] == '\0' &&
        agent_status_path(c->socket_path, c->status_path,
                          sizeof c->status_path) != 0)
        return fail("status socket path too long for '%s' (use "
                    "--status-socket)", c->socket_path);
    if (c->status_only)
        return 0;
    if (c->socket_path[0] == '\0' && c->udp[0] == '\0')
        return fail("nothing to receive from: --socket is empty and no "
                    "--udp");
    if (c->udp[0]) {
        struct sockaddr_storage addr;
        unsigned addrlen;
        char err[512];
        if (rx_udp_resolve(c->udp, &addr, &addrlen, err, sizeof err) < 0)
            return fail("%s", err);
    }
    if (c->batch_bytes < 4096)
        return fail("--batch-size: at least 4K");
    if (c->buffer_bytes < 2 * c->batch_bytes)
        return fail("--buffer-size must be at least twice --batch-size");
    if (c->spool_dir[0] && c->spool_bytes < 4 * c->batch_bytes)
        return fail("--spool-size must be at least 4 times --batch-size");
    if (c->retry_max_ms < c->retry_min_ms)
        return fail("--retry-max is shorter than --retry-min");
    return 0;
}
