/* `loong help [COMMAND]`: the same text as --help, on stdout. */
#include "cli/cli.h"

#include <stdio.h>

int cmd_help(int argc, char **argv)
{
    if (argc >= 2 && cli_is_flag(argv[1], 'h', "help")) {
        usage_help(stdout);
        return CLI_OK;
    }
    if (argc > 2) {
        cli_error("help: too many arguments (usage: loong help [COMMAND])");
        return CLI_USAGE;
    }
    if (argc < 2) {
        usage_main(stdout);
        return CLI_OK;
    }
    if (argv[1][0] == '-') {
        cli_error("help: unknown option '%s' (usage: loong help [COMMAND])",
                  argv[1]);
        return CLI_USAGE;
    }
    const cli_command *cmd = cli_find_command(argv[1]);
    if (cmd == NULL) {
        cli_error("help: unknown command '%s' (see 'loong --help')", argv[1]);
        return CLI_USAGE;
    }
    cmd->help(stdout);
    return CLI_OK;
}
