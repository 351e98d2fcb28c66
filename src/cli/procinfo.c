/* What /proc says about a target process: its mappings, its user and
 * tracer, which CPython it runs, and why ptrace may be refused. */
#include "cli/attach.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_maps_read(pid_t pid, proc_maps *out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[4096 + 256];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        proc_map m;
        memset(&m, 0, sizeof m);
        unsigned long long s, e, off;
        int n = 0;
        if (sscanf(line, "%llx-%llx %4s %llx %*s %*s %n", &s, &e, m.perms,
                   &off, &n) < 4)
            continue;
        m.start = s;
        m.end = e;
        m.offset = off;
        if (n > 0) {
            snprintf(m.path, sizeof m.path, "%s", line + n);
            m.path[strcspn(m.path, "\n")] = '\0';
        }
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            proc_map *g = realloc(out->m, nc * sizeof *g);
            if (!g) {
                fclose(f);
                proc_maps_free(out);
                return -ENOMEM;
            }
            out->m = g;
            cap = nc;
        }
        out->m[out->n++] = m;
    }
    fclose(f);
    return out->n ? 0 : -ESRCH;
}

void proc_maps_free(proc_maps *pm)
{
    free(pm->m);
    pm->m = NULL;
    pm->n = 0;
}

const proc_map *proc_maps_find(const proc_maps *pm, uint64_t addr)
{
    for (size_t i = 0; i < pm->n; i++)
        if (addr >= pm->m[i].start && addr < pm->m[i].end)
            return &pm->m[i];
    return NULL;
}

int proc_maps_bias(const proc_maps *pm, const char *path, const elf_file *ef,
                   uint64_t *bias)
{
    for (size_t i = 0; i < pm->n; i++) {
        if (pm->m[i].offset == 0 && strcmp(pm->m[i].path, path) == 0) {
            *bias = pm->m[i].start - elf_load_base(ef);
            return 0;
        }
    }
    return -1;
}

const char *proc_maps_lib(const proc_maps *pm, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < pm->n; i++) {
        const char *p = pm->m[i].path;
        const char *base = strrchr(p, '/');
        if (p[0] == '/' && base && strncmp(base + 1, prefix, n) == 0)
            return p;
    }
    return NULL;
}

void proc_path(pid_t pid, const char *path, char *out, size_t cap)
{
    char root[64];
    snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
    /* Through the target's root (another mount namespace, a container)
     * when we may; the plain path otherwise. */
    if (access(root, X_OK) == 0)
        snprintf(out, cap, "%s%s", root, path);
    else
        snprintf(out, cap, "%s", path);
}

int proc_status_read(pid_t pid, proc_status *st)
{
    char path[64], line[512];
    memset(st, 0, sizeof *st);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    st->exists = 1;
    st->nspid = pid;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Name:", 5)) {
            char *v = line + 5;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = '\0';
            snprintf(st->name, sizeof st->name, "%.63s", v);
        } else if (!strncmp(line, "State:", 6)) {
            char *v = line + 6;
            while (*v == ' ' || *v == '\t')
                v++;
            st->state = *v;
        } else if (!strncmp(line, "Uid:", 4)) {
            unsigned r, e;
            if (sscanf(line + 4, "%u %u", &r, &e) == 2)
                st->uid = e;
        } else if (!strncmp(line, "TracerPid:", 10)) {
            st->tracer = (pid_t)atoi(line + 10);
        } else if (!strncmp(line, "NSpid:", 6)) {
            /* the last one is the process's own view */
            char *tok, *save = NULL;
            for (tok = strtok_r(line + 6, " \t\n", &save); tok;
                 tok = strtok_r(NULL, " \t\n", &save))
                st->nspid = (pid_t)atoi(tok);
        }
    }
    fclose(f);
    return 0;
}

/* "libpython3.12.so.1.0", "libpython3.9d.so": 12, 9. */
static int minor_from_lib(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, "libpython3.", 11) != 0 || !isdigit((unsigned char)base[11]))
        return 0;
    return atoi(base + 11);
}

/* "python3.12": 12. */
static int minor_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, "python3.", 8) != 0 || !isdigit((unsigned char)base[8]))
        return 0;
    char *end;
    long m = strtol(base + 8, &end, 10);
    return *end == '\0' || *end == 'd' || *end == 't' ? (int)m : 0;
}

int proc_python_minor(pid_t pid, const proc_maps *pm, char *err,
                      size_t errlen)
{
    const char *lib = proc_maps_lib(pm, "libpython3.");
    if (!lib)
        lib = proc_maps_lib(pm, "libpython2.");
    if (lib) {
        int m = minor_from_lib(lib);
        if (!m)
            snprintf(err, errlen, "runs %s, not CPython 3", lib);
        return m;
    }
    /* no libpython: a python executable built without one (Debian's) */
    char exe[4096], link[64], file[4200];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(err, errlen, "cannot read %s: %s", link, strerror(errno));
        return 0;
    }
    exe[n] = '\0';
    if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
        exe[n - 10] = '\0';
    proc_path(pid, exe, file, sizeof file);
    elf_file ef;
    int rc = elf_open(file, &ef);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read its executable %s: %s", exe,
                 strerror(-rc));
        return 0;
    }
    uint64_t addr, ver = 0;
    int minor = 0;
    if (elf_symbol(&ef, "Py_Version", &addr) == 0 &&
        elf_read(&ef, addr, &ver, 4) == 0 && (ver >> 24) == 3) {
        minor = (int)((ver >> 16) & 0xff);          /* 3.11 and later */
    } else if (elf_symbol(&ef, "Py_Initialize", &addr) == 0 ||
               elf_symbol(&ef, "Py_BytesMain", &addr) == 0) {
        minor = minor_from_name(exe);               /* 3.8 to 3.10 */
        if (!minor)
            snprintf(err, errlen, "cannot tell which Python %s is (not "
                     "named python3.X, no libpython3.X.so, no Py_Version)",
                     exe);
    } else {
        snprintf(err, errlen, "not a Python process (%s has no libpython "
                 "and no Python symbols)", exe);
    }
    elf_close(&ef);
    return minor;
}

void proc_ptrace_advice(pid_t pid, int err, char *out, size_t cap)
{
    proc_status st;
    if (proc_status_read(pid, &st) < 0 || err == ESRCH) {
        snprintf(out, cap, "no such process: %d", (int)pid);
        return;
    }
    if (st.tracer) {
        char comm[64] = "?", path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)st.tracer);
        FILE *f = fopen(path, "re");
        if (f) {
            if (fgets(comm, sizeof comm, f))
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
        snprintf(out, cap, "process %d is already traced by process %d "
                 "(%s): a process has one tracer at a time; detach it "
                 "(e.g. quit the debugger) and try again",
                 (int)pid, (int)st.tracer, comm);
        return;
    }
    if (st.uid != geteuid() && geteuid() != 0) {
        snprintf(out, cap, "process %d belongs to uid %u, not to you (uid "
                 "%u): run loong as that user or as root",
                 (int)pid, (unsigned)st.uid, (unsigned)geteuid());
        return;
    }
    int scope = -1;
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f) {
        if (fscanf(f, "%d", &scope) != 1)
            scope = -1;
        fclose(f);
    }
    if (scope >= 1 && geteuid() != 0) {
        snprintf(out, cap, "ptrace of process %d is not permitted: "
                 "kernel.yama.ptrace_scope is %d (only a parent may trace "
                 "its children%s); fix: 'sudo sysctl "
                 "kernel.yama.ptrace_scope=0', or run loong with "
                 "CAP_SYS_PTRACE (e.g. as root)",
                 (int)pid, scope, scope >= 2 ? ", or admins only" : "");
        if (scope == 3)
            snprintf(out, cap, "ptrace is disabled on this machine "
                     "(kernel.yama.ptrace_scope is 3, until reboot): "
                     "attach is impossible; use 'loong run' instead");
        return;
    }
    snprintf(out, cap, "ptrace of process %d is not permitted: %s (a "
             "security module or a container may forbid it: run loong "
             "with CAP_SYS_PTRACE, or use 'loong run')",
             (int)pid, strerror(err));
}
