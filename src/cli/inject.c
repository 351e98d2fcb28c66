/* ptrace injection: run dlopen(runtime), dlsym and the runtime's entry on
 * the main thread of a process that never heard of loong. This file is
 * what every architecture shares; the registers, the safe-point test on
 * them, the frame and the way back are the architecture's
 * (inject_arch.h: inject_x86_64.c, inject_aarch64.c; the stubs in
 * inject_stub.c).
 *
 * 1. PTRACE_SEIZE the main thread only (the other threads never stop),
 *    then PTRACE_INTERRUPT it until it stops at a safe point: not inside
 *    the C library or the dynamic loader (where it could hold malloc's or
 *    the loader's lock, which dlopen takes), unless it is blocked in a
 *    system call that holds none (sleep, select, poll, recv, futex...);
 *    and on its own stack. Between tries it runs on; each stop lasts
 *    microseconds.
 * 2. Write the stub (inject_stub.c) into the unused tail of the last page
 *    of an executable mapping (the padding after a library's code, which
 *    nothing executes: the write makes the page a private copy), and its
 *    frame (addresses, strings, the thread's registers) on the thread's
 *    stack below its red zone. The thread's registers are those it would
 *    have resumed with: a system call the stop interrupted is set up to be
 *    restarted exactly as the kernel would have (-ERESTARTSYS and its
 *    kin), so the program never sees EINTR from us and its sleeps are not
 *    cut short.
 * 3. One register write points the thread at the stub: the only change of
 *    the thread's state, and after it the stub needs no tracer. The
 *    thread runs under PTRACE_SYSCALL (so we see the stub's last system
 *    call with its results); signals that arrive are passed on.
 * 4. At that system call the thread gets its registers back (x86_64: set
 *    by us; aarch64: by the kernel, from the signal frame the stub returns
 *    through), the page's tail is restored, and we detach.
 *
 * If `loong` dies at any moment, the kernel detaches the thread, which
 * then either never left its own code (before 3) or finishes the stub by
 * itself and returns to its code (after 3). What can be left behind then:
 * the stub's bytes in the page tail, which nothing executes. */
#include "cli/inject_arch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef INJECT_ARCH_NAME

#define MAX_ATTEMPTS 400
#define STUB_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 2000

typedef inject_ctx ctx;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the target's memory --------------------------------------------- */

int inject_mem_read(ctx *c, uint64_t addr, void *buf, size_t len)
{
    ssize_t n = pread(c->mem, buf, len, (off_t)addr);
    return n == (ssize_t)len ? 0 : -1;
}

/* /proc/PID/mem writes through page protections (as a debugger's
 * breakpoints do); PTRACE_POKEDATA where that is refused. */
int inject_mem_write(ctx *c, uint64_t addr, const void *buf, size_t len)
{
    if (pwrite(c->mem, buf, len, (off_t)addr) == (ssize_t)len)
        return 0;
    const unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done;
        uint64_t aligned = at & ~(uint64_t)7;
        unsigned char word[8];
        errno = 0;
        long w = ptrace(PTRACE_PEEKDATA, c->pid, (void *)aligned, NULL);
        if (errno)
            return -1;
        memcpy(word, &w, 8);
        size_t off = at - aligned;
        size_t take = 8 - off < len - done ? 8 - off : len - done;
        memcpy(word + off, p + done, take);
        memcpy(&w, word, 8);
        if (ptrace(PTRACE_POKEDATA, c->pid, (void *)aligned, (void *)w) < 0)
            return -1;
        done += take;
    }
    return 0;
}

/* ---- stops ----------------------------------------------------------- */

static void stopped(ctx *c)
{
    clock_gettime(CLOCK_MONOTONIC, &c->stop_t0);
}

static void resumed(ctx *c)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    c->stopped_ms += (double)(t.tv_sec - c->stop_t0.tv_sec) * 1e3 +
                     (double)(t.tv_nsec - c->stop_t0.tv_nsec) / 1e6;
}

/* Wait for the next stop of the thread. 0 with *status, -1 if it exited
 * (message set), -2 on timeout. */
static int wait_stop(ctx *c, int *status, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(c->pid, status, __WALL | WNOHANG);
        if (r == c->pid) {
            if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
                snprintf(c->err, c->errlen, "process %d exited during "
                         "attach", (int)c->pid);
                return -1;
            }
            stopped(c);
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            snprintf(c->err, c->errlen, "process %d: waitpid: %s",
                     (int)c->pid, strerror(errno));
            return -1;
        }
        if (now_ms() > deadline)
            return -2;
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static int in_ranges(const range *r, int n, uint64_t a)
{
    for (int i = 0; i < n; i++)
        if (a >= r[i].start && a < r[i].end)
            return 1;
    return 0;
}

int inject_in_unsafe(const ctx *c, uint64_t pc)
{
    return in_ranges(c->unsafe, c->nunsafe, pc);
}

/* System calls a thread blocks in without holding a lock of the C library
 * that dlopen, malloc or pthread_create could want. (aarch64 has no poll,
 * select, epoll_wait or pause: its C library uses ppoll, pselect6,
 * epoll_pwait and ppoll.) */
int inject_quiet_syscall(long nr)
{
    static const long ok[] = {
        SYS_read, SYS_write, SYS_readv, SYS_writev,
#ifdef SYS_poll
        SYS_poll,
#endif
#ifdef SYS_select
        SYS_select,
#endif
        SYS_nanosleep, SYS_clock_nanosleep, SYS_pselect6, SYS_ppoll,
#ifdef SYS_epoll_wait
        SYS_epoll_wait,
#endif
        SYS_epoll_pwait, SYS_recvfrom, SYS_recvmsg,
        SYS_sendto, SYS_sendmsg, SYS_accept, SYS_accept4, SYS_connect,
        SYS_wait4, SYS_waitid, SYS_futex,
#ifdef SYS_pause
        SYS_pause,
#endif
        SYS_rt_sigtimedwait, SYS_rt_sigsuspend,
#ifdef SYS_epoll_pwait2
        SYS_epoll_pwait2,
#endif
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (ok[i] == nr)
            return 1;
    return 0;
}

/* ---- finding things in the target ------------------------------------ */

static int lib_symbol(pid_t pid, const proc_maps *pm, const char *lib,
                      const char *name, uint64_t *addr)
{
    char file[4200];
    elf_file ef;
    uint64_t v, bias;
    if (!lib)
        return -1;
    proc_path(pid, lib, file, sizeof file);
    if (elf_open(file, &ef) < 0)
        return -1;
    int rc = elf_symbol(&ef, name, &v) == 0 &&
                     proc_maps_bias(pm, lib, &ef, &bias) == 0
                 ? 0
                 : -1;
    if (rc == 0)
        *addr = bias + v;
    elf_close(&ef);
    return rc;
}

static int find_functions(ctx *c, const proc_maps *pm)
{
    const char *libc = proc_maps_lib(pm, "libc.so.6");
    if (!libc)
        libc = proc_maps_lib(pm, "libc-2.");
    const char *libdl = proc_maps_lib(pm, "libdl.so");
    if (!libc) {
        snprintf(c->err, c->errlen, "process %d has no GNU C library "
                 "mapped (libc.so.6): only glibc-based processes can be "
                 "attached", (int)c->pid);
        return -1;
    }
    /* glibc 2.34+: in libc; before: libdl, or libc's private ones */
    if (lib_symbol(c->pid, pm, libc, "dlopen", &c->dlopen_a) < 0 &&
        lib_symbol(c->pid, pm, libdl, "dlopen", &c->dlopen_a) < 0 &&
        lib_symbol(c->pid, pm, libc, "__libc_dlopen_mode", &c->dlopen_a) < 0) {
        snprintf(c->err, c->errlen, "no dlopen found in %s", libc);
        return -1;
    }
    if (lib_symbol(c->pid, pm, libc, "dlsym", &c->dlsym_a) < 0 &&
        lib_symbol(c->pid, pm, libdl, "dlsym", &c->dlsym_a) < 0 &&
        lib_symbol(c->pid, pm, libc, "__libc_dlsym", &c->dlsym_a) < 0) {
        snprintf(c->err, c->errlen, "no dlsym found in %s", libc);
        return -1;
    }
    if (lib_symbol(c->pid, pm, libc, "dlerror", &c->dlerror_a) < 0 &&
        lib_symbol(c->pid, pm, libdl, "dlerror", &c->dlerror_a) < 0)
        c->dlerror_a = 0;

    /* code where the thread may hold the C library's locks */
    const char *ld = proc_maps_lib(pm, "ld-linux");
    for (size_t i = 0; i < pm->n && c->nunsafe < 16; i++) {
        const proc_map *m = &pm->m[i];
        if (m->perms[2] == 'x' &&
            (!strcmp(m->path, libc) || (ld && !strcmp(m->path, ld)) ||
             (libdl && !strcmp(m->path, libdl))))
            c->unsafe[c->nunsafe++] = (range){m->start, m->end};
    }
    for (size_t i = 0; i < pm->n; i++)
        if (!strcmp(pm->m[i].path, "[stack]"))
            c->stack = (range){pm->m[i].start, pm->m[i].end};
    if (!c->stack.end) {
        snprintf(c->err, c->errlen, "process %d: no [stack] mapping",
                 (int)c->pid);
        return -1;
    }
    return 0;
}

/* The tail of an executable file mapping past the end of its code, with
 * room for the stub: the C library's first. */
static int find_stub_place(ctx *c, const proc_maps *pm, size_t need)
{
    const char *libc = proc_maps_lib(pm, "libc.so.6");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < pm->n; i++) {
            const proc_map *m = &pm->m[i];
            if (m->perms[2] != 'x' || m->path[0] != '/' ||
                (pass == 0) != (libc && !strcmp(m->path, libc)))
                continue;
            char file[4200];
            elf_file ef;
            uint64_t bias;
            proc_path(c->pid, m->path, file, sizeof file);
            if (elf_open(file, &ef) < 0)
                continue;
            uint64_t end = elf_exec_end(&ef);
            int ok = end && proc_maps_bias(pm, m->path, &ef, &bias) == 0;
            elf_close(&ef);
            if (!ok)
                continue;
            uint64_t at = (bias + end + 15) & ~(uint64_t)15;
            if (at >= m->start && at < m->end && m->end - at >= need) {
                c->stub_at = at;
                return 0;
            }
        }
    }
    snprintf(c->err, c->errlen, "process %d: no room for the loader stub "
             "after the code of any mapped library", (int)c->pid);
    return -1;
}

/* ---- the injection --------------------------------------------------- */

static void restore_tail(ctx *c)
{
    if (c->tail_written &&
        inject_mem_write(c, c->stub_at, c->saved_tail, c->stub_len) == 0)
        c->tail_written = 0;
}

/* Detach from a thread that may be running: stop it first. */
static void detach_running(ctx *c)
{
    int st;
    if (ptrace(PTRACE_INTERRUPT, c->pid, NULL, NULL) == 0 &&
        wait_stop(c, &st, STOP_TIMEOUT_MS) == 0) {
        ptrace(PTRACE_DETACH, c->pid, NULL, NULL);
        resumed(c);
    }
}

/* Stop at a safe point: 0 with regs, -1 on error. */
static int stop_safely(ctx *c, arch_regs *regs, int *attempts)
{
    for (int i = 0; i < MAX_ATTEMPTS; i++) {
        int st;
        *attempts = i + 1;
        if (ptrace(PTRACE_INTERRUPT, c->pid, NULL, NULL) < 0) {
            snprintf(c->err, c->errlen, "PTRACE_INTERRUPT: %s",
                     strerror(errno));
            return -1;
        }
        for (;;) {
            int w = wait_stop(c, &st, STOP_TIMEOUT_MS);
            if (w == -2) {
                snprintf(c->err, c->errlen, "process %d does not stop "
                         "(uninterruptible sleep?)", (int)c->pid);
                return -1;
            }
            if (w < 0)
                return -1;
            if ((st >> 16) == PTRACE_EVENT_STOP)
                break;
            /* a signal on its way: let it through, our stop follows */
            int sig = WSTOPSIG(st);
            ptrace(PTRACE_CONT, c->pid, NULL, (void *)(long)sig);
            resumed(c);
        }
        if (WSTOPSIG(st) != SIGTRAP) {
            /* a group stop: the process is stopped (SIGSTOP) */
            snprintf(c->err, c->errlen, "process %d is stopped (signal "
                     "%d): continue it first (kill -CONT %d)", (int)c->pid,
                     WSTOPSIG(st), (int)c->pid);
            ptrace(PTRACE_DETACH, c->pid, NULL, NULL);
            return -1;
        }
        if (arch_get_regs(c, regs) < 0)
            return -1;
        c->why_unsafe = NULL;
        if (arch_safe_point(c, regs))
            return 0;
        ptrace(PTRACE_CONT, c->pid, NULL, NULL);
        resumed(c);
        struct timespec ts = {0, (500 + rand() % 1500) * 1000L};
        nanosleep(&ts, NULL);
    }
    detach_running(c);
    snprintf(c->err, c->errlen, "process %d never stopped at a point "
             "where loading is safe (%s)", (int)c->pid,
             c->why_unsafe ? c->why_unsafe
                           : "it stays inside the C library");
    return -1;
}

static int run_stub(ctx *c, const char *so_path, const char *symbol,
                    const char *arg, inject_result *res)
{
    arch_regs r0;
    stub_out out;
    int st;
    if (stop_safely(c, &r0, &res->attempts) < 0)
        return -1;

    /* the frame, on the thread's stack; the stub, with where to return */
    unsigned char *frame = NULL;
    unsigned char code[sizeof c->saved_tail];
    size_t size = 0;
    if (arch_prepare(c, &r0, so_path, symbol, arg, &frame, &size, code) < 0)
        goto undo;
    int wrote = inject_mem_write(c, c->frame, frame, size);
    free(frame);
    if (wrote < 0) {
        snprintf(c->err, c->errlen, "cannot write the process's stack: %s",
                 strerror(errno));
        goto undo;
    }
    if (inject_mem_read(c, c->stub_at, c->saved_tail, c->stub_len) < 0 ||
        inject_mem_write(c, c->stub_at, code, c->stub_len) < 0) {
        snprintf(c->err, c->errlen, "cannot write the loader stub at "
                 "0x%llx: %s", (unsigned long long)c->stub_at,
                 strerror(errno));
        goto undo;
    }
    c->tail_written = 1;

    /* the one change of the thread's state */
    if (arch_enter(c, &r0) < 0)
        goto undo;
    ptrace(PTRACE_SYSCALL, c->pid, NULL, NULL);
    resumed(c);

    double deadline = now_ms() + STUB_TIMEOUT_MS;
    for (;;) {
        int rc = wait_stop(c, &st, (int)(deadline - now_ms()) + 1);
        if (rc == -1)
            return -1;
        if (rc == -2) {
            snprintf(c->err, c->errlen, "process %d: loading the runtime "
                     "did not finish within %d s; left to finish by itself",
                     (int)c->pid, STUB_TIMEOUT_MS / 1000);
            detach_running(c);
            return -1;
        }
        int sig = WSTOPSIG(st);
        if (sig == (SIGTRAP | 0x80)) {
            if (arch_stub_done(c, &out))
                break;
            ptrace(PTRACE_SYSCALL, c->pid, NULL, NULL);
        } else if ((st >> 16) != 0) {
            ptrace(PTRACE_SYSCALL, c->pid, NULL, NULL);
        } else {
            ptrace(PTRACE_SYSCALL, c->pid, NULL, (void *)(long)sig);
        }
        resumed(c);
    }

    /* the stub's results; then back where the thread was */
    res->rc = out.rc;
    if (arch_leave(c) == 0)
        restore_tail(c);
    ptrace(PTRACE_DETACH, c->pid, NULL, NULL);
    resumed(c);
    if (!out.handle || !out.entry) {
        char msg[512] = "";
        if (out.dlerr && inject_mem_read(c, out.dlerr, msg, sizeof msg - 1) < 0)
            msg[0] = '\0';
        msg[sizeof msg - 1] = '\0';
        if (!out.handle)
            snprintf(c->err, c->errlen, "the process could not load %s: %s",
                     so_path, msg[0] ? msg : "dlopen failed");
        else
            snprintf(c->err, c->errlen, "%s has no %s: %s", so_path, symbol,
                     msg);
        return -1;
    }
    return 0;

undo:
    restore_tail(c);
    ptrace(PTRACE_DETACH, c->pid, NULL, NULL);
    resumed(c);
    return -1;
}

int inject_call(pid_t pid, const char *so_path, const char *symbol,
                const char *arg, inject_result *res, char *err,
                size_t errlen)
{
    ctx c;
    memset(&c, 0, sizeof c);
    memset(res, 0, sizeof *res);
    c.pid = pid;
    c.mem = -1;
    c.err = err;
    c.errlen = errlen;
    c.stub_len = (size_t)(loong_stub_end - loong_stub_begin);
    if (c.stub_len > sizeof c.saved_tail) {
        snprintf(err, errlen, "internal: loader stub too large");
        return -1;
    }
    if (arch_init(&c) < 0)
        return -1;
    proc_maps pm;
    int rc = proc_maps_read(pid, &pm);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read /proc/%d/maps: %s", (int)pid,
                 strerror(-rc));
        return -1;
    }
    rc = find_functions(&c, &pm);
    if (rc == 0)
        rc = find_stub_place(&c, &pm, c.stub_len);
    proc_maps_free(&pm);
    if (rc < 0)
        return -1;

    if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0) {
        proc_ptrace_advice(pid, errno, err, errlen);
        return -1;
    }
    char mempath[64];
    snprintf(mempath, sizeof mempath, "/proc/%d/mem", (int)pid);
    c.mem = open(mempath, O_RDWR | O_CLOEXEC);
    if (c.mem < 0) {
        snprintf(err, errlen, "cannot open %s: %s", mempath,
                 strerror(errno));
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
        return -1;
    }
    srand((unsigned)getpid());
    rc = run_stub(&c, so_path, symbol, arg, res);
    close(c.mem);
    res->stopped_ms = c.stopped_ms;
    return rc;
}

#else
int inject_call(pid_t pid, const char *so_path, const char *symbol,
                const char *arg, inject_result *res, char *err,
                size_t errlen)
{
    snprintf(err, errlen, "attach is implemented for x86_64 and aarch64 "
             "only");
    return -1;
}
#endif
