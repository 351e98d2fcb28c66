/* The aarch64 stub's frame (inject_aarch64.c writes it on the target
 * thread's stack; tests/aarch64/stub_test.c builds it in-process to run
 * the stub under emulation). Pure: no ptrace, no system call.
 *
 *   0     dlopen, dlsym, dlerror   addresses in the target
 *   24    path, symbol, arg        addresses of the strings below
 *   48    handle, entry, rc, dlerr the stub's results (written by it)
 *   128   a signal frame as the kernel's rt_sigreturn reads it at sp:
 *         siginfo (unused, 128 bytes), then a ucontext: flags and link 0,
 *         uc_stack and uc_sigmask filled in by the stub itself (the
 *         thread's alternate signal stack and signal mask, read with
 *         sigaltstack and rt_sigprocmask), uc_mcontext: x0..x30, sp, pc,
 *         pstate of the thread as it stopped, and in its record area the
 *         FP/SIMD record (v0..v31, fpsr, fpcr), on a CPU with SVE an SVE
 *         record (empty, or the live Z, P and FFR registers), and the end
 *         record.
 *   4816  the strings.
 *
 * rt_sigreturn at the end of the stub gives the thread all of it back at
 * once, exactly: every general register (none is needed to jump back),
 * sp, pc and pstate, the FP/SIMD (and SVE) state, the signal mask and the
 * alternate stack. The layout is the kernel's ABI (arch/arm64 uapi
 * <asm/sigcontext.h>, the same as glibc's ucontext_t); the asserts below
 * pin the offsets the stub uses. */
#include "cli/inject_arch.h"

#if defined(__aarch64__)
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ucontext.h>

_Static_assert(sizeof(siginfo_t) == 128, "siginfo size");
_Static_assert(offsetof(ucontext_t, uc_stack) == 16, "uc_stack");
_Static_assert(offsetof(ucontext_t, uc_sigmask) == 40, "uc_sigmask");
_Static_assert(offsetof(ucontext_t, uc_mcontext) == 176, "uc_mcontext");
_Static_assert(sizeof(ucontext_t) == 4560, "ucontext size");
_Static_assert(offsetof(mcontext_t, regs) == 8, "regs");
_Static_assert(offsetof(mcontext_t, sp) == 256, "sp");
_Static_assert(offsetof(mcontext_t, __reserved) == 288, "records");
_Static_assert(A64_F_UC_STACK == A64_F_UC + 16, "stub's uc_stack");
_Static_assert(A64_F_UC_SIGMASK == A64_F_UC + 40, "stub's uc_sigmask");
/* the numbers in the stub's instructions (inject_stub.c) */
_Static_assert(A64_F_UC_SIGMASK == 296 && A64_F_UC_STACK == 272 &&
                   A64_F_SIGFRAME == 128 && A64_F_OUT == 48 &&
                   A64_F_PATH == 24,
               "the stub's offsets");
_Static_assert(A64_F_DATA == A64_F_UC + sizeof(ucontext_t), "strings");
_Static_assert(sizeof(struct fpsimd_context) == A64_FPSIMD_REC, "fpsimd");
_Static_assert(sizeof(struct sve_context) == 16, "sve record header");
_Static_assert(SVE_SIG_REGS_OFFSET == 16, "sve registers offset");
_Static_assert(SVE_PT_SVE_OFFSET == 16, "sve regset header");

size_t a64_sve_record(unsigned vl, size_t live)
{
    if (!vl)
        return 0;
    if (!live)
        return sizeof(struct sve_context);
    return (SVE_SIG_REGS_OFFSET + live + 15) & ~(size_t)15;
}

size_t a64_frame_size(const char *so_path, const char *symbol,
                      const char *arg)
{
    return A64_F_DATA + strlen(so_path) + 1 + strlen(symbol) + 1 +
           strlen(arg) + 1;
}

int a64_frame_fill(unsigned char *frame, size_t size, uint64_t at,
                   const uint64_t fn[3], const arch_regs *r,
                   const char *so_path, const char *symbol, const char *arg)
{
    size_t lp = strlen(so_path) + 1, ls = strlen(symbol) + 1,
           la = strlen(arg) + 1;
    size_t sve = a64_sve_record(r->sve_vl, r->sve_len);
    if (size != A64_F_DATA + lp + ls + la ||
        A64_FPSIMD_REC + sve + 16 > sizeof(((mcontext_t *)0)->__reserved))
        return -1;
    memset(frame, 0, A64_F_DATA);
    uint64_t w[6] = {fn[0], fn[1], fn[2], at + A64_F_DATA,
                     at + A64_F_DATA + lp, at + A64_F_DATA + lp + ls};
    memcpy(frame, w, sizeof w);
    uint64_t out[4] = {0, 0, (uint64_t)-1, 0};
    memcpy(frame + A64_F_OUT, out, sizeof out);

    ucontext_t uc;
    memset(&uc, 0, sizeof uc);
    for (int i = 0; i < 31; i++)
        uc.uc_mcontext.regs[i] = r->gp.regs[i];
    uc.uc_mcontext.sp = r->gp.sp;
    uc.uc_mcontext.pc = r->gp.pc;
    uc.uc_mcontext.pstate = r->gp.pstate;

    unsigned char *rec = uc.uc_mcontext.__reserved;
    struct fpsimd_context fp;
    memset(&fp, 0, sizeof fp);
    fp.head.magic = FPSIMD_MAGIC;
    fp.head.size = sizeof fp;
    fp.fpsr = r->fp.fpsr;
    fp.fpcr = r->fp.fpcr;
    memcpy(fp.vregs, r->fp.vregs, sizeof fp.vregs);
    memcpy(rec, &fp, sizeof fp);
    rec += sizeof fp;
    if (sve) {
        /* Without it a kernel may keep SVE bits the stub's callees left
         * (glibc's SVE memcpy); an empty one says "no live SVE state". */
        struct sve_context sc;
        memset(&sc, 0, sizeof sc);
        sc.head.magic = SVE_MAGIC;
        sc.head.size = (uint32_t)sve;
        sc.vl = (uint16_t)r->sve_vl;
        memcpy(rec, &sc, sizeof sc);
        if (r->sve_len)
            memcpy(rec + SVE_SIG_REGS_OFFSET, r->sve + SVE_PT_SVE_OFFSET,
                   r->sve_len);
        rec += sve;
    }
    /* the end record: eight zero bytes, already there */
    memcpy(frame + A64_F_UC, &uc, sizeof uc);

    memcpy(frame + A64_F_DATA, so_path, lp);
    memcpy(frame + A64_F_DATA + lp, symbol, ls);
    memcpy(frame + A64_F_DATA + lp + ls, arg, la);
    return 0;
}
#endif
