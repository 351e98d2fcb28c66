/* The environment `loong run` hands the program: see "The contract between
 * `loong run` and the runtime" in docs/architecture.md. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0) {
        cli_error("cannot set %s: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* LIBDIR/python first, then whatever PYTHONPATH held, once. */
static int set_pythonpath(const char *libdir)
{
    const char *old = getenv("PYTHONPATH");
    size_t llen = strlen(libdir);
    size_t need = llen + sizeof "/python" + (old ? strlen(old) + 1 : 0);
    char *val = malloc(need);
    if (!val) {
        cli_error("out of memory");
        return -1;
    }
    memcpy(val, libdir, llen);
    memcpy(val + llen, "/python", sizeof "/python");
    size_t plen = strlen(val);
    if (old && *old) {
        /* Already first (a `loong run` inside a `loong run`): keep as is. */
        if (strncmp(old, val, plen) == 0 &&
            (old[plen] == ':' || old[plen] == '\0'))
            strcpy(val, old);
        else {
            val[plen] = ':';
            strcpy(val + plen + 1, old);
        }
    }
    int rc = set("PYTHONPATH", val);
    free(val);
    return rc;
}

int runenv_apply(const run_env *env)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%llu", env->interval_ms);
    if (set_pythonpath(env->libdir) != 0 ||
        set("LOONG_TOOLKITS", env->toolkits) != 0 ||
        set("LOONG_TOOLKIT_PATH", env->search_path) != 0 ||
        set("LOONG_OUT", env->out) != 0 || set("LOONG_SINK", env->sink) != 0 ||
        set("LOONG_INTERVAL_MS", ms) != 0)
        return -1;
    return 0;
}
