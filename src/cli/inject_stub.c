/* The code a target runs to load the runtime (x86_64): copied, never run
 * here. inject.c writes it into the target (see there for where), builds
 * its frame on the target's stack below the red zone, and points the main
 * thread at it. From then on it needs nobody: if `loong` dies, the stub
 * still finishes and returns to where the thread was.
 *
 * Entry: rsp = the frame (64-byte aligned; layout in attach.h). It
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
 * Position-independent, no relocations. */
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
#else
/* Attach is written for x86_64 only (docs/attach.md). */
const unsigned char loong_stub_begin[1], loong_stub_end[1];
const unsigned char loong_stub_rsp[1], loong_stub_rip[1];
#endif
