/* The folders `loong run` writes to (the output folder, a dir:PATH sink):
 * created, probed, made absolute. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir one level; an existing folder is fine. 0 or an errno. */
static int mkdir_one(const char *p)
{
    struct stat st;
    if (mkdir(p, 0755) == 0)
        return 0;
    int e = errno;
    if (stat(p, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    return e;
}

static int mkdir_p(const char *dir, const char *what)
{
    char buf[PATH_MAX];
    size_t len = strlen(dir);
    if (len >= sizeof buf) {
        cli_error("%s '%s' is too long", what, dir);
        return -1;
    }
    memcpy(buf, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        if (buf[i - 1] == '/')
            continue; /* "a//b" or a trailing '/' */
        char saved = buf[i];
        buf[i] = '\0';
        int e = mkdir_one(buf);
        if (e != 0) {
            if (i == len)
                cli_error("cannot create %s '%s': %s", what, dir, strerror(e));
            else
                cli_error("cannot create %s '%s': '%s': %s", what, dir, buf,
                          strerror(e));
            return -1;
        }
        buf[i] = saved;
    }
    return 0;
}

int outdir_prepare(const char *dir, const char *what, char *abs, size_t abslen)
{
    char probe[PATH_MAX + 64];
    char real[PATH_MAX];

    if (dir == NULL || *dir == '\0') {
        cli_error("empty %s", what);
        return -1;
    }
    if (mkdir_p(dir, what) != 0)
        return -1;

    snprintf(probe, sizeof probe, "%s/.loong-probe-%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        cli_error("%s '%s' is not writable: %s", what, dir, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);

    if (realpath(dir, real) == NULL) {
        cli_error("cannot resolve %s '%s': %s", what, dir, strerror(errno));
        return -1;
    }
    if (strlen(real) >= abslen) {
        cli_error("%s '%s' is too long", what, real);
        return -1;
    }
    memcpy(abs, real, strlen(real) + 1);
    return 0;
}
