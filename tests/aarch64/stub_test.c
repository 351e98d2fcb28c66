/* loong's aarch64 loader stub, run in-process: built for aarch64 and run
 * under qemu-aarch64 by `make test-aarch64-stub` (ptrace of another
 * process does not work under qemu-user, so the attach itself is not run;
 * this runs what the target would: the stub's machine code on a frame
 * built by the same code as `loong attach` builds it).
 *
 * A "thread" with known registers (every general register, sp, pc,
 * pstate's flags, v0..v31, fpsr, fpcr; SVE's Z, P and FFR when the CPU
 * has them) is described to a64_frame_fill() as inject_aarch64.c
 * describes the stopped thread; the stub is copied to an executable page
 * and entered with sp at the frame; fake dlopen/dlsym/dlerror and entry
 * functions clobber what a real call may (caller-saved registers, FP/SIMD
 * registers, flags, FPSR, FPCR, the signal mask, the alternate signal
 * stack). The stub's rt_sigreturn must land at the thread's pc with every
 * one of those as the thread had it, and leave the results in the frame.
 * Prints "N passed, N failed". */
#include "cli/inject_arch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef HWCAP_SVE
#define HWCAP_SVE (1 << 22)
#endif

/* what the landing pad saw: x0..x30, sp, nzcv, fpsr, fpcr, q0..q31 */
struct dump {
    uint64_t x[31];
    uint64_t sp, nzcv, fpsr, fpcr;
    uint64_t pad;
    __uint128_t q[32];
};
_Static_assert(__builtin_offsetof(struct dump, q) == 288, "dump layout");
__attribute__((aligned(16))) struct dump got;
__attribute__((aligned(16))) unsigned char zdump[32 * 256 + 17 * 32];
uint64_t saved[21]; /* the C side: x19..x30, sp, d8..d15 */
int want_sve;

void enter_stub(uint64_t stub, uint64_t frame);
void landing(void);

__asm__(
    "    .arch armv8.2-a+sve\n"
    "    .text\n"
    "    .p2align 2\n"
    "    .globl enter_stub\n"
    "    .type enter_stub, %function\n"
    "enter_stub:\n"
    "    adrp x9, saved\n"
    "    add x9, x9, :lo12:saved\n"
    "    stp x19, x20, [x9, #0]\n"
    "    stp x21, x22, [x9, #16]\n"
    "    stp x23, x24, [x9, #32]\n"
    "    stp x25, x26, [x9, #48]\n"
    "    stp x27, x28, [x9, #64]\n"
    "    stp x29, x30, [x9, #80]\n"
    "    mov x10, sp\n"
    "    str x10, [x9, #96]\n"
    "    stp d8, d9, [x9, #104]\n"
    "    stp d10, d11, [x9, #120]\n"
    "    stp d12, d13, [x9, #136]\n"
    "    stp d14, d15, [x9, #152]\n"
    "    mov sp, x1\n"          /* as inject_aarch64.c's arch_enter */
    "    br x0\n"
    "    .size enter_stub, . - enter_stub\n"
    "\n"
    "    .globl landing\n"
    "    .type landing, %function\n"
    "landing:\n"                /* every register as rt_sigreturn left it */
    "    stp x0, x1, [sp, #-16]!\n"
    "    adrp x0, got\n"
    "    add x0, x0, :lo12:got\n"
    "    stp x2, x3, [x0, #16]\n"
    "    stp x4, x5, [x0, #32]\n"
    "    stp x6, x7, [x0, #48]\n"
    "    stp x8, x9, [x0, #64]\n"
    "    stp x10, x11, [x0, #80]\n"
    "    stp x12, x13, [x0, #96]\n"
    "    stp x14, x15, [x0, #112]\n"
    "    stp x16, x17, [x0, #128]\n"
    "    stp x18, x19, [x0, #144]\n"
    "    stp x20, x21, [x0, #160]\n"
    "    stp x22, x23, [x0, #176]\n"
    "    stp x24, x25, [x0, #192]\n"
    "    stp x26, x27, [x0, #208]\n"
    "    stp x28, x29, [x0, #224]\n"
    "    str x30, [x0, #240]\n"
    "    mrs x2, nzcv\n"        /* before anything sets the flags */
    "    ldp x3, x4, [sp], #16\n"
    "    stp x3, x4, [x0, #0]\n"
    "    mov x1, sp\n"
    "    stp x1, x2, [x0, #248]\n"
    "    mrs x1, fpsr\n"
    "    mrs x2, fpcr\n"
    "    stp x1, x2, [x0, #264]\n"
    "    add x1, x0, #288\n"
    "    stp q0, q1, [x1, #0]\n"
    "    stp q2, q3, [x1, #32]\n"
    "    stp q4, q5, [x1, #64]\n"
    "    stp q6, q7, [x1, #96]\n"
    "    stp q8, q9, [x1, #128]\n"
    "    stp q10, q11, [x1, #160]\n"
    "    stp q12, q13, [x1, #192]\n"
    "    stp q14, q15, [x1, #224]\n"
    "    stp q16, q17, [x1, #256]\n"
    "    stp q18, q19, [x1, #288]\n"
    "    stp q20, q21, [x1, #320]\n"
    "    stp q22, q23, [x1, #352]\n"
    "    stp q24, q25, [x1, #384]\n"
    "    stp q26, q27, [x1, #416]\n"
    "    stp q28, q29, [x1, #448]\n"
    "    stp q30, q31, [x1, #480]\n"
    "    adrp x1, want_sve\n"
    "    ldr w1, [x1, :lo12:want_sve]\n"
    "    cbz w1, 3f\n"
    "    adrp x1, zdump\n"
    "    add x1, x1, :lo12:zdump\n"
    "    str z0, [x1, #0, mul vl]\n"
    "    str z1, [x1, #1, mul vl]\n"
    "    str z2, [x1, #2, mul vl]\n"
    "    str z3, [x1, #3, mul vl]\n"
    "    str z4, [x1, #4, mul vl]\n"
    "    str z5, [x1, #5, mul vl]\n"
    "    str z6, [x1, #6, mul vl]\n"
    "    str z7, [x1, #7, mul vl]\n"
    "    str z8, [x1, #8, mul vl]\n"
    "    str z9, [x1, #9, mul vl]\n"
    "    str z10, [x1, #10, mul vl]\n"
    "    str z11, [x1, #11, mul vl]\n"
    "    str z12, [x1, #12, mul vl]\n"
    "    str z13, [x1, #13, mul vl]\n"
    "    str z14, [x1, #14, mul vl]\n"
    "    str z15, [x1, #15, mul vl]\n"
    "    str z16, [x1, #16, mul vl]\n"
    "    str z17, [x1, #17, mul vl]\n"
    "    str z18, [x1, #18, mul vl]\n"
    "    str z19, [x1, #19, mul vl]\n"
    "    str z20, [x1, #20, mul vl]\n"
    "    str z21, [x1, #21, mul vl]\n"
    "    str z22, [x1, #22, mul vl]\n"
    "    str z23, [x1, #23, mul vl]\n"
    "    str z24, [x1, #24, mul vl]\n"
    "    str z25, [x1, #25, mul vl]\n"
    "    str z26, [x1, #26, mul vl]\n"
    "    str z27, [x1, #27, mul vl]\n"
    "    str z28, [x1, #28, mul vl]\n"
    "    str z29, [x1, #29, mul vl]\n"
    "    str z30, [x1, #30, mul vl]\n"
    "    str z31, [x1, #31, mul vl]\n"
    "    addvl x1, x1, #31\n"
    "    addvl x1, x1, #1\n"
    "    str p0, [x1, #0, mul vl]\n"
    "    str p1, [x1, #1, mul vl]\n"
    "    str p2, [x1, #2, mul vl]\n"
    "    str p3, [x1, #3, mul vl]\n"
    "    str p4, [x1, #4, mul vl]\n"
    "    str p5, [x1, #5, mul vl]\n"
    "    str p6, [x1, #6, mul vl]\n"
    "    str p7, [x1, #7, mul vl]\n"
    "    str p8, [x1, #8, mul vl]\n"
    "    str p9, [x1, #9, mul vl]\n"
    "    str p10, [x1, #10, mul vl]\n"
    "    str p11, [x1, #11, mul vl]\n"
    "    str p12, [x1, #12, mul vl]\n"
    "    str p13, [x1, #13, mul vl]\n"
    "    str p14, [x1, #14, mul vl]\n"
    "    str p15, [x1, #15, mul vl]\n"
    "    rdffr p0.b\n"
    "    str p0, [x1, #16, mul vl]\n"
    "3:  adrp x9, saved\n"     /* back to C, as if enter_stub returned */
    "    add x9, x9, :lo12:saved\n"
    "    ldp x19, x20, [x9, #0]\n"
    "    ldp x21, x22, [x9, #16]\n"
    "    ldp x23, x24, [x9, #32]\n"
    "    ldp x25, x26, [x9, #48]\n"
    "    ldp x27, x28, [x9, #64]\n"
    "    ldp x29, x30, [x9, #80]\n"
    "    ldr x10, [x9, #96]\n"
    "    mov sp, x10\n"
    "    ldp d8, d9, [x9, #104]\n"
    "    ldp d10, d11, [x9, #120]\n"
    "    ldp d12, d13, [x9, #136]\n"
    "    ldp d14, d15, [x9, #152]\n"
    "    msr fpcr, xzr\n"
    "    ret\n"
    "    .size landing, . - landing\n");

/* ---- what the stub calls --------------------------------------------- */

static int fail_dlopen;
static const char *seen_path, *seen_symbol, *seen_arg;
static int seen_flags;
static void *fake_handle = (void *)0x5eed;
static char dlerror_msg[] = "no such runtime";
static stack_t other_stack;

/* What a real call may do to the caller's state. */
static void clobber(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    sigaltstack(&other_stack, NULL);
    volatile double zero = 0.0, one = 1.0;
    volatile double inf = one / zero; /* FPSR: divide by zero */
    (void)inf;
    __asm__ volatile("msr fpcr, %0\n"
                     "movi v0.16b, #0xee\n movi v1.16b, #0xee\n"
                     "movi v2.16b, #0xee\n movi v3.16b, #0xee\n"
                     "movi v4.16b, #0xee\n movi v5.16b, #0xee\n"
                     "movi v6.16b, #0xee\n movi v7.16b, #0xee\n"
                     "movi v16.16b, #0xee\n movi v17.16b, #0xee\n"
                     "movi v18.16b, #0xee\n movi v19.16b, #0xee\n"
                     "movi v20.16b, #0xee\n movi v21.16b, #0xee\n"
                     "movi v22.16b, #0xee\n movi v23.16b, #0xee\n"
                     "movi v24.16b, #0xee\n movi v25.16b, #0xee\n"
                     "movi v26.16b, #0xee\n movi v27.16b, #0xee\n"
                     "movi v28.16b, #0xee\n movi v29.16b, #0xee\n"
                     "movi v30.16b, #0xee\n movi v31.16b, #0xee\n"
                     "mov x9, #0xdead\n mov x10, #0xdead\n"
                     "mov x16, #0xdead\n mov x17, #0xdead\n"
                     "cmp x9, x9\n"
                     :
                     : "r"((uint64_t)0x00400000)
                     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7",
                       "v16", "v17", "v18", "v19", "v20", "v21", "v22",
                       "v23", "v24", "v25", "v26", "v27", "v28", "v29",
                       "v30", "v31", "x9", "x10", "x16", "x17", "cc");
    if (want_sve)
        __asm__ volatile("ptrue p0.b\n pfalse p1.b\n ptrue p15.b\n"
                         "setffr\n"
                         :
                         :
                         : "p0", "p1", "p15");
}

static void *fake_dlopen(const char *path, int flags)
{
    seen_path = path;
    seen_flags = flags;
    clobber();
    return fail_dlopen ? NULL : fake_handle;
}

static int fake_entry(const char *arg)
{
    seen_arg = arg;
    clobber();
    return -7;
}

static void *fake_dlsym(void *handle, const char *symbol)
{
    seen_symbol = symbol;
    clobber();
    return handle == fake_handle ? (void *)fake_entry : NULL;
}

static char *fake_dlerror(void)
{
    clobber();
    return dlerror_msg;
}

/* ---- the checks -------------------------------------------------------- */

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", what);
    }
}

static unsigned char *stub_page(void)
{
    size_t n = (size_t)(loong_stub_end - loong_stub_begin);
    unsigned char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    memcpy(p, loong_stub_begin, n);
    if (mprotect(p, 65536, PROT_READ | PROT_EXEC) < 0)
        return NULL;
    __builtin___clear_cache((char *)p, (char *)p + n);
    return p;
}

/* Run the stub once for a thread with registers derived from seed. live:
 * with live SVE registers (the CPU has SVE). */
static void run_case(const char *name, unsigned char *stub, int sve_vl,
                     int live, int dlopen_fails)
{
    static unsigned char stack[1 << 20] __attribute__((aligned(64)));
    static arch_regs r;
    char what[256];
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 31; i++)
        r.gp.regs[i] = 0x0101010101010101ull * (uint64_t)(i + 1) ^
                       (uint64_t)name[0] << 56;
    r.gp.sp = (uint64_t)(stack + sizeof stack - 8192);
    r.gp.pc = (uint64_t)landing;
    r.gp.pstate = 0xa0000000; /* N and C */
    for (int i = 0; i < 32; i++) {
        uint64_t lo = 0x1000000000000000ull + (uint64_t)i,
                 hi = 0xf000000000000000ull - (uint64_t)i;
        r.fp.vregs[i] = (__uint128_t)hi << 64 | lo;
    }
    r.fp.fpsr = 0x1; /* IOC: a flag only the thread raised */
    r.fp.fpcr = 0x00c00000; /* round toward zero */
    r.sve_vl = (unsigned)sve_vl;
    size_t zbytes = 0;
    if (live) {
        unsigned vq = sve_vq_from_vl(sve_vl);
        r.sve_len = SVE_SIG_REGS_SIZE(vq);
        unsigned char *p = r.sve + SVE_PT_SVE_OFFSET;
        for (size_t i = 0; i < r.sve_len; i++)
            p[i] = (unsigned char)(i * 7 + 3);
        zbytes = (size_t)32 * sve_vl;
        /* FFR: all true (WRFFR wants a monotonic predicate) */
        memset(p + SVE_SIG_FFR_OFFSET(vq) - SVE_SIG_REGS_OFFSET, 0xff,
               SVE_SIG_FFR_SIZE(vq));
        /* V is the low 128 bits of Z: the kernel gives them so */
        for (int i = 0; i < 32; i++)
            memcpy(&r.fp.vregs[i], p + (size_t)i * sve_vl, 16);
    }

    const char *path = "/opt/loong/lib/loong/python/loong/_runtime.so";
    const char *sym = "loong_attach_main", *arg = "";
    size_t size = a64_frame_size(path, sym, arg);
    uint64_t f = (r.gp.sp - 128 - size) & ~(uint64_t)63;
    uint64_t fn[3] = {(uint64_t)fake_dlopen, (uint64_t)fake_dlsym,
                      (uint64_t)fake_dlerror};
    memset(stack, 0x5a, sizeof stack);
    int rc = a64_frame_fill((unsigned char *)f, size, f, fn, &r, path, sym,
                            arg);
    snprintf(what, sizeof what, "%s: frame built", name);
    check(rc == 0, what);
    if (rc != 0)
        return;

    sigset_t before, after;
    sigemptyset(&before);
    sigaddset(&before, SIGUSR2);
    sigprocmask(SIG_SETMASK, &before, NULL);
    static unsigned char alt[65536];
    stack_t mine = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    sigaltstack(&mine, NULL);

    fail_dlopen = dlopen_fails;
    seen_path = seen_symbol = seen_arg = NULL;
    want_sve = sve_vl != 0;
    memset(&got, 0, sizeof got);
    memset(zdump, 0, sizeof zdump);
    enter_stub((uint64_t)stub, f);

    int regs_ok = 1;
    for (int i = 0; i < 31; i++)
        if (got.x[i] != r.gp.regs[i]) {
            printf("  x%d: %016llx, want %016llx\n", i,
                   (unsigned long long)got.x[i],
                   (unsigned long long)r.gp.regs[i]);
            regs_ok = 0;
        }
    snprintf(what, sizeof what, "%s: x0..x30 back", name);
    check(regs_ok, what);
    snprintf(what, sizeof what, "%s: sp back", name);
    check(got.sp == r.gp.sp, what);
    snprintf(what, sizeof what, "%s: flags back", name);
    check(got.nzcv == 0xa0000000, what);
    snprintf(what, sizeof what, "%s: fpsr, fpcr back", name);
    check(got.fpsr == r.fp.fpsr && got.fpcr == r.fp.fpcr, what);
    snprintf(what, sizeof what, "%s: v0..v31 back", name);
    check(!memcmp(got.q, r.fp.vregs, sizeof got.q), what);
    if (live) {
        snprintf(what, sizeof what, "%s: SVE Z, P, FFR back", name);
        check(!memcmp(zdump, r.sve + SVE_PT_SVE_OFFSET, r.sve_len), what);
        (void)zbytes;
    } else if (sve_vl) {
        /* an empty SVE record: no live SVE state afterwards, so the Z
         * registers are the V registers with zeros above */
        int z_ok = 1;
        for (int i = 0; i < 32 && z_ok; i++) {
            z_ok = !memcmp(zdump + (size_t)i * sve_vl, &r.fp.vregs[i], 16);
            for (int b = 16; b < sve_vl && z_ok; b++)
                z_ok = zdump[(size_t)i * sve_vl + b] == 0;
        }
        snprintf(what, sizeof what, "%s: Z = V, upper bits clear", name);
        check(z_ok, what);
    }

    sigprocmask(SIG_SETMASK, NULL, &after);
    snprintf(what, sizeof what, "%s: signal mask back", name);
    check(sigismember(&after, SIGUSR2) && !sigismember(&after, SIGUSR1),
          what);
    stack_t now;
    sigaltstack(NULL, &now);
    snprintf(what, sizeof what, "%s: alternate stack back", name);
    check(now.ss_sp == alt && now.ss_size == sizeof alt, what);

    uint64_t out[4];
    memcpy(out, (unsigned char *)f + A64_F_OUT, sizeof out);
    snprintf(what, sizeof what, "%s: dlopen(path, RTLD_NOW)", name);
    check(seen_path && !strcmp(seen_path, path) && seen_flags == 2, what);
    if (dlopen_fails) {
        snprintf(what, sizeof what, "%s: results of a failed dlopen", name);
        check(out[0] == 0 && out[1] == 0 && (int64_t)out[2] == -1 &&
                  out[3] == (uint64_t)dlerror_msg && !seen_symbol,
              what);
    } else {
        snprintf(what, sizeof what, "%s: dlsym and the entry called", name);
        check(seen_symbol && !strcmp(seen_symbol, sym) && seen_arg &&
                  !strcmp(seen_arg, arg),
              what);
        snprintf(what, sizeof what, "%s: results", name);
        check(out[0] == (uint64_t)fake_handle &&
                  out[1] == (uint64_t)fake_entry && (int64_t)out[2] == -7 &&
                  out[3] == 0,
              what);
    }
    sigprocmask(SIG_SETMASK, &before, NULL);
}

int main(void)
{
    static unsigned char other[65536];
    other_stack.ss_sp = other;
    other_stack.ss_size = sizeof other;

    unsigned char *stub = stub_page();
    if (!stub) {
        printf("cannot map the stub\n0 passed, 1 failed\n");
        return 1;
    }
    int vl = 0;
    if (getauxval(AT_HWCAP) & HWCAP_SVE)
        vl = prctl(PR_SVE_GET_VL) & PR_SVE_VL_LEN_MASK;
    printf("stub: %zu bytes; SVE vector length: %d bytes\n",
           (size_t)(loong_stub_end - loong_stub_begin), vl);

    run_case("loaded", stub, vl, 0, 0);
    run_case("dlopen fails", stub, vl, 0, 1);
    if (vl) {
        unsigned vq = sve_vq_from_vl(vl);
        if (A64_FPSIMD_REC + a64_sve_record(vl, SVE_SIG_REGS_SIZE(vq)) +
                16 <= 4096)
            run_case("live SVE", stub, vl, 1, 0);
        else
            printf("live SVE: %d-byte vectors do not fit a signal frame's "
                   "record area: loong refuses such stops\n", vl);
    }

    /* the frame builder refuses what would not fit */
    static arch_regs big;
    memset(&big, 0, sizeof big);
    big.sve_vl = 256;
    big.sve_len = SVE_SIG_REGS_SIZE(16);
    static unsigned char frame[A64_F_DATA + 64];
    uint64_t fn[3] = {0, 0, 0};
    check(a64_frame_fill(frame, a64_frame_size("a", "b", "c"), 0x10000, fn,
                         &big, "a", "b", "c") == -1,
          "2048-bit live SVE refused");

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
