/* SPDX-License-Identifier: MIT */
/* prog.c -- what a new user builds first (tests/link/link.sh): a program
 * on the runtime alone, linked by the README's pkg-config lines. */
#include <coscope.h>
#include <stdio.h>

static int child(void *arg)
{
    co_sleep(1);
    return *(int *)arg * 2;
}

static int main_task(void *arg)
{
    int x = 21;
    co_task_t t = co_spawn(child, &x);
    int r = co_await(t);
    printf("result %d\n", r);
    return r == 42 ? 0 : -EINVAL;
}

int main(void) { return co_run(main_task, NULL) == 0 ? 0 : 1; }
