/* The command table: `loong NAME ...` runs the entry named NAME, and
 * `loong --help` lists the entries in this order.
 *
 * To add a command: write src/cli/NAME.c with cmd_NAME() and its help in
 * usage.c, declare both in cli.h, add one line here, and document it in
 * docs/cli.md. Planned, not implemented yet: attach, load, unload, status,
 * detach, ps, report, agent. */
#include "cli/cli.h"

#include <string.h>

const cli_command cli_commands[] = {
    {"run", "run a program with loong loaded into its Python processes",
     cmd_run, usage_run},
    {"toolkits", "list the toolkits that can be loaded, with their options",
     cmd_toolkits, usage_toolkits},
    {"help", "show the help of loong or of one command", cmd_help, usage_help},
    /* future: {"attach", ...}, {"load", ...}, {"unload", ...},
     * {"status", ...}, {"detach", ...}, {"ps", ...}, {"report", ...},
     * {"agent", ...} */
    {NULL, NULL, NULL, NULL},
};

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}
