/* `loong agent status`: the figures of the host agent, loongd (see
 * docs/agent.md), read from its status socket. */
#include "cli/cli.h"

#include <limits.h>
#include <string.h>

#include "common/agent.h"

void usage_agent(FILE *out)
{
    char sock[PATH_MAX];

    if (agent_socket_path(0, sock, sizeof sock) != 0)
        snprintf(sock, sizeof sock, "%s", AGENT_SYSTEM_SOCKET);
    fprintf(out,
            "Usage: loong agent status [--json] [--socket PATH]\n"
            "\n"
            "Print the figures of the host agent, loongd: lines received, "
            "rejected,\n"
            "written, dropped and buffered, its output and its state. "
            "Reference:\n"
            "docs/agent.md.\n"
            "\n"
            "Options:\n"
            "  --json          print the agent's own answer, one JSON "
            "object\n"
            "  --socket PATH   the agent's datagram socket (here: %s;\n"
            "                  $LOONG_AGENT_SOCKET sets the default); its "
            "status socket\n"
            "                  is PATH with .sock replaced by .status.sock\n"
            "  -h, --help      show this help\n"
            "\n"
            "Exit status: 0 printed, 1 no agent answers, 2 usage error.\n",
            sock);
}

int cmd_agent(int argc, char **argv)
{
    char sock[PATH_MAX], status[PATH_MAX], buf[4096], err[PATH_MAX + 128];
    const char *given = NULL;
    int json = 0;

    if (argc < 2) {
        cli_error("agent: missing subcommand (usage: loong agent status "
                  "[--json] [--socket PATH])");
        return CLI_USAGE;
    }
    if (cli_is_flag(argv[1], 'h', "help")) {
        usage_agent(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "status") != 0) {
        cli_error("agent: unknown subcommand '%s' (see 'loong agent --help')",
                  argv[1]);
        return CLI_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *val;
        int r;
        if (cli_is_flag(argv[i], 'h', "help")) {
            usage_agent(stdout);
            return CLI_OK;
        }
        if (cli_is_flag(argv[i], 0, "json")) {
            json = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, 0, "socket",
                                      "agent status", &val)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            given = val;
        } else {
            cli_error("agent status: unknown option '%s' (see 'loong agent "
                      "--help')", argv[i]);
            return CLI_USAGE;
        }
    }
    if (given)
        snprintf(sock, sizeof sock, "%s", given);
    else if (agent_socket_path(0, sock, sizeof sock) != 0) {
        cli_error("agent status: the agent's socket path is too long");
        return CLI_USAGE;
    }
    if (agent_status_path(sock, status, sizeof status) != 0) {
        cli_error("agent status: socket path too long: '%s'", sock);
        return CLI_USAGE;
    }
    if (agent_status_fetch(status, buf, sizeof buf, err, sizeof err) != 0) {
        cli_error("agent status: %s (is loongd running?)", err);
        return CLI_FAILED;
    }
    if (json)
        fputs(buf, stdout);
    else
        agent_status_print(stdout, buf);
    return CLI_OK;
}
