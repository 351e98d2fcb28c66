/* The injection in two halves (see inject.c for the whole story).
 *
 *   inject.c          what every architecture shares: finding dlopen, the
 *                     stub's place and the stack in the target, stopping
 *                     its main thread at a safe point, writing its memory,
 *                     watching the stub's system calls, detaching;
 *   inject_x86_64.c   what is the architecture's: reading and setting the
 *   inject_aarch64.c  registers, whether a stop is safe, the stub's frame,
 *                     recognising the stub's last system call, and how the
 *                     thread gets its own registers back;
 *   inject_stub.c     the stub each architecture runs in the target.
 *
 * Only the half of the architecture being built has a body; the other
 * compiles to nothing. Internal to src/cli. */
#ifndef LOONG_CLI_INJECT_ARCH_H
#define LOONG_CLI_INJECT_ARCH_H

#include "cli/attach.h"

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

#if defined(__x86_64__)
#define INJECT_ARCH_NAME "x86_64"
typedef struct user_regs_struct arch_regs;

#elif defined(__aarch64__)
#include <asm/ptrace.h>
#define INJECT_ARCH_NAME "aarch64"
/* Live SVE registers are carried to the stub's signal frame only up to
 * this size (vector length 96 bytes): they must fit in its 4 KiB record
 * area next to the FP/SIMD record (inject_aarch64.c). */
#define A64_SVE_BUF 4096
typedef struct arch_regs {
    struct user_pt_regs gp;      /* NT_PRSTATUS: x0..x30, sp, pc, pstate */
    struct user_fpsimd_state fp; /* NT_PRFPREG: v0..v31, fpsr, fpcr */
    unsigned sve_vl;             /* SVE vector length in bytes; 0: none */
    size_t sve_len;              /* live SVE register bytes in sve; 0 */
    const char *unsafe_fp;       /* why the FP state forbids this stop */
    unsigned char sve[A64_SVE_BUF]; /* NT_ARM_SVE, header included */
} arch_regs;

/* The aarch64 stub's frame (inject_aarch64_frame.c has the picture). */
enum {
    A64_F_DLOPEN = 0,   /* dlopen, dlsym, dlerror */
    A64_F_PATH = 24,    /* path, symbol, arg */
    A64_F_OUT = 48,     /* handle, entry, rc, dlerror(): the results */
    A64_F_SIGFRAME = 128, /* where sp is at rt_sigreturn */
    A64_F_UC = A64_F_SIGFRAME + 128,  /* the ucontext, after siginfo */
    A64_F_UC_STACK = A64_F_UC + 16,   /* stack_t, filled by the stub */
    A64_F_UC_SIGMASK = A64_F_UC + 40, /* sigset_t, filled by the stub */
    A64_F_DATA = A64_F_UC + 4560,     /* the strings */
    A64_FPSIMD_REC = 528,             /* sizeof(struct fpsimd_context) */
};
/* Bytes of the SVE record for vector length vl (0: no SVE) with live
 * register bytes (0: none live). */
size_t a64_sve_record(unsigned vl, size_t live);
size_t a64_frame_size(const char *so_path, const char *symbol,
                      const char *arg);
/* The frame for a thread with registers r, to be written at address at;
 * fn: dlopen, dlsym, dlerror. 0, or -1 if size or the records are wrong. */
int a64_frame_fill(unsigned char *frame, size_t size, uint64_t at,
                   const uint64_t fn[3], const arch_regs *r,
                   const char *so_path, const char *symbol, const char *arg);
/* inject_stub.c: the stub's rt_sigreturn instruction */
extern const unsigned char loong_stub_sigreturn[];

#endif

#ifdef INJECT_ARCH_NAME

typedef struct range {
    uint64_t start, end;
} range;

typedef struct inject_ctx {
    pid_t pid;
    int mem;                   /* /proc/PID/mem */
    uint64_t dlopen_a, dlsym_a, dlerror_a;
    range unsafe[16];          /* C library and loader code */
    int nunsafe;
    range stack;
    uint64_t stub_at;          /* where the stub goes */
    unsigned char saved_tail[512];
    size_t stub_len;
    int tail_written;
    uint64_t frame;            /* where the stub's frame is */
    arch_regs back;            /* the registers the thread goes back with */
    uint64_t xsave_size;       /* x86_64: its XSAVE area */
    const char *why_unsafe;    /* the last stop's, if not the C library */
    double stopped_ms;
    struct timespec stop_t0;
    char *err;
    size_t errlen;
} inject_ctx;

/* What the stub hands back. */
typedef struct stub_out {
    uint64_t handle, entry, dlerr; /* dlopen's, dlsym's, dlerror()'s */
    int64_t rc;                    /* the entry's result */
} stub_out;

/* ---- inject.c, for the architecture's half --------------------------- */

int inject_mem_read(inject_ctx *c, uint64_t addr, void *buf, size_t len);
int inject_mem_write(inject_ctx *c, uint64_t addr, const void *buf,
                     size_t len);
/* 1 if pc is in the C library's or the loader's code. */
int inject_in_unsafe(const inject_ctx *c, uint64_t pc);
/* 1 for a system call a thread blocks in holding no lock of the C
 * library that dlopen, malloc or pthread_create could want. */
int inject_quiet_syscall(long nr);

/* ---- the architecture's half ----------------------------------------- */

/* Whether this machine can attach at all: 0, or -1 with c->err. */
int arch_init(inject_ctx *c);
/* The registers of the stopped thread: 0, or -1 with c->err. */
int arch_get_regs(inject_ctx *c, arch_regs *r);
/* 1 if loading from this stop is safe: on its own stack with room, and
 * outside the C library or blocked in a quiet system call. */
int arch_safe_point(inject_ctx *c, const arch_regs *r);
/* At the safe stop r0: set c->back and c->frame, and make the frame (heap,
 * *size bytes, to be written at c->frame) and the stub's code (c->stub_len
 * bytes into code). Nothing is written to the process. 0, or -1 with
 * c->err. */
int arch_prepare(inject_ctx *c, const arch_regs *r0, const char *so_path,
                 const char *symbol, const char *arg, unsigned char **frame,
                 size_t *size, unsigned char *code);
/* The one change of the thread's state: point it at the stub. */
int arch_enter(inject_ctx *c, const arch_regs *r0);
/* At a system-call stop while the stub runs: 1 if it is the stub's last
 * one, with its results in *out; else 0. */
int arch_stub_done(inject_ctx *c, stub_out *out);
/* At that stop: give the thread its registers back (c->back). 0 if the
 * stub's code is no longer needed (its page may be restored), -1 if not. */
int arch_leave(inject_ctx *c);

#endif /* INJECT_ARCH_NAME */
#endif
