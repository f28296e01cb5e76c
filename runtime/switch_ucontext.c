/* SPDX-License-Identifier: MIT */
/* switch_ucontext.c -- portable fallback for architectures without a
 * hand-written switch: each suspended side keeps a ucontext_t, and the
 * "stack pointer" the scheduler stores is the address of that ucontext_t. */
#include "internal.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#include <ucontext.h>

static __thread void *entry_arg;

static void entry(void)
{
    co__task_main(entry_arg);
}

typedef struct { ucontext_t uc; void *arg; int fresh; } co__uframe;

void co__switch(void **save_sp, void *load_sp)
{
    co__uframe self;
    self.fresh = 0;
    *save_sp = &self;
    co__uframe *to = load_sp;
    if (to->fresh) {
        to->fresh = 0;
        entry_arg = to->arg;
    }
    CO_ASSERT(swapcontext(&self.uc, &to->uc) == 0);
}

_Noreturn void co__switch_final(void *load_sp)
{
    co__uframe *to = load_sp;
    if (to->fresh) {
        to->fresh = 0;
        entry_arg = to->arg;
    }
    setcontext(&to->uc);
    co__assert_fail("setcontext failed", __FILE__, __LINE__, __func__);
}

void *co__ctx_init(void *lo, void *hi, void *arg)
{
    uintptr_t top = ((uintptr_t)hi - sizeof(co__uframe)) & ~(uintptr_t)63;
    co__uframe *f = (co__uframe *)top;
    CO_ASSERT(getcontext(&f->uc) == 0);
    f->uc.uc_stack.ss_sp = lo;
    f->uc.uc_stack.ss_size = (size_t)(top - (uintptr_t)lo);
    f->uc.uc_link = NULL;
    f->arg = arg;
    f->fresh = 1;
    makecontext(&f->uc, entry, 0);
    return f;
}
#endif
