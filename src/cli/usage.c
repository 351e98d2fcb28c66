/* Every help text of the command. Keep docs/cli.md in step. */
#include "cli/cli.h"

#include <limits.h>
#include <stdlib.h>

#include "loong/version.h"

void print_version(FILE *out)
{
    fprintf(out, "loong %s (toolkit ABI %d.%d)\n", LOONG_VERSION_STRING,
            LOONG_ABI_MAJOR, LOONG_ABI_MINOR);
}

/* The search path this loong would use, for the help texts. */
static void print_search_path(FILE *out, const char *indent)
{
    char libdir[PATH_MAX], err[512];
    if (cli_libdir(libdir, sizeof libdir, err, sizeof err) != 0) {
        fprintf(out, "%s(unknown here: %s)\n", indent, err);
        return;
    }
    char *sp = cli_search_path(libdir);
    fprintf(out, "%sLIBDIR here:      %s\n", indent, libdir);
    fprintf(out, "%ssearch path here: %s\n", indent, sp ? sp : "?");
    free(sp);
}

void usage_main(FILE *out)
{
    fprintf(out,
            "loong %s: profile Python programs in production, with no "
            "code change.\n"
            "\n"
            "Usage:\n"
            "  loong run [OPTIONS] [--] CMD [ARGS...]\n"
            "  loong attach|load|unload|status|detach PID [ARGS...]\n"
            "  loong ps [--json]\n"
            "  loong toolkits [-v]\n"
            "  loong report DIR [-o FILE]\n"
            "  loong help [COMMAND]\n"
            "  loong --help | --version\n"
            "\n"
            "Commands:\n",
            LOONG_VERSION_STRING);
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "\n"
            "Options:\n"
            "  -h, --help   show this help (on stdout)\n"
            "  --version    print the version and the toolkit ABI it "
            "loads\n"
            "\n"
            "Environment:\n"
            "  LOONG_LIBDIR        loong's library folder, LIBDIR; default: "
            "../lib/loong\n"
            "                      from the folder of the loong binary "
            "(symlinks resolved)\n"
            "  LOONG_TOOLKIT_PATH  ':'-separated folders searched for "
            "NAME.so before\n"
            "                      LIBDIR/toolkits\n"
            "  LOONG_SINK          the default of 'loong run --sink'\n"
            "\n"
            "Exit status:\n"
            "  0    success\n"
            "  1    the command failed (e.g. a toolkit that does not load "
            "in\n"
            "       'loong toolkits')\n"
            "  2    usage error: unknown command or option, bad value; "
            "'loong run'\n"
            "       refused to start the program\n"
            "  'loong run' becomes the program and exits with its status; "
            "126 if the\n"
            "  program cannot be executed, 127 if it is not found.\n"
            "\n"
            "Run 'loong help COMMAND' for the options of a command. "
            "Reference: docs/cli.md.\n");
}

void usage_run(FILE *out)
{
    fputs(
        "Usage: loong run [OPTIONS] [--] CMD [ARGS...]\n"
        "\n"
        "Run CMD with loong loaded into every Python process it starts "
        "(CMD itself\n"
        "and its children, CPython 3.8 or newer), with no change to their "
        "code.\n"
        "loong checks everything first: toolkits exist and load, their "
        "options are\n"
        "known, the interval and the sink parse, the output folder is "
        "writable. If\n"
        "anything is wrong it prints one line and exits 2 without starting "
        "CMD.\n"
        "Then it becomes CMD (same pid, no fork): signals and the exit "
        "status are\n"
        "CMD's own. Options stop at the first argument that is not one, or "
        "at '--'.\n"
        "\n"
        "Options:\n"
        "  -t, --toolkit TOOLKIT[:KEY=VALUE,...]\n"
        "                 load a toolkit into each process; repeat for "
        "several. TOOLKIT\n"
        "                 is a name, found as NAME.so in the toolkit search "
        "path, or\n"
        "                 a path to a .so (containing '/' or ending in "
        ".so). Options\n"
        "                 must be ones the toolkit declares ('loong toolkits "
        "-v');\n"
        "                 values cannot contain ',' or ';'. Without -t, "
        "loong still\n"
        "                 loads and writes meta.json for each process.\n"
        "  -o, --output DIR\n"
        "                 output folder, created if missing (default: "
        "./loong-out);\n"
        "                 each Python process writes DIR/PROGRAM-PID/\n"
        "  --interval DURATION\n"
        "                 flush and tick interval (default: 1s): a number "
        "and a unit,\n"
        "                 ms, s, m or h, such as 250ms, 0.5s or 2m; from "
        "1ms to 24h\n"
        "  --sink SINK    where metrics (InfluxDB line protocol) go; "
        "default:\n"
        "                 $LOONG_SINK, else agent if loongd runs, else dir\n"
        "                   dir              metrics.lp in each process "
        "folder\n"
        "                   dir:PATH         the process folders go under "
        "PATH, not DIR\n"
        "                                    (PATH created and checked like "
        "DIR)\n"
        "                   udp://HOST:PORT  UDP datagrams; HOST an IP "
        "literal or\n"
        "                                    localhost, [::1] for IPv6\n"
        "                   unix:PATH        datagrams to a unix socket "
        "(the host agent)\n"
        "                   agent            to loongd, the host agent "
        "(docs/agent.md)\n"
        "  -h, --help     show this help\n"
        "  --             end of options: what follows is CMD\n"
        "\n"
        "Environment read:\n"
        "  LOONG_SINK, LOONG_TOOLKIT_PATH, LOONG_LIBDIR (see 'loong "
        "--help')\n"
        "\n"
        "Environment given to CMD (and inherited by its children):\n"
        "  PYTHONPATH          LIBDIR/python prepended (loong's "
        "sitecustomize.py)\n"
        "  LOONG_TOOLKITS      the -t specs joined by ';', each toolkit "
        "replaced by\n"
        "                      the absolute path of its .so (empty without "
        "-t)\n"
        "  LOONG_TOOLKIT_PATH  the toolkit search path, absolute folders\n"
        "  LOONG_OUT           the absolute output folder\n"
        "  LOONG_SINK          the sink (a dir:PATH with PATH absolute)\n"
        "  LOONG_INTERVAL_MS   the interval in milliseconds\n"
        "\n"
        "Exit status:\n"
        "  CMD's own once it runs\n"
        "  2    refused: bad option, toolkit, interval, sink or output "
        "folder,\n"
        "       or no CMD; nothing was started\n"
        "  126  CMD was found but cannot be executed\n"
        "  127  CMD was not found\n"
        "\n"
        "Examples:\n"
        "  loong run python3 app.py\n"
        "  loong run -t example -o /tmp/prof -- python3 -m mypkg --port "
        "8000\n"
        "  loong run -t example:measurement=demo --interval 250ms \\\n"
        "            --sink udp://127.0.0.1:8089 -- ./serve.sh\n",
        out);
}

void usage_toolkits(FILE *out)
{
    fputs("Usage: loong toolkits [-v]\n"
          "\n"
          "List every toolkit in the toolkit search path, sorted by name, "
          "one line\n"
          "each, fields separated by a tab:\n"
          "  NAME  VERSION  SUMMARY  options: KEY=DEFAULT, ... (or "
          "'options: none')\n"
          "A toolkit is a file NAME.so, NAME made of a-z, 0-9 and '_'; when "
          "two\n"
          "folders hold the same NAME.so, the first folder wins. A toolkit "
          "that\n"
          "fails to load is listed as\n"
          "  NAME  -  error: MESSAGE\n"
          "\n"
          "Options:\n"
          "  -v, --verbose  after each toolkit, one indented line per "
          "option:\n"
          "                     KEY: HELP (default: DEFAULT)\n"
          "  -h, --help     show this help\n"
          "\n"
          "Search path: the folders of $LOONG_TOOLKIT_PATH (':'-separated), "
          "then\n"
          "LIBDIR/toolkits.\n",
          out);
    print_search_path(out, "  ");
    fputs("\n"
          "Exit status:\n"
          "  0    every toolkit listed loads (or none was found)\n"
          "  1    a toolkit failed to load, or a folder could not be read\n"
          "  2    usage error\n",
          out);
}

void usage_report(FILE *out)
{
    fputs("Usage: loong report DIR [-o FILE]\n"
          "\n"
          "Write one self-contained HTML page (no network needed to view "
          "it) from the\n"
          "output folder of one profiled process: its meta.json, a flame "
          "graph of\n"
          "function.collapsed, the table of function.tsv, the slow calls of\n"
          "function.slow.jsonl, the exceptions of exceptions.jsonl, flame "
          "graphs of\n"
          "mem.alloc.collapsed and mem.live.collapsed, and a memory timeline "
          "of the\n"
          "loong_mem points of metrics.lp; a section appears when its data "
          "exists.\n"
          "DIR is the process folder (the one holding meta.json), or an "
          "output\n"
          "folder holding exactly one. The path written is printed on "
          "stdout.\n"
          "\n"
          "Options:\n"
          "  -o, --output FILE  where to write (default: DIR/report.html; "
          "'-' for\n"
          "                     stdout); replaced atomically\n"
          "  -h, --help         show this help\n"
          "\n"
          "Exit status:\n"
          "  0    the report was written\n"
          "  1    a file could not be read or does not parse (the message "
          "names it\n"
          "       and its line), nothing to report, or FILE cannot be "
          "written\n"
          "  2    usage error: bad option, DIR missing or not a loong "
          "output folder,\n"
          "       or an output folder holding several processes (the "
          "message lists\n"
          "       them)\n",
          out);
}

void usage_help(FILE *out)
{
    fputs("Usage: loong help [COMMAND]\n"
          "\n"
          "Show the help of loong, or of COMMAND (the same as 'loong "
          "COMMAND --help'),\n"
          "on stdout.\n"
          "\n"
          "Exit status: 0, or 2 for an unknown command.\n",
          out);
}

/* ---- attach and the commands that talk to a running process ---------- */

static const char attach_opts[] =
    "  -o, --output DIR     output folder (default: ./loong-out); the "
    "process\n"
    "                       writes DIR/PROGRAM-PID/\n"
    "  --interval DURATION  flush and tick interval (default: 1s)\n"
    "  --sink SINK          dir (default), dir:PATH, udp://HOST:PORT, "
    "unix:PATH\n"
    "  (these take effect when loong starts in the process, as for 'loong "
    "run')\n";

void usage_attach(FILE *out)
{
    fprintf(out,
            "Usage: loong attach [OPTIONS] PID\n"
            "\n"
            "Bring loong into the running Python process PID (CPython 3.8 "
            "to 3.13 on\n"
            "x86_64, or aarch64 untested on hardware; started without "
            "loong), with no\n"
            "restart: its main thread is stopped for well under 50 ms to "
            "load the\n"
            "runtime, which then waits for the interpreter lock like any "
            "thread and\n"
            "opens the control socket /tmp/loong-UID/PID.sock. No toolkit "
            "is loaded:\n"
            "see 'loong load'.\n"
            "Needs the right to ptrace PID: same user (or root), and "
            "kernel.yama.ptrace_scope\n"
            "0 (or CAP_SYS_PTRACE). Details: docs/attach.md.\n"
            "\n"
            "Options:\n%s"
            "  -h, --help           show this help\n"
            "\n"
            "Exit status: 0 attached (or already), 1 failed, 2 usage "
            "error.\n",
            attach_opts);
}

void usage_load(FILE *out)
{
    fprintf(out,
            "Usage: loong load [OPTIONS] PID TOOLKIT [KEY=VALUE...]\n"
            "       loong -m _runtime PID load TOOLKIT [KEY=VALUE...]\n"
            "\n"
            "Load a toolkit into the running process PID, attaching first "
            "if loong is\n"
            "not there yet. TOOLKIT is a name (see 'loong toolkits') or a "
            "path to a\n"
            ".so, checked here first as 'loong run -t' checks it; options "
            "are KEY=VALUE\n"
            "words (or TOOLKIT:KEY=VALUE,...).\n"
            "\n"
            "Options (when this attaches):\n%s"
            "  -h, --help           show this help\n"
            "\n"
            "Exit status: 0 loaded, 1 failed, 2 usage error (bad toolkit or "
            "option).\n",
            attach_opts);
}

void usage_unload(FILE *out)
{
    fputs("Usage: loong unload PID TOOLKIT\n"
          "\n"
          "Unload a toolkit from the process PID: it writes its last data "
          "first.\n"
          "TOOLKIT is its name, or the path of its .so.\n"
          "\n"
          "Exit status: 0 unloaded, 1 failed (not loaded, loong not "
          "attached), 2 usage.\n",
          out);
}

void usage_status(FILE *out)
{
    fputs("Usage: loong status [--json] PID\n"
          "\n"
          "What loong is doing in the process PID: its version, the "
          "Python, the output\n"
          "folder and sink, records written and dropped, the toolkits "
          "loaded and their\n"
          "options. Works for processes under 'loong attach' or 'loong run'.\n"
          "\n"
          "  --json      print the process's answer as it is (one JSON "
          "object)\n"
          "\n"
          "Exit status: 0, 1 if loong is not in the process, 2 usage.\n",
          out);
}

void usage_detach(FILE *out)
{
    fputs("Usage: loong detach PID\n"
          "\n"
          "Remove loong from the process PID: every toolkit is unloaded "
          "(writing its\n"
          "last data), hooks removed, loong's threads stopped, the control "
          "socket\n"
          "removed, meta.json finished with \"exit\": \"detach\". The "
          "runtime's code\n"
          "stays mapped, unused; 'loong attach' works again later.\n"
          "\n"
          "Exit status: 0 detached, 1 failed (loong not attached), 2 "
          "usage.\n",
          out);
}
