/* The aarch64 half of the injection (inject_arch.h; the common half and
 * the whole story in inject.c, the stub in inject_stub.c, its frame in
 * inject_aarch64_frame.c). Compiled and its stub run under emulation
 * (make cross-check-aarch64, make test-aarch64-stub); never run against
 * an aarch64 kernel here (docs/attach.md).
 *
 * Registers: PTRACE_GETREGSET/SETREGSET, NT_PRSTATUS (struct
 * user_pt_regs: x0..x30, sp, pc, pstate) and NT_PRFPREG (v0..v31, fpsr,
 * fpcr); NT_ARM_SVE, NT_ARM_SSVE, NT_ARM_ZA and NT_ARM_GCS where the
 * kernel has them.
 *
 * System calls in progress. arm64 keeps the interrupted call's first
 * argument apart (orig_x0, not in user_pt_regs) and, when it decides to
 * restart a call (-ERESTARTSYS and its kin), rewinds the thread *before*
 * the stop a tracer sees (arch/arm64/kernel/signal.c, do_signal: "so that
 * a debugger will see the already changed PC"): at our PTRACE_INTERRUPT
 * stop x0 is already the call's first argument again, pc is back on its
 * `svc #0`, x8 still holds its number, and the kernel has already
 * forgotten that the thread was in a call (its syscallno is -1, so
 * NT_ARM_SYSTEM_CALL has nothing to cancel). Those registers, given back
 * unchanged, restart the call exactly as the kernel would have. The one
 * difference: -ERESTART_RESTARTBLOCK, which the kernel would finish by
 * switching x8 to restart_syscall after the stop; that return value is no
 * longer in any register there, so it cannot be told from -ERESTARTSYS.
 * The call is then made again from the start: a relative sleep
 * (nanosleep, clock_nanosleep without TIMER_ABSTIME, a futex wait with a
 * relative timeout) lasts as long again as it had already slept, never
 * less. CPython's own sleeps and waits restart exactly: time.sleep uses
 * an absolute clock_nanosleep (3.11+) or pselect6, whose timeout the
 * kernel updates in place, and aarch64 has only ppoll and pselect6 (their
 * timeouts updated likewise), and absolute futex waits for locks. A call
 * the kernel does not restart (epoll_pwait, ...) returns EINTR, as after
 * SIGSTOP/SIGCONT.
 *
 * The way back: rt_sigreturn. The thread cannot jump back by itself with
 * all 31 general registers its own (a branch needs one of them), so the
 * frame holds a signal frame built from its registers as it stopped, and
 * the stub ends with rt_sigreturn on it: the kernel puts back every
 * register, sp, pc, pstate, the FP/SIMD and SVE state, the signal mask
 * and the alternate signal stack, as after a signal handler. That is the
 * path every attach takes, with or without `loong`: at the stub's
 * rt_sigreturn (entry stop) we read the results from the frame, restore
 * the page and detach, and the kernel completes the call.
 *
 * Refused stops (the thread runs on and is tried again): SVE registers in
 * use with vectors longer than 96 bytes (they do not fit the signal
 * frame's record area), SME streaming mode or ZA in use (the stub's calls
 * would run in streaming mode, or clobber ZA). Refused processes: a
 * thread with a guarded control stack (GCS), whose rt_sigreturn needs a
 * token on that stack the stub does not make.
 *
 * The instruction cache: the stub is written through /proc/PID/mem (or
 * PTRACE_POKEDATA), both the kernel's access_remote_vm(), which on arm64
 * cleans the data cache and invalidates the instruction cache for the
 * written range of an executable mapping (copy_to_user_page ->
 * flush_ptrace_access), as for a debugger's breakpoints. Nothing is
 * written with process_vm_writev, which does no such maintenance. */
#include "cli/inject_arch.h"

#if defined(__aarch64__)
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#ifndef NT_ARM_SVE
#define NT_ARM_SVE 0x405
#endif
#ifndef NT_ARM_SSVE
#define NT_ARM_SSVE 0x40b
#endif
#ifndef NT_ARM_ZA
#define NT_ARM_ZA 0x40c
#endif
#ifndef NT_ARM_GCS
#define NT_ARM_GCS 0x410 /* Linux 6.13: struct user_gcs */
#endif

/* No red zone below sp on aarch64 Linux: a margin all the same. */
#define STACK_MARGIN 128
#define A64_SVC0 0xd4000001u /* svc #0 */

static int getregset(pid_t pid, int type, void *buf, size_t len)
{
    struct iovec iov = {buf, len};
    return ptrace(PTRACE_GETREGSET, pid, (void *)(long)type, &iov) < 0
               ? -1
               : (int)iov.iov_len;
}

static int setregset(pid_t pid, int type, void *buf, size_t len)
{
    struct iovec iov = {buf, len};
    return ptrace(PTRACE_SETREGSET, pid, (void *)(long)type, &iov) < 0 ? -1
                                                                        : 0;
}

int arch_init(inject_ctx *c)
{
    (void)c;
    return 0;
}

/* SVE and SME state of the stopped thread, into r. */
static void fp_extra(inject_ctx *c, arch_regs *r)
{
    struct user_sve_header h;
    r->sve_vl = 0;
    r->sve_len = 0;
    r->unsafe_fp = NULL;
    if (getregset(c->pid, NT_ARM_SVE, &h, sizeof h) >= (int)sizeof h &&
        sve_vl_valid(h.vl)) {
        r->sve_vl = h.vl;
        if ((h.flags & SVE_PT_REGS_MASK) == SVE_PT_REGS_SVE) {
            unsigned vq = sve_vq_from_vl(h.vl);
            size_t live = SVE_SIG_REGS_SIZE(vq);
            if (SVE_PT_SVE_OFFSET + live > sizeof r->sve ||
                A64_FPSIMD_REC + a64_sve_record(h.vl, live) + 16 > 4096) {
                r->unsafe_fp = "its SVE registers are in use, with vectors "
                               "too long for loong's aarch64 frame";
            } else {
                struct user_sve_header *full = (void *)r->sve;
                int n = getregset(c->pid, NT_ARM_SVE, r->sve, sizeof r->sve);
                if (n >= (int)(SVE_PT_SVE_OFFSET + live) &&
                    full->vl == h.vl &&
                    (full->flags & SVE_PT_REGS_MASK) == SVE_PT_REGS_SVE)
                    r->sve_len = live;
                else
                    r->unsafe_fp = "its SVE registers could not be read";
            }
        }
    }
    if (getregset(c->pid, NT_ARM_SSVE, &h, sizeof h) >= (int)sizeof h &&
        (h.flags & SVE_PT_REGS_MASK) == SVE_PT_REGS_SVE)
        r->unsafe_fp = "it is in SME streaming mode";
    struct user_za_header za;
    if (getregset(c->pid, NT_ARM_ZA, &za, sizeof za) >= (int)sizeof za &&
        za.size > sizeof za)
        r->unsafe_fp = "its SME ZA storage is in use";
}

int arch_get_regs(inject_ctx *c, arch_regs *r)
{
    if (getregset(c->pid, NT_PRSTATUS, &r->gp, sizeof r->gp) < 0 ||
        getregset(c->pid, NT_PRFPREG, &r->fp, sizeof r->fp) < 0) {
        snprintf(c->err, c->errlen, "PTRACE_GETREGSET: %s", strerror(errno));
        return -1;
    }
    fp_extra(c, r);
    return 0;
}

/* The system call the thread is about to restart (pc on its svc: the
 * kernel rewound it before the stop) or has just returned from (pc right
 * after it): its number is still in x8. -1 if neither. */
static long syscall_at(inject_ctx *c, const arch_regs *r)
{
    uint32_t insn[2];
    if (r->gp.pc < 4 || (r->gp.pc & 3) ||
        inject_mem_read(c, r->gp.pc - 4, insn, sizeof insn) < 0)
        return -1;
    if (insn[1] == A64_SVC0 || insn[0] == A64_SVC0)
        return (long)r->gp.regs[8];
    return -1;
}

int arch_safe_point(inject_ctx *c, const arch_regs *r)
{
    if (r->gp.sp < c->stack.start + 64 * 1024 || r->gp.sp >= c->stack.end)
        return 0; /* a signal stack, or too little room */
    if (r->unsafe_fp) {
        c->why_unsafe = r->unsafe_fp;
        return 0;
    }
    if (!inject_in_unsafe(c, r->gp.pc))
        return 1;
    long nr = syscall_at(c, r);
    return nr >= 0 && inject_quiet_syscall(nr);
}

int arch_prepare(inject_ctx *c, const arch_regs *r0, const char *so_path,
                 const char *symbol, const char *arg, unsigned char **framep,
                 size_t *sizep, unsigned char *code)
{
    struct {
        uint64_t features_enabled, features_locked, gcspr_el0;
    } gcs;
    if (getregset(c->pid, NT_ARM_GCS, &gcs, sizeof gcs) == (int)sizeof gcs &&
        (gcs.features_enabled & 1)) {
        snprintf(c->err, c->errlen, "process %d runs with a guarded "
                 "control stack (arm64 GCS): loong's aarch64 loader cannot "
                 "return through it", (int)c->pid);
        return -1;
    }
    /* Given back as they are: the kernel has already rewound an
     * interrupted call (see the top of this file). */
    c->back = *r0;

    size_t size = a64_frame_size(so_path, symbol, arg);
    unsigned char *frame = malloc(size);
    if (!frame) {
        snprintf(c->err, c->errlen, "out of memory");
        return -1;
    }
    uint64_t f = (r0->gp.sp - STACK_MARGIN - size) & ~(uint64_t)63;
    if (f < c->stack.start + 32 * 1024) {
        snprintf(c->err, c->errlen, "process %d: not enough stack",
                 (int)c->pid);
        free(frame);
        return -1;
    }
    uint64_t fn[3] = {c->dlopen_a, c->dlsym_a, c->dlerror_a};
    if (a64_frame_fill(frame, size, f, fn, r0, so_path, symbol, arg) < 0) {
        snprintf(c->err, c->errlen, "internal: bad aarch64 frame");
        free(frame);
        return -1;
    }
    c->frame = f;
    *framep = frame;
    *sizep = size;
    memcpy(code, loong_stub_begin, c->stub_len);
    return 0;
}

int arch_enter(inject_ctx *c, const arch_regs *r0)
{
    struct user_pt_regs r = r0->gp;
    r.pc = c->stub_at;
    r.sp = c->frame;
    /* Entered by setting pc, not by a branch: no branch-target (BTI)
     * check is pending, even if the thread stopped right after one. */
    r.pstate &= ~(uint64_t)PSR_BTYPE_MASK;
    if (setregset(c->pid, NT_PRSTATUS, &r, sizeof r) < 0) {
        snprintf(c->err, c->errlen, "PTRACE_SETREGSET: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int arch_stub_done(inject_ctx *c, stub_out *out)
{
    struct user_pt_regs r;
    uint64_t svc = c->stub_at + (uint64_t)(loong_stub_sigreturn -
                                           loong_stub_begin);
    if (getregset(c->pid, NT_PRSTATUS, &r, sizeof r) < 0 ||
        r.pc != svc + 4 || r.regs[8] != SYS_rt_sigreturn)
        return 0;
    uint64_t o[4] = {0, 0, (uint64_t)-1, 0};
    inject_mem_read(c, c->frame + A64_F_OUT, o, sizeof o);
    out->handle = o[0];
    out->entry = o[1];
    out->rc = (int64_t)o[2];
    out->dlerr = o[3];
    return 1;
}

int arch_leave(inject_ctx *c)
{
    /* Nothing to set: the kernel's rt_sigreturn, which the thread is
     * entering, gives it its registers back from the frame. The stub's
     * code is no longer needed. */
    (void)c;
    return 0;
}
#endif
