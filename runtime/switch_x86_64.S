/* SPDX-License-Identifier: MIT */
/* switch_x86_64.S -- the context switch on x86-64 (System V ABI).
 *
 * void co__switch(void **save_sp, void *load_sp)
 *   rdi = where to store the suspended side's stack pointer
 *   rsi = stack pointer of the side to resume
 * void co__switch_final(void *load_sp)      (an ended task: nothing to save)
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
 * Caller-saved registers are dead across a call by the ABI, so they are not
 * saved.
 *
 * Resuming with `ret`, not an indirect jmp.  Every task suspends through one
 * call site (co__switch_away inlined into co__suspend, await.c), so the
 * return address the CPU's return
 * stack predicts is the one we resume at: `ret` is predicted right and keeps
 * the return stack balanced.  A `jmp` would leave the entry pushed by the
 * `call` unpopped, shifting the return stack by one, and every later `ret` of
 * the resumed task would mispredict: we measured 24 ns per co_yield with jmp
 * against 9 ns with ret (bench/switch.c).  Only a task's very first resume,
 * into co__trampoline, mispredicts once.
 *
 * MXCSR and the x87 control word are reloaded unconditionally: ldmxcsr and
 * fldcw are cheaper than comparing first, whose 8-byte load of the two
 * narrower stores cannot be store-forwarded and stalls.
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
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size   co__switch, .-co__switch

        .globl  co__switch_final
        .hidden co__switch_final
        .type   co__switch_final, @function
        .p2align 4
co__switch_final:
        movq    %rdi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size   co__switch_final, .-co__switch_final

/* First code a new task runs, entered by co__switch's `ret`: r12 holds its
 * argument and rsp is 16-byte aligned (co__ctx_init arranges it).  A zero
 * return address ends stack walks; co__task_main never returns. */
        .globl  co__trampoline
        .hidden co__trampoline
        .type   co__trampoline, @function
        .p2align 4
co__trampoline:
        movq    %r12, %rdi
        pushq   $0
        jmp     co__task_main@PLT
        .size   co__trampoline, .-co__trampoline

        .section .note.GNU-stack,"",@progbits
