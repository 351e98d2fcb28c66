/* The file output: batches appended to one file, whole. A failed or short
 * write is taken back (the file is cut to where it was) and retried, so
 * the file never holds half a batch. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fileout {
    int fd;
};

fileout *fileout_open(const agent_config *cfg, char *err, size_t errlen)
{
    fileout *o = calloc(1, sizeof *o);

    if (o == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->fd = open(cfg->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", cfg->file,
                 strerror(errno));
        free(o);
        return NULL;
    }
    return o;
}

int fileout_write(fileout *o, const char *data, size_t len, char *err,
                  size_t errlen)
{
    off_t start = lseek(o->fd, 0, SEEK_END);
    size_t done = 0;

    while (done < len) {
        ssize_t r = write(o->fd, data + done, len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "write: %s",
                     r < 0 ? strerror(errno) : "no progress");
            if (start >= 0 && ftruncate(o->fd, start) < 0)
                snprintf(err, errlen, "write and truncate failed: %s",
                         strerror(errno));
            return 1;
        }
        done += (size_t)r;
    }
    return 0;
}

void fileout_close(fileout *o)
{
    if (o) {
        close(o->fd);
        free(o);
    }
}
