/* SPDX-License-Identifier: MIT */
/* spawn.c -- spawn + run + exit of one task with a pooled stack, in ns per
 * task.  The main task loops { co_spawn(a task that returns at once);
 * co_await it }: per iteration that is the spawn (slot, pooled stack, first
 * frame, ready queue), two switches (main -> child, child -> main), the
 * child's end (watcher wakes main, stack back to the pool) and the await
 * (watch, suspend, free the slot).  The pool is warmed before the clock
 * starts, so every stack is reused.  Best of --reps.
 *
 * Usage: spawn [--reps N] [--scale F] */
#include "bench.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SPAWN 2000000L

static long n_spawn;

static int child(void *arg)
{
    (void)arg;
    return 7;
}

static int bench_main(void *arg)
{
    double *ns = arg;
    for (int i = 0; i < 100; i++) { /* warm the pool and the caches */
        int r = co_await(co_spawn(child, NULL));
        if (r != 7) return r < 0 ? r : -EPROTO;
    }
    double t0 = bench_now_s();
    for (long i = 0; i < n_spawn; i++) {
        int r = co_await(co_spawn(child, NULL));
        if (__builtin_expect(r != 7, 0)) return r < 0 ? r : -EPROTO;
    }
    *ns = (bench_now_s() - t0) * 1e9 / (double)n_spawn;
    return 0;
}

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    bench_args(argc, argv, &reps, &scale);
    n_spawn = (long)(N_SPAWN * scale);
    if (n_spawn < 1) n_spawn = 1;
    double best = bench_best("spawn", reps, bench_main);
    if (best < 0) return 1;
    printf("tasks=%ld\nreps=%d\nns_per_task=%.2f\n", n_spawn, reps, best);
    return 0;
}
