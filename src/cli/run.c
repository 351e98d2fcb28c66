/* `loong run`: check everything, set the environment, exec the program in
 * place. Nothing is started unless every check passes. */
#include "cli/cli.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/agent.h"
#include "common/sink.h"
#include "common/spec.h"
#include "common/tkfind.h"

#define DEFAULT_OUT "./loong-out"
#define DEFAULT_INTERVAL "1s"
#define DEFAULT_SINK "dir"

typedef struct run_args {
    const char **toolkits; /* the -t values, in order */
    size_t ntoolkits;
    const char *out;
    const char *interval;
    const char *sink;
    char **cmd; /* NULL-terminated */
} run_args;

/* One -t, checked. */
typedef struct run_tk {
    const char *given; /* as on the command line */
    tk_spec spec;      /* name replaced by the absolute path */
    void *handle;
    const loong_toolkit_def *def;
} run_tk;

typedef struct run_state {
    run_tk *tks;
    size_t ntks;
    char *search_path;
    char *toolkits_env;
} run_state;

static void state_free(run_state *st)
{
    for (size_t i = 0; i < st->ntks; i++) {
        tk_spec_free(&st->tks[i].spec);
        if (st->tks[i].handle)
            dlclose(st->tks[i].handle);
    }
    free(st->tks);
    free(st->search_path);
    free(st->toolkits_env);
}

/* Parse the command line; 0, or an exit status. */
static int parse_args(int argc, char **argv, run_args *a)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val;
        int r;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-')
            break;
        if (cli_is_flag(arg, 'h', "help")) {
            usage_run(stdout);
            return -1; /* done, exit 0 */
        }
        if ((r = cli_opt_value(argc, argv, &i, 't', "toolkit", "run", &val)) !=
            0) {
            if (r < 0)
                return CLI_USAGE;
            a->toolkits[a->ntoolkits++] = val;
        } else if ((r = cli_opt_value(argc, argv, &i, 'o', "output", "run",
                                      &val)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            a->out = val;
        } else if ((r = cli_opt_value(argc, argv, &i, 0, "interval", "run",
                                      &val)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            a->interval = val;
        } else if ((r = cli_opt_value(argc, argv, &i, 0, "sink", "run",
                                      &val)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            a->sink = val;
        } else {
            cli_error("run: unknown option '%s' (see 'loong run --help')",
                      arg);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        cli_error("run: no command given (usage: loong run [OPTIONS] [--] "
                  "CMD [ARGS...]; see 'loong run --help')");
        return CLI_USAGE;
    }
    a->cmd = argv + i;
    return 0;
}

/* Check one -t: parse, find, open, check its options. 0 or -1 (printed). */
static int check_toolkit(const char *given, const char *search_path,
                         run_tk *tk)
{
    char err[1024], path[PATH_MAX];

    tk->given = given;
    if (tk_spec_parse(given, &tk->spec, err, sizeof err) != 0) {
        cli_error("-t: %s", err);
        return -1;
    }
    const char *name = tk->spec.name;
    int is_path =
        strchr(name, '/') != NULL ||
        (strlen(name) >= 3 && strcmp(name + strlen(name) - 3, ".so") == 0);
    if (tk_find(name, search_path, path, sizeof path, err, sizeof err) != 0) {
        if (is_path)
            cli_error("%s", err);
        else
            cli_error("unknown toolkit '%s': %s (see 'loong toolkits')", name,
                      err);
        return -1;
    }
    if (strchr(path, ';') != NULL) {
        cli_error("toolkit path '%s' contains ';', which LOONG_TOOLKITS "
                  "cannot carry",
                  path);
        return -1;
    }
    if (tk_open(path, &tk->handle, &tk->def, err, sizeof err) != 0) {
        if (is_path)
            cli_error("cannot load toolkit: %s", err);
        else
            cli_error("cannot load toolkit '%s': %s", name, err);
        return -1;
    }
    if (tk_check_options(tk->def, &tk->spec, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    char *abs = strdup(path);
    if (!abs) {
        cli_error("out of memory");
        return -1;
    }
    free(tk->spec.name);
    tk->spec.name = abs;
    return 0;
}

/* All the -t, then LOONG_TOOLKITS. 0 or -1 (printed). */
static int check_toolkits(const run_args *a, run_state *st)
{
    st->tks = calloc(a->ntoolkits ? a->ntoolkits : 1, sizeof *st->tks);
    if (!st->tks) {
        cli_error("out of memory");
        return -1;
    }
    size_t total = 1;
    for (size_t i = 0; i < a->ntoolkits; i++) {
        run_tk *tk = &st->tks[i];
        st->ntks = i + 1;
        if (check_toolkit(a->toolkits[i], st->search_path, tk) != 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(st->tks[j].def->name, tk->def->name) == 0) {
                cli_error("toolkit '%s' given twice (-t '%s' and -t '%s')",
                          tk->def->name, st->tks[j].given, tk->given);
                return -1;
            }
        }
        char *f = tk_spec_format(&tk->spec);
        if (!f) {
            cli_error("out of memory");
            return -1;
        }
        total += strlen(f) + 1;
        free(f);
    }

    st->toolkits_env = malloc(total);
    if (!st->toolkits_env) {
        cli_error("out of memory");
        return -1;
    }
    st->toolkits_env[0] = '\0';
    for (size_t i = 0; i < st->ntks; i++) {
        char *f = tk_spec_format(&st->tks[i].spec);
        if (!f) {
            cli_error("out of memory");
            return -1;
        }
        if (i)
            strcat(st->toolkits_env, ";");
        strcat(st->toolkits_env, f);
        free(f);
    }
    return 0;
}

/* The sink, checked. A "dir:PATH" sink puts the process folders under
 * PATH instead of the output folder: *dir_path is set to PATH, for the
 * caller to check like the output folder. */
static lsink_spec spec; /* large: PATH_MAX and a sockaddr_storage */

static int check_sink(const char *given, const char *source,
                      const char **dir_path)
{
    char err[512];
    *dir_path = NULL;
    if (lsink_parse(given, &spec, err, sizeof err) != 0) {
        cli_error("bad %s '%s': %s", source, given, err);
        return -1;
    }
    if (spec.kind == LSINK_DIR && spec.path[0] != '\0')
        *dir_path = spec.path;
    return 0;
}

/* Why duration_parse_ms refused s, in words. */
static const char *interval_problem(const char *s)
{
    size_t num = strspn(s, "0123456789.");
    const char *unit = s + num;
    int digits = 0, dots = 0;
    for (size_t i = 0; i < num; i++) {
        digits += s[i] != '.';
        dots += s[i] == '.';
    }
    if (num == 0 || digits == 0 || dots > 1 || s[0] == '.' ||
        s[num - 1] == '.')
        return "expected a number and a unit, such as 250ms, 1s, 0.5s or "
               "2m";
    if (*unit == '\0')
        return "missing unit (ms, s, m or h), such as 250ms or 1s";
    if (strcmp(unit, "ms") != 0 && strcmp(unit, "s") != 0 &&
        strcmp(unit, "m") != 0 && strcmp(unit, "h") != 0)
        return "unknown unit (use ms, s, m or h), such as 250ms or 1s";
    return "out of range: from 1ms to 24h, in whole milliseconds";
}

static int exec_status(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
    case EISDIR:
    case ENOEXEC:
        return CLI_EXEC_NOEXEC;
    default:
        return CLI_EXEC_NOTFOUND;
    }
}

int cmd_run(int argc, char **argv)
{
    run_args a = {0};
    run_state st = {0};
    char libdir[PATH_MAX], out[PATH_MAX], sink[PATH_MAX + 64], err[1024];
    uint64_t interval_ms;
    int status = CLI_USAGE;

    a.toolkits = calloc((size_t)argc, sizeof *a.toolkits);
    if (!a.toolkits) {
        cli_error("out of memory");
        return CLI_FAILED;
    }
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        status = rc < 0 ? CLI_OK : rc;
        goto done;
    }

    /* 1. interval */
    if (a.interval == NULL)
        a.interval = DEFAULT_INTERVAL;
    if (duration_parse_ms(a.interval, &interval_ms) != 0) {
        cli_error("bad --interval '%s': %s", a.interval,
                  interval_problem(a.interval));
        goto done;
    }

    /* 2. sink */
    const char *sink_src = "--sink";
    if (a.sink == NULL) {
        const char *env = getenv("LOONG_SINK");
        if (env && *env) {
            a.sink = env;
            sink_src = "LOONG_SINK";
        } else {
            /* loongd when one is running, else the directory */
            char agent[PATH_MAX];
            int found = agent_socket_path(0, agent, sizeof agent) == 0 &&
                        agent_running(agent);
            a.sink = found ? "agent" : DEFAULT_SINK;
        }
    }
    const char *sink_dir;
    if (check_sink(a.sink, sink_src, &sink_dir) != 0)
        goto done;
    if (strcmp(a.sink, "agent") == 0 && !agent_running(spec.path))
        cli_warn("no agent is running at %s: points are dropped (and "
                 "counted in meta.json) until loongd starts there",
                 spec.path);

    /* 3. toolkits */
    if (cli_libdir(libdir, sizeof libdir, err, sizeof err) != 0) {
        cli_error("%s", err);
        goto done;
    }
    st.search_path = cli_search_path(libdir);
    if (!st.search_path) {
        cli_error("out of memory");
        goto done;
    }
    if (check_toolkits(&a, &st) != 0)
        goto done;

    /* 4. folders, last: the only checks that change anything. A dir:PATH
     * sink (and a unix:PATH one) is passed on with PATH absolute, so that
     * children which change folder still write to the same place. */
    if (outdir_prepare(a.out ? a.out : DEFAULT_OUT, "output folder", out,
                       sizeof out) != 0)
        goto done;
    if (sink_dir) {
        char abs[PATH_MAX];
        if (outdir_prepare(sink_dir, "sink folder", abs, sizeof abs) != 0)
            goto done;
        snprintf(sink, sizeof sink, "dir:%s", abs);
    } else if (spec.kind == LSINK_UNIX && spec.path[0] != '/') {
        /* relative to here, not to wherever the program goes */
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd) ||
            snprintf(sink, sizeof sink, "unix:%s/%s", cwd, spec.path) >=
                (int)sizeof sink) {
            cli_error("sink path too long: '%s'", a.sink);
            goto done;
        }
    } else if (spec.kind == LSINK_UNIX) {
        /* "agent" too: the path found here, for every child */
        snprintf(sink, sizeof sink, "unix:%s", spec.path);
    } else {
        snprintf(sink, sizeof sink, "%s", a.sink);
    }

    /* Without the bootstrap the program would run, but unprofiled. */
    char boot[PATH_MAX + 64];
    struct stat bst;
    snprintf(boot, sizeof boot, "%s/python/sitecustomize.py", libdir);
    if (stat(boot, &bst) != 0)
        cli_warn("no %s: the program will run without loong (set "
                 "LOONG_LIBDIR?)",
                 boot);

    run_env env = {
        .libdir = libdir,
        .toolkits = st.toolkits_env,
        .search_path = st.search_path,
        .out = out,
        .sink = sink,
        .interval_ms = (unsigned long long)interval_ms,
    };
    if (runenv_apply(&env) != 0) {
        status = CLI_FAILED;
        goto done;
    }

    /* The toolkits were opened only to check them: close them, then
     * become the program (same pid, its own signals and exit status). */
    char **cmd = a.cmd;
    state_free(&st);
    memset(&st, 0, sizeof st);
    free(a.toolkits);
    fflush(NULL);
    execvp(cmd[0], cmd);
    int e = errno;
    cli_error("cannot run '%s': %s", cmd[0], strerror(e));
    return exec_status(e);

done:
    state_free(&st);
    free(a.toolkits);
    return status;
}
