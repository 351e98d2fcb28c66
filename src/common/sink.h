/* Where line protocol goes: a file, UDP on loopback, or a unix datagram
 * socket (the host agent). Parsing is shared by the CLI (to refuse a bad
 * sink before starting anything) and the runtime. */
#ifndef LOONG_COMMON_SINK_H
#define LOONG_COMMON_SINK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum { LSINK_DIR = 1, LSINK_UDP = 2, LSINK_UNIX = 3 };

typedef struct lsink_spec {
    int kind;
    char path[PATH_MAX];          /* LSINK_DIR: folder ("" = the output
                                     folder); LSINK_UNIX: socket path */
    struct sockaddr_storage addr; /* LSINK_UDP */
    socklen_t addrlen;
} lsink_spec;

/* "dir", "dir:PATH", "udp://HOST:PORT" (HOST an IPv4/IPv6 literal or
 * localhost; [::1] form for IPv6), "unix:PATH", "agent" (LSINK_UNIX to
 * loongd's socket, see common/agent.h). 0 or LOONG_EINVAL with a message
 * in err that says what is wrong. */
int lsink_parse(const char *s, lsink_spec *out, char *err, size_t errlen);

typedef struct lsink lsink;

/* For LSINK_DIR, lines are appended to metrics_path (the caller decides
 * the file: PROCESS_FOLDER/metrics.lp). Datagram sockets are non-blocking. */
lsink *lsink_open(const lsink_spec *spec, const char *metrics_path,
                  char *err, size_t errlen);
/* Write whole lines (data is a run of '\n'-terminated lines). Datagrams
 * carry whole lines only, up to 8 KiB each (a longer line travels alone).
 * Never blocks on a full socket: what cannot be sent is dropped. Returns
 * the number of lines dropped. */
uint64_t lsink_write(lsink *s, const char *data, size_t len);
void lsink_close(lsink *s);

#endif
