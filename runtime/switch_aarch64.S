/* SPDX-License-Identifier: MIT */
/* switch_aarch64.S -- the context switch on AArch64 (AAPCS64).
 *
 * void co__switch(void **save_sp, void *load_sp)
 *   x0 = where to store the suspended side's stack pointer
 *   x1 = stack pointer of the side to resume
 * void co__switch_final(void *load_sp)      (an ended task: nothing to save)
 *
 * Frame saved on the suspended stack (176 bytes, 16-byte aligned):
 *   +0   x19 x20          x19 of a first frame: the argument for co__task_main
 *   +16  x21 x22
 *   +32  x23 x24
 *   +48  x25 x26
 *   +64  x27 x28
 *   +80  x29 (fp) x30 (lr)  resume address in x30; fp 0 ends frame walks
 *   +96  d8 .. d15        low halves of v8-v15, callee-saved by the ABI
 *   +160 fpcr             rounding mode and flush-to-zero
 *   +168 (pad)
 *
 * We resume with `ret` (through x30): every task suspends through one call
 * site, so the return-address predictor is right and stays balanced (see
 * switch_x86_64.S for the measurement behind this).
 */
        .text
        .globl  co__switch
        .hidden co__switch
        .type   co__switch, %function
        .p2align 4
co__switch:
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        ret
        .size   co__switch, .-co__switch

        .globl  co__switch_final
        .hidden co__switch_final
        .type   co__switch_final, %function
        .p2align 4
co__switch_final:
        mov     sp, x0
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        ret
        .size   co__switch_final, .-co__switch_final

        .globl  co__trampoline
        .hidden co__trampoline
        .type   co__trampoline, %function
        .p2align 4
co__trampoline:
        mov     x0, x19
        bl      co__task_main
        brk     #0
        .size   co__trampoline, .-co__trampoline

        .section .note.GNU-stack,"",%progbits
