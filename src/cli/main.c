/* loong: the command. Global options, then one command from the table in
 * commands.c. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return CLI_USAGE;
    }
    const char *a = argv[1];
    /* The talk's spelling: loong -m _runtime PID COMMAND [ARGS...] is
     * loong COMMAND PID [ARGS...]. */
    if (!strcmp(a, "-m")) {
        if (argc < 5 || strcmp(argv[2], "_runtime") != 0) {
            cli_error("usage: loong -m _runtime PID load|unload|status|"
                      "detach|attach [ARGS...]");
            return CLI_USAGE;
        }
        const cli_command *c = cli_find_command(argv[4]);
        if (!c || c->run == cmd_run || c->run == cmd_toolkits ||
            c->run == cmd_help) {
            cli_error("-m _runtime: unknown command '%s' (expected load, "
                      "unload, status, detach or attach)", argv[4]);
            return CLI_USAGE;
        }
        char *pid = argv[3];
        argv[3] = argv[4]; /* COMMAND PID ARGS... */
        argv[4] = pid;
        return c->run(argc - 3, argv + 3);
    }
    int global = cli_is_flag(a, 'h', "help") || cli_is_flag(a, 0, "version");
    if (global && argc > 2) {
        cli_error("'%s' takes no argument, got '%s'", a, argv[2]);
        return CLI_USAGE;
    }
    if (cli_is_flag(a, 'h', "help")) {
        usage_main(stdout);
        return CLI_OK;
    }
    if (cli_is_flag(a, 0, "version")) {
        print_version(stdout);
        return CLI_OK;
    }
    if (a[0] == '-') {
        cli_error("unknown option '%s' (see 'loong --help')", a);
        return CLI_USAGE;
    }
    const cli_command *cmd = cli_find_command(a);
    if (cmd == NULL) {
        cli_error("unknown command '%s' (see 'loong --help')", a);
        return CLI_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
