/* The code a target runs to load the runtime: copied, never run here.
 * inject.c writes it into the target (see there for where), builds its
 * frame on the target's stack, and points the main thread at it. From
 * then on it needs nobody: if `loong` dies, the stub still finishes and
 * returns to where the thread was. One stub per architecture, each
 * position-independent, with no relocations.
 *
 * x86_64. Entry: rsp = the frame (64-byte aligned; layout in attach.h).
 * It
 *   1. saves the extended register state (XSAVE; AMX tiles excluded),
 *   2. calls dlopen(path, RTLD_NOW), dlsym(handle, symbol), symbol(arg),
 *      or dlerror() when one fails,
 *   3. restores the extended state,
 *   4. makes a getpid() with the results in rdi, rsi, rdx, r8 and two
 *      magic words in r9, r10: a tracer watching system calls reads them
 *      there (and may take over the return), harmless for anyone else,
 *   5. pops the thread's registers and flags from the frame and jumps back
 *      with the thread's own stack pointer (both words kept after the
 *      code, read rip-relative: nothing below the thread's stack pointer
 *      is touched).
 *
 * aarch64: below the x86_64 one. */
#include "cli/attach.h"

#if defined(__x86_64__)
__asm__(
    "    .section .rodata.loong_stub,\"a\"\n"
    "    .p2align 4\n"
    "    .globl loong_stub_begin\n"
    "    .hidden loong_stub_begin\n"
    "    .globl loong_stub_rsp\n"
    "    .hidden loong_stub_rsp\n"
    "    .globl loong_stub_rip\n"
    "    .hidden loong_stub_rip\n"
    "    .globl loong_stub_end\n"
    "    .hidden loong_stub_end\n"
    "    .intel_syntax noprefix\n"
    "loong_stub_begin:\n"
    "    mov rbx, rsp\n"
    "    cld\n"
    "    sub rsp, [rbx + 48]\n"         /* XSAVE area */
    "    and rsp, -64\n"
    "    mov r12, rsp\n"
    "    lea rdi, [r12 + 512]\n"        /* its header must start zeroed */
    "    xor eax, eax\n"
    "    mov ecx, 8\n"
    "    rep stosq\n"
    "    xor ecx, ecx\n"
    "    xgetbv\n"
    "    and eax, 0xfff9ffff\n"
    "    xsave [r12]\n"
    "    xor r13, r13\n"                /* handle */
    "    xor r14, r14\n"                /* entry */
    "    mov r15, -1\n"                 /* its result */
    "    xor ebp, ebp\n"                /* dlerror() */
    "    mov rdi, [rbx + 24]\n"
    "    mov esi, 2\n"                  /* RTLD_NOW, as CPython's import */
    "    call [rbx + 0]\n"
    "    mov r13, rax\n"
    "    test rax, rax\n"
    "    jz 1f\n"
    "    mov rdi, rax\n"
    "    mov rsi, [rbx + 32]\n"
    "    call [rbx + 8]\n"
    "    mov r14, rax\n"
    "    test rax, rax\n"
    "    jz 1f\n"
    "    mov rdi, [rbx + 40]\n"
    "    call r14\n"
    "    movsxd r15, eax\n"
    "    jmp 2f\n"
    "1:  mov rax, [rbx + 16]\n"
    "    test rax, rax\n"
    "    jz 2f\n"
    "    call rax\n"
    "    mov rbp, rax\n"
    "2:  xor ecx, ecx\n"
    "    xgetbv\n"
    "    and eax, 0xfff9ffff\n"
    "    xrstor [r12]\n"
    "    mov rdi, r13\n"
    "    mov rsi, r14\n"
    "    mov rdx, r15\n"
    "    mov r8, rbp\n"
    "    movabs r9, 0x61636821646f6e65\n"
    "    movabs r10, 0x6c6f6f6e67617474\n"
    "    mov eax, 39\n"                 /* getpid */
    "    syscall\n"
    "    lea rsp, [rbx + 64]\n"
    "    pop r15\n"
    "    pop r14\n"
    "    pop r13\n"
    "    pop r12\n"
    "    pop r11\n"
    "    pop r10\n"
    "    pop r9\n"
    "    pop r8\n"
    "    pop rbp\n"
    "    pop rdi\n"
    "    pop rsi\n"
    "    pop rdx\n"
    "    pop rcx\n"
    "    pop rbx\n"
    "    pop rax\n"
    "    popfq\n"
    "    mov rsp, [rip + loong_stub_rsp]\n"
    "    jmp [rip + loong_stub_rip]\n"
    "    .p2align 3\n"
    "loong_stub_rsp:\n"
    "    .quad 0\n"
    "loong_stub_rip:\n"
    "    .quad 0\n"
    "loong_stub_end:\n"
    "    .att_syntax prefix\n"
    "    .text\n");
#elif defined(__aarch64__)
/* aarch64. Entry: sp = the frame (64-byte aligned; layout in
 * inject_aarch64_frame.c), every other register the thread's own. It
 *   1. reads the thread's signal mask (rt_sigprocmask with no new set)
 *      and alternate signal stack (sigaltstack with none) into the
 *      frame's ucontext, the two things of the signal frame loong cannot
 *      read from outside,
 *   2. calls dlopen(path, RTLD_NOW), dlsym(handle, symbol), symbol(arg),
 *      or dlerror() when one fails, keeping what it needs in x19..x23
 *      (callee-saved: the calls keep them),
 *   3. stores the results in the frame (handle, entry, the entry's
 *      result sign-extended, dlerror's message),
 *   4. moves sp to the frame's signal frame and makes rt_sigreturn: the
 *      kernel puts back every register of the thread, sp, pc, pstate, its
 *      FP/SIMD (and SVE) state, signal mask and alternate stack, exactly
 *      as loong read them at the stop (inject_aarch64.c says why this way).
 *      A tracer watching system calls knows the stub is done when it sees
 *      this call at this address.
 * Calls go through blr to functions that begin with a landing pad where
 * branch protection (BTI) is on; nothing branches into the stub. */
__asm__(
    "    .section .rodata.loong_stub,\"a\"\n"
    "    .p2align 4\n"
    "    .globl loong_stub_begin\n"
    "    .hidden loong_stub_begin\n"
    "    .globl loong_stub_sigreturn\n"
    "    .hidden loong_stub_sigreturn\n"
    "    .globl loong_stub_end\n"
    "    .hidden loong_stub_end\n"
    "loong_stub_begin:\n"
    "    mov x19, sp\n"                 /* the frame */
    "    mov x0, #0\n"                  /* rt_sigprocmask(SIG_BLOCK, */
    "    mov x1, #0\n"                  /*   NULL: change nothing,   */
    "    add x2, x19, #296\n"           /*   &uc_sigmask, 8)         */
    "    mov x3, #8\n"
    "    mov x8, #135\n"
    "    svc #0\n"
    "    mov x0, #0\n"                  /* sigaltstack(NULL, &uc_stack) */
    "    add x1, x19, #272\n"
    "    mov x8, #132\n"
    "    svc #0\n"
    "    mov x20, #0\n"                 /* handle */
    "    mov x21, #0\n"                 /* entry */
    "    mov x22, #-1\n"                /* its result */
    "    mov x23, #0\n"                 /* dlerror() */
    "    ldr x0, [x19, #24]\n"          /* path */
    "    mov x1, #2\n"                  /* RTLD_NOW, as CPython's import */
    "    ldr x9, [x19, #0]\n"
    "    blr x9\n"                      /* dlopen */
    "    mov x20, x0\n"
    "    cbz x0, 1f\n"
    "    ldr x1, [x19, #32]\n"          /* symbol */
    "    ldr x9, [x19, #8]\n"
    "    blr x9\n"                      /* dlsym */
    "    mov x21, x0\n"
    "    cbz x0, 1f\n"
    "    ldr x0, [x19, #40]\n"          /* arg */
    "    blr x21\n"                     /* the runtime's entry */
    "    sxtw x22, w0\n"
    "    b 2f\n"
    "1:  ldr x9, [x19, #16]\n"
    "    cbz x9, 2f\n"
    "    blr x9\n"                      /* dlerror */
    "    mov x23, x0\n"
    "2:  stp x20, x21, [x19, #48]\n"
    "    stp x22, x23, [x19, #64]\n"
    "    add sp, x19, #128\n"           /* the signal frame */
    "    mov x8, #139\n"                /* rt_sigreturn */
    "loong_stub_sigreturn:\n"
    "    svc #0\n"
    "    brk #0\n"                      /* not reached */
    "loong_stub_end:\n"
    "    .text\n");
#else
/* Attach is written for x86_64 and aarch64 only (docs/attach.md). */
const unsigned char loong_stub_begin[1], loong_stub_end[1];
const unsigned char loong_stub_rsp[1], loong_stub_rip[1];
#endif
