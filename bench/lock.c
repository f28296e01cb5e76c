/* SPDX-License-Identifier: MIT */
/* lock.c -- workload (c): 100 tasks x 10,000 acquisitions of one co_lock_t,
 * each holding it across one co_yield().  Mirrors bench/python/lock.py: the
 * clock covers spawning, the contention and gathering.  Best of --reps fresh
 * loops.  Mutual exclusion is checked on every acquisition.
 *
 * Usage: lock [--reps N] [--scale F] */
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TASKS 100
#define ACQUISITIONS 10000

static co_lock_t lock;
static long per_task;
static int inside;

static int worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_task; i++) {
        int r = co_lock_acquire(&lock);
        if (r < 0) return r;
        if (inside++) return -EPROTO;
        r = co_yield();
        inside--;
        co_lock_release(&lock);
        if (r < 0) return r;
    }
    return 0;
}

static int bench_main(void *arg)
{
    double *secs = arg;
    co_task_t h[TASKS];
    co_lock_init(&lock);
    inside = 0;
    double t0 = bench_now_s();
    for (int i = 0; i < TASKS; i++) h[i] = co_spawn(worker, NULL);
    int r = co_gather(h, TASKS, NULL, 0);
    *secs = bench_now_s() - t0;
    co_lock_destroy(&lock);
    return r;
}

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    bench_args(argc, argv, &reps, &scale);
    per_task = (long)(ACQUISITIONS * scale);
    if (per_task < 1) per_task = 1;
    double best = bench_best("lock", reps, bench_main);
    if (best < 0) return 1;
    printf("acquisitions=%ld\nreps=%d\nseconds=%.6f\nns_per_acquisition=%.2f\n", per_task * TASKS, reps,
           best, best * 1e9 / (double)(per_task * TASKS));
    return 0;
}
