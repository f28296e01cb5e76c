/* spawn.c -- spawn + run + exit of one task with a pooled stack, in ns per
 * task.  The main task loops { co_spawn(a task that returns at once);
 * co_await it }: per iteration that is the spawn (slot, pooled stack, first
 * frame, ready queue), two switches (main -> child, child -> main), the
 * child's end (watcher wakes main, stack back to the pool) and the await
 * (watch, suspend, free the slot).  The pool is warmed before the clock
 * starts, so every stack is reused.  Best of --reps.
 *
 * Usage: spawn [--reps N] [--scale F] */
#include "coscope.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SPAWN 2000000L

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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
    uint64_t t0 = now_ns();
    for (long i = 0; i < n_spawn; i++) {
        int r = co_await(co_spawn(child, NULL));
        if (__builtin_expect(r != 7, 0)) return r < 0 ? r : -EPROTO;
    }
    *ns = (double)(now_ns() - t0) / (double)n_spawn;
    return 0;
}

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--scale")) scale = atof(argv[i + 1]);
    }
    n_spawn = (long)(N_SPAWN * scale);
    if (n_spawn < 1) n_spawn = 1;
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        double ns = 0;
        int r = co_run(bench_main, &ns);
        if (r < 0) {
            fprintf(stderr, "spawn: %s\n", co_strerror(r));
            return 1;
        }
        if (ns < best) best = ns;
    }
    printf("tasks=%ld\nreps=%d\nns_per_task=%.2f\n", n_spawn, reps, best);
    return 0;
}
