/* switch_x86_64.S -- the context switch on x86-64 (System V ABI).
 *
 * void co__switch(void **save_sp, void *load_sp)
 *   rdi = where to store the suspended side's stack pointer
 *   rsi = stack pointer of the side to resume
 *
 * Frame saved on the suspended stack, from the saved sp upward:
 *   +0   MXCSR (4 bytes)        SSE rounding/exception mask state
 *   +4   x87 control word (2)   precision/rounding of the x87 FPU
 *   +8   r15
 *   +16  r14
 *   +24  r13
 *   +32  r12                    first frame: the argument for co__task_main
 *   +40  rbx
 *   +48  rbp                    first frame: 0, ends frame-pointer walks
 *   +56  resume address         the caller's return address, or co__trampoline
 *
 * Caller-saved registers (rax, rcx, ...) are dead across a call by the ABI,
 * so they are not saved, and rax/rcx serve as scratch.  We resume with an indirect jmp instead of ret: the return-stack
 * predictor would mispredict every ret anyway, since each one returns into a
 * different stack than the call that pushed it.
 */
        .text
        .globl  co__switch
        .hidden co__switch
        .type   co__switch, @function
        .p2align 4
co__switch:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    (%rsp), %rax            /* our control words */
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        /* ldmxcsr and fldcw are slow (microcoded); tasks almost never
         * change rounding modes, so reload only when the control bits
         * differ.  MXCSR bits 0-5 are sticky exception flags, which the
         * ABI does not preserve: ignore them. */
        movl    (%rsp), %ecx
        xorl    %eax, %ecx
        testl   $-64, %ecx
        jne     2f
        shrq    $32, %rax               /* fnstcw wrote 16 bits: compare those */
        cmpw    4(%rsp), %ax
        jne     2f
1:      addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        popq    %rcx
        jmpq    *%rcx
2:      ldmxcsr (%rsp)
        fldcw   4(%rsp)
        jmp     1b
        .size   co__switch, .-co__switch

/* First code a new task runs: r12 holds its argument.  The stack is 16-byte
 * aligned here (co__ctx_init arranges it), as the call below needs. */
        .globl  co__trampoline
        .hidden co__trampoline
        .type   co__trampoline, @function
        .p2align 4
co__trampoline:
        movq    %r12, %rdi
        call    co__task_main@PLT
        ud2
        .size   co__trampoline, .-co__trampoline

        .section .note.GNU-stack,"",@progbits
