/* SPDX-License-Identifier: MIT */
/* switch_test.c -- the AArch64 context switch (runtime/switch_aarch64.S) and
 * first-frame layout (runtime/context.h), checked without libuv so it can be
 * cross-built statically and run under qemu-user on an x86-64 machine
 * (`make check-aarch64`): a task entered through co__trampoline, callee-saved
 * FP state kept across switches in both directions, and co__switch_final
 * leaving an ended task. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "context.h"

void co__switch(void **save_sp, void *load_sp);
_Noreturn void co__switch_final(void *load_sp);

static void *main_sp, *task_sp;
static volatile double acc;
static int steps;

_Noreturn void co__task_main(void *arg)
{
    double local = 0.25; /* lives in a callee-saved d register across switches */
    for (int i = 0; i < 5; i++) {
        steps += (int)(intptr_t)arg;
        local *= 2;
        acc += 0.5 * i;
        co__switch(&task_sp, main_sp);
    }
    acc += local;
    co__switch_final(main_sp);
}

int main(void)
{
    size_t size = 64 * 1024;
    char *stack = aligned_alloc(16, size);
    task_sp = co__ctx_init(stack, stack + size, (void *)(intptr_t)3);
    double mine = 1.25;
    for (int i = 0; i < 6; i++) {
        co__switch(&main_sp, task_sp);
        mine *= 2;
    }
    int ok = steps == 15 && acc == 5.0 + 8.0 && mine == 80.0;
    printf("aarch64 switch: steps=%d acc=%.2f mine=%.2f: %s\n", steps, acc, mine, ok ? "ok" : "WRONG");
    free(stack);
    return !ok;
}
