/* The host agent (loongd) as its clients see it: where its sockets are,
 * whether it runs, and its status. Shared by loongd, `loong run` (--sink
 * agent and finding the agent), `loong agent status` and the runtime
 * (LOONG_SINK=agent).
 *
 * The datagram socket: $LOONG_AGENT_SOCKET if set; else, for a client,
 * $XDG_RUNTIME_DIR/loongd.sock if that exists, else /run/loong/loongd.sock;
 * for loongd itself, /run/loong/loongd.sock when run by root, else
 * $XDG_RUNTIME_DIR/loongd.sock (/run/loong/loongd.sock without it).
 * The status socket (a stream socket that answers one line of JSON to
 * each connection) is the same path with ".sock" replaced by
 * ".status.sock" (or ".status" added). */
#ifndef LOONG_COMMON_AGENT_H
#define LOONG_COMMON_AGENT_H

#include <stddef.h>
#include <stdio.h>

#define AGENT_SYSTEM_SOCKET "/run/loong/loongd.sock"

/* The default datagram socket path (server: 1 for loongd itself). 0, or
 * -1 if it does not fit. */
int agent_socket_path(int server, char *out, size_t cap);
/* The status socket of a datagram socket path. 0 or -1 (too long). */
int agent_status_path(const char *sock, char *out, size_t cap);
/* 1 if a datagram socket is bound at path (an agent listens), else 0. */
int agent_running(const char *sock);
/* Read the status line from the status socket at path (2 s at most).
 * 0, or -1 with a message in err. */
int agent_status_fetch(const char *status_path, char *buf, size_t cap,
                       char *err, size_t errlen);
/* A flat JSON object printed as "key: value" lines. */
void agent_status_print(FILE *out, const char *json);

#endif
