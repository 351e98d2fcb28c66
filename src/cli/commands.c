/* The command table: `loong NAME ...` runs the entry named NAME, and
 * `loong --help` lists the entries in this order.
 *
 * To add a command: write src/cli/NAME.c with cmd_NAME() and its help in
 * usage.c, declare both in cli.h, add one line here, and document it in
 * docs/cli.md. A command in several files keeps them as src/cli/NAME*.c
 * (report: report.c, report_data.c, report_json.c, report_page.c and
 * report.h); the Makefile builds every .c file of src/cli. To add a
 * section to the HTML report, see the top of report.c. Planned, not
 * implemented yet: agent.
 *
 * attach, load, unload, status and detach talk to a running process
 * (attach.c and attach.h; docs/attach.md), ps lists the processes (ps.c);
 * `loong -m _runtime PID COMMAND ARGS...`, the talk's spelling, is `loong
 * COMMAND PID ARGS...` (main.c). */
#include "cli/cli.h"

#include <string.h>

const cli_command cli_commands[] = {
    {"run", "run a program with loong loaded into its Python processes",
     cmd_run, usage_run},
    {"toolkits", "list the toolkits that can be loaded, with their options",
     cmd_toolkits, usage_toolkits},
    {"report", "write a self-contained HTML report of a profiled process",
     cmd_report, usage_report},
    {"attach", "bring loong into a running Python process", cmd_attach,
     usage_attach},
    {"load", "load a toolkit into a running process (attaching first)",
     cmd_load, usage_load},
    {"unload", "unload a toolkit from a running process", cmd_unload,
     usage_unload},
    {"status", "what loong is doing in a running process", cmd_status,
     usage_status},
    {"detach", "remove loong from a running process", cmd_detach,
     usage_detach},
    {"ps", "list the Python processes, and loong in them", cmd_ps,
     usage_ps},
    {"agent", "the host agent, loongd: 'loong agent status'", cmd_agent,
     usage_agent},
    {"help", "show the help of loong or of one command", cmd_help, usage_help},
    /* future: {"agent", ...} */
    {NULL, NULL, NULL, NULL},
};

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}
