/* The host agent as its clients see it: see agent.h. */
#include "common/agent.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SUN_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

static int put(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s%s", a, b);
    return n < 0 || (size_t)n >= cap || (size_t)n >= SUN_MAX ? -1 : 0;
}

int agent_socket_path(int server, char *out, size_t cap)
{
    const char *env = getenv("LOONG_AGENT_SOCKET");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;

    if (env && *env)
        return put(out, cap, env, "");
    if (xdg && *xdg == '/') {
        if (server && geteuid() != 0)
            return put(out, cap, xdg, "/loongd.sock");
        if (!server && put(out, cap, xdg, "/loongd.sock") == 0 &&
            stat(out, &st) == 0 && S_ISSOCK(st.st_mode))
            return 0;
    }
    return put(out, cap, AGENT_SYSTEM_SOCKET, "");
}

int agent_status_path(const char *sock, char *out, size_t cap)
{
    size_t n = strlen(sock);

    if (n >= 5 && strcmp(sock + n - 5, ".sock") == 0) {
        int k = snprintf(out, cap, "%.*s.status.sock", (int)(n - 5), sock);
        return k < 0 || (size_t)k >= cap || (size_t)k >= SUN_MAX ? -1 : 0;
    }
    return put(out, cap, sock, ".status");
}

static int unix_connect(const char *path, int type)
{
    struct sockaddr_un sa;
    size_t n = strlen(path);
    int fd, rc;

    if (n == 0 || n >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n + 1);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    do {
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int agent_running(const char *sock)
{
    int fd = unix_connect(sock, SOCK_DGRAM);

    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

int agent_status_fetch(const char *status_path, char *buf, size_t cap,
                       char *err, size_t errlen)
{
    struct timespec t0, t;
    size_t len = 0;
    int fd = unix_connect(status_path, SOCK_STREAM);

    if (fd < 0) {
        snprintf(err, errlen, "no agent answers at %s: %s", status_path,
                 strerror(errno));
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = 2000 - ((t.tv_sec - t0.tv_sec) * 1000 +
                            (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            snprintf(err, errlen, "the agent at %s did not answer",
                     status_path);
            close(fd);
            return -1;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == cap - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    if (len == 0 || buf[0] != '{') {
        snprintf(err, errlen, "unexpected answer from %s", status_path);
        return -1;
    }
    return 0;
}

void agent_status_print(FILE *out, const char *json)
{
    const char *p = json;
    int inq = 0, key = 1;

    /* {"k": v, "k2": "s"} -> k: v / k2: s; strings are written by
     * loongd without escapes other than \" and \\ */
    while (*p && *p != '{')
        p++;
    if (*p)
        p++;
    for (; *p; p++) {
        if (inq) {
            if (*p == '\\' && p[1]) {
                fputc(*++p, out);
            } else if (*p == '"') {
                inq = 0;
            } else {
                fputc(*p, out);
            }
            continue;
        }
        if (*p == '"') {
            inq = 1;
        } else if (*p == ':' && key) {
            fputs(": ", out);
            key = 0;
        } else if (*p == ',' || *p == '}') {
            fputc('\n', out);
            key = 1;
            if (*p == '}')
                break;
        } else if (*p != ' ' && *p != '\n') {
            fputc(*p, out);
        }
    }
}
