/* LIBDIR and the toolkit search path. */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_absolute(const char *path, char *out, size_t outlen)
{
    int n;
    if (path[0] == '/') {
        n = snprintf(out, outlen, "%s", path);
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return -1;
        if (strcmp(path, ".") == 0)
            n = snprintf(out, outlen, "%s", cwd);
        else
            n = snprintf(out, outlen, "%s%s%s", cwd,
                         strcmp(cwd, "/") == 0 ? "" : "/",
                         strncmp(path, "./", 2) == 0 ? path + 2 : path);
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Cut the last component: "/a/b" -> "/a", "/a" -> "" (the root). */
static void cut_last(char *p)
{
    char *slash = strrchr(p, '/');
    if (slash)
        *slash = '\0';
}

int cli_libdir(char *out, size_t outlen, char *err, size_t errlen)
{
    const char *env = getenv("LOONG_LIBDIR");
    char buf[PATH_MAX];

    if (env && *env) {
        if (realpath(env, buf) == NULL &&
            cli_absolute(env, buf, sizeof buf) != 0) {
            snprintf(err, errlen, "LOONG_LIBDIR '%s' is too long", env);
            return -1;
        }
    } else {
        if (realpath("/proc/self/exe", buf) == NULL) {
            snprintf(err, errlen,
                     "cannot find loong's own path (/proc/self/exe: %s); "
                     "set LOONG_LIBDIR",
                     strerror(errno));
            return -1;
        }
        cut_last(buf); /* .../bin/loong -> .../bin */
        cut_last(buf); /* .../bin -> ... */
        if (strlen(buf) + sizeof "/lib/loong" > sizeof buf) {
            snprintf(err, errlen, "loong's path is too long");
            return -1;
        }
        strcat(buf, "/lib/loong");
    }
    if (strlen(buf) >= outlen) {
        snprintf(err, errlen, "library folder '%s' is too long", buf);
        return -1;
    }
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

/* Append dir (absolute) to the ':'-list in *list unless already there. */
static int add_dir(char **list, const char *dir, size_t len)
{
    char abs[PATH_MAX], rel[PATH_MAX];
    if (len == 0)
        return 0;
    if (len >= sizeof rel)
        return 0; /* cannot name a real folder anyway */
    memcpy(rel, dir, len);
    rel[len] = '\0';
    while (len > 1 && rel[len - 1] == '/')
        rel[--len] = '\0';
    if (cli_absolute(rel, abs, sizeof abs) != 0)
        return 0;

    size_t alen = strlen(abs);
    for (const char *p = *list; *p;) {
        size_t n = strcspn(p, ":");
        if (n == alen && memcmp(p, abs, n) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    size_t cur = strlen(*list);
    char *grown = realloc(*list, cur + alen + 2);
    if (!grown)
        return -1;
    if (cur)
        grown[cur++] = ':';
    memcpy(grown + cur, abs, alen + 1);
    *list = grown;
    return 0;
}

char *cli_search_path(const char *libdir)
{
    char *list = calloc(1, 1);
    if (!list)
        return NULL;
    const char *env = getenv("LOONG_TOOLKIT_PATH");
    for (const char *p = env ? env : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (add_dir(&list, p, n) != 0)
            goto oom;
        p += n + (p[n] == ':');
    }
    char own[PATH_MAX];
    snprintf(own, sizeof own, "%s/toolkits", libdir);
    if (add_dir(&list, own, strlen(own)) != 0)
        goto oom;
    return list;
oom:
    free(list);
    return NULL;
}
