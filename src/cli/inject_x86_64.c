/* The x86_64 half of the injection (inject_arch.h; the common half and
 * the whole story in inject.c, the stub in inject_stub.c).
 *
 * Registers: PTRACE_GETREGS/SETREGS (struct user_regs_struct, with
 * orig_rax: the system call a stop interrupted). The stub's frame holds
 * the thread's general registers and flags, which the stub pops itself on
 * its way back; the extended state (XSAVE) it saves on the stack. Its last
 * system call is a getpid() carrying the results and two magic words; at
 * that stop we set the thread's registers back ourselves (orig_rax -1: the
 * getpid is not made). */
#include "cli/inject_arch.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#define RED_ZONE 128

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static int xsave_size(uint64_t *size)
{
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d) || !(cx & (1u << 27)))
        return -1; /* no OSXSAVE */
    if (!__get_cpuid_count(0xd, 0, &a, &b, &cx, &d) || b < 576)
        return -1;
    *size = ((uint64_t)b + 63) & ~(uint64_t)63;
    return 0;
}

int arch_init(inject_ctx *c)
{
    if (xsave_size(&c->xsave_size) < 0) {
        snprintf(c->err, c->errlen, "this CPU has no XSAVE: attach is not "
                 "supported here");
        return -1;
    }
    return 0;
}

int arch_get_regs(inject_ctx *c, arch_regs *r)
{
    if (ptrace(PTRACE_GETREGS, c->pid, NULL, r) < 0) {
        snprintf(c->err, c->errlen, "PTRACE_GETREGS: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int set_regs(inject_ctx *c, struct user_regs_struct *r)
{
    if (ptrace(PTRACE_SETREGS, c->pid, NULL, r) < 0) {
        snprintf(c->err, c->errlen, "PTRACE_SETREGS: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int arch_safe_point(inject_ctx *c, const arch_regs *r)
{
    if (r->rsp < c->stack.start + 64 * 1024 || r->rsp >= c->stack.end)
        return 0; /* a signal stack, or too little room */
    if (!inject_in_unsafe(c, r->rip))
        return 1;
    return (long)r->orig_rax >= 0 && inject_quiet_syscall((long)r->orig_rax);
}

/* The registers the thread would resume with: an interrupted system call
 * restarted as the kernel does when no handler runs. */
static void resume_regs(struct user_regs_struct *r)
{
    long rax = (long)r->rax;
    if ((long)r->orig_rax < 0)
        return;
    if (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR ||
        rax == -ERESTARTNOHAND) {
        r->rax = r->orig_rax;
        r->rip -= 2;
    } else if (rax == -ERESTART_RESTARTBLOCK) {
        r->rax = SYS_restart_syscall;
        r->rip -= 2;
    }
}

int arch_prepare(inject_ctx *c, const arch_regs *r0, const char *so_path,
                 const char *symbol, const char *arg, unsigned char **framep,
                 size_t *sizep, unsigned char *code)
{
    struct user_regs_struct *r1 = &c->back;
    *r1 = *r0;
    resume_regs(r1);

    /* the frame, below the red zone */
    size_t lp = strlen(so_path) + 1, ls = strlen(symbol) + 1,
           la = strlen(arg) + 1;
    size_t size = STUB_F_DATA + lp + ls + la;
    unsigned char *frame = calloc(1, size);
    if (!frame) {
        snprintf(c->err, c->errlen, "out of memory");
        return -1;
    }
    uint64_t f = (r0->rsp - RED_ZONE - size) & ~(uint64_t)63;
    if (f < c->stack.start + 32 * 1024) {
        snprintf(c->err, c->errlen, "process %d: not enough stack",
                 (int)c->pid);
        free(frame);
        return -1;
    }
    uint64_t w[7] = {c->dlopen_a, c->dlsym_a, c->dlerror_a,
                     f + STUB_F_DATA, f + STUB_F_DATA + lp,
                     f + STUB_F_DATA + lp + ls, c->xsave_size};
    memcpy(frame, w, sizeof w);
    uint64_t g[16] = {r1->r15, r1->r14, r1->r13, r1->r12, r1->r11, r1->r10,
                      r1->r9,  r1->r8,  r1->rbp, r1->rdi, r1->rsi, r1->rdx,
                      r1->rcx, r1->rbx, r1->rax, r1->eflags};
    memcpy(frame + STUB_F_REGS, g, sizeof g);
    memcpy(frame + STUB_F_DATA, so_path, lp);
    memcpy(frame + STUB_F_DATA + lp, symbol, ls);
    memcpy(frame + STUB_F_DATA + lp + ls, arg, la);
    c->frame = f;
    *framep = frame;
    *sizep = size;

    /* the stub, with where to return */
    memcpy(code, loong_stub_begin, c->stub_len);
    uint64_t back[2] = {r1->rsp, r1->rip};
    memcpy(code + (loong_stub_rsp - loong_stub_begin), &back[0], 8);
    memcpy(code + (loong_stub_rip - loong_stub_begin), &back[1], 8);
    return 0;
}

int arch_enter(inject_ctx *c, const arch_regs *r0)
{
    struct user_regs_struct r = *r0;
    r.rip = c->stub_at;
    r.rsp = c->frame;
    r.orig_rax = (unsigned long long)-1; /* no restart: the stub does it */
    r.rax = 0;
    return set_regs(c, &r);
}

int arch_stub_done(inject_ctx *c, stub_out *out)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, c->pid, NULL, &r) == 0 &&
        r.orig_rax == SYS_getpid && r.r10 == STUB_MAGIC1 &&
        r.r9 == STUB_MAGIC2 && (long)r.rax == -ENOSYS) {
        out->handle = r.rdi;
        out->entry = r.rsi;
        out->dlerr = r.r8;
        out->rc = (int64_t)r.rdx;
        return 1;
    }
    return 0;
}

int arch_leave(inject_ctx *c)
{
    c->back.orig_rax = (unsigned long long)-1;
    return set_regs(c, &c->back);
}
#endif
