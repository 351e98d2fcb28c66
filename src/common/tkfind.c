/* Finding and opening toolkits. See tkfind.h. */
#include "common/tkfind.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The definition must reach at least the end of the last field we read. */
#define TK_DEF_MIN_SIZE                                                       \
    (offsetof(loong_toolkit_def, unload) +                                    \
     sizeof(((loong_toolkit_def *)0)->unload))

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int is_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* realpath() into out, which must hold the result. */
static int resolve(const char *path, char *out, size_t outlen, char *err,
                   size_t errlen)
{
    char buf[PATH_MAX];
    struct stat st;
    if (realpath(path, buf) == NULL)
        return fail(LOONG_ENOENT, err, errlen, "no toolkit file '%s': %s",
                    path, strerror(errno));
    if (stat(buf, &st) != 0 || !S_ISREG(st.st_mode))
        return fail(LOONG_ENOENT, err, errlen,
                    "no toolkit file '%s': not a regular file", path);
    if (strlen(buf) >= outlen)
        return fail(LOONG_ETRUNC, err, errlen, "toolkit path '%s' is too long",
                    buf);
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

int tk_find(const char *name_or_path, const char *search_path, char *out,
            size_t outlen, char *err, size_t errlen)
{
    if (name_or_path == NULL || *name_or_path == '\0')
        return fail(LOONG_ENOENT, err, errlen, "empty toolkit name");
    if (strchr(name_or_path, '/') != NULL || ends_with(name_or_path, ".so"))
        return resolve(name_or_path, out, outlen, err, errlen);
    if (!is_name(name_or_path))
        return fail(LOONG_ENOENT, err, errlen,
                    "'%s' is not a toolkit name ([a-z0-9_]+) nor a path "
                    "(containing '/' or ending in .so)",
                    name_or_path);

    const char *p = search_path ? search_path : "";
    int searched = 0;
    for (;;) {
        size_t len = strcspn(p, ":");
        if (len > 0) {
            char cand[PATH_MAX];
            struct stat st;
            int n = snprintf(cand, sizeof cand, "%.*s/%s.so", (int)len, p,
                             name_or_path);
            searched = 1;
            if (n > 0 && (size_t)n < sizeof cand && stat(cand, &st) == 0 &&
                S_ISREG(st.st_mode))
                return resolve(cand, out, outlen, err, errlen);
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (!searched)
        return fail(LOONG_ENOENT, err, errlen,
                    "no %s.so: the toolkit search path is empty",
                    name_or_path);
    return fail(LOONG_ENOENT, err, errlen, "no %s.so in %s", name_or_path,
                search_path);
}

int tk_open(const char *path, void **handle, const loong_toolkit_def **def,
            char *err, size_t errlen)
{
    *handle = NULL;
    *def = NULL;

    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *why = dlerror();
        size_t plen = strlen(path);
        if (why == NULL)
            why = "unknown dlopen error";
        /* dlerror() usually starts with the path: do not say it twice. */
        else if (strncmp(why, path, plen) == 0 && why[plen] == ':' &&
                 why[plen + 1] == ' ')
            why += plen + 2;
        return fail(LOONG_ETOOLKIT, err, errlen, "%s: cannot load: %s", path,
                    why);
    }

    int rc;
    loong_toolkit_entry_fn entry;
    void *sym = dlsym(h, LOONG_TOOLKIT_ENTRY_NAME);
    /* The only ISO-blessed way from void * to a function pointer. */
    memcpy(&entry, &sym, sizeof entry);
    if (sym == NULL) {
        rc = fail(LOONG_ETOOLKIT, err, errlen,
                  "%s: not a loong toolkit (no symbol %s; does it use "
                  "LOONG_TOOLKIT(def)?)",
                  path, LOONG_TOOLKIT_ENTRY_NAME);
        goto bad;
    }

    const loong_toolkit_def *d = entry();
    if (d == NULL) {
        rc = fail(LOONG_ETOOLKIT, err, errlen,
                  "%s: %s() returned no definition", path,
                  LOONG_TOOLKIT_ENTRY_NAME);
        goto bad;
    }
    if (d->abi_major != LOONG_ABI_MAJOR) {
        rc = fail(LOONG_EABI, err, errlen,
                  "%s: built for toolkit ABI %u.%u, but this loong has ABI "
                  "%d.%d (the major must match; rebuild the toolkit)",
                  path, (unsigned)d->abi_major, (unsigned)d->abi_minor,
                  LOONG_ABI_MAJOR, LOONG_ABI_MINOR);
        goto bad;
    }
    if (d->abi_minor > LOONG_ABI_MINOR) {
        rc = fail(LOONG_EABI, err, errlen,
                  "%s: built for toolkit ABI %u.%u, newer than this loong's "
                  "ABI %d.%d (upgrade loong)",
                  path, (unsigned)d->abi_major, (unsigned)d->abi_minor,
                  LOONG_ABI_MAJOR, LOONG_ABI_MINOR);
        goto bad;
    }
    if (d->size < TK_DEF_MIN_SIZE) {
        rc = fail(LOONG_ETOOLKIT, err, errlen,
                  "%s: toolkit definition too small (size %zu, at least "
                  "%zu expected; was it filled with "
                  "LOONG_TOOLKIT_DEF_HEADER?)",
                  path, d->size, (size_t)TK_DEF_MIN_SIZE);
        goto bad;
    }
    if (!is_name(d->name)) {
        rc = fail(LOONG_ETOOLKIT, err, errlen,
                  "%s: bad toolkit name %s%s%s (expected [a-z0-9_]+)", path,
                  d->name ? "'" : "", d->name ? d->name : "(null)",
                  d->name ? "'" : "");
        goto bad;
    }
    if (d->load == NULL) {
        rc = fail(LOONG_ETOOLKIT, err, errlen,
                  "%s: toolkit '%s' has no load function", path, d->name);
        goto bad;
    }
    *handle = h;
    *def = d;
    return 0;

bad:
    dlclose(h);
    return rc;
}

int tk_check_options(const loong_toolkit_def *def, const tk_spec *spec,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        const char *key = spec->opts[i].key;
        int known = 0;
        for (const loong_option_def *o = def->options; o && o->key; o++) {
            if (strcmp(o->key, key) == 0) {
                known = 1;
                break;
            }
        }
        if (known)
            continue;

        if (def->options == NULL || def->options[0].key == NULL)
            return fail(LOONG_EOPTION, err, errlen,
                        "toolkit '%s' has no option '%s' (it takes no "
                        "options)",
                        def->name, key);
        /* Name the known options, as many as fit in err. */
        if (err == NULL || errlen == 0)
            return LOONG_EOPTION;
        int n = snprintf(
            err, errlen,
            "toolkit '%s' has no option '%s' (options: ", def->name, key);
        if (n < 0 || (size_t)n >= errlen)
            return LOONG_EOPTION;
        size_t used = (size_t)n;
        for (const loong_option_def *o = def->options; o->key; o++) {
            const char *sep = o == def->options ? "" : ", ";
            size_t need = strlen(sep) + strlen(o->key);
            /* keep room for ", ...)" and the NUL */
            if (used + need + sizeof ", ...)" > errlen) {
                snprintf(err + used, errlen - used, "%s...)", sep);
                return LOONG_EOPTION;
            }
            used += (size_t)snprintf(err + used, errlen - used, "%s%s", sep,
                                     o->key);
        }
        snprintf(err + used, errlen - used, ")");
        return LOONG_EOPTION;
    }
    return 0;
}
