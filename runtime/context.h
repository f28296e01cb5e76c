/* SPDX-License-Identifier: MIT */
/* context.h -- lays out the first frame of a new task's stack so that the
 * first co__switch into it lands in co__trampoline, then co__task_main.  The
 * frame layouts are the register maps documented in switch_<arch>.S; the
 * ucontext fallback for other architectures lives in switch_ucontext.c.
 * Inline: it is on the spawn path, and a call costs more than the stores. */
#ifndef CO_CONTEXT_H
#define CO_CONTEXT_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__aarch64__)

void co__trampoline(void);

static inline void *co__ctx_init(void *lo, void *hi, void *arg)
{
    (void)lo;
    uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* 8 saved words; once they are popped (the last by `ret`) rsp must be
     * 16-byte aligned, as co__trampoline expects, so the frame starts
     * 16-aligned, 16 below top. */
    uint64_t *sp = (uint64_t *)(top - 16 - 64);
    sp[0] = 0x1F80 | ((uint64_t)0x037F << 32); /* default MXCSR, x87 CW */
    sp[1] = 0;                                  /* r15 */
    sp[2] = 0;                                  /* r14 */
    sp[3] = 0;                                  /* r13 */
    sp[4] = (uint64_t)(uintptr_t)arg;           /* r12 */
    sp[5] = 0;                                  /* rbx */
    sp[6] = 0;                                  /* rbp */
    sp[7] = (uint64_t)(uintptr_t)co__trampoline;
#else
    uint64_t *sp = (uint64_t *)(top - 16 - 176);
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)arg;             /* x19 */
    sp[11] = (uint64_t)(uintptr_t)co__trampoline; /* x30 */
#endif
    return sp;
}

#else
void *co__ctx_init(void *lo, void *hi, void *arg); /* switch_ucontext.c */
#endif

#endif /* CO_CONTEXT_H */
