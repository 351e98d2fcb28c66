/* Talking to a process's control socket (src/runtime/control.c has the
 * protocol). The socket is trusted only if its folder and itself belong to
 * the process's user, and if the peer at the other end is the process. */
#include "cli/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX (1024 * 1024)

void ctl_socket_path(pid_t pid, pid_t nspid, uid_t uid, char *out,
                     size_t cap)
{
    char p[128];
    snprintf(p, sizeof p, "/tmp/loong-%u/%d.sock", (unsigned)uid,
             (int)nspid);
    proc_path(pid, p, out, cap);
}

static long left_ms(const struct timespec *deadline)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (deadline->tv_sec - t.tv_sec) * 1000 +
              (deadline->tv_nsec - t.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

/* connect() by the deadline. A process that stopped accepting (stopped,
 * or hung) fills its queue of 8 connections; a blocking connect to it
 * would then wait for ever. A non-blocking one to a unix socket connects
 * at once or fails, with EAGAIN while the queue is full. 0, or -1 with
 * errno. */
static int connect_by(int fd, const struct sockaddr_un *sa,
                      const struct timespec *deadline)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    for (;;) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
            return fcntl(fd, F_SETFL, fl) < 0 ? -1 : 0;
        if (errno == EINTR)
            continue;
        long left = left_ms(deadline);
        if (errno != EAGAIN)
            return -1;
        if (left == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        /* the queue is full: it may drain */
        struct timespec nap = {0, (left < 20 ? left : 20) * 1000000L};
        nanosleep(&nap, NULL);
    }
}

/* The folder and the socket belong to uid, the folder is 0700. */
static int trusted(const char *sock, uid_t uid, char *err, size_t errlen)
{
    char dir[4200];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", sock);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if (lstat(dir, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
        (st.st_mode & 0077) != 0) {
        snprintf(err, errlen, "%s is not a private folder of uid %u: "
                 "refusing its socket", dir, (unsigned)uid);
        return -2;
    }
    if (lstat(sock, &st) < 0)
        return -1;
    if (!S_ISSOCK(st.st_mode) || st.st_uid != uid) {
        snprintf(err, errlen, "%s is not a socket of uid %u: refusing it",
                 sock, (unsigned)uid);
        return -2;
    }
    return 0;
}

int ctl_request_to(pid_t pid, uid_t uid, const char *sock,
                   const char *const *fields, size_t n, char **reply,
                   int timeout_ms, int *sys_err, char *err, size_t errlen)
{
    *reply = NULL;
    *sys_err = 0;
    int t = trusted(sock, uid, err, errlen);
    if (t == -1) {
        *sys_err = ENOENT;
        snprintf(err, errlen, "no control socket %s", sock);
        return -1;
    }
    if (t < 0) {
        *sys_err = EPERM;
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(sock) >= sizeof sa.sun_path) {
        *sys_err = ENAMETOOLONG;
        snprintf(err, errlen, "socket path too long: %s", sock);
        return -1;
    }
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect_by(fd, &sa, &deadline) < 0) {
        *sys_err = errno;
        if (errno == ETIMEDOUT)
            snprintf(err, errlen, "process %d did not answer within %d s "
                     "(its control socket takes no connection)", (int)pid,
                     timeout_ms / 1000);
        else
            snprintf(err, errlen, "cannot connect to %s: %s", sock,
                     strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
        cred.pid != pid) {
        *sys_err = EPERM;
        snprintf(err, errlen, "%s is not served by process %d: refusing "
                 "it", sock, (int)pid);
        close(fd);
        return -1;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(fields[i]) + 1;
    char *req = malloc(len + 1);
    char *buf = malloc(REPLY_MAX + 1);
    if (!req || !buf) {
        free(req);
        free(buf);
        close(fd);
        *sys_err = ENOMEM;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(fields[i]);
        memcpy(req + at, fields[i], l);
        at += l;
        req[at++] = i + 1 < n ? '\t' : '\n';
    }
    int rc = -1;
    if (send(fd, req, at, MSG_NOSIGNAL) != (ssize_t)at) {
        *sys_err = errno;
        snprintf(err, errlen, "cannot send to %s: %s", sock,
                 strerror(errno));
        goto out;
    }
    size_t got = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left_ms(&deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            *sys_err = ETIMEDOUT;
            snprintf(err, errlen, "process %d did not answer within %d s",
                     (int)pid, timeout_ms / 1000);
            goto out;
        }
        ssize_t r = recv(fd, buf + got, REPLY_MAX - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || got + (size_t)r >= REPLY_MAX) {
            buf[got > 0 ? got : 0] = '\0';
            break;
        }
        got += (size_t)r;
        if (memchr(buf, '\n', got))
            break;
    }
    buf[got] = '\0';
    char *nl = strchr(buf, '\n');
    if (!nl) {
        *sys_err = EPROTO;
        snprintf(err, errlen, "process %d closed the connection without "
                 "an answer", (int)pid);
        goto out;
    }
    *nl = '\0';
    *reply = buf;
    buf = NULL;
    rc = 0;
out:
    free(req);
    free(buf);
    close(fd);
    return rc;
}

/* The value of "key": "..." in the runtime's own JSON (no nesting needed),
 * into out. 0, or -1 if absent. */
int ctl_json_str(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p || !cap)
        return -1;
    p += strlen(pat);
    size_t n = 0;
    for (; *p && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            out[n++] = *p == 'n' ? ' ' : *p;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return 0;
}

long long ctl_json_num(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}
