/* `loong toolkits [-v]`: every NAME.so in the search path, one line each. */
#include "cli/cli.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/tkfind.h"

typedef struct found {
    char *name;
    char *path;
} found;

typedef struct found_list {
    found *items;
    size_t n, cap;
} found_list;

static void list_free(found_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].path);
    }
    free(l->items);
}

static int has_name(const found_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return 1;
    return 0;
}

/* "NAME.so" with NAME in [a-z0-9_]+: the NAME length, else 0. */
static size_t toolkit_file(const char *file)
{
    size_t len = strlen(file);
    if (len <= 3 || strcmp(file + len - 3, ".so") != 0)
        return 0;
    for (size_t i = 0; i < len - 3; i++) {
        char c = file[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return len - 3;
}

static int add(found_list *l, const char *name, size_t nlen, const char *dir,
               const char *file)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        found *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    char *n = strndup(name, nlen);
    size_t plen = strlen(dir) + 1 + strlen(file) + 1;
    char *p = malloc(plen);
    if (!n || !p) {
        free(n);
        free(p);
        return -1;
    }
    snprintf(p, plen, "%s/%s", dir, file);
    l->items[l->n].name = n;
    l->items[l->n].path = p;
    l->n++;
    return 0;
}

/* Add the toolkits of one folder. 0, 1 if it could not be read (said on
 * stderr), -1 when out of memory. */
static int scan_dir(const char *dir, found_list *l)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0; /* an absent folder holds no toolkit */
        cli_error("toolkits: cannot read folder '%s': %s", dir,
                  strerror(errno));
        return 1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        size_t nlen = toolkit_file(e->d_name);
        if (nlen == 0)
            continue;
        char name[NAME_MAX + 1];
        memcpy(name, e->d_name, nlen);
        name[nlen] = '\0';
        if (has_name(l, name))
            continue; /* an earlier folder wins */
        char path[PATH_MAX + sizeof e->d_name + 2];
        struct stat st;
        int plen = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (plen < 0 || (size_t)plen >= PATH_MAX || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (add(l, name, nlen, dir, e->d_name) != 0) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const found *)a)->name, ((const found *)b)->name);
}

/* Print text from a toolkit on one line: control characters (tabs and
 * newlines included) become spaces. */
static void put_clean(const char *s, const char *if_null)
{
    if (s == NULL)
        s = if_null;
    for (; *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static void print_toolkit(const char *name, const loong_toolkit_def *def,
                          int verbose)
{
    const loong_option_def *o;
    fputs(name, stdout);
    putchar('\t');
    put_clean(def->version, "-");
    putchar('\t');
    put_clean(def->summary, "");
    fputs("\toptions: ", stdout);
    if (def->options == NULL || def->options[0].key == NULL)
        fputs("none", stdout);
    for (o = def->options; o && o->key; o++) {
        if (o != def->options)
            fputs(", ", stdout);
        put_clean(o->key, "");
        if (o->default_value) {
            putchar('=');
            put_clean(o->default_value, "");
        }
    }
    putchar('\n');
    if (!verbose)
        return;
    for (o = def->options; o && o->key; o++) {
        fputs("    ", stdout);
        put_clean(o->key, "");
        fputs(": ", stdout);
        put_clean(o->help, "(no help)");
        if (o->default_value) {
            fputs(" (default: ", stdout);
            put_clean(o->default_value, "");
            putchar(')');
        }
        putchar('\n');
    }
}

int cmd_toolkits(int argc, char **argv)
{
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_flag(argv[i], 'h', "help")) {
            usage_toolkits(stdout);
            return CLI_OK;
        } else if (cli_is_flag(argv[i], 'v', "verbose")) {
            verbose = 1;
        } else if (argv[i][0] == '-') {
            cli_error("toolkits: unknown option '%s' (see 'loong toolkits "
                      "--help')",
                      argv[i]);
            return CLI_USAGE;
        } else {
            cli_error("toolkits: unexpected argument '%s' (see 'loong "
                      "toolkits --help')",
                      argv[i]);
            return CLI_USAGE;
        }
    }

    char libdir[PATH_MAX], err[1024];
    if (cli_libdir(libdir, sizeof libdir, err, sizeof err) != 0) {
        cli_error("%s", err);
        return CLI_FAILED;
    }
    char *search = cli_search_path(libdir);
    if (!search) {
        cli_error("out of memory");
        return CLI_FAILED;
    }

    found_list l = {0};
    int status = CLI_OK;
    for (const char *p = search; *p;) {
        size_t n = strcspn(p, ":");
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)n, p);
        int rc = scan_dir(dir, &l);
        if (rc < 0) {
            cli_error("out of memory");
            status = CLI_FAILED;
            goto done;
        }
        if (rc > 0)
            status = CLI_FAILED;
        p += n + (p[n] == ':');
    }
    if (l.n == 0) {
        cli_error("no toolkits found in %s", search);
        goto done;
    }
    qsort(l.items, l.n, sizeof *l.items, by_name);

    for (size_t i = 0; i < l.n; i++) {
        void *h;
        const loong_toolkit_def *def;
        if (tk_open(l.items[i].path, &h, &def, err, sizeof err) != 0) {
            printf("%s\t-\terror: ", l.items[i].name);
            put_clean(err, "");
            putchar('\n');
            status = CLI_FAILED;
            continue;
        }
        print_toolkit(l.items[i].name, def, verbose);
        fflush(stdout);
        dlclose(h);
    }

done:
    list_free(&l);
    free(search);
    return status;
}
