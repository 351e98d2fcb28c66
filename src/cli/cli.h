/* The loong command: what its files share.
 *
 *   main.c      entry point: global options, dispatch through the table
 *   commands.c  the command table (add new commands there)
 *   help.c      `loong help [COMMAND]`
 *   usage.c     every help text
 *   run.c       `loong run`: parse, validate, then exec
 *   attach.c    `loong attach|load|unload|status|detach` (and attach.h:
 *               /proc, ELF, ptrace injection, the control socket client)
 *   runenv.c    the environment `loong run` hands the program
 *   outdir.c    creating and probing the folders `loong run` writes to
 *   toolkits.c  `loong toolkits`
 *   report.c    `loong report`: the HTML page of a process folder; with
 *               report_data.c (the profile files as JSON), report_json.c
 *               (escaping), report_page.c (the template) and report.h
 *   paths.c     LIBDIR and the toolkit search path
 *   opt.c       matching command-line options
 *   msg.c       one-line messages on stderr
 */
#ifndef LOONG_CLI_H
#define LOONG_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of the command itself. */
enum {
    CLI_OK = 0,
    CLI_FAILED = 1,          /* the command ran and something failed */
    CLI_USAGE = 2,           /* bad command line or refused to start */
    CLI_EXEC_NOEXEC = 126,   /* `run`: the program cannot be executed */
    CLI_EXEC_NOTFOUND = 127, /* `run`: the program cannot be found */
};

/* ---- commands.c ------------------------------------------------------ */

typedef struct cli_command {
    const char *name;
    const char *summary;               /* one line, for `loong --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    void (*help)(FILE *out);           /* the command's full help */
} cli_command;

extern const cli_command cli_commands[]; /* ends with a NULL name */
const cli_command *cli_find_command(const char *name);

/* ---- the commands ---------------------------------------------------- */

int cmd_run(int argc, char **argv);
int cmd_toolkits(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_agent(int argc, char **argv); /* agent.c, with its help */
void usage_agent(FILE *out);
int cmd_ps(int argc, char **argv);       /* ps.c, with its help */

/* ---- usage.c --------------------------------------------------------- */

void usage_main(FILE *out);
void usage_run(FILE *out);
void usage_toolkits(FILE *out);
void usage_report(FILE *out);
void usage_help(FILE *out);
void usage_attach(FILE *out);
void usage_load(FILE *out);
void usage_unload(FILE *out);
void usage_status(FILE *out);
void usage_detach(FILE *out);
void usage_ps(FILE *out);
void print_version(FILE *out);

/* ---- msg.c ----------------------------------------------------------- */

/* "loong: MESSAGE\n" on stderr, on one line whatever MESSAGE holds. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "loong: warning: MESSAGE\n" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- opt.c ----------------------------------------------------------- */

/* Is arg the flag -SHORTC or --LONGNAME (shortc 0: no short form)? */
int cli_is_flag(const char *arg, char shortc, const char *longname);

/* Does argv[*i] name the option -SHORTC / --LONGNAME, which takes a value
 * ("-t V", "-tV", "--toolkit V", "--toolkit=V")? 1: *val is set and *i
 * is past the value. 0: not this option. -1: the value is missing (the
 * message is printed, naming cmd). */
int cli_opt_value(int argc, char **argv, int *i, char shortc,
                  const char *longname, const char *cmd, const char **val);

/* ---- paths.c --------------------------------------------------------- */

/* LIBDIR: $LOONG_LIBDIR, else dirname(realpath(/proc/self/exe))/../lib/loong
 * (without the ".."), absolute. 0, or -1 with a message in err. */
int cli_libdir(char *out, size_t outlen, char *err, size_t errlen);

/* The toolkit search path: the folders of $LOONG_TOOLKIT_PATH, then
 * LIBDIR/toolkits, made absolute, without repeats or empty entries.
 * Heap string, NULL when out of memory. */
char *cli_search_path(const char *libdir);

/* path made absolute against the current folder (no symlinks resolved).
 * 0, or -1 if it does not fit or the current folder is unknown. */
int cli_absolute(const char *path, char *out, size_t outlen);

/* ---- outdir.c -------------------------------------------------------- */

/* mkdir -p dir (0755), check that a file can be created in it, and write
 * its absolute real path to abs. 0, or -1 after printing the error, which
 * names the folder as `what` ("output folder"). */
int outdir_prepare(const char *dir, const char *what, char *abs,
                   size_t abslen);

/* ---- runenv.c -------------------------------------------------------- */

typedef struct run_env {
    const char *libdir;
    const char *toolkits; /* ';'-joined specs with absolute paths */
    const char *search_path;
    const char *out; /* absolute */
    const char *sink;
    unsigned long long interval_ms;
} run_env;

/* Set PYTHONPATH and the LOONG_* variables of the contract in our own
 * environment, which exec hands on. 0, or -1 after printing the error. */
int runenv_apply(const run_env *env);

#endif
