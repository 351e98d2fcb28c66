/* Matching command-line options. */
#include "cli/cli.h"

#include <string.h>

int cli_is_flag(const char *arg, char shortc, const char *longname)
{
    if (arg[0] != '-')
        return 0;
    if (shortc && arg[1] == shortc && arg[2] == '\0')
        return 1;
    return longname && arg[1] == '-' && strcmp(arg + 2, longname) == 0;
}

int cli_opt_value(int argc, char **argv, int *i, char shortc,
                  const char *longname, const char *cmd, const char **val)
{
    const char *a = argv[*i];
    const char *shown;
    char sbuf[3] = {'-', shortc, '\0'};

    if (a[0] != '-')
        return 0;
    if (shortc && a[1] == shortc) {
        if (a[2] != '\0') { /* -tVALUE */
            *val = a + 2;
            return 1;
        }
        shown = sbuf;
    } else if (longname && a[1] == '-' &&
               strncmp(a + 2, longname, strlen(longname)) == 0) {
        const char *rest = a + 2 + strlen(longname);
        if (*rest == '=') { /* --long=VALUE */
            *val = rest + 1;
            return 1;
        }
        if (*rest != '\0')
            return 0; /* another option sharing the prefix */
        shown = a;
    } else {
        return 0;
    }
    if (*i + 1 >= argc) {
        cli_error("%s: option '%s' needs a value (see 'loong %s --help')", cmd,
                  shown, cmd);
        return -1;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}
