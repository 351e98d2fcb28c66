/* Unit tests of src/common/tkfind.c. Builds small toolkits with
 * `$CC -shared` (default cc) into a temporary folder; the public headers
 * are found through $LOONG_INCLUDE, else ../../include next to this file,
 * else ./include. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/tkfind.h"

static char tmp[PATH_MAX]; /* the temporary folder, realpath'd */
static char inc[PATH_MAX]; /* the include folder */

static int find_include(void)
{
    char cand[3][PATH_MAX];
    struct stat st;
    const char *env = getenv("LOONG_INCLUDE");
    snprintf(cand[0], PATH_MAX, "%s", env ? env : "");
    snprintf(cand[1], PATH_MAX, "%s", __FILE__);
    char *slash = strrchr(cand[1], '/');
    if (slash)
        strcpy(slash, "/../../include");
    else
        strcpy(cand[1], "../../include");
    strcpy(cand[2], "include");
    for (int i = 0; i < 3; i++) {
        char h[PATH_MAX + 32];
        if (!cand[i][0])
            continue;
        int n = snprintf(h, sizeof h, "%s/loong/loong.h", cand[i]);
        if (n > 0 && (size_t)n < sizeof h && stat(h, &st) == 0 &&
            realpath(cand[i], inc) != NULL)
            return 0;
    }
    return -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* Compile C source into DIR/NAME.so (DIR relative to tmp). */
static int build(const char *dir, const char *name, const char *src)
{
    char c[PATH_MAX * 2], so[PATH_MAX * 2], cmd[PATH_MAX * 6];
    const char *cc = getenv("CC");
    snprintf(c, sizeof c, "%s/%s/%s.c", tmp, dir, name);
    snprintf(so, sizeof so, "%s/%s/%s.so", tmp, dir, name);
    write_file(c, src);
    snprintf(cmd, sizeof cmd, "%s -std=c11 -shared -fPIC -I'%s' -o '%s' '%s'",
             cc && *cc ? cc : "cc", inc, so, c);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "cannot build %s: %s\n", so, cmd);
    return rc;
}

#define PRELUDE                                                               \
    "#include \"loong/loong.h\"\n"                                            \
    "static int load(loong_toolkit *tk, const loong_api *api,\n"              \
    "                const loong_options *o)\n"                               \
    "{ (void)tk; (void)api; (void)o; return 0; }\n"

#define OPTS                                                                  \
    "static const loong_option_def opts[] = {\n"                              \
    "    {\"measurement\", \"demo\", \"the measurement\"},\n"                 \
    "    {\"top\", \"10\", \"how many\"},\n"                                  \
    "    {NULL, NULL, NULL}};\n"

/* A definition with the given header fields, name and load. */
#define DEF(major, minor, size, name, load)                                   \
    "static const loong_toolkit_def def = {\n"                                \
    "    .abi_major = " major ", .abi_minor = " minor ",\n"                   \
    "    .size = " size ", .name = " name ", .version = \"1.0\",\n"           \
    "    .summary = \"s\", .options = opts, .load = " load "};\n"             \
    "LOONG_TOOLKIT(def)\n"

#define GOOD_SRC(name)                                                        \
    PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR",                    \
                     "sizeof(loong_toolkit_def)", "\"" name "\"", "load")

static int setup(void)
{
    char t[] = "/tmp/loong-test-tkfind-XXXXXX";
    if (mkdtemp(t) == NULL || realpath(t, tmp) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    char d[PATH_MAX + 16];
    const char *dirs[] = {"a", "b", "c", "d.so"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(d, sizeof d, "%s/%s", tmp, dirs[i]);
        if (mkdir(d, 0755) != 0) {
            perror(d);
            return -1;
        }
    }
    int rc = 0;
    rc |= build("a", "good", GOOD_SRC("good"));
    rc |= build("b", "good", GOOD_SRC("good")); /* shadowed by a/ */
    rc |= build("b", "other", GOOD_SRC("other"));
    rc |= build("a", "noentry", "int not_a_toolkit(void) { return 1; }\n");
    rc |= build("a", "nulldef",
                "#include \"loong/loong.h\"\n"
                "LOONG_EXPORT const loong_toolkit_def *\n"
                "loong_toolkit_entry(void) { return 0; }\n");
    rc |= build("a", "major",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR + 1", "0",
                                 "sizeof(loong_toolkit_def)", "\"major\"",
                                 "load"));
    rc |= build("a", "minor",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR + 1",
                                 "sizeof(loong_toolkit_def)", "\"minor\"",
                                 "load"));
    rc |= build("a", "small",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR",
                                 "offsetof(loong_toolkit_def, load)",
                                 "\"small\"", "load"));
    rc |= build("a", "bigger",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR",
                                 "sizeof(loong_toolkit_def) + 64",
                                 "\"bigger\"", "load"));
    rc |= build("a", "badname",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR",
                                 "sizeof(loong_toolkit_def)", "\"Bad-Name\"",
                                 "load"));
    rc |= build("a", "noname",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR",
                                 "sizeof(loong_toolkit_def)", "NULL", "load"));
    rc |= build("a", "noload",
                PRELUDE OPTS DEF("LOONG_ABI_MAJOR", "LOONG_ABI_MINOR",
                                 "sizeof(loong_toolkit_def)", "\"noload\"",
                                 "NULL"));
    rc |= build("c", "plain",
                "#include \"loong/loong.h\"\n"

                "static int load(loong_toolkit *tk, const loong_api *a,\n"
                "                const loong_options *o)\n"
                "{ (void)tk; (void)a; (void)o; return 0; }\n"
                "static const loong_toolkit_def def = {\n"
                "    LOONG_TOOLKIT_DEF_HEADER, .name = \"plain\",\n"
                "    .load = load};\n"
                "LOONG_TOOLKIT(def)\n");
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/a/text.so", tmp);
    write_file(p, "this is not an ELF file\n");
    return rc ? -1 : 0;
}

static void cleanup(void)
{
    char cmd[PATH_MAX + 32];
    if (tmp[0] && strncmp(tmp, "/tmp/loong-test-tkfind-", 23) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp);
    }
}

static void path_of(char *out, size_t len, const char *rel)
{
    int n = snprintf(out, len, "%s/%s", tmp, rel);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "test_tkfind: path too long\n");
        exit(1);
    }
}

static void test_find(void)
{
    char sp[PATH_MAX * 3], out[PATH_MAX], want[PATH_MAX], err[512];
    snprintf(sp, sizeof sp, "%s/a:%s/b", tmp, tmp);

    /* by name: first folder wins; later folders are searched */
    CHECK_EQ_INT(tk_find("good", sp, out, sizeof out, err, sizeof err), 0);
    path_of(want, sizeof want, "a/good.so");
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(tk_find("other", sp, out, sizeof out, err, sizeof err), 0);
    path_of(want, sizeof want, "b/other.so");
    CHECK_EQ_STR(out, want);

    /* empty entries in the search path are skipped */
    char sp2[PATH_MAX * 3];
    snprintf(sp2, sizeof sp2, "::%s/b::", tmp);
    CHECK_EQ_INT(tk_find("good", sp2, out, sizeof out, err, sizeof err), 0);
    path_of(want, sizeof want, "b/good.so");
    CHECK_EQ_STR(out, want);

    /* not found: the message names the file and every folder */
    err[0] = '\0';
    CHECK_EQ_INT(tk_find("nope", sp, out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_HAS(err, "nope.so");
    CHECK_HAS(err, sp);
    CHECK_EQ_INT(tk_find("nope", "", out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_HAS(err, "empty");
    CHECK_EQ_INT(tk_find("nope", NULL, out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_EQ_INT(tk_find("good", "/nonexistent-loong-dir", out, sizeof out,
                         err, sizeof err),
                 LOONG_ENOENT);
    CHECK_HAS(err, "/nonexistent-loong-dir");

    /* not a name, not a path */
    CHECK_EQ_INT(tk_find("Good", sp, out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_HAS(err, "[a-z0-9_]+");
    CHECK_EQ_INT(tk_find("", sp, out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_EQ_INT(tk_find(NULL, sp, out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);

    /* paths: absolute, relative with '/', bare "x.so" relative to cwd */
    char p[PATH_MAX + 32];
    path_of(p, sizeof p, "b/other.so");
    CHECK_EQ_INT(tk_find(p, "", out, sizeof out, err, sizeof err), 0);
    CHECK_EQ_STR(out, p);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        cwd[0] = '\0';
    path_of(p, sizeof p, "b");
    if (CHECK(chdir(p) == 0)) {
        path_of(want, sizeof want, "b/other.so");
        CHECK_EQ_INT(tk_find("other.so", sp, out, sizeof out, err, sizeof err),
                     0);
        CHECK_EQ_STR(out, want);
        CHECK_EQ_INT(
            tk_find("./other.so", "", out, sizeof out, err, sizeof err), 0);
        CHECK_EQ_STR(out, want);
        path_of(want, sizeof want, "a/good.so");
        CHECK_EQ_INT(
            tk_find("../a/good.so", "", out, sizeof out, err, sizeof err), 0);
        CHECK_EQ_STR(out, want);
        /* "noentry.so" is a path (here, b/): not looked up in a/ */
        CHECK_EQ_INT(
            tk_find("noentry.so", sp, out, sizeof out, err, sizeof err),
            LOONG_ENOENT);
        CHECK_HAS(err, "noentry.so");
        CHECK(chdir(cwd) == 0);
    }

    /* a symlink resolves to the real file */
    char link[PATH_MAX + 32], target[PATH_MAX + 32];
    path_of(link, sizeof link, "c/link.so");
    path_of(target, sizeof target, "b/other.so");
    if (CHECK(symlink(target, link) == 0)) {
        char csp[PATH_MAX + 32];
        path_of(csp, sizeof csp, "c");
        CHECK_EQ_INT(tk_find("link", csp, out, sizeof out, err, sizeof err),
                     0);
        CHECK_EQ_STR(out, target);
    }

    /* missing file, a folder named like a toolkit */
    path_of(p, sizeof p, "a/missing.so");
    CHECK_EQ_INT(tk_find(p, "", out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_HAS(err, "missing.so");
    path_of(p, sizeof p, "d.so");
    CHECK_EQ_INT(tk_find(p, "", out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);
    CHECK_HAS(err, "not a regular file");
    char tsp[PATH_MAX + 32];
    snprintf(tsp, sizeof tsp, "%s", tmp);
    CHECK_EQ_INT(tk_find("d", tsp, out, sizeof out, err, sizeof err),
                 LOONG_ENOENT);

    /* out too small */
    char small[8];
    CHECK_EQ_INT(tk_find("good", sp, small, sizeof small, err, sizeof err),
                 LOONG_ETRUNC);
}

/* Open DIR/NAME.so; expect code and, on failure, a message with want. */
static void open_expect(const char *rel, int code, const char *want)
{
    char p[PATH_MAX + 32], err[1024] = "";
    void *h = (void *)1;
    const loong_toolkit_def *d = (const loong_toolkit_def *)1;
    path_of(p, sizeof p, rel);
    int rc = tk_open(p, &h, &d, err, sizeof err);
    CHECK_EQ_INT(rc, code);
    if (rc != code)
        fprintf(stderr, "    opening %s: %s\n", rel, err);
    if (code == 0) {
        CHECK(h != NULL && d != NULL);
        if (h)
            dlclose(h);
        return;
    }
    CHECK(h == NULL);
    CHECK(d == NULL);
    CHECK_HAS(err, p);
    CHECK_HAS(err, want);
    if (rc == 0 && h)
        dlclose(h);
}

static void test_open(void)
{
    char p[PATH_MAX + 32], err[512];
    void *h;
    const loong_toolkit_def *d;

    path_of(p, sizeof p, "a/good.so");
    int rc = tk_open(p, &h, &d, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        CHECK_EQ_STR(d->name, "good");
        CHECK_EQ_STR(d->version, "1.0");
        CHECK_EQ_STR(d->options[0].key, "measurement");
        CHECK(d->load != NULL);
        dlclose(h);
    }

    open_expect("a/bigger.so", 0, ""); /* a newer, larger def is fine */
    open_expect("c/plain.so", 0, "");  /* no options, no unload */
    open_expect("a/noentry.so", LOONG_ETOOLKIT, "loong_toolkit_entry");
    open_expect("a/nulldef.so", LOONG_ETOOLKIT, "no definition");
    open_expect("a/major.so", LOONG_EABI, "ABI 2.0");
    open_expect("a/minor.so", LOONG_EABI, "newer");
    open_expect("a/small.so", LOONG_ETOOLKIT, "too small");
    open_expect("a/badname.so", LOONG_ETOOLKIT, "Bad-Name");
    open_expect("a/noname.so", LOONG_ETOOLKIT, "bad toolkit name");
    open_expect("a/noload.so", LOONG_ETOOLKIT, "no load function");
    open_expect("a/text.so", LOONG_ETOOLKIT, "cannot load");
    open_expect("a/missing.so", LOONG_ETOOLKIT, "cannot load");

    /* the message stays within errlen */
    char tiny[16];
    path_of(p, sizeof p, "a/noentry.so");
    CHECK_EQ_INT(tk_open(p, &h, &d, tiny, sizeof tiny), LOONG_ETOOLKIT);
    CHECK_EQ_INT(strlen(tiny), sizeof tiny - 1);
}

static tk_spec spec_of(loong_option *o, size_t n)
{
    tk_spec s = {(char *)"x", n, o};
    return s;
}

static void test_options(void)
{
    static const loong_option_def two[] = {
        {"measurement", "demo", "m"}, {"top", NULL, "t"}, {NULL, NULL, NULL}};
    static const loong_option_def none[] = {{NULL, NULL, NULL}};
    loong_toolkit_def def = {.abi_major = LOONG_ABI_MAJOR,
                             .abi_minor = LOONG_ABI_MINOR,
                             .size = sizeof def,
                             .name = "example",
                             .options = two};
    char err[512] = "";

    loong_option ok[] = {{"top", "3"}, {"measurement", "x"}};
    tk_spec s = spec_of(ok, 2);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), 0);
    s = spec_of(NULL, 0);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), 0);

    loong_option bad[] = {{"top", "3"}, {"bogus", "1"}};
    s = spec_of(bad, 2);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), LOONG_EOPTION);
    CHECK_EQ_STR(err, "toolkit 'example' has no option 'bogus' "
                      "(options: measurement, top)");

    /* case matters */
    loong_option upper[] = {{"Top", "3"}};
    s = spec_of(upper, 1);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), LOONG_EOPTION);
    CHECK_HAS(err, "'Top'");

    def.options = none;
    s = spec_of(upper, 1);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), LOONG_EOPTION);
    CHECK_EQ_STR(err, "toolkit 'example' has no option 'Top' (it takes no "
                      "options)");
    def.options = NULL;
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), LOONG_EOPTION);
    CHECK_HAS(err, "it takes no options");
    s = spec_of(NULL, 0);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), 0);

    /* a long list of options is cut with "..." */
    static loong_option_def many[101];
    static char keys[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof keys[i], "option_%03d", i);
        many[i].key = keys[i];
    }
    def.options = many;
    s = spec_of(upper, 1);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), LOONG_EOPTION);
    CHECK_HAS(err, "(options: option_000, option_001, ");
    CHECK_HAS(err, ", ...)");
    CHECK(strlen(err) < sizeof err);
    /* any errlen: cut, never overflowed; none at all is fine */
    for (size_t len = 1; len < 200; len += 7) {
        char small[200];
        memset(small, 'Z', sizeof small);
        CHECK_EQ_INT(tk_check_options(&def, &s, small, len), LOONG_EOPTION);
        CHECK(strlen(small) < len && small[len] == 'Z');
    }
    CHECK_EQ_INT(tk_check_options(&def, &s, NULL, 0), LOONG_EOPTION);
    loong_option last[] = {{"option_099", ""}};
    s = spec_of(last, 1);
    CHECK_EQ_INT(tk_check_options(&def, &s, err, sizeof err), 0);
}

int main(void)
{
    if (find_include() != 0) {
        fprintf(stderr, "test_tkfind: cannot find include/loong/loong.h "
                        "(set LOONG_INCLUDE)\n");
        check_failed_++;
        return CHECK_DONE("test_tkfind");
    }
    if (setup() != 0) {
        check_failed_++;
        cleanup();
        return CHECK_DONE("test_tkfind");
    }
    test_find();
    test_open();
    test_options();
    cleanup();
    return CHECK_DONE("test_tkfind");
}
