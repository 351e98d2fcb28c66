/* `loong attach` and its companions: what their files share.
 *
 *   attach.c      the commands attach, load, unload, status, detach, and
 *                 the alias `loong -m _runtime PID load PATH`
 *   ctlclient.c   talking to a process's control socket
 *   procinfo.c    /proc/PID: maps, status, the Python version, why not
 *   elf.c         reading symbols and segments of ELF64 files
 *   inject.c      ptrace: run the runtime's entry on the main thread
 *                 (its architecture's half: inject_arch.h,
 *                 inject_x86_64.c, inject_aarch64.c and _frame.c)
 *   inject_stub.c the code the target runs (x86_64, aarch64)
 *   ps.c          `loong ps`: the Python processes, and loong in them
 */
#ifndef LOONG_CLI_ATTACH_H
#define LOONG_CLI_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- elf.c ----------------------------------------------------------- */

typedef struct elf_file {
    const unsigned char *data;
    size_t size;
} elf_file;

/* Map an ELF64 little-endian x86_64/aarch64 file. 0 or -errno. */
int elf_open(const char *path, elf_file *ef);
void elf_close(elf_file *ef);
/* A defined symbol's value (link-time address), from .dynsym then
 * .symtab. 0, or -1 if not found. */
int elf_symbol(const elf_file *ef, const char *name, uint64_t *value);
/* Lowest PT_LOAD p_vaddr, page-aligned down: address = bias + value. */
uint64_t elf_load_base(const elf_file *ef);
/* End (link-time) of the executable PT_LOAD that contains vaddr in its
 * file-backed page range; 0 if none. */
uint64_t elf_exec_end(const elf_file *ef);
/* Read len bytes at link-time address vaddr from the file. 0 or -1. */
int elf_read(const elf_file *ef, uint64_t vaddr, void *out, size_t len);
/* 1 if a DT_NEEDED entry of the file starts with prefix ("libasan."). */
int elf_needs(const elf_file *ef, const char *prefix);

/* ---- procinfo.c ------------------------------------------------------ */

typedef struct proc_map {
    uint64_t start, end, offset;
    char perms[5];
    char path[4096];
} proc_map;

typedef struct proc_maps {
    proc_map *m;
    size_t n;
} proc_maps;

int proc_maps_read(pid_t pid, proc_maps *out); /* 0 or -errno */
void proc_maps_free(proc_maps *pm);
/* The mapping containing addr, or NULL. */
const proc_map *proc_maps_find(const proc_maps *pm, uint64_t addr);
/* The load bias of the file whose mappings have this path: start of its
 * offset-0 mapping minus the ELF's load base. 0 or -1. */
int proc_maps_bias(const proc_maps *pm, const char *path, const elf_file *ef,
                   uint64_t *bias);
/* The path of a mapped library whose file name starts with prefix
 * ("libc.so.", "libpython3."), or NULL. */
const char *proc_maps_lib(const proc_maps *pm, const char *prefix);

/* A file of the target as seen from here: /proc/PID/root/PATH. */
void proc_path(pid_t pid, const char *path, char *out, size_t cap);

typedef struct proc_status {
    int exists;
    char state;       /* R, S, D, T, t, Z, X */
    uid_t uid;        /* effective */
    pid_t tracer;     /* TracerPid */
    pid_t nspid;      /* the pid in the process's own namespace */
    char name[64];
} proc_status;
int proc_status_read(pid_t pid, proc_status *st); /* 0 or -errno */

/* The CPython minor version of the process: 8 for 3.8. 0 with a message
 * in err (not Python, or not known). */
int proc_python_minor(pid_t pid, const proc_maps *pm, char *err,
                      size_t errlen);

/* Why ptrace of pid is refused, in words with the fix. */
void proc_ptrace_advice(pid_t pid, int err, char *out, size_t cap);

/* ---- inject.c -------------------------------------------------------- */

typedef struct inject_result {
    int64_t rc;              /* what loong_attach_main returned */
    double stopped_ms;       /* total time the target was stopped */
    int attempts;            /* interruptions before a safe point */
} inject_result;

/* Load so_path into the process and call symbol(arg) on its main thread,
 * at a point where it holds no lock of the C library. 0, or -1 with a
 * message in err. */
int inject_call(pid_t pid, const char *so_path, const char *symbol,
                const char *arg, inject_result *res, char *err,
                size_t errlen);

/* ---- inject_stub.c --------------------------------------------------- */

extern const unsigned char loong_stub_begin[], loong_stub_end[];
/* x86_64: the words after its code: where to return */
extern const unsigned char loong_stub_rsp[], loong_stub_rip[];
/* x86_64: frame offsets the stub reads (see inject_stub.c; aarch64's are
 * in inject_arch.h) */
enum {
    STUB_F_DLOPEN = 0,
    STUB_F_DLSYM = 8,
    STUB_F_DLERROR = 16,
    STUB_F_PATH = 24,
    STUB_F_SYMBOL = 32,
    STUB_F_ARG = 40,
    STUB_F_XSAVE_SIZE = 48,
    STUB_F_REGS = 64,  /* r15 r14 ... rax rflags: 16 words, popped */
    STUB_F_DATA = 192, /* strings */
};
#define STUB_MAGIC1 0x6c6f6f6e67617474ull /* "loongatt" */
#define STUB_MAGIC2 0x61636821646f6e65ull

/* ---- ctlclient.c ----------------------------------------------------- */

/* The control socket of pid, as reachable from here. */
void ctl_socket_path(pid_t pid, pid_t nspid, uid_t uid, char *out,
                     size_t cap);
/* Send one request (fields joined by TAB) to the socket of process pid,
 * whose user is uid, and read the one-line answer into *reply (heap,
 * without the newline). The socket is used only if its folder is uid's
 * and private, and the peer is pid. 0: answered; -1: no answer, with a
 * message in err and an errno value in *sys_err (ENOENT: no socket). */
int ctl_request_to(pid_t pid, uid_t uid, const char *sock,
                   const char *const *fields, size_t n, char **reply,
                   int timeout_ms, int *sys_err, char *err, size_t errlen);
/* "key": "value" and "key": number in the runtime's own JSON answers. */
int ctl_json_str(const char *json, const char *key, char *out, size_t cap);
long long ctl_json_num(const char *json, const char *key);

#endif
